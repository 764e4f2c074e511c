"""K.rnn and the loop node: eager == symbolic over the option grid, nesting,
captured values, errors, the verifier, printing and unrolling."""
import itertools

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, Node, VerifyError

B, T, F, U = 3, 5, 4, 3
RNG = np.random.default_rng(7)
X = RNG.standard_normal((B, T, F)).astype("float32")
W = (RNG.standard_normal((F, U)) * 0.5).astype("float32")
R = (RNG.standard_normal((U, U)) * 0.5).astype("float32")
H0 = RNG.standard_normal((B, U)).astype("float32")
C0 = RNG.standard_normal((B, U)).astype("float32")
CONST = RNG.standard_normal((B, U)).astype("float32")
MASKS = {
    "none": None,
    "trailing": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool),
    "middle": np.array([[1, 0, 1, 0, 1], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool),
    "leading": np.array([[0, 0, 1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 1, 1, 0]], bool),
}


def run_both(step, x, states, mask=None, constants=None, **options):
    """K.rnn eagerly and through a traced graph (interpreter); both results."""
    time_major = options.get("time_major", False)
    eager = K.rnn(step, x, states, mask=mask, constants=constants, **options)
    shape = list(x.shape)
    shape[1 if time_major else 0] = None
    xs = K.placeholder(shape=tuple(shape), name="x")
    ms = None if mask is None else K.placeholder(shape=mask.shape, dtype=mask.dtype.name,
                                                 name="mask")
    last, outputs, new_states = K.rnn(step, xs, states, mask=ms, constants=constants, **options)
    feeds = [xs] + ([ms] if ms is not None else [])
    f = K.function(feeds, [last, outputs] + list(new_states), target="interpreter")
    ir.verify(f.graph)
    got = f([x] + ([mask] if mask is not None else []))
    return eager, got, f.graph


def assert_same(eager, symbolic):
    last, outputs, states = eager
    want = [last, outputs] + list(states)
    assert len(want) == len(symbolic)
    for a, b in zip(want, symbolic):
        assert isinstance(a, np.ndarray)
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def simple_step(x, states):
    h = K.tanh(K.dot(x, W) + K.dot(states[0], R) + (states[1] if len(states) > 1 else 0.0))
    return h, [h]


