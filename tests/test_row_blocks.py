"""Row-separable time loops: the batch split into row blocks, one a thread.

``symkb/lower/cpu/rows.py`` decides which loop bodies keep the batch rows
apart; the cpu codegen then runs the time loop once per block of rows inside
a ``prange``. These tests pin the decision (what it accepts and what it must
refuse) and check the blocked kernels against the interpreter for every block
count, whatever the machine's core count: the generated function takes the
thread count as its last argument, so a test can ask for 1 to 5 blocks.
"""
from __future__ import annotations

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.lower import run_pipeline
from symkb.lower.cpu.rows import row_separable
from symkb.lower.cpu.runtime import row_blocks
from tests.harness import compiled

RNG = np.random.default_rng(11)


def _loop_body(graph):
    g, _ = run_pipeline(graph)
    (loop,) = [n for n in g.nodes if n.op == "loop"]
    a = loop.attrs
    body = a["body"]
    ns = len(body.outputs) - a.get("num_outputs", 1)
    return body, a["num_sequences"], ns


def _separable(graph) -> bool:
    return row_separable(*_loop_body(graph))


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(4, return_sequences=True),
    lambda: layers.LSTM(4, go_backwards=True),
    lambda: layers.GRU(4, reset_after=False),
    lambda: layers.GRU(4, reset_after=True, return_state=True),
])
def test_recurrent_layers_are_row_separable(make):
    K.clear_session()
    inp = layers.Input((5, 3))
    m = symkb.Model(inp, make()(inp))
    assert _separable(m.graph)


def _rnn_graph(step, units=4, constants=None):
    x = K.placeholder(shape=(None, 5, 3))
    h0 = K.zeros_like(K.dot(x[:, 0], K.zeros((3, units))))
    _, outs, _ = K.rnn(step, x, [h0], constants=constants)
    return ir.Graph([x], [outs])


def test_a_step_that_mixes_rows_runs_whole():
    w = K.variable(RNG.standard_normal((3, 4)).astype(np.float32))

    def mean_over_batch(x_t, states):
        h = K.tanh(K.dot(x_t, w) + states[0])
        h = h - K.mean(h, axis=0, keepdims=True)   # reads every row
        return h, [h]
    assert not _separable(_rnn_graph(mean_over_batch))

    def flips_rows(x_t, states):
        h = K.reverse(K.tanh(K.dot(x_t, w) + states[0]), axes=0)
        return h, [h]
    assert not _separable(_rnn_graph(flips_rows))

    def reads_batch_size(x_t, states):
        n = K.cast(K.shape(x_t)[0], "float32")
        h = K.tanh(K.dot(x_t, w) + states[0]) / n
        return h, [h]
    assert not _separable(_rnn_graph(reads_batch_size))


def test_per_sample_constants_make_the_loop_run_whole():
    w = K.variable(RNG.standard_normal((3, 4)).astype(np.float32))
    ctx = K.placeholder(shape=(None, 4))

    def step(x_t, states):  # states: the state, then the constants
        h = K.tanh(K.dot(x_t, w) + states[0] + states[1])
        return h, [h]
    x = K.placeholder(shape=(None, 5, 3))
    h0 = K.zeros_like(ctx)
    _, outs, _ = K.rnn(step, x, [h0], constants=[ctx])
    assert not _separable(ir.Graph([x, ctx], [outs]))


def test_row_wise_slices_reshapes_and_concatenations_are_accepted():
    w = K.variable(RNG.standard_normal((3, 8)).astype(np.float32))

    def step(x_t, states):
        z = K.dot(x_t, w)                                    # (b, 8)
        a, b = z[:, :4], z[:, 4:]
        both = K.concatenate([K.tanh(a), K.sigmoid(b)], axis=-1)
        flat = K.reshape(K.reshape(both, (-1, 2, 4)), (-1, 8))
        h = flat[:, :4] * states[0] + flat[:, 4:]
        return h, [h]
    assert _separable(_rnn_graph(step))


def test_row_blocks_count():
    assert row_blocks(32, 2) == 2
    assert row_blocks(15, 2) == 1      # fewer than 8 rows a block: one block
    assert row_blocks(16, 2) == 2
    assert row_blocks(128, 4) == 4
    assert row_blocks(1, 8) == 1
    assert row_blocks(0, 2) == 1


