"""Graphs run in phases: batch-size values, the row-wise part on row blocks,
the rest whole (``symkb/lower/cpu/phases.py``).

A loss and its gradients through a recurrent layer mixes the batch rows only
around its time loops. The cpu target runs the loops on row blocks and the
loss and weight-gradient sums after them; these tests check the split (what
goes where), the values against the interpreter for every block count and
batch size, a train step that writes Variables, and the emitters the split
leans on (the sum over leading axes, the folded fills).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.lower import run_pipeline
from symkb.lower.cpu.phases import PhasedExecutable, plan_phases
from tests.harness import compiled

RNG = np.random.default_rng(5)


def _lstm_loss_graph(units=16):
    K.clear_session()
    x = layers.Input((4, 3), name="x")
    lstm = layers.LSTM(units, return_sequences=True, name="lstm")
    y = K.placeholder(shape=(None, 4, units), name="y")
    loss = K.mean(K.square(lstm(x) - y))
    lstm.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.3
                      for w in lstm.get_weights()])
    grads = K.gradients(loss, lstm.trainable_weights)
    return ir.Graph([x, y], [loss] + grads, name="lstm_loss"), units


@pytest.fixture(scope="module")
def lstm_loss():
    graph, units = _lstm_loss_graph()
    return graph, units, compiled(graph, "cpu"), compiled(graph, "interpreter")


def _data(batch, units):
    return [RNG.standard_normal((batch, 4, 3)).astype(np.float32),
            RNG.standard_normal((batch, 4, units)).astype(np.float32)]


def test_a_loss_and_its_gradients_split_around_the_loops(lstm_loss):
    graph, _, cpu, _ = lstm_loss
    assert isinstance(cpu, PhasedExecutable) and cpu.target == "cpu"
    p = cpu.phases
    # the mean's 1/size is a head value; the rows part holds both scans
    assert [t.dtype for t in p.rows_head] == ["float32"]
    assert sum(n.op == "scan" for n in p.rows.nodes) == 2
    assert cpu.rows.row_split is not None and "nogil=True" in cpu.rows.source
    assert cpu.tail.row_split is None
    # the tail: the mean and the weights' sums over batch and time, no scan
    tail_ops = {n.op for n in p.tail.nodes}
    assert "scan" not in tail_ops and {"mean", "dot", "sum"} <= tail_ops
    assert "phase 2 of 3 (rows)" in cpu.source and "phase 3 of 3 (tail)" in cpu.source
    assert len(cpu.graph.outputs) == 4


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_phased_gradients_match_the_interpreter(lstm_loss, blocks):
    _, units, cpu, ref = lstm_loss
    cpu.threads = blocks
    try:
        for batch in (24, 9):             # a head value per batch size
            data = _data(batch, units)
            for got, want in zip(cpu(data), ref(data)):
                np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-6)
    finally:
        cpu.threads = None
    assert cpu.calls["interpreter"] == 0


def test_head_values_are_computed_once_per_batch_size(lstm_loss):
    _, units, cpu, _ = lstm_loss
    for batch in (16, 16, 8):
        cpu(_data(batch, units))
    assert {(16, 16), (8, 8)} <= set(cpu._heads)
    (value,) = cpu._heads[(16, 16)].values()
    assert value == np.float32(1.0 / (16 * 4 * 16))


def test_graphs_without_a_loop_or_rows_to_split_compile_as_one_function():
    K.clear_session()
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.ones((3, 2), np.float32), name="w")
    loss = K.mean(K.square(K.dot(x, w)))
    dense_grad = ir.Graph([x], [loss] + K.gradients(loss, [w]))
    assert plan_phases(run_pipeline(dense_grad)[0]) is None      # no time loop
    seq = layers.Input((4, 3))
    forward = symkb.Model(seq, layers.LSTM(16)(seq))
    assert plan_phases(run_pipeline(forward.graph)[0]) is None  # rows apart already
    assert compiled(forward.graph, "cpu").row_split is not None


def test_a_train_step_with_updates_splits_and_writes_the_weights():
    K.clear_session()
    x = layers.Input((4, 3), name="x")
    lstm = layers.LSTM(16, name="lstm")
    t = K.placeholder(shape=(None, 16), name="t")
    loss = K.mean(K.square(lstm(x) - t))
    weights = [RNG.standard_normal(w.shape).astype(np.float32) * 0.3
               for w in lstm.get_weights()]
    updates = [(w, w - 0.1 * g) for w, g in zip(lstm.trainable_weights,
                                                K.gradients(loss, lstm.trainable_weights))]
    data = [RNG.standard_normal((16, 4, 3)).astype(np.float32),
            RNG.standard_normal((16, 16)).astype(np.float32)]
    after = {}
    for target in ("interpreter", "cpu"):
        lstm.set_weights(weights)
        step = K.function([x, t], [loss], updates=updates, target=target)
        if target == "cpu":
            assert isinstance(step, PhasedExecutable)
        losses = [step(data)[0] for _ in range(2)]
        after[target] = (losses, lstm.get_weights())
    np.testing.assert_allclose(after["cpu"][0], after["interpreter"][0], rtol=1e-5)
    for got, want in zip(after["cpu"][1], after["interpreter"][1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_sums_over_leading_axes_match_the_interpreter():
    K.clear_session()
    x = K.placeholder(shape=(None, 5, 7), name="x")
    i = K.placeholder(shape=(None, 3), dtype="int32", name="i")
    outs = [K.sum(x, axis=[0, 1]), K.mean(x, axis=0), K.sum(x, axis=[0, 1], keepdims=True),
            K.sum(i, axis=0), K.mean(x, axis=[1, 2])]
    g = ir.Graph([x, i], outs)
    data = [RNG.standard_normal((6, 5, 7)).astype(np.float32),
            RNG.integers(-9, 9, (6, 3)).astype(np.int32)]
    cpu = compiled(g, "cpu")
    # a row of accumulators each row of x adds to (sums.py), no transposed copy
    assert re.search(r"sums\w*\[k\] \+= ", cpu.source)
    # float64 accumulators, as every cpu sum (numpy's float32 pairwise sum differs
    # in the last bit)
    for got, want in zip(cpu(data), compiled(g, "interpreter")(data)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(cpu(data)[0], data[0].astype(np.float64).sum(axis=(0, 1))
                                  .astype(np.float32))


def test_fills_of_a_known_shape_fold_to_constants():
    K.clear_session()
    x = K.placeholder(shape=(None, 3), name="x")
    s = K.sum(x)
    g = ir.Graph([x], [K.ones_like(s) * s, K.zeros_like(x) + x])
    optimised, _ = run_pipeline(g)
    ops = [n.op for _, n in optimised.walk()]
    assert "ones_like" not in ops          # a scalar: its shape is known
    assert "zeros_like" in ops             # (?, 3): the batch is not
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    for got, want in zip(compiled(g, "cpu")(data), compiled(g, "interpreter")(data)):
        np.testing.assert_array_equal(got, want)
