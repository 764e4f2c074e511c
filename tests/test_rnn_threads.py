"""K.rnn traced from 8 threads at once: each loop body captures exactly the
values its own step function did not build, whatever the other threads build
meanwhile, even a tensor another thread builds mid-trace and hands over (the
trace frame is per thread, not a global construction order)."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers

THREADS = 8
B, T, F, U = 2, 5, 3, 4
X = np.random.default_rng(0).standard_normal((B, T, F)).astype("float32")


def _values(seed, shape):
    return (np.random.default_rng(seed).standard_normal(shape) * 0.4).astype("float32")


def _handoff(j):
    """The tensor thread ``j`` builds for its neighbour: ``exp(0.5 * v_j)``, ``v_j`` a Variable."""
    v = K.variable(_values(100 + j, (U,)), name="v")
    return K.exp(ir.as_tensor(v) * 0.5)          # symbolic: read when the graph runs


def _raw_rnn(k, inp, neighbour_tensor):
    """Raw K.rnn whose step closes over an outer tensor, a Variable and the
    tensor from ``neighbour_tensor()`` (called inside the trace)."""
    w = K.variable(_values(200 + k, (F, U)), name="w")
    outer = K.dot(K.mean(inp, axis=1), K.variable(_values(300 + k, (F, U)), name="w_outer"))
    captured = {}

    def step(x_t, states):
        shared = captured.setdefault("shared", neighbour_tensor())
        h = K.tanh(K.dot(x_t, w) + states[0] * shared + outer)
        return h, [h]

    last, _, _ = K.rnn(step, inp, [K.zeros_like(outer)])
    return last, captured["shared"]


def _build(k, barrier=None, slots=None):
    """Thread ``k``'s graphs: SimpleRNN and LSTM layers and a raw K.rnn.

    With a ``barrier`` every thread builds its layers at once, and the raw
    step function, mid-trace, builds the tensor of its left neighbour (into
    ``slots``) and takes its right neighbour's. Without, the neighbour's
    tensor is built before the trace: the single-threaded reference."""
    if barrier is not None:
        barrier.wait(60)
    inp = layers.Input((T, F))
    simple = layers.SimpleRNN(U, return_sequences=True)
    lstm = layers.LSTM(U)
    seq = simple(inp)
    last = lstm(seq)
    for layer in (simple, lstm):
        layer.set_weights([_values(10 * k + i, w.shape) for i, w in enumerate(layer.weights)])
    right = (k + 1) % THREADS
    if barrier is None:
        built = _handoff(right)
        raw, shared = _raw_rnn(k, inp, lambda: built)
    else:
        def mid_trace():
            barrier.wait(60)          # every thread is inside its trace now
            slots[k] = _handoff(k)
            barrier.wait(60)
            return slots[right]
        raw, shared = _raw_rnn(k, inp, mid_trace)
    return ir.Graph([inp], [seq, last, raw], name=f"thread_{k}"), shared


def _loops(graph):
    return [n for n in graph.nodes if n.op == "loop"]


def _numpy_raw_rnn(k):
    """The raw K.rnn of thread ``k`` recomputed with numpy."""
    w, w_outer = _values(200 + k, (F, U)), _values(300 + k, (F, U))
    shared = np.exp(_values(100 + (k + 1) % THREADS, (U,)) * np.float32(0.5))
    outer = X.mean(axis=1) @ w_outer
    h = np.zeros((B, U), "float32")
    for t in range(T):
        h = np.tanh(X[:, t] @ w + h * shared + outer)
    return h


def _run_threads(target, count):
    """``[target(k, barrier) for k in range(count)]``, each in its own thread."""
    results, errors = [None] * count, []
    barrier = threading.Barrier(count)

    def run(k):
        try:
            results[k] = target(k, barrier)
        except BaseException as exc:   # handed back to the test
            errors.append(exc)
            barrier.abort()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a builder thread did not finish"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def fine_thread_switching():
    """Switch threads every microsecond so the traces really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_rnn_graphs_built_by_8_threads_at_once_equal_single_threaded_builds(
        fine_thread_switching):
    # references: one thread at a time, each with a fresh session (same layer names)
    reference = [_run_threads(lambda _, barrier, k=k: _build(k), 1)[0]
                 for k in range(THREADS)]
    slots = [None] * THREADS
    built = _run_threads(lambda k, barrier: _build(k, barrier, slots), THREADS)

    for k, ((graph, shared), (ref_graph, _)) in enumerate(zip(built, reference)):
        ir.verify(graph)
        loops = _loops(graph)
        assert len(loops) == 3
        raw_loop = loops[-1]
        # the neighbour's tensor, built during this trace by another thread, is an
        # operand of the loop, not recomputed inside its body
        assert shared is slots[(k + 1) % THREADS]
        assert shared in raw_loop.inputs
        assert {n.op for n in raw_loop.attrs["body"].nodes}.isdisjoint({"exp", "param"})
        for loop, ref_loop in zip(loops, _loops(ref_graph)):
            assert str(loop.attrs["body"]) == str(ref_loop.attrs["body"])
            assert len(loop.inputs) == len(ref_loop.inputs)
        got, want = ir.evaluate(graph, [X]), ir.evaluate(ref_graph, [X])
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        np.testing.assert_allclose(got[2], _numpy_raw_rnn(k), rtol=1e-5, atol=1e-6)


def test_nested_traces_nest_their_frames():
    inner_loops = []

    def outer_step(x_t, states):
        offset = states[0] * 0.5               # built by the outer trace

        def inner_step(y_t, inner_states):
            h = inner_states[0] + K.sum(y_t, axis=-1, keepdims=True) + offset
            return h, [h]
        inner_last, _, _ = K.rnn(inner_step, x_t, [states[0]])
        inner_loops.append((inner_last.node, offset))
        return inner_last, [inner_last]

    x = K.placeholder(shape=(None, 2, 3, 4), name="x")
    last, _, _ = K.rnn(outer_step, x, [np.ones((B, 1), "float32")])
    outer_loop = last.node
    (inner_loop, offset), = inner_loops
    # the inner trace captures the outer trace's value; the outer body keeps it inside
    assert inner_loop in outer_loop.attrs["body"].nodes
    assert offset in inner_loop.inputs and inner_loop.attrs["num_constants"] == 1
    assert offset.node in outer_loop.attrs["body"].nodes
    assert outer_loop.attrs["num_constants"] == 0
    ir.verify(ir.Graph([x], [last]))
    x_value = np.arange(B * 2 * 3 * 4, dtype="float32").reshape(B, 2, 3, 4) / 10
    got = ir.evaluate(ir.Graph([x], [last]), [x_value])[0]
    h = np.ones((B, 1), "float32")
    for t in range(2):
        h = 2.5 * h + x_value[:, t].sum(axis=(1, 2))[:, None]
    np.testing.assert_allclose(got, h, rtol=1e-5)
