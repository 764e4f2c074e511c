"""networkx export (round trips, layout, recipes), Graphviz DOT and plot_model."""
import re
import shutil
import subprocess
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graph_cases as cases
from symkb import ir
from symkb.ir import from_networkx, to_dot, to_networkx
from symkb.ir.printer import format_graph
from symkb.utils import GraphvizNotFoundError, model_to_dot, plot_model

HAVE_DOT = shutil.which("dot") is not None


@pytest.mark.parametrize("name", sorted(cases.RUNNABLE))
def test_round_trip_text_and_results(name):
    graph, feeds = cases.RUNNABLE[name]()
    G = to_networkx(graph)
    assert isinstance(G, nx.MultiDiGraph) and nx.is_directed_acyclic_graph(G)
    back = from_networkx(G)
    assert format_graph(back, full=True) == format_graph(graph, full=True)
    ir.verify(back)
    cases.assert_same_results(graph, back, feeds)


def test_round_trip_of_every_attribute_kind():
    graph, _ = cases.attrs_only()
    back = from_networkx(to_networkx(graph), verify=False)  # an unregistered test op
    assert format_graph(back, full=True) == format_graph(graph, full=True)


def test_node_and_edge_attributes():
    graph, _ = cases.dense_mlp()
    G = to_networkx(graph)
    assert G.graph["name"] == "sequential"
    assert G.graph["inputs"] == ["input_1"] and G.graph["outputs"] == [("7", 0)]
    assert G.nodes["input_1"]["op"] == "input" and G.nodes["input_1"]["index"] == 0
    kernel = G.nodes["kernel"]
    assert kernel["op"] == "param" and kernel["out_types"] == ["f32[4,8]"]
    assert kernel["attrs"]["variable"].name == "dense/kernel:0"
    relu = G.nodes["2"]
    assert relu["op"] == "relu" and relu["layer"] == "dense" and relu["outputs"] == ["%2"]
    assert relu["attrs"] == {"alpha": 0.0, "max_value": None, "threshold": 0.0}
    edges = sorted(G.in_edges("1", keys=True, data=True), key=lambda e: e[2])
    assert [(u, k) for u, _, k, _ in edges] == [("0", 0), ("bias", 1)]
    data = edges[0][3]
    assert data == {"operand": 0, "output": 0, "type": "f32[?,8]", "shape": (None, 8),
                    "dtype": "float32", "name": "%0"}


def test_loop_body_is_a_nested_multidigraph():
    graph, _ = cases.rnn()
    G = to_networkx(graph)
    (loop,) = [k for k, op in G.nodes(data="op") if op == "loop"]
    data = G.nodes[loop]
    body = data["body"]
    assert isinstance(body, nx.MultiDiGraph) and data["bodies"] == {"body": body}
    assert "body" not in data["attrs"] and data["attrs"]["length"] == 5
    assert body.graph["inputs"][0] == "x_t"
    assert Counter(op for _, op in body.nodes(data="op"))["dot"] == 2
    # the loop's results: three values, so edges say which one they carry
    assert data["out_types"] == ["f32[?,4]", "f32[?,5,4]", "f32[?,4]"]
    assert G.graph["outputs"] == [(loop, 0), (loop, 1), (loop, 2)]


def test_recipes_in_the_docstring():
    graph, _ = cases.dense_mlp()
    G = to_networkx(graph)
    assert nx.ancestors(G, "3") == {"input_1", "kernel", "bias", "0", "1", "2", "kernel_1"}
    hist = Counter(op for _, op in G.nodes(data="op"))
    assert hist["dot"] == 3 and hist["param"] == 5
    assert nx.dag_longest_path(G) == ["input_1", "0", "1", "2", "3", "4", "5", "6", "7"]


def test_editing_the_networkx_graph_edits_the_ir():
    graph, feeds = cases.dense_mlp()
    G = to_networkx(graph)
    G.nodes["2"]["op"] = "tanh"
    G.nodes["2"]["attrs"] = {}
    back = from_networkx(G)
    assert "%2: f32[?,8] = tanh %1" in str(back)
    ir.verify(back)


