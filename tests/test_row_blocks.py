"""Graphs that keep the batch rows apart run on row blocks, one a thread.

``symkb/lower/cpu/rows.py`` decides which loop steps and which whole graphs
keep the batch rows apart; the cpu executable then calls the generated
function (compiled ``nogil=True``) on blocks of rows from several threads and
joins the results. These tests pin the decision (what it accepts and what it
must refuse) and check the blocked runs against the interpreter for every
block count, whatever the machine's core count: ``executable.threads`` caps
the blocks of the next calls, so a test can ask for 1 to 5.
"""
from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.lower import run_pipeline
from symkb.lower.cpu import blocks
from symkb.lower.cpu.blocks import row_blocks
from symkb.lower.cpu.rows import graph_row_separable, row_separable
from tests.harness import compiled

RNG = np.random.default_rng(11)


def _loop_body(graph):
    g, _ = run_pipeline(graph)
    (loop,) = [n for n in g.nodes if n.op == "scan"]
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


def _split(graph):
    g, _ = run_pipeline(graph)
    return graph_row_separable(g)


def test_recurrent_models_keep_their_rows_apart():
    K.clear_session()
    inp = K.placeholder(shape=(None, 5, 3), dtype="int32")
    emb = layers.Embedding(10, 4)(inp[:, :, 0])
    seq = layers.LSTM(6, return_sequences=True)(emb)
    pooled = K.mean(K.permute_dimensions(seq, (0, 2, 1)), axis=-1)
    out = layers.Dense(3, activation="softmax")(K.concatenate([pooled, K.max(seq, axis=1)]))
    g = ir.Graph([inp], [out, K.expand_dims(K.sum(K.tile(out, (1, 2)), axis=1), -1), seq])
    assert _split(g) == (True, True, True)
    _check_blocks(symkb.compile(g, target="cpu"), g,
                  RNG.integers(0, 10, (24, 5, 3)).astype(np.int32))


def test_a_graph_that_mixes_rows_runs_whole():
    K.clear_session()
    x = K.placeholder(shape=(None, 5, 3))
    h = layers.SimpleRNN(4)(x)
    assert _split(ir.Graph([x], [h - K.mean(h, axis=0)])) is None     # across the batch
    assert _split(ir.Graph([x], [K.reverse(h, axes=0)])) is None
    assert _split(ir.Graph([x], [K.sum(h)])) is None                  # every axis
    assert _split(ir.Graph([x], [K.cast(K.shape(x)[0], "float32") * h])) is None
    fixed = K.placeholder(shape=(8, 5, 3))                             # a known batch size
    assert _split(ir.Graph([fixed], [layers.SimpleRNN(4)(fixed)])) is None


def test_time_major_loops_run_whole():
    K.clear_session()
    x = K.placeholder(shape=(6, None, 3))
    w = K.variable(RNG.standard_normal((3, 16)).astype(np.float32))

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, w) + states[0])
        return h, [h]
    last, outs, _ = K.rnn(step, x, [K.zeros_like(K.dot(x[0], w))], time_major=True)
    g = ir.Graph([x], [last, outs])
    assert _split(g) is None
    cpu = compiled(g, "cpu")
    assert cpu.row_split is None and "nogil=True" not in cpu.source
    _check_blocks(cpu, g, RNG.standard_normal((6, 35, 3)).astype(np.float32))


def test_results_the_same_for_every_row_come_from_one_block():
    calls = []

    def fn(x, w):
        calls.append(x.shape[0])
        return x * 2.0, w + 1.0
    x = np.arange(40.0).reshape(20, 2)
    w = np.ones(3)
    got, kept = blocks.run_blocks(fn, [x], [w], (True, False), 3)
    assert kept is None  # no workspaces given
    assert sorted(calls) == [6, 7, 7]
    np.testing.assert_array_equal(got[0], x * 2.0)
    np.testing.assert_array_equal(got[1], w + 1.0)


def test_blocks_write_into_whole_batch_results_once_their_shapes_are_known():
    K.clear_session()
    m = symkb.Sequential([layers.Input((None, 5)), layers.GRU(16, return_sequences=True)])
    cpu = symkb.compile(m, target="cpu")
    ref = symkb.compile(m, target="interpreter")
    assert "    if out0.shape != (" in cpu.source        # the blocks' rows of the result
    for steps in (4, 4, 7, 4):                           # new shapes, then known ones
        data = RNG.standard_normal((24, steps, 5)).astype(np.float32)
        got = _run(cpu, [data], 3)
        np.testing.assert_allclose(got, ref(data), rtol=1e-5, atol=1e-5)
        assert got.shape == (24, steps, 16) and got.flags.c_contiguous
    # per set of input shapes (less the batch): the result shapes (less the batch)
    assert cpu._out_shapes == {((4, 5),): [(4, 16)], ((7, 5),): [(7, 16)]}