GRID = list(itertools.product([False, True], list(MASKS), [False, True], [False, True],
                              [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("go_backwards,mask,unroll,time_major,zero_output,all_outputs,consts",
                         GRID)
def test_eager_equals_symbolic_over_the_grid(go_backwards, mask, unroll, time_major,
                                             zero_output, all_outputs, consts):
    m = MASKS[mask]
    x = X.transpose(1, 0, 2) if time_major else X
    if m is not None and time_major:
        m = m.T
    eager, got, graph = run_both(simple_step, x, [H0], mask=m,
                                 constants=[CONST] if consts else None,
                                 go_backwards=go_backwards, unroll=unroll,
                                 time_major=time_major, zero_output_for_mask=zero_output,
                                 return_all_outputs=all_outputs)
    assert_same(eager, got)
    loops = [n for n in graph.nodes if n.op == "loop"]
    assert len(loops) == (0 if unroll else 1)
    n_out = T if all_outputs else 1
    assert got[1].shape == ((n_out, B, U) if time_major else (B, n_out, U))


def reference_rnn(x, h, mask, go_backwards, zero_output):
    """A plain-numpy restatement of tf_keras's masked recurrence."""
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    outs, prev = [], np.zeros_like(h)
    for t in order:
        new = np.tanh(x[:, t] @ W + h @ R)
        m = mask[:, t:t + 1]
        out = np.where(m, new, 0.0 if zero_output else prev)
        h = np.where(m, new, h)
        prev = out
        outs.append(out)
    return np.stack(outs, 1), h


@pytest.mark.parametrize("mask", ["trailing", "middle", "leading"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_mask_semantics(mask, go_backwards, zero_output):
    m = MASKS[mask]
    last, outputs, (h,) = K.rnn(simple_step, X, [H0], mask=m, go_backwards=go_backwards,
                                zero_output_for_mask=zero_output)
    want_outputs, want_h = reference_rnn(X, H0, m, go_backwards, zero_output)
    np.testing.assert_allclose(outputs, want_outputs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last, want_outputs[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-6)


def test_fully_masked_sample_keeps_its_initial_state():
    _, outputs, (h,) = K.rnn(simple_step, X, [H0], mask=MASKS["leading"])
    np.testing.assert_array_equal(h[1], H0[1])
    np.testing.assert_array_equal(outputs[1], 0.0)


def test_float_and_3d_masks_are_accepted():
    m = MASKS["middle"]
    want = K.rnn(simple_step, X, [H0], mask=m)
    for variant in (m.astype("float32"), m[..., None], m.astype("int32")):
        assert_same(K.rnn(simple_step, X, [H0], mask=variant), list(want[:2]) + want[2])


def test_nested_inputs_states_and_outputs():
    W2 = (RNG.standard_normal((2, U)) * 0.5).astype("float32")
    x2 = RNG.standard_normal((B, T, 2)).astype("float32")
    seen = []

    def step(inputs, states):
        seen.append(sorted(inputs))
        (h, c), = states[:1]
        z = K.dot(inputs["a"], W) + K.dot(inputs["b"], W2) + K.dot(h, R)
        c2 = c + z
        h2 = K.tanh(c2)
        return (h2, c2 * 2.0), [(h2, c2)]

    inputs = {"b": x2, "a": X}
    eager = K.rnn(step, inputs, [(H0, C0)])
    (last_h, last_c), (out_h, out_c), [(h, c)] = eager
    assert seen[0] == ["a", "b"]
    xa = K.placeholder(shape=(None, T, F))
    xb = K.placeholder(shape=(None, T, 2))
    s_last, s_out, s_states = K.rnn(step, {"a": xa, "b": xb}, [(H0, C0)])
    f = K.function([xa, xb], [s_last[0], s_last[1], s_out[0], s_out[1]] + list(s_states[0]),
                   target="interpreter")
    got = f([X, x2])
    for a, b in zip([last_h, last_c, out_h, out_c, h, c], got):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    loop = next(n for n in f.graph.nodes if n.op == "loop")
    assert loop.attrs["num_sequences"] == 2 and loop.attrs["num_outputs"] == 2
    assert loop.attrs["num_states"] == 2
    assert [s.shape for s in loop.inputs[:2]] == [(None, T, F), (None, T, 2)]  # a before b


def test_captured_variable_becomes_a_param_operand_read_at_call_time():
    kernel = K.variable(W, name="kernel")
    outer = K.placeholder(shape=(None, U), name="bias_in")

    def step(x, states):
        h = K.tanh(K.dot(x, kernel) + K.dot(states[0], R) + outer)
        return h, [h]

    x = K.placeholder(shape=(None, T, F), name="x")
    last, _, _ = K.rnn(step, x, [H0])
    loop = last.node
    assert loop.op == "loop"
    body = loop.attrs["body"]
    assert all(n.op != "param" for n in body.nodes)
    assert all(t.node.op == "input" for t in body.inputs)
    consts = loop.inputs[1 + 1:]
    assert kernel.tensor in consts and outer in consts
    f = K.function([x, outer], last, target="interpreter")
    bias = np.zeros((B, U), "float32")
    before = f([X, bias])
    np.testing.assert_allclose(before, K.rnn(simple_step, X, [H0])[0], rtol=1e-6, atol=1e-6)
    K.set_value(kernel, W * 0)
    after = f([X, bias])
    assert not np.allclose(before, after)


def test_scalar_constants_stay_inside_the_body():
    x = K.placeholder(shape=(None, T, F))
    last, _, _ = K.rnn(lambda x, s: (s[0] * 0.5 + K.sum(x, axis=-1, keepdims=True),
                                     [s[0] * 0.5 + 1.0]), x, [np.zeros((B, 1), "float32")])
    loop = last.node
    assert loop.attrs["num_constants"] == 0
    assert any(n.op == "const" for n in loop.attrs["body"].nodes)


def test_eager_inputs_with_a_symbolic_closure_record_a_loop():
    outer = K.placeholder(shape=(B, U), name="outer")
    last, _, _ = K.rnn(lambda x, s: (s[0] + outer, [s[0] + outer]), X, [H0])
    assert isinstance(last, ir.KerasTensor) and last.node.op == "loop"
    f = K.function([outer], last, target="interpreter")
    np.testing.assert_allclose(f([np.ones((B, U), "float32")]), H0 + T, rtol=1e-6)


def test_input_length():
    lengths = np.array([5, 3, 2])
    by_length = K.rnn(simple_step, X, [H0], input_length=lengths)
    by_mask = K.rnn(simple_step, X, [H0], mask=MASKS["trailing"])
    assert_same(by_length, list(by_mask[:2]) + by_mask[2])
    K.rnn(simple_step, X, [H0], input_length=T)
    with pytest.raises(ValueError, match="input_length=4"):
        K.rnn(simple_step, X, [H0], input_length=4)


def test_nested_loop_in_a_step_function():
    x4 = RNG.standard_normal((B, 2, T, F)).astype("float32")

    def outer_step(x, states):
        inner_last, _, _ = K.rnn(simple_step, x, [states[0]])
        return inner_last, [inner_last]

    eager, got, graph = run_both(outer_step, x4, [H0])
    assert_same(eager, got)
    nested = [n for _, n in graph.walk() if n.op == "loop"]
    assert len(nested) == 2
    ir.verify(graph)


# ------------------------------------------------------------------- errors

def test_unroll_needs_a_static_length():
    x = K.placeholder(shape=(None, None, F))
    with pytest.raises(ValueError, match="Unrolling requires a fixed number of timesteps."):
        K.rnn(simple_step, x, [H0], unroll=True)


def test_mask_without_states():
    for x in (X, K.placeholder(shape=(None, T, F))):
        with pytest.raises(ValueError, match="a mask needs at least one state"):
            K.rnn(lambda x, s: (K.dot(x, W), []), x, [], mask=MASKS["trailing"])


def test_rank_two_inputs():
    with pytest.raises(ValueError, match=r"Shape \(3, 4\) must have rank at least 3"):
        K.rnn(simple_step, X[:, 0], [H0])


@pytest.mark.parametrize("symbolic", [False, True])
def test_step_with_the_wrong_number_of_states(symbolic):
    x = K.placeholder(shape=(None, T, F)) if symbolic else X
    with pytest.raises(ValueError, match=r"returned 2 new state\(s\), but initial_states "
                                         r"holds 1"):
        K.rnn(lambda x, s: (K.dot(x, W), [s[0], s[0]]), x, [H0])


@pytest.mark.parametrize("symbolic", [False, True])
def test_step_with_a_state_of_the_wrong_shape(symbolic):
    x = K.placeholder(shape=(None, T, F)) if symbolic else X
    with pytest.raises(ValueError, match=r"new state 1 returned by the step function has "
                                         r"shape \(.*4\), but initial state 1 has shape "
                                         r"\(3, 3\)"):
        K.rnn(lambda x, s: (K.dot(x, W), [s[0], x]), x, [H0, C0])


def test_step_with_a_state_of_the_wrong_dtype():
    x = K.placeholder(shape=(None, T, F))
    with pytest.raises(ValueError, match="new state 0 .* dtype float64"):
        K.rnn(lambda x, s: (K.dot(x, W), [K.cast(s[0], "float64")]), x, [H0])


# ---------------------------------------------------------------- the IR side

def small_loop(go_backwards=False):
    x = K.placeholder(shape=(None, T, F), name="x")
    kernel = K.variable(W, name="cell/kernel")

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, kernel) + states[0])
        return h, [h]
    last, outputs, states = K.rnn(step, x, [np.zeros((B, U), "float32")],
                                  go_backwards=go_backwards)
    return x, last, outputs, states


def test_printed_graph_shows_the_body():
    x, last, outputs, states = small_loop()
    text = str(Graph([x], [last, outputs], name="g"))
    lines = text.splitlines()
    assert lines[0] == "graph g(%x: f32[?,5,4]) -> (f32[3,3], f32[3,5,3]) {"
    assert '%kernel: f32[4,3] = param[name="cell/kernel"]' in text
    loop_line = next(i for i, line in enumerate(lines) if "= loop[" in line)
    assert lines[loop_line].startswith("  %1: f32[3,3], %2: f32[3,5,3], %3: f32[3,3] = loop[")
    for attr in ("go_backwards=false", "length=5", "num_constants=1", "num_sequences=1",
                 "num_states=1", "return_all_outputs=true", "time_major=false"):
        assert attr in text
    body = lines.index("    body(%x_t: f32[?,4], %state: f32[3,3], %kernel_1: f32[4,3]) {")
    assert body > loop_line
    assert lines[body + 1:body + 7] == [
        "      %4: f32[?,3] = dot %x_t, %kernel_1",
        "      %5: f32[3,3] = add %4, %state",
        "      %6: f32[3,3] = tanh %5",
        "      return %6, %6",
        "    }",
        "  }",
    ]
    assert lines[-2:] == ["  return %1, %2", "}"]


def test_walk_visits_the_body():
    x, last, outputs, _ = small_loop()
    graph = Graph([x], [last])
    walked = [(g, n.op) for g, n in graph.walk()]
    body = last.node.attrs["body"]
    assert (body, "tanh") in walked and (graph, "loop") in walked
    assert [op for g, op in walked if g is body] == [n.op for n in body.nodes]


def test_verifier_rejects_an_open_body():
    x = K.placeholder(shape=(None, T, F))
    h0 = K.placeholder(shape=(None, U))
    xt = K.placeholder(shape=(None, F))
    h = K.placeholder(shape=(None, U))
    kernel = K.variable(W)
    out = K.tanh(K.dot(xt, kernel) + h)
    body = Graph([xt, h], [out, out])
    attrs = dict(body=body, num_sequences=1, num_states=1, num_constants=0, num_outputs=1,
                 has_mask=False, go_backwards=False, zero_output_for_mask=False,
                 return_all_outputs=True, time_major=False, length=T)
    types = ir.get_op("loop").infer([x.type, h0.type], attrs)
    node = Node("loop", (x, h0), attrs, types)
    with pytest.raises(VerifyError, match="reads the variable"):
        ir.verify(Graph([x, h0], [node.outputs[0]]))


def test_type_rule_checks_the_body_signature():
    x = K.placeholder(shape=(None, T, F))
    h0 = K.placeholder(shape=(None, U))
    xt = K.placeholder(shape=(None, F + 1))
    h = K.placeholder(shape=(None, U))
    body = Graph([xt, h], [h, h])
    attrs = dict(body=body, num_sequences=1, num_states=1, num_constants=0, num_outputs=1,
                 has_mask=False, go_backwards=False, zero_output_for_mask=False,
                 return_all_outputs=True, time_major=False, length=T)
    with pytest.raises(ValueError, match="body inputs"):
        ir.get_op("loop").infer([x.type, h0.type], attrs)
    attrs["length"] = T + 1
    with pytest.raises(ValueError, match="length=6"):
        ir.get_op("loop").infer([x.type, h0.type], attrs)


def test_unroll_loop_helper_matches_the_loop():
    from symkb.ir.ops.canonical import unroll_loop
    for go_backwards in (False, True):
        x, last, outputs, states = small_loop(go_backwards)
        node = last.node
        unrolled = unroll_loop(node.inputs, node.attrs)
        g1 = Graph([x], list(node.outputs))
        g2 = Graph([x], list(unrolled))
        ir.verify(g2)
        assert all(n.op != "loop" for n in g2.nodes)
        for a, b in zip(ir.evaluate(g1, [X]), ir.evaluate(g2, [X])):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_unroll_pass():
    from symkb.lower.passes.unroll import unroll_loops
    x4 = RNG.standard_normal((B, 2, T, F)).astype("float32")
    xs = K.placeholder(shape=(None, 2, T, F))

    def outer_step(x, states):
        inner_last, _, _ = K.rnn(simple_step, x, [states[0]], mask=MASKS["middle"])
        return inner_last, [inner_last]

    last, outputs, _ = K.rnn(outer_step, xs, [H0], go_backwards=True)
    graph = Graph([xs], [last, outputs])
    assert unroll_loops(graph, max_length=1) is graph
    flat = unroll_loops(graph)
    ir.verify(flat)
    assert not [n for _, n in flat.walk() if n.op == "loop"]
    for a, b in zip(ir.evaluate(graph, [x4]), ir.evaluate(flat, [x4])):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    unknown = K.placeholder(shape=(None, None, F))
    g2 = Graph([unknown], [K.rnn(simple_step, unknown, [H0])[0]])
    assert unroll_loops(g2) is g2


# ------------------------------------------------------------------ properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def rnn_problems(draw):
    b = draw(st.integers(1, 3))
    t = draw(st.integers(1, 4))
    f = draw(st.integers(1, 3))
    u = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    use_mask = draw(st.booleans())
    mask = rng.random((b, t)) < 0.6 if use_mask else None
    options = dict(go_backwards=draw(st.booleans()), unroll=draw(st.booleans()),
                   time_major=draw(st.booleans()),
                   zero_output_for_mask=draw(st.booleans()),
                   return_all_outputs=draw(st.booleans()))
    x = rng.standard_normal((b, t, f)).astype("float32")
    w = rng.standard_normal((f, 2 * u)).astype("float32")
    r = rng.standard_normal((u, 2 * u)).astype("float32")
    states = [rng.standard_normal((b, u)).astype("float32") for _ in range(2)]
    return x, mask, w, r, states, options


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(rnn_problems())
def test_property_eager_equals_symbolic(problem):
    x, mask, w, r, states, options = problem
    u = r.shape[0]

    def step(x_t, s):
        z = K.dot(x_t, w) + K.dot(s[0], r)
        c = K.sigmoid(z[:, :u]) * s[1] + K.tanh(z[:, u:])
        h = K.tanh(c)
        return h * 2.0, [h, c]

    if options["time_major"]:
        x = x.transpose(1, 0, 2)
        mask = None if mask is None else mask.T
    eager, got, graph = run_both(step, x, states, mask=mask, **options)
    assert_same(eager, got)
    assert sum(n.op == "loop" for n in graph.nodes) == (0 if options["unroll"] else 1)


def test_loop_graphs_survive_json_and_text_round_trips():
    x, last, outputs, _ = small_loop(go_backwards=True)
    mask = K.placeholder(shape=(None, T), dtype="bool", name="mask")
    masked = K.rnn(simple_step, x, [H0], mask=mask, zero_output_for_mask=True)[1]
    graph = Graph([x, mask], [last, outputs, masked], name="g")
    again = ir.from_json(ir.to_json(graph))
    ir.verify(again)
    assert str(again) == str(graph)
    m = MASKS["middle"]
    for a, b in zip(ir.evaluate(graph, [X, m]), ir.evaluate(again, [X, m])):
        np.testing.assert_array_equal(a, b)
