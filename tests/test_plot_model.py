"""``plot_model`` / ``model_to_dot`` draw tf_keras's picture: one record box
per layer, labelled as tf_keras labels it, arrows between layers, nested
models as clusters. The boxes, arrows and clusters are compared with what
real tf_keras built (``tests/goldens/plot_model.json``, written by
``tools/goldens_plot_model.py``); rendering uses Graphviz's ``dot`` program
where installed and must fail with an error naming Graphviz where not.
"""
from __future__ import annotations

import json
import pathlib
import re
import shutil

import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.utils import GraphvizNotFoundError, model_to_dot, plot_model

GOLDEN = json.loads((pathlib.Path(__file__).resolve().parent / "goldens" /
                     "plot_model.json").read_text())
CASES = GOLDEN["cases"]

_NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[label="(?P<label>(?:[^"\\]|\\.)*)"\];$')
_EDGE = re.compile(r'^\s*"(?P<a>[^"]+)" -> "(?P<b>[^"]+)";$')
_CLUSTER = re.compile(r'^\s*subgraph "cluster_(?P<name>[^"]+)" \{$')


def parse(dot: str) -> dict:
    """Boxes, arrows, clusters and graph attributes of our DOT text; boxes in
    the order the generator lists tf_keras's: a graph's own boxes, then each
    cluster's (recursively)."""
    root = {"boxes": [], "subs": []}
    edges, clusters, stack, graph = [], [], [root], {}
    for line in dot.splitlines():
        if m := _NODE.match(line):
            layer = m["id"].rsplit("/", 1)[-1]
            stack[-1]["boxes"].append({"layer": layer, "label": m["label"].replace('\\"', '"')})
            for c in stack[1:]:
                c["layers"].append(layer)
        elif m := _EDGE.match(line):
            edges.append([m["a"].rsplit("/", 1)[-1], m["b"].rsplit("/", 1)[-1]])
        elif m := _CLUSTER.match(line):
            sub = {"name": "cluster_" + m["name"], "layers": [], "boxes": [], "subs": []}
            stack[-1]["subs"].append(sub)
            stack.append(sub)
        elif len(stack) > 1 and (m := re.match(r'^\s*label="([^"]*)";$', line)):
            stack[-1]["label"] = m[1]
        elif line.strip() == "}" and len(stack) > 1:
            done = stack.pop()
            clusters.append({"name": done["name"], "label": done["label"],
                             "layers": done["layers"]})
        elif m := re.match(r"^\s*(rankdir|concentrate|dpi)=(\w+);$", line):
            graph[m[1]] = m[2]
        elif m := re.match(r"^\s*node \[shape=(\w+)\];$", line):
            graph["node_shape"] = m[1]

    def boxes(g):
        return g["boxes"] + [b for sub in g["subs"] for b in boxes(sub)]
    return {"nodes": boxes(root), "edges": edges, "clusters": clusters, "graph": graph}


def build(code):
    K.clear_session()
    scope = {"layers": layers, "Input": layers.Input, "Model": symkb.Model,
             "Sequential": symkb.Sequential}
    exec(code, scope)
    return scope["model"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_boxes_and_arrows_match_tf_keras(case):
    got = parse(model_to_dot(build(case["code"]), **case["options"]))
    assert got["nodes"] == case["nodes"]
    assert sorted(got["edges"]) == sorted(case["edges"])
    assert len(got["edges"]) == len(case["edges"])
    want_clusters = [{"name": c["name"], "label": c["label"], "layers": c["layers"]}
                     for c in case["clusters"]]
    assert got["clusters"] == want_clusters
    g = case["graph"]
    assert got["graph"] == {"rankdir": g["rankdir"], "concentrate": str(g["concentrate"]).lower(),
                            "dpi": str(g["dpi"]), "node_shape": g["node_shape"]}


def _small_model():
    K.clear_session()
    return symkb.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu"),
                             layers.Dense(3, activation="softmax")])


# what each format's file starts with (or, for text formats, contains)
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "jpg": b"\xff\xd8\xff",
         "jpeg": b"\xff\xd8\xff", "gif": b"GIF8", "ps": b"%!PS", "eps": b"%!PS-Adobe"}