def test_rows_a_block_did_not_write_in_place_are_copied():
    def fn(x, out):      # ignores its output argument, as a kernel given the wrong shape
        return (x + 1.0,)
    x = np.arange(30.0).reshape(10, 3)
    out = np.full((10, 3), np.nan)
    (got,), _ = blocks.run_blocks(fn, [x], [], (True,), 2, [(0, out)])
    assert got is out
    np.testing.assert_array_equal(out, x + 1.0)
    (joined,), _ = blocks.run_blocks(fn, [x], [], (True,), 2, [(0, np.empty((0, 0)))])
    np.testing.assert_array_equal(joined, x + 1.0)  # no whole-batch array: joined


def test_row_blocks_count():
    assert row_blocks(32, 2) == 2
    assert row_blocks(15, 2) == 1      # fewer than 8 rows a block: one block
    assert row_blocks(16, 2) == 2
    assert row_blocks(128, 4) == 4
    assert row_blocks(1, 8) == 1
    assert row_blocks(0, 2) == 1


def test_rows_per_block_one_for_sequences_and_images_without_a_time_loop(monkeypatch):
    """A batch row of 64 positions and 1024 elements or more is a block's work
    alone: two sequences run on two threads; a recurrence, a flat row or a
    small one keeps 8 rows a block."""
    from symkb.lower import cpu as cpu_target
    K.clear_session()
    seq = K.placeholder(shape=(None, 64, 16))
    w = K.variable(RNG.standard_normal((16, 16)).astype("float32") * 0.05)
    # a batched product: the graph runs on row blocks (a lone dense calls BLAS)
    dense = ir.Graph([seq], [K.batch_dot(K.softmax(K.batch_dot(K.dot(seq, w), seq,
                                                                axes=(2, 2))), seq,
                                         axes=(2, 1))])
    flat = K.placeholder(shape=(None, 16))
    short = K.placeholder(shape=(None, 32, 16))
    thin = K.placeholder(shape=(None, 64, 8))
    assert blocks.rows_per_block(run_pipeline(dense)[0]) == 1
    assert blocks.rows_per_block(run_pipeline(ir.Graph([flat], [K.dot(flat, w)]))[0]) == 8
    assert blocks.rows_per_block(run_pipeline(ir.Graph([short], [K.dot(short, w)]))[0]) == 8
    assert blocks.rows_per_block(run_pipeline(ir.Graph([thin], [K.exp(thin)]))[0]) == 8
    lstm_in = layers.Input((64, 16))
    lstm = symkb.Model(lstm_in, layers.LSTM(4, return_sequences=True)(lstm_in))
    assert blocks.rows_per_block(run_pipeline(lstm.graph)[0]) == 8
    assert row_blocks(2, 2, 1) == 2 and row_blocks(3, 4, 1) == 3
    seen = []
    real = cpu_target.run_blocks

    def spy(fn, arrays, rest, split, count, *more):
        seen.append(count)
        return real(fn, arrays, rest, split, count, *more)

    monkeypatch.setattr(cpu_target, "run_blocks", spy)
    exe = compiled(dense, "cpu")
    exe.threads = 2
    try:
        data = [RNG.standard_normal((3, 64, 16)).astype("float32")]
        np.testing.assert_allclose(exe(data)[0], compiled(dense, "interpreter")(data)[0],
                                   rtol=1e-5, atol=1e-6)
    finally:
        exe.threads = None
    assert seen == [2]


def test_thread_count_follows_numba():
    import numba
    assert blocks.thread_count() in (numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())


