"""Checkpointed loop gradients (``checkpoint=k``) equal the plain ones.

The checkpointed rule (``symkb/ir/ops/scan_checkpoint.py``) saves the states
every ``k`` steps and recomputes each segment in the backward: its gradients
must be those of the plain rule (already checked against finite differences
and tf in ``test_rnn_gradients.py``) for ``k`` dividing the number of steps
and not, with masks, ``go_backwards``, ``time_major``, constants and nested
states, on the interpreter; one small recurrence compiled for the cpu (one
compile); and the saved values are per segment, not per step.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers
from symkb.ir import ShapeError
from tests.harness import assert_same
from tests.test_rnn_gradients import GRID, _rnn_case

CASES = ["plain", "mask_mid", "mask_start_backwards", "mask_mid_backwards_zero_last",
         "time_major_backwards_last", "constants_mask_mid", "two_states_mask_start",
         "nested_inputs_mask_end"]


def _both(graph, arrays, wrt, k):
    """The plain and the checkpointed VJP graphs' values, random cotangents."""
    rng = np.random.default_rng(0)
    cts = [rng.normal(size=v.shape) for v in ir.evaluate(graph, arrays)]
    plain = ir.grad(graph, wrt, cotangents=True)
    ckpt = ir.grad(graph, wrt, cotangents=True, checkpoint=k)
    ir.verify(ckpt)
    assert str(ir.parse(str(ckpt))) == str(ckpt)
    return ir.evaluate(plain, list(arrays) + cts), ir.evaluate(ckpt, list(arrays) + cts), ckpt


@pytest.mark.parametrize("k", [1, 2])      # 3 steps: k=1 divides them, k=2 pads one step
@pytest.mark.parametrize("name", CASES)
def test_checkpointed_rnn_gradients_equal_the_plain_ones(name, k):
    graph, arrays = _rnn_case(GRID[name])
    wrt = [graph.inputs[i] for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    want, got, _ = _both(graph, arrays, wrt, k)
    for w, g, t in zip(want, got, wrt):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=t.name)


def test_checkpoints_with_recomputed_steps_equal_the_plain_gradients():
    """The two options combine: each segment saves only its states."""
    graph, arrays = _rnn_case(GRID["two_states_mask_start"])
    wrt = [graph.inputs[i] for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    with ir.recompute_loop_steps():
        want, got, _ = _both(graph, arrays, wrt, 2)
    for w, g, t in zip(want, got, wrt):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=t.name)


def _segments(graph):
    """``[(length, reverse)]`` of the top-level scans and of the scans inside them."""
    top = [n for n in graph.nodes if n.op == "scan"]
    inner = [m for n in top for m in n.attrs["body"].nodes if m.op == "scan"]
    return top, inner


@pytest.mark.parametrize("k", [3, 7])      # 7 steps: 3 pads two, 7 is one segment
def test_a_masked_backwards_lstm_checkpoints_every_k_steps(k, float64):
    x = layers.Input((7, 2), name="x")
    lstm = layers.LSTM(3, return_sequences=True, go_backwards=True, name="lstm")
    y = lstm(layers.Masking(0.0)(x))
    graph = ir.Graph([x], [y], name="lstm")
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(2, 7, 2))
    xv[0, 2] = xv[1, 6] = 0.0
    wrt = [x, *lstm.trainable_weights]
    want, got, back = _both(graph, [xv], wrt, k)
    for w, g, t in zip(want, got, ["x", "kernel", "recurrent_kernel", "bias"]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=t)
    top, inner = _segments(back)
    if k == 7:          # T <= k: the plain rule (one residual-saving scan of 7 steps)
        assert not inner and {n.attrs["length"] for n in top} == {7}
        return
    # the saved states: one per segment (3 of 3 steps), no scan over the 7 steps
    assert sorted(n.attrs["length"] for n in top) == [3, 3]
    assert {n.attrs["length"] for n in inner} == {3}
    (saving,) = [n for n in top if n.attrs["body"].name == "checkpoints"]
    ns = saving.attrs["num_states"]           # h, c (and the masked output's carry)
    assert [o.shape for o in saving.outputs[ns:2 * ns]] == [(None, 3, 3)] * ns


@pytest.fixture
def float64():
    K.clear_session()
    K.set_floatx("float64")
    yield
    K.set_floatx("float32")
    K.clear_session()


def test_compiled_cpu_checkpointed_gradient_equals_the_interpreters():
    """One compile: a masked reverse recurrence of 5 steps in segments of 2."""
    K.clear_session()
    xs = K.placeholder(shape=(None, 5, 2), name="xs")
    mask = K.placeholder(shape=(None, 5), dtype="bool", name="mask")
    rng = np.random.default_rng(1)
    w = K.variable(rng.normal(size=(2, 3)).astype("float32"), name="w")
    u = K.variable(rng.normal(size=(3, 3)).astype("float32") * 0.5, name="u")

    def step(x, states):
        h = K.tanh(K.dot(x, w) + K.dot(states[0], u))
        return h, [h]

    last, outs, _ = K.rnn(step, xs, [K.zeros_like(K.dot(xs[:, 0], w))], go_backwards=True,
                          mask=mask)
    loss = K.sum(K.square(outs)) + K.sum(last)
    graph = ir.Graph([xs, mask], [loss, *K.gradients(loss, [xs, w, u], checkpoint=2)],
                     name="ckpt")
    plain = ir.Graph([xs, mask], [loss, *K.gradients(loss, [xs, w, u])], name="plain")
    feeds = [rng.normal(size=(3, 5, 2)).astype("float32"),
             np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 0], [0, 1, 1, 1, 1]], bool)]
    got = assert_same(graph, feeds, targets=("cpu",))
    for g, w in zip(got, ir.evaluate(plain, feeds)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_checkpointing_needs_the_number_of_steps_and_a_positive_k():
    xs = K.placeholder(shape=(None, None, 2), name="xs")
    _, outs, _ = K.rnn(lambda x, s: (K.tanh(x + s[0]), [K.tanh(x + s[0])]), xs,
                       [K.zeros_like(xs[:, 0])])
    with pytest.raises(ShapeError, match=r"checkpoint=2 needs the number of time steps"):
        K.gradients(K.sum(outs), [xs], checkpoint=2)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="checkpoint: expected a number of steps >= 1"):
            K.gradients(K.sum(outs), [xs], checkpoint=bad)
