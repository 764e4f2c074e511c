#!/usr/bin/env python
"""Golden answers of real tf_keras for ``plot_model`` / ``model_to_dot``.

tf_keras draws one Graphviz ``record`` box per layer; this script records,
for a few models and option sets, exactly what ``tf_keras.utils.model_to_dot``
builds: every box's label, the edges between boxes (by layer name), the
clusters of nested models and the graph attributes. It writes
``tests/goldens/plot_model.json``::

    {"versions": {...},
     "cases": [{"id", "model", "code", "options": {...},
                "graph": {"rankdir", "dpi", "concentrate", "node_shape"},
                "nodes": [{"layer": name, "label": text}, ...],   # in tf_keras's order
                "edges": [[from_layer, to_layer], ...],
                "clusters": [{"name", "label", "layers": [...]}, ...]}]}

``code`` is the model's construction (it uses only ``layers``, ``Input``,
``Model`` and ``Sequential`` and assigns ``model``), run right after
``clear_session()`` so default names start fresh.

How to run, from the repository root, in the environment with TensorFlow,
tf_keras and pydot (the script sets ``TF_USE_LEGACY_KERAS=1`` and hides GPUs
itself; no Graphviz program is needed, nothing is rendered)::

    /opt/tfenv/bin/python tools/goldens_plot_model.py [--out DIR]

The output is fully determined by the models below (no random numbers).
"""
import argparse
import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import pydot  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import backend as K  # noqa: E402
from tf_keras import layers  # noqa: E402
from tf_keras.src.utils import vis_utils  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "goldens")

MODELS = {
    "seq_input": (
        "model = Sequential([Input((5,)), layers.Dense(8, activation='relu'),\n"
        "                    layers.Dense(3, activation='softmax')])"),
    "functional_two_io": (
        "a = Input((4,), name='a')\n"
        "b = Input((3,), name='b')\n"
        "h = layers.Concatenate()([a, b])\n"
        "h = layers.Dense(5, activation='elu')(h)\n"
        "s = layers.Add()([layers.Dense(5)(h), layers.Dense(5, activation='tanh')(h)])\n"
        "out1 = layers.Dense(2)(s)\n"
        "out2 = layers.Dense(1, activation='sigmoid')(h)\n"
        "model = Model([a, b], [out1, out2])"),
    "recurrent": (
        "model = Sequential([Input((5, 4)), layers.LSTM(3, return_sequences=True),\n"
        "                    layers.Bidirectional(layers.GRU(2, return_sequences=True)),\n"
        "                    layers.TimeDistributed(layers.Dense(2)),\n"
        "                    layers.SimpleRNN(3), layers.Activation('relu')])"),
    "embedding": (
        "model = Sequential([Input((5,), dtype='int32'),\n"
        "                    layers.Embedding(10, 4, mask_zero=True), layers.GRU(3)])"),
    "nested": (
        "inner = Sequential([Input((4,)), layers.Dense(3, activation='relu'),\n"
        "                    layers.Dense(2)], name='inner')\n"
        "x = Input((4,), name='x')\n"
        "y = inner(x)\n"
        "out = layers.Dense(1)(y)\n"
        "model = Model(x, out, name='outer')"),
    "shared": (
        "a = Input((3,), name='a')\n"
        "b = Input((3,), name='b')\n"
        "shared = layers.Dense(2, activation='relu')\n"
        "model = Model([a, b], layers.Add()([shared(a), shared(b)]))"),
    "states": (
        "a = Input((5, 4), name='a')\n"
        "b = Input((5, 4), name='b')\n"
        "out_a, h, c = layers.LSTM(3, return_state=True)(a)\n"
        "out_b = layers.LSTM(3)(b, initial_state=[h, c])\n"
        "out = layers.Dense(1)(layers.Concatenate()([out_a, out_b]))\n"
        "model = Model([a, b], [out, h])"),
}

OPTIONS = [
    ("default", {}),
    ("shapes", {"show_shapes": True}),
    ("dtype", {"show_dtype": True}),
    ("no_names", {"show_layer_names": False}),
    ("activations", {"show_layer_activations": True}),
    ("all_lr", {"show_shapes": True, "show_dtype": True, "show_layer_activations": True,
                "rankdir": "LR", "dpi": 48}),
    ("expand", {"expand_nested": True, "show_shapes": True}),
]


def build(code):
    K.clear_session()
    scope = {"layers": layers, "Input": keras.Input, "Model": keras.Model,
             "Sequential": keras.Sequential}
    exec(code, scope)
    return scope["model"]


def all_layers(model):
    """Every layer reachable, nested models' layers included, by id."""
    found = {}
    stack = [model]
    while stack:
        m = stack.pop()
        found[str(id(m))] = m
        for layer in getattr(m, "_self_tracked_trackables", []) + getattr(m, "layers", []):
            if str(id(layer)) not in found:
                stack.append(layer)
                if isinstance(layer, keras.layers.Wrapper):
                    stack.append(layer.layer)
    return found


def unquote(text):
    if text is None:
        return None
    text = str(text)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"')
    return text


def record(dot, by_id):
    nodes, clusters = [], []

    def visit(graph, into):
        for node in graph.get_nodes():
            name = unquote(node.get_name())
            if name in ("node", "edge", "graph"):
                continue
            into.append(by_id[name].name)
            nodes.append({"layer": by_id[name].name, "label": unquote(node.get("label"))})
        for sub in graph.get_subgraphs():
            members = []
            visit(sub, members)
            clusters.append({"name": unquote(sub.get_name()), "label": unquote(sub.get("label")),
                             "layers": members})
    visit(dot, [])
    edges = []

    def visit_edges(graph):
        for e in graph.get_edges():
            edges.append([by_id[unquote(e.get_source())].name,
                          by_id[unquote(e.get_destination())].name])
        for sub in graph.get_subgraphs():
            visit_edges(sub)
    visit_edges(dot)
    graph = {"rankdir": unquote(dot.get("rankdir")), "dpi": dot.get("dpi"),
             "concentrate": dot.get("concentrate"),
             "node_shape": unquote(dot.get_node_defaults()[0].get("shape"))}
    return {"graph": graph, "nodes": nodes, "edges": edges, "clusters": clusters}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    opts = parser.parse_args()
    vis_utils.check_graphviz = lambda: True  # nothing is rendered here
    cases = []
    for model_id, code in MODELS.items():
        for opt_id, options in OPTIONS:
            if opt_id == "expand" and model_id not in ("nested", "recurrent"):
                continue
            model = build(code)
            dot = vis_utils.model_to_dot(model, **options)
            case = {"id": f"{model_id}-{opt_id}", "model": model_id, "code": code,
                    "options": options}
            case.update(record(dot, all_layers(model)))
            cases.append(case)
    meta = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                         "pydot": pydot.__version__, "python": sys.version.split()[0]},
            "cases": cases}
    os.makedirs(opts.out, exist_ok=True)
    with open(os.path.join(opts.out, "plot_model.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {opts.out}/plot_model.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