def _check_blocks(cpu, graph, data, threads=(1, 3)):
    """``cpu`` on ``data`` run as each number of blocks equals the interpreter."""
    want = compiled(graph, "interpreter")(data)
    for n in threads:
        for a, b in zip(_run(cpu, [data], n), want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{n} threads")


def _run(executable, args, threads):
    saved = executable.threads
    executable.threads = threads
    try:
        return executable(*args)
    finally:
        executable.threads = saved


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(16, return_sequences=True),
    lambda: layers.LSTM(16, return_sequences=True, go_backwards=True),
    lambda: layers.GRU(32, return_sequences=True, reset_after=True),
    lambda: layers.SimpleRNN(16, return_sequences=True, return_state=True),
])
@pytest.mark.parametrize("masked", [False, True])
def test_blocked_runs_match_the_interpreter_for_any_block_count(make, masked):
    K.clear_session()
    inp = layers.Input((7, 5))
    x = layers.Masking(0.0)(inp) if masked else inp
    out = make()(x)
    m = symkb.Model(inp, out)
    m.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.4
                   for w in m.get_weights()])
    cpu = compiled(m.graph, "cpu")
    ref = compiled(m.graph, "interpreter")
    assert cpu.row_split is not None and "nogil=True" in cpu.source
    assert "gemm_serial(" in cpu.source or "SimpleRNN" in type(m.layers[-1]).__name__
    for batch in (1, 9, 16, 17, 40):
        data = RNG.standard_normal((batch, 7, 5)).astype(np.float32)
        if masked:
            data[::3, -2:] = 0.0  # trailing steps masked on some rows
        want = ref(data)
        want = want if isinstance(want, (list, tuple)) else [want]
        for threads in (1, 2, 3, 5):
            got = _run(cpu, [data], threads)
            got = got if isinstance(got, (list, tuple)) else [got]
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5,
                                           err_msg=f"batch {batch}, {threads} threads")


def test_inputs_of_other_batch_sizes_run_as_one_block():
    K.clear_session()
    a = layers.Input((4, 3))
    b = layers.Input((4, 3))
    m = symkb.Model([a, b], [layers.SimpleRNN(16)(a), layers.SimpleRNN(16)(b)])
    cpu = symkb.compile(m, target="cpu")
    assert cpu.row_split == (True, True)
    xa = RNG.standard_normal((32, 4, 3)).astype(np.float32)
    xb = RNG.standard_normal((20, 4, 3)).astype(np.float32)
    want = symkb.compile(m, target="interpreter")([xa, xb])
    # the kernel takes the inputs' unknown batch sizes as equal: the shape guard
    # hands inputs of other batch sizes to the interpreter, and says so
    with pytest.warns(symkb.FallbackWarning, match=r"sizes \[20, 32\] on their unknown axis 0"):
        got = _run(cpu, [[xa, xb]], 4)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    assert cpu.calls == {"kernel": 0, "interpreter": 1}


def test_an_error_in_a_block_reaches_the_caller():
    K.clear_session()
    m = symkb.Sequential([layers.Input((5,), dtype="int32"), layers.Embedding(10, 4),
                          layers.SimpleRNN(16)])
    cpu = symkb.compile(m, target="cpu")
    assert cpu.row_split is not None
    tokens = np.ones((32, 5), np.int32)
    tokens[30, 2] = 99  # in the last block only
    with pytest.raises(IndexError):
        _run(cpu, [tokens], 4)


def test_zero_time_steps_is_a_clear_error():
    K.clear_session()
    m = symkb.Sequential([layers.Input((None, 3)), layers.SimpleRNN(16)])
    cpu = symkb.compile(m, target="cpu")
    with pytest.raises(ValueError, match=r"shapes \[\(32, 0, 3\)\] do not fit the graph: "
                                         r"getitem: index 0 is out of bounds for axis 1"):
        _run(cpu, [np.zeros((32, 0, 3), np.float32)], 4)


