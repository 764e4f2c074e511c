"""stats(graph): numbers checked by hand on small graphs."""
import json

import numpy as np
import pytest

import graph_cases as cases
from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, layer_scope


def _dense(batch=None):
    x = K.placeholder(shape=(batch, 4), name="x")
    w = K.variable(np.ones((4, 3)), name="dense/kernel")
    b = K.variable(np.zeros(3), name="dense/bias")
    with layer_scope("dense"):
        y = K.relu(K.bias_add(K.dot(x, w), b))
    return Graph([x], [y], name="dense")


def test_dense_layer_by_hand():
    s = ir.stats(_dense(), batch_size=2)
    # dot: 2 * K(4) * 6 results; bias_add and relu: one per result element
    assert [(n.op, n.flops) for n in s.nodes] == [
        ("param", 0), ("param", 0), ("dot", 48), ("bias_add", 6), ("relu", 6)]
    assert s.flops == 60
    assert s.num_params == 15 and s.trainable_params == 15 and s.param_bytes == 60
    assert s.input_bytes == 2 * 4 * 4
    assert [n.bytes for n in s.nodes] == [48, 12, 24, 24, 24]
    assert s.activation_bytes == 72
    # x (32) and the dot result (24) are alive together; then one 24-byte value at a time
    assert s.peak_bytes == 56
    assert s.notes == []
    assert s.op_counts == {"param": 2, "dot": 1, "bias_add": 1, "relu": 1}
    assert s.by_layer() == {"dense": {"flops": 60, "params": 15, "bytes": 72 + 60}}
    assert [n.layer for n in s.nodes] == ["dense"] * 5


def test_unknown_batch_counts_as_one_with_a_note():
    s = ir.stats(_dense())
    assert s.flops == 2 * 4 * 3 + 3 + 3
    assert any("batch_size=" in note for note in s.notes)
    static = ir.stats(_dense(batch=2))
    assert static.flops == 60 and static.notes == []


def test_reductions_and_products_by_hand():
    x = K.placeholder(shape=(2, 3, 4), name="x")
    a = K.placeholder(shape=(2, 4, 2), name="a")
    outs = [K.sum(x, axis=1), K.mean(x, axis=1), K.softmax(x), K.argmax(x),
            K.batch_dot(x, a, axes=(2, 1)), K.reshape(x, (2, 12)), K.cumsum(x, axis=1)]
    s = ir.stats(Graph([x, a], outs))
    flops = {n.op: n.flops for n in s.nodes}
    assert flops == {"sum": 24, "mean": 24 + 8, "softmax": 5 * 24, "argmax": 24,
                     "batch_dot": 2 * 4 * 12, "reshape": 0, "cumsum": 24}
    assert s.flops == sum(flops.values())


def test_loop_body_is_multiplied_by_the_trip_count():
    graph, _ = cases.rnn()
    s = ir.stats(graph, batch_size=2)
    body = [n for n in s.nodes if n.depth == 1]
    # per step: x_t @ kernel 2*3*8, h @ recurrent 2*4*8, add 8, tanh 8, multiply 8
    assert [(n.op, n.flops, n.repeat) for n in body] == [
        ("dot", 48, 5), ("dot", 64, 5), ("add", 8, 5), ("tanh", 8, 5), ("const", 0, 5),
        ("multiply", 8, 5)]
    outer = {n.op: n.flops for n in s.nodes if n.depth == 0}
    assert outer["dot"] == 48 and outer["loop"] == 0
    assert s.flops == 48 + 5 * (48 + 64 + 8 + 8 + 8)
    assert s.num_params == 12 + 16
    assert s.op_counts["dot"] == 3 and s.op_counts["loop"] == 1
    text = str(s)
    assert "48 x5" in text and "Total FLOPs: 728" in text


