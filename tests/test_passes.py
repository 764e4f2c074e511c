"""Before/after tests of each pass (on the interpreter: no compiles here)."""
from __future__ import annotations

import io

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir
from symkb.lower import PIPELINE, passes, run_pipeline
from symkb.lower.passes.rewrite import rewrite
from tests import graph_cases


def ops(graph):
    return [n.op for _, n in graph.walk()]


def same_values(a, b, inputs):
    for x, y in zip(ir.evaluate(a, inputs), ir.evaluate(b, inputs)):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def _x(shape=(None, 4), name="x"):
    return K.placeholder(shape=shape, name=name)


def test_rewrite_rebuilds_consumers_and_keeps_unchanged_graphs():
    x = _x()
    g = ir.Graph([x], [K.exp(K.abs(x)) + 1.0])
    assert rewrite(g, lambda node: None) is g

    def abs_to_square(node):
        if node.op == "abs":
            return ir.call("square", node.inputs[0]),
        return None
    g2 = rewrite(g, abs_to_square)
    assert "square" in ops(g2) and "abs" not in ops(g2)
    data = np.random.default_rng(0).random((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ir.evaluate(g2, [data])[0], np.exp(data ** 2) + 1, rtol=1e-6)


def test_cse_merges_duplicates_but_not_random_ops_or_distinct_params():
    x = _x()
    a, b = K.exp(x), K.exp(x)
    w1, w2 = K.variable(np.ones((4,))), K.variable(np.ones((4,)))
    d1 = ir.call("dropout", x, rate=0.5, seed=1)
    d2 = ir.call("dropout", x, rate=0.5, seed=1)
    g = ir.Graph([x], [a + b, x * w1 + x * w2, d1 + d2])
    g2 = passes.cse(g)
    assert ops(g2).count("exp") == 1
    assert ops(g2).count("dropout") == 2
    assert ops(g2).count("param") == 2
    same_values(g, g2, [np.ones((2, 4), np.float32)])


def test_dce_drops_values_left_dead_by_other_passes():
    x = K.placeholder(shape=(None, 3, 2))

    def step(x_t, states):
        dead = K.exp(x_t)
        return x_t + dead * 0.0, [states[0] + x_t]
    _, outs, _ = K.rnn(step, x, [K.zeros_like(x[:, 0])])
    g = ir.Graph([x], [outs])
    assert passes.dce(g) is g  # graphs are built from their outputs: nothing dead yet

    def drop_dead_term(node):
        if node.op == "add" and node.inputs[1].node.op == "multiply":
            return (node.inputs[0],)
        return None
    body = [n for n in g.nodes if n.op == "loop"][0].attrs["body"]
    pruned = passes.dce(passes.rewrite(body, drop_dead_term))
    assert "exp" not in [n.op for n in pruned.nodes]


def test_fold_constants_and_simplify():
    x = _x()
    c = ir.const(np.float32(3.0))
    y = (x * (c - 2.0)) + ir.const(np.zeros((4,), np.float32)) * 1.0
    z = K.cast(K.transpose(K.transpose(K.reshape(x, (-1, 2, 2)))), "float32")
    g = ir.Graph([x], [y, z])
    g2 = passes.simplify(passes.fold_constants(g))
    assert ops(g2).count("subtract") == 0
    assert "transpose" not in ops(g2) and "cast" not in ops(g2)
    assert ops(passes.simplify(passes.fold_constants(g2))) == ops(g2)  # a fixed point
    same_values(g, g2, [np.arange(8, dtype=np.float32).reshape(2, 4)])


def test_simplify_keeps_broadcasting_additions():
    x = K.placeholder(shape=(4,))
    y = x + ir.const(np.zeros((3, 4), np.float32))  # result is (3, 4): not x
    g2 = passes.simplify(ir.Graph([x], [y]))
    assert "add" in ops(g2)


def _pad(x, before, after):
    return ir.call("pad", x, pads=((0, 0), (before, after)))


def test_simplify_joins_summed_pads_that_tile_an_axis():
    a, b, c = _x((None, 2), "a"), _x((None, 3), "b"), _x((None, 1), "c")
    # the gradient of slicing a tensor into parts, summed in any order
    y = _pad(b, 2, 1) + (_pad(c, 5, 0) + _pad(a, 0, 4))
    g2 = passes.simplify(ir.Graph([a, b, c], [y]))
    g2 = passes.dce(g2)
    (cat,) = [n for n in g2.nodes if n.op == "concatenate"]
    assert [t.name for t in cat.inputs] == [a.name, b.name, c.name]
    assert "pad" not in ops(g2) and "add" not in ops(g2)
    rng = np.random.default_rng(2)
    same_values(ir.Graph([a, b, c], [y]), g2,
                [rng.standard_normal((3, n)).astype(np.float32) for n in (2, 3, 1)])


@pytest.mark.parametrize("pieces", [
    [(2, (0, 4)), (3, (2, 1))],               # a gap: column 5 is only zeros
    [(2, (0, 4)), (3, (1, 2)), (1, (5, 0))],  # overlapping parts
    [(3, (0, 3)), (3, (0, 3))],               # the same place twice
])
def test_simplify_keeps_pads_that_do_not_tile(pieces):
    xs = [_x((None, n), f"p{k}") for k, (n, _) in enumerate(pieces)]
    padded = [_pad(x, *p) for x, (_, p) in zip(xs, pieces)]
    y = padded[0]
    for p in padded[1:]:
        y = y + p
    g2 = passes.simplify(ir.Graph(xs, [y]))
    assert "concatenate" not in ops(g2) and "pad" in ops(g2)


def test_simplify_turns_a_tiled_fill_into_one_broadcast_fill():
    x = _x((None, 3, 2), "seq")
    column = x[:, 0, 0:1]                               # a recurrent layer's zero states
    states = [K.tile(K.zeros_like(column), [1, 5]), K.tile(K.ones_like(column), [1, 4])]
    g = ir.Graph([x], states)
    g2 = passes.dce(passes.simplify(g))
    assert "tile" not in ops(g2) and ops(g2).count("add") == 2
    seq = np.full((2, 3, 2), np.nan, np.float32)        # the fill ignores the values
    got = ir.evaluate(g2, [seq])
    np.testing.assert_array_equal(got[0], np.zeros((2, 5), np.float32))
    np.testing.assert_array_equal(got[1], np.ones((2, 4), np.float32))
    same_values(g, g2, [seq])


def test_simplify_keeps_tiles_it_cannot_broadcast():
    x = _x((None, 2), "x")
    wide = K.tile(K.zeros_like(x), [1, 3])                  # the tiled axis is not of size 1
    ints = K.tile(K.zeros_like(K.cast(x[:, 0:1], "int32")), [1, 3])   # not a float operand
    g2 = passes.simplify(ir.Graph([x], [wide, ints]))
    assert ops(g2).count("tile") == 2


def test_fuse_elementwise_builds_one_node_per_tree():
    x, y = _x(), _x(name="y")
    t = K.exp(x) * K.tanh(y) + K.sigmoid(x - y)
    s = K.sum(t, axis=1)
    g = ir.Graph([x, y], [s, K.relu(t)])
    g2 = passes.fuse_elementwise(g)
    fused = [n for n in g2.nodes if n.op == "fused_elementwise"]
    # t is used twice outside its tree: it is a root; relu(t) is a second group
    assert len(fused) == 2
    body = fused[0].attrs["body"]
    assert {n.op for n in body.nodes} >= {"exp", "tanh", "multiply", "sigmoid", "subtract"}
    ir.verify(g2)
    rng = np.random.default_rng(1)
    same_values(g, g2, [rng.random((3, 4)).astype(np.float32) for _ in range(2)])


def test_fuse_dot_makes_a_dense_node():
    x = _x()
    w, b = K.variable(np.ones((4, 3))), K.variable(np.zeros(3))
    g = ir.Graph([x], [K.relu(K.bias_add(K.dot(x, w), b))])
    g2 = passes.fuse_dot(passes.fuse_elementwise(g))
    assert [n.op for n in g2.nodes if n.op not in ("param",)] == ["fused_dot"]
    same_values(g, g2, [np.random.default_rng(2).random((2, 4)).astype(np.float32)])


def _simple_rnn_graph(**kw):
    x = K.placeholder(shape=(None, 5, 3), name="x")
    w, u = K.variable(np.ones((3, 4)) * 0.1), K.variable(np.eye(4) * 0.5)
    b = K.variable(np.arange(4) * 0.1)

    def step(x_t, states):
        inv = K.exp(b) * 2.0  # invariant: hoisted
        h = K.tanh(K.bias_add(K.dot(x_t, w), b) + K.dot(states[0], u) * inv)
        return h, [h]
    h0 = K.zeros_like(x[:, 0, :1]) + K.zeros((1, 4))
    _, outs, _ = K.rnn(step, x, [h0], **kw)
    return ir.Graph([x], [outs])


@pytest.mark.parametrize("kw", [{}, {"go_backwards": True}])
def test_licm_hoists_input_projection_and_invariants(kw):
    g = _simple_rnn_graph(**kw)
    g2 = passes.licm(g)
    ir.verify(g2)
    (loop,) = [n for n in g2.nodes if n.op == "loop"]
    body_ops = [n.op for n in loop.attrs["body"].nodes]
    assert "exp" not in body_ops                      # invariant moved out
    assert body_ops.count("dot") == 1                 # only h @ U left
    outer_dots = [n for n in g2.nodes if n.op == "dot"]
    assert outer_dots and outer_dots[0].out_types[0].shape == (None, 5, 4)
    data = np.random.default_rng(3).random((2, 5, 3)).astype(np.float32)
    same_values(g, g2, [data])
    assert passes.licm(g2) is g2                      # nothing left to move


def test_licm_never_hoists_what_depends_on_the_step():
    x = K.placeholder(shape=(None, 4, 2))

    def step(x_t, states):
        s = states[0]
        return s * 2.0, [K.exp(s) + x_t]  # exp(s) depends on the recurrence
    _, outs, _ = K.rnn(step, x, [K.zeros_like(x[:, 0])])
    g = ir.Graph([x], [outs])
    g2 = passes.licm(g)
    (loop,) = [n for n in g2.nodes if n.op == "loop"]
    assert "exp" in [n.op for n in loop.attrs["body"].nodes]
    same_values(g, g2, [np.random.default_rng(4).random((2, 4, 2)).astype(np.float32)])


def test_licm_with_mask_keeps_results():
    x = K.placeholder(shape=(None, 5, 3))
    m = K.placeholder(shape=(None, 5), dtype="bool")
    w = K.variable(np.ones((3, 4)) * 0.3)

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, w) + states[0])
        return h, [h]
    _, outs, st = K.rnn(step, x, [K.zeros_like(x[:, 0, :1]) + K.zeros((1, 4))], mask=m,
                        go_backwards=True)
    g = ir.Graph([x, m], [outs, st[0]])
    g2 = passes.licm(g)
    rng = np.random.default_rng(5)
    same_values(g, g2, [rng.random((2, 5, 3)).astype(np.float32), rng.random((2, 5)) > 0.5])