def test_query_helpers():
    graph, _ = cases.dense_mlp()
    hist = ir.op_histogram(graph)
    assert hist == Counter({"param": 5, "dot": 3, "bias_add": 2, "relu": 1, "tanh": 1,
                            "softmax": 1})
    loop_graph, _ = cases.rnn()
    assert ir.op_histogram(loop_graph)["tanh"] == 1
    assert ir.op_histogram(loop_graph, bodies=False)["tanh"] == 0
    dense_out = graph.nodes[graph.nodes.index(next(n for n in graph.nodes if n.op == "relu"))]
    anc = ir.ancestors(graph, dense_out.outputs[0])
    assert [n.op for n in anc] == ["param", "dot", "param", "bias_add", "relu"]
    assert ir.ancestors(graph, graph.inputs[0]) == []
    total, path = ir.critical_path(graph, weight="nodes")
    assert total == 8 and [n.op for n in path][-3:] == ["dot", "bias_add", "softmax"]
    flops, path = ir.critical_path(graph, batch_size=1)
    # dots 2*4*8 + 2*8*6 + 2*6*3, bias_adds 8 + 3, relu 8, tanh 6, softmax 5*3
    assert flops == 64 + 96 + 36 + 11 + 8 + 6 + 15
    with pytest.raises(ValueError, match="weight"):
        ir.critical_path(graph, weight="bytes")


# -- DOT ----------------------------------------------------------------------

_DOT_TOKEN = re.compile(
    r'\s+|"(?:[^"\\]|\\.)*"|->|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?|[{}\[\];=,]')