def test_unknown_trip_count_is_counted_once_with_a_note():
    x = K.placeholder(shape=(None, None, 3), name="x")

    def step(xt, states):
        h = xt + states[0]
        return h, [h]

    last, _, _ = K.rnn(step, x, [K.zeros_like(x[:, 0, :])])
    s = ir.stats(Graph([x], [last]), batch_size=2)
    assert s.flops == 6
    assert any("trip count" in note for note in s.notes)


def test_fused_nodes_cost_their_bodies():
    graph, _ = cases.fused()
    s = ir.stats(graph, batch_size=2)
    ops = [(n.op, n.flops, n.depth) for n in s.nodes]
    assert ops == [("param", 0, 0), ("param", 0, 0), ("dot", 64, 0),
                   ("fused_elementwise", 0, 0), ("bias_add", 8, 1), ("relu", 8, 1),
                   ("fused_dot", 64, 0), ("add", 8, 1), ("tanh", 8, 1)]
    assert s.flops == 64 + 16 + 64 + 16


def test_bodies_inside_bodies_multiply_through():
    graph, _ = cases.nested()
    s = ir.stats(graph, batch_size=3)
    inner = [(n.op, n.flops, n.repeat, n.depth) for n in s.nodes if n.depth == 2]
    assert inner == [("add", 6, 4, 2), ("tanh", 6, 4, 2)]
    assert s.flops == 4 * (6 + 6)
    assert s.op_counts == {"getitem": 1, "zeros_like": 1, "loop": 1, "fused_elementwise": 1,
                           "add": 1, "tanh": 1}


def test_unknown_op_is_noted_and_constants_counted():
    graph, _ = cases.attrs_only()
    s = ir.stats(graph)
    assert s.flops == 0 and any("'test_attrs'" in note for note in s.notes)
    graph, _ = cases.consts()
    s = ir.stats(graph)
    consts = [n for _, n in graph.walk() if n.op == "const"]
    assert s.constant_bytes == sum(n.attrs["value"].nbytes for n in consts)


def test_non_trainable_params():
    x = K.placeholder(shape=(2,), name="x")
    v = ir.Variable(np.ones(2), "float64", name="mean", trainable=False)
    w = K.variable(np.ones(2), name="w")
    s = ir.stats(Graph([x], [x * w - v]))
    assert (s.num_params, s.trainable_params, s.non_trainable_params) == (4, 2, 2)
    assert s.param_bytes == 8 + 16


def test_params_by_layer_match_the_model_summary():
    graph, _ = cases.dense_mlp()
    per_layer = {k: v["params"] for k, v in ir.stats(graph).by_layer().items()}
    assert per_layer == {"dense": 4 * 8 + 8, "dense_1": 8 * 6, "dense_2": 6 * 3 + 3}
    graph, _ = cases.rnn()
    s = ir.stats(graph)
    # the kernel is first read outside the layer (to make the initial state)
    assert s.by_layer()["rnn"]["params"] == 16 and s.by_layer()[None]["params"] == 12


def test_as_dict_is_plain_json_and_table_lists_every_node():
    graph, _ = cases.dense_mlp()
    s = ir.stats(graph, batch_size=8)
    data = json.loads(json.dumps(s.as_dict()))
    assert data["flops"] == s.flops and len(data["nodes"]) == len(graph.nodes)
    assert data["num_params"] == 4 * 8 + 8 + 8 * 6 + 6 * 3 + 3
    lines = str(s).splitlines()
    assert lines[0] == "Statistics of graph 'sequential'"
    assert len([line for line in lines if line.startswith("%")]) == len(graph.nodes)


@pytest.mark.parametrize("name", sorted(cases.RUNNABLE))
def test_every_case_has_stats(name):
    graph, _ = cases.RUNNABLE[name]()
    s = ir.stats(graph, batch_size=4)
    assert s.flops >= 0 and s.peak_bytes >= s.input_bytes
    assert not any("no FLOP rule" in note for note in s.notes), s.notes