def _gated_graph():
    """A two-gate cell: z = x_t @ W + h @ U + b sliced per gate (like LSTM/GRU)."""
    x = K.placeholder(shape=(None, 5, 3))
    w = K.variable(np.random.default_rng(6).random((3, 8)) - 0.5)
    u = K.variable(np.random.default_rng(7).random((4, 8)) - 0.5)
    b = K.variable(np.arange(8) * 0.1)

    def step(x_t, states):
        z = K.bias_add(K.dot(x_t, w) + K.dot(states[0], u), b)
        h = K.sigmoid(z[:, :4]) * K.tanh(z[:, 4:])
        return h, [h]
    h0 = K.zeros_like(x[:, 0, :1]) + K.zeros((1, 4))
    _, outs, _ = K.rnn(step, x, [h0])
    return ir.Graph([x], [outs])


def test_sink_slices_moves_gate_slices_onto_the_products_and_keeps_values():
    g = _gated_graph()
    g2 = passes.sink_slices(g)
    ir.verify(g2)
    (loop,) = [n for n in g2.nodes if n.op == "loop"]
    body = loop.attrs["body"]
    wide = [n for n in body.nodes if n.op in ("add", "bias_add")
            and n.out_types[0].shape[-1] == 8]
    assert not wide                                     # no full-width z any more
    sliced = [n for n in body.nodes if n.op == "getitem"]
    assert {n.inputs[0].node.op for n in sliced} >= {"dot"}
    data = np.random.default_rng(8).random((2, 5, 3)).astype(np.float32)
    for a, c in zip(ir.evaluate(g, [data]), ir.evaluate(g2, [data])):
        np.testing.assert_array_equal(a, c)             # same operations, same order
    assert passes.sink_slices(g2) is g2
    # licm still hoists x_t @ W as one product for all steps
    g3 = passes.licm(g2)
    assert [n.out_types[0].shape for n in g3.nodes if n.op == "dot"] == [(None, 5, 8)]