def _parse_dot(text):
    """A small DOT reader: checks the syntax, returns (node ids, edges, cluster labels)."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        assert m, f"bad DOT at {text[pos:pos + 40]!r}"
        if not m.group().isspace():
            tokens.append(m.group())
        pos = m.end()
    nodes, edges, clusters = set(), [], []
    i = 0

    def attr_list(i):
        assert tokens[i] == "["
        i += 1
        attrs = {}
        while tokens[i] != "]":
            key = tokens[i]
            assert tokens[i + 1] == "=", tokens[i:i + 3]
            attrs[key] = tokens[i + 2]
            i += 3
            if tokens[i] == ",":
                i += 1
        return attrs, i + 1

    assert tokens[0] == "digraph" and tokens[2] == "{"
    i, depth = 3, 1
    while depth:
        tok = tokens[i]
        if tok == "}":
            depth -= 1
            i += 1
        elif tok == "subgraph":
            assert tokens[i + 1].startswith('"cluster_') and tokens[i + 2] == "{"
            depth += 1
            i += 3
        elif tok in ("graph", "node", "edge"):
            _, i = attr_list(i + 1)
            assert tokens[i] == ";"
            i += 1
        elif tokens[i + 1] == "=":  # a subgraph attribute: label="..."; style=...
            if tok == "label":
                clusters.append(tokens[i + 2])
            assert tokens[i + 3] == ";"
            i += 4
        elif tokens[i + 1] == "->":
            edges.append((tok, tokens[i + 2]))
            i += 3
            if tokens[i] == "[":
                _, i = attr_list(i)
            assert tokens[i] == ";"
            i += 1
        else:
            assert tok.startswith('"'), tok
            nodes.add(tok)
            i += 1
            if tokens[i] == "[":
                _, i = attr_list(i)
            assert tokens[i] == ";", tokens[i - 3:i + 2]
            i += 1
    assert i == len(tokens)
    return nodes, edges, clusters


@pytest.mark.parametrize("name", sorted(cases.RUNNABLE))
def test_dot_is_valid_and_complete(name):
    graph, _ = cases.RUNNABLE[name]()
    text = to_dot(graph)
    nodes, edges, clusters = _parse_dot(text)
    for u, v in edges:
        assert u in nodes and v in nodes, (u, v)
    count = sum(1 for _ in graph.walk()) + len(graph.inputs) + len(graph.outputs)
    count += sum(len(b.inputs) + len(b.outputs) for _, n in graph.walk() for b in n.bodies())
    assert len(nodes) == count
    if HAVE_DOT:
        run = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert run.returncode == 0 and not run.stderr, run.stderr


def test_dot_shapes_on_edges_and_bodies_as_clusters():
    graph, _ = cases.rnn()
    text = to_dot(graph)
    nodes, edges, clusters = _parse_dot(text)
    assert '"loop (rnn)"' in clusters and '"body"' in clusters
    assert '"%x" -> "%0" [label="f32[?,5,3]"];' in text
    assert '"%3" -> "@output1" [label="f32[?,5,4] #1"];' in text
    assert '"%3.body/%x_t"' in nodes
    plain = to_dot(graph, show_shapes=False)
    assert "f32[?,5,3]" not in plain
    assert "rankdir=LR" in to_dot(graph, rankdir="LR")
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(graph, rankdir="XY")


def test_dot_escapes_quotes_and_newlines():
    graph, _ = cases.attrs_only()
    text = to_dot(graph)
    _parse_dot(text)
    assert '\\"' in text and "\n\n" not in text


def test_model_to_dot_groups_layers():
    graph, _ = cases.dense_mlp()
    _, _, clusters = _parse_dot(model_to_dot(graph))
    assert clusters == ['"dense"', '"dense_1"', '"dense_2"']


def test_plot_model_writes_dot_source_without_graphviz(tmp_path):
    graph, _ = cases.dense_mlp()
    path = plot_model(graph, tmp_path / "model.dot")
    _parse_dot((tmp_path / "model.dot").read_text())
    assert path.endswith("model.dot")


def test_plot_model_without_dot_says_how_to_install(tmp_path, monkeypatch):
    graph, _ = cases.dense_mlp()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as info:
        plot_model(graph, tmp_path / "model.png")
    assert isinstance(info.value, ImportError)
    assert "model.dot" in str(info.value)
    _parse_dot((tmp_path / "model.dot").read_text())
    assert not (tmp_path / "model.png").exists()


@pytest.mark.skipif(not HAVE_DOT, reason="the Graphviz `dot` program is not installed "
                    "(apt-get install graphviz)")
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_model_renders_with_dot(tmp_path, suffix, magic):
    graph, _ = cases.rnn()
    out = tmp_path / f"model{suffix}"
    plot_model(graph, out, show_shapes=True)
    assert out.read_bytes().startswith(magic)
    assert not (tmp_path / "model.dot").exists()


def test_plot_model_accepts_models_and_executables(tmp_path):
    from symkb import backend as K
    graph, _ = cases.dense_mlp()

    class Holder:
        pass

    holder = Holder()
    holder.graph = graph
    assert model_to_dot(holder) == model_to_dot(graph)
    f = K.function(graph.inputs[0], graph.outputs[0])
    model_to_dot(f)
    with pytest.raises(TypeError, match="expected a symkb model"):
        model_to_dot(np.zeros(2))


def test_plot_model_tf_keras_arguments(tmp_path):
    graph, _ = cases.rnn()
    plain = model_to_dot(graph)
    assert "f32[?,5,3]" not in plain  # show_shapes=False by default, as tf_keras
    assert "f32[?,5,3]" in model_to_dot(graph, show_shapes=True)
    assert "f32[?,5,3]" in model_to_dot(graph, show_dtype=True)
    nodes, _, clusters = _parse_dot(model_to_dot(graph, expand_nested=False))
    assert '"body"' not in clusters and not any("x_t" in n for n in nodes)
    assert '"body"' not in _parse_dot(plain)[2]  # expand_nested=False by default, as tf_keras
    assert '"body"' in _parse_dot(model_to_dot(graph, expand_nested=True))[2]
    with pytest.raises(ValueError, match="layer_range"):
        model_to_dot(graph, layer_range=["a", "b"])
    out = plot_model(graph, tmp_path / "m.dot", show_shapes=True, show_trainable=True,
                     show_layer_activations=True, dpi=120)
    assert "dpi=120" in (tmp_path / "m.dot").read_text() and out.endswith("m.dot")


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_random_graphs_give_valid_dot_and_round_trip_networkx(data):
    graph, feeds = cases.random_graph(data)
    nodes, edges, _ = _parse_dot(to_dot(graph, group_layers=True))
    assert all(u in nodes and v in nodes for u, v in edges)
    back = from_networkx(to_networkx(graph))
    cases.assert_same_results(graph, back, feeds)