def test_a_projection_with_a_bias_is_computed_a_step_at_a_time_too():
    K.clear_session()
    m = symkb.Sequential([layers.Input((6, 5)), layers.SimpleRNN(64, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    step = src[src.index("for i in range("):]
    assert "(computed a step at a time inside the loop)" in src
    assert "gemm_serial(input_1[:, t], simple_rnn_kernel_panels, simple_rnn_projection)" in step
    assert "simple_rnn_projection[i0, i1] + simple_rnn_bias[i1]" in step


def test_a_small_projection_is_hoisted():
    K.clear_session()
    m = symkb.Sequential([layers.Input((6, 5)), layers.SimpleRNN(16, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    assert "computed a step at a time" not in src
    assert src.index("simple_rnn_kernel_panels = pack_rhs(") < src.index("for i in range(")


def test_input_projection_is_computed_a_step_at_a_time_in_row_blocks():
    K.clear_session()
    m = symkb.Sequential([layers.Input((6, 5)), layers.LSTM(16, return_sequences=True)])
    src = compiled(m.graph, "cpu").source
    loop_at = src.index("for i in range(")
    assert "(computed a step at a time inside the loop)" in src
    # no (batch, time, 64) product
    assert "np.dot(" not in src and "sgemm_into(" not in src and ", 6, 64)" not in src
    assert src.index("lstm_kernel_panels = pack_rhs(lstm_kernel)") < loop_at
    assert "gemm_serial(input_1[:, t], lstm_kernel_panels, lstm_projection)" in src[loop_at:]


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
    _check_blocks(cpu, g, RNG.standard_normal((20, 6, 5)).astype(np.float32))


def test_calls_from_several_python_threads_at_once():
    K.clear_session()
    m = symkb.Sequential([layers.Input((9, 5)), layers.GRU(32, return_sequences=True)])
    cpu = compiled(m.graph, "cpu")
    ref = compiled(m.graph, "interpreter")
    data = [RNG.standard_normal((24, 9, 5)).astype(np.float32) for _ in range(4)]
    want = [ref(d) for d in data]
    got = [None] * 4

    def run(k):
        for _ in range(5):
            got[k] = _run(cpu, [data[k]], 3)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _forked_call(cpu, data, queue):
    queue.put(_run(cpu, [data], 2))


def test_a_forked_child_runs_row_blocks_on_threads_of_its_own():
    import multiprocessing
    K.clear_session()
    m = symkb.Sequential([layers.Input((4, 3)), layers.SimpleRNN(16, return_sequences=True)])
    cpu = compiled(m.graph, "cpu")
    data = RNG.standard_normal((32, 4, 3)).astype(np.float32)
    want = _run(cpu, [data], 2)                      # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_forked_call, args=(cpu, data, queue))
    child.start()
    try:
        got = queue.get(timeout=60)                  # a child waiting on dead threads hangs
        child.join(timeout=60)
    finally:
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_float64_graphs_call_blas_and_run_whole():
    # float64 products call BLAS, itself multi-threaded: such graphs are not
    # split into row blocks.
    K.clear_session()
    K.set_floatx("float64")
    try:
        m = symkb.Sequential([layers.Input((5, 70)), layers.SimpleRNN(70, return_sequences=True)])
        cpu = symkb.compile(m, target="cpu")
    finally:
        K.set_floatx("float32")
    assert cpu.row_split is None and "nogil" not in cpu.source and "np.dot(" in cpu.source


def test_widths_that_are_not_a_multiple_of_16_are_stored_in_place():
    K.clear_session()
    m = symkb.Sequential([layers.Input((5, 70)), layers.GRU(70, return_sequences=True),
                          layers.LSTM(100), layers.Dense(10, activation="softmax")])
    m.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.2
                   for w in m.get_weights()])
    cpu = compiled(m.graph, "cpu")
    src = cpu.source
    assert cpu.row_split == (True,) and "np.dot(" not in src and "sgemm_into(" not in src
    # the kernel masks the stores of its last panel: no buffer of padded width
    # (GRU 3 x 70 and LSTM 4 x 100 gate columns, 10 classes)
    assert "gemm_serial(lstm_last, dense_kernel_panels, dense_bias_add)" in src
    assert "gemm_serial(gru_state, gru_recurrent_kernel_panels, gru_matmul)" in src
    assert not re.search(r"_16 = empty\(\(input_1\.shape\[0\], (16|112|224|400|416)\)", src)
    _check_blocks(cpu, m.graph, RNG.standard_normal((27, 5, 70)).astype(np.float32), (1, 2, 3))


def test_graphs_without_a_time_loop_run_whole():
    K.clear_session()
    m = symkb.Sequential([layers.Input((32,)), layers.Dense(64, activation="tanh")])
    assert symkb.compile(m, target="cpu").row_split is None


def test_threads_takes_none_or_a_positive_int():
    K.clear_session()
    cpu = symkb.compile(symkb.Sequential([layers.Input((3, 4)), layers.LSTM(2)]), target="cpu")
    for bad in (0, -1, "two", True, 1.5):
        with pytest.raises(ValueError, match="positive int"):
            cpu.threads = bad
    cpu.threads = 2
    assert cpu.threads == 2
    cpu.threads = None
    assert cpu.threads is None