def test_sink_slices_leaves_values_read_whole_and_outer_graphs_alone():
    x = _x((None, 8))
    y = K.exp(x)
    g = ir.Graph([x], [y[:, :4], y[:, 4:]])
    assert passes.sink_slices(g) is g                   # not a loop body

    xs = K.placeholder(shape=(None, 5, 8))

    def step(x_t, states):
        z = x_t + states[0]
        return z[:, :4], [z]                            # z is also read whole
    _, outs, _ = K.rnn(step, xs, [K.zeros_like(xs[:, 0])])
    g = ir.Graph([xs], [outs])
    assert passes.sink_slices(g) is g


def test_pipeline_verifies_after_each_pass_and_names_the_culprit():
    x = _x()
    g = ir.Graph([x], [K.exp(x)])

    def break_types(graph):
        node = graph.nodes[-1]
        bad = ir.Node(node.op, node.inputs, node.attrs, (ir.TensorType((None, 9), "float32"),))
        return ir.Graph(graph.inputs, [bad.outputs[0]])
    with pytest.raises(ir.VerifyError, match="break_types"):
        run_pipeline(g, [passes.cse, break_types, passes.dce], verify_each=True)


def test_pipeline_is_extended_by_a_copy_and_dump_shows_every_pass():
    seen = []

    def my_pass(graph):
        """A user pass: records that it ran."""
        seen.append(graph)
        return graph
    x = _x()
    g = ir.Graph([x], [K.relu(x * 1.0)])
    mine = (*PIPELINE[:2], my_pass, *PIPELINE[2:])
    out = io.StringIO()
    g2, report = run_pipeline(g, mine, dump=True, file=out)
    assert seen and any(r.name == "my_pass" for r in report)
    text = out.getvalue()
    assert "--- after simplify" in text and "multiply -1" in text
    assert "fused_elementwise" in str(g2)