def _check_picture(path: pathlib.Path, ext: str, source: str) -> None:
    data = path.read_bytes()
    assert data, f"{path} is empty"
    if ext in ("dot", "gv"):
        assert data.decode() == source
    elif ext == "svg":
        text = data.decode()
        assert "<svg" in text and "dense_1" in text and "(None, 8)" in text
    elif ext == "json":
        doc = json.loads(data)
        labels = [o.get("label", "") for o in doc["objects"]]
        assert any("dense_1" in label for label in labels), labels
    else:
        assert data.startswith(MAGIC[ext]), data[:16]
        if ext == "png":  # the picture is wider than a pixel: width, height in the IHDR
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert width > 50 and height > 100, (width, height)


def test_saves_under_every_extension_and_the_file_is_that_format(tmp_path):
    from symkb.utils.graphviz import FORMATS, SOURCE_EXTENSIONS
    model = _small_model()
    source = model_to_dot(model, show_shapes=True)
    have_dot = shutil.which("dot") is not None
    for ext in (*SOURCE_EXTENSIONS, *FORMATS):
        path = tmp_path / f"model.{ext}"
        if ext in SOURCE_EXTENSIONS or have_dot:
            assert plot_model(model, to_file=str(path), show_shapes=True) == str(path)
            _check_picture(path, ext, source)
        else:  # no Graphviz here: every picture format says so, and leaves the source
            with pytest.raises(GraphvizNotFoundError, match="Graphviz"):
                plot_model(model, to_file=str(path), show_shapes=True)
            assert not path.exists()
            assert (tmp_path / "model.dot").read_text() == source


def test_without_graphviz_the_error_names_it_and_the_source_is_kept(tmp_path, monkeypatch):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "model.png"
    with pytest.raises(GraphvizNotFoundError) as info:
        plot_model(_small_model(), to_file=str(out))
    message = str(info.value)
    assert isinstance(info.value, ImportError)
    assert "Graphviz" in message and "apt-get install graphviz" in message
    assert "model.png" in message and "model.dot" in message
    assert not out.exists()
    assert (tmp_path / "model.dot").read_text().startswith('digraph "sequential"')
    plot_model(_small_model(), to_file=str(tmp_path / "m.gv"))  # the source needs no dot
    assert (tmp_path / "m.gv").read_text().startswith('digraph "sequential"')


def test_an_unknown_extension_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "model.txt"
    with pytest.raises(ValueError, match=r"plot_model: cannot write .*unknown extension \.txt"
                                         r"\. Expected one of \.dot, \.gv, \.png"):
        plot_model(_small_model(), to_file=str(out))
    assert not out.exists()


def test_the_op_graph_only_when_asked():
    model = _small_model()
    layer_picture = model_to_dot(model)
    assert "bias_add" not in layer_picture and "softmax" not in layer_picture
    assert layer_picture.count("[label=") == 3
    ops = model_to_dot(model, op_graph=True)
    assert "bias_add" in ops and "softmax" in ops
    assert model_to_dot(model.graph) == ops  # a graph has no layers: its ops
    assert model_to_dot(symkb.compile(model, target="interpreter")) == ops


def test_layer_range_trainable_and_bad_options():
    model = _small_model()
    dot = parse(model_to_dot(model, layer_range=["dense", "dense_1"], show_trainable=True))
    assert [n["layer"] for n in dot["nodes"]] == ["dense", "dense_1"]
    assert dot["edges"] == [["dense", "dense_1"]]
    assert all(n["label"].startswith("T|") for n in dot["nodes"])
    with pytest.raises(ValueError, match="layer_range .* names no layer"):
        model_to_dot(model, layer_range=["nope", "dense"])
    with pytest.raises(ValueError, match="rankdir must be .* received 'XY'"):
        model_to_dot(model, rankdir="XY")
    K.clear_session()
    with pytest.raises(ValueError, match="not yet been built"):
        model_to_dot(symkb.Sequential([layers.Dense(2)]))