def _call(executable, x, threads):
    params = [v.value() for v in executable._params]
    return executable.function(x, *params, *executable._consts, threads)


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(16, return_sequences=True),
    lambda: layers.LSTM(16, return_sequences=True, go_backwards=True, time_major=False),
    lambda: layers.GRU(32, return_sequences=True, reset_after=True),
    lambda: layers.SimpleRNN(16, return_sequences=True, return_state=True),
])
@pytest.mark.parametrize("masked", [False, True])
def test_blocked_kernels_match_the_interpreter_for_any_block_count(make, masked):
    K.clear_session()
    inp = layers.Input((7, 5))
    x = layers.Masking(0.0)(inp) if masked else inp
    out = make()(x)
    m = symkb.Model(inp, out)
    m.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.4
                   for w in m.get_weights()])
    cpu = compiled(m.graph, "cpu")
    ref = compiled(m.graph, "interpreter")
    src = cpu.source
    assert "in prange(" in src
    assert "gemm_serial(" in src or "SimpleRNN" in type(m.layers[-1]).__name__  # 16x16: loops
    for batch in (1, 9, 16, 17, 40):
        data = RNG.standard_normal((batch, 7, 5)).astype(np.float32)
        if masked:
            data[::3, -2:] = 0.0  # trailing steps masked on some rows
        want = ref(data)
        want = want if isinstance(want, (list, tuple)) else [want]
        for threads in (1, 2, 3, 5):
            got = _call(cpu, data, threads)
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5,
                                           err_msg=f"batch {batch}, {threads} threads")


def test_time_major_loop_blocks_along_axis_1():
    K.clear_session()
    x = K.placeholder(shape=(6, None, 3))
    w = K.variable(RNG.standard_normal((3, 16)).astype(np.float32))
    u = K.variable(RNG.standard_normal((16, 16)).astype(np.float32) * 0.3)

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, w) + K.dot(states[0], u))
        return h, [h]
    h0 = K.zeros_like(K.dot(x[0], w))
    last, outs, new = K.rnn(step, x, [h0], time_major=True)
    g = ir.Graph([x], [last, outs, new[0]])
    cpu = compiled(g, "cpu")
    assert "[:, r0:r1]" in cpu.source
    data = RNG.standard_normal((6, 35, 3)).astype(np.float32)
    want = compiled(g, "interpreter")(data)
    for threads in (1, 2, 4):
        for a, b in zip(_call(cpu, data, threads), want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_input_projection_is_computed_a_step_at_a_time_in_row_blocks():
    K.clear_session()
    m = symkb.Sequential([layers.Input((6, 5)), layers.LSTM(16, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    rows_fn = src[src.index("def sequential_lstm_rows("):src.index("def sequential_lstm_blocks(")]
    main = src[src.index("def sequential("):]
    assert "(computed a step at a time inside the row blocks of the loop)" in main
    assert "gemm_packed(" not in main                    # no (batch, time, 64) product up front
    assert "lstm_kernel_panels = pack_rhs(lstm_kernel)" in main
    assert "gemm_serial(input_1_rows[:, t], lstm_kernel_panels, lstm_projection)" in rows_fn


def test_a_projection_read_elsewhere_too_is_computed_whole():
    K.clear_session()
    x = K.placeholder(shape=(None, 6, 5))
    w = K.variable(RNG.standard_normal((5, 16)).astype(np.float32))
    u = K.variable(RNG.standard_normal((16, 16)).astype(np.float32) * 0.3)
    proj = K.dot(x, w)

    def step(p_t, states):
        h = K.tanh(p_t + K.dot(states[0], u))
        return h, [h]
    _, outs, _ = K.rnn(step, proj, [K.zeros_like(proj[:, 0])])
    g = ir.Graph([x], [outs, proj])                      # the projection is a result too
    cpu = compiled(g, "cpu")
    assert "computed a step at a time" not in cpu.source
    data = RNG.standard_normal((20, 6, 5)).astype(np.float32)
    want = compiled(g, "interpreter")(data)
    for threads in (1, 3):
        for a, b in zip(_call(cpu, data, threads), want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_calls_from_several_python_threads_at_once():
    import threading

    import numba
    K.clear_session()
    m = symkb.Sequential([layers.Input((9, 5)), layers.GRU(32, return_sequences=True)])
    cpu = compiled(m.graph, "cpu")
    ref = compiled(m.graph, "interpreter")
    data = [RNG.standard_normal((24, 9, 5)).astype(np.float32) for _ in range(4)]
    want = [ref(d) for d in data]
    np.testing.assert_allclose(cpu(data[0]), want[0], rtol=1e-5, atol=1e-5)
    if numba.threading_layer() == "workqueue":  # known once a parallel function ran
        pytest.skip("numba's workqueue threading layer cannot run parallel code from two "
                    "threads at once (install an OpenMP runtime or tbb)")
    got = [None] * 4

    def run(k):
        for _ in range(5):
            got[k] = cpu(data[k])
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_loops_whose_products_call_blas_run_whole():
    # float64 products (and widths that are not a multiple of 16) call BLAS,
    # itself multi-threaded: such loops are not split into row blocks.
    K.clear_session()
    K.set_floatx("float64")
    try:
        m = symkb.Sequential([layers.Input((5, 70)), layers.SimpleRNN(70, return_sequences=True)])
        src = compiled(m.graph, "cpu").source
    finally:
        K.set_floatx("float32")
    assert "prange" not in src and "np.dot(" in src
    K.clear_session()
    m = symkb.Sequential([layers.Input((5, 70)), layers.SimpleRNN(70, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    assert "prange" not in src                 # 70 columns: not a multiple of 16
    K.clear_session()
    m = symkb.Sequential([layers.Input((5, 70)), layers.SimpleRNN(64, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    assert "prange" in src and "gemm_serial(" in src