def test_compile_reports_passes_and_interpreter_runs_optimised_graphs():
    x = _x()
    y = K.softmax(K.exp(x) * 2.0)
    c = symkb.compile(K.function([x], y), target="interpreter")
    assert c.graph.nodes  # the interpreter target keeps the graph as built
    g, report = run_pipeline(ir.Graph([x], [y]), verify_each=True)
    assert [r.name for r in report][:3] == ["verify", "canonicalize_loops", "infer_types"]
    data = np.random.default_rng(6).random((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ir.evaluate(g, [data])[0], c(data), rtol=1e-6)


@pytest.mark.parametrize("case", sorted(graph_cases.RUNNABLE))
def test_the_pipeline_leaves_its_own_output_unchanged(case):
    """An optimised graph (``symkb.compile(...).graph``, a K.function result)
    goes through the pipeline again: nothing is fused twice."""
    graph, feeds = graph_cases.RUNNABLE[case]()
    once, _ = run_pipeline(graph)
    twice, _ = run_pipeline(once)
    assert ir.format_graph(twice, full=True) == ir.format_graph(once, full=True)
    for a, b in zip(ir.evaluate(twice, feeds), ir.evaluate(graph, feeds)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_a_rule_returning_a_bare_tensor_says_what_a_rule_returns():
    x = K.placeholder(shape=(None, 2))
    graph = ir.Graph([x], [-(-x)])

    def negneg(node):
        if node.op == "negative" and node.inputs[0].node.op == "negative":
            return node.inputs[0].node.inputs[0]  # should be a 1-tuple
        return None

    with pytest.raises(TypeError, match=r"'negneg' returned a KerasTensor .* `return \(x,\)`"):
        rewrite(graph, negneg)


def test_the_default_pipeline_is_immutable():
    assert isinstance(PIPELINE, tuple)
    with pytest.raises(AttributeError):
        PIPELINE.insert(2, passes.cse)  # callers copy it instead


def test_pass_order_errors_name_the_pass_and_the_missing_property():
    x = _x()
    g = ir.Graph([x], [K.exp(x)])
    with pytest.raises(passes.PassOrderError,
                       match=r"pass 'fuse_dot' \(position 0.*'fused_elementwise'.*"
                             r"no earlier pass ensures it.*'fuse_elementwise' ensures it"):
        run_pipeline(g, [passes.fuse_dot])
    with pytest.raises(passes.PassOrderError,
                       match=r"pass 'licm' .* requires .*'unfused'.*'fuse_elementwise' before it "
                             r"invalidates it"):
        run_pipeline(g, [passes.fuse_elementwise, passes.licm])
    # a pass that breaks types must be followed by infer_types before a pass that needs them
    @passes.declare_pass(invalidates={"types"})
    def retyping(graph):
        return graph
    with pytest.raises(passes.PassOrderError, match=r"pass 'cse'.*'types'.*'retyping'"):
        run_pipeline(g, [retyping, passes.cse])
    run_pipeline(g, [retyping, passes.infer_types, passes.cse])  # in order: runs
    with pytest.raises(ValueError, match=r"unknown graph properties \['typed'\]"):
        passes.declare_pass(requires={"typed"})


def test_every_pass_of_the_default_pipeline_declares_itself():
    for p in set(PIPELINE) - {passes.dce}:
        assert p.pass_info != passes.PassInfo(), p.__name__
    passes.check_order(PIPELINE)
