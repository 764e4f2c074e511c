"""Row groups (``symkb/lower/cpu/row_groups.py``): last-axis sums and means
and their elementwise neighbours emitted as one loop over the rows.

Every case checks the compiled cpu function against the interpreter (numpy)
and checks, on the generated source, whether the group was formed: a layer
normalisation written with backend ops and the ``LayerNormalization`` layer
(float32 and float64, rows of sizes that are not multiples of the eight
running sums, ranks 3 and 4, NaN and inf in a row, an empty batch, row
blocks on several threads, a Variable changed after compiling), row-shaped
values that leave the group, a group that must not form (a value read
outside before the group's last node), and a normalisation's gradient.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers
from symkb.lower import compile_graph
from symkb.lower.cpu.row_groups import plan_row_groups
from symkb.lower.passes import consumers, run_pipeline

GROUPED = "(in the row loop of the group's last node below)"
RNG = np.random.default_rng(5)


def _check(graph, feeds, exe=None, rtol=1e-5, atol=1e-5):
    exe = exe or compile_graph(graph, "cpu")
    ref = compile_graph(graph, "interpreter")
    got, want = exe(feeds), ref(feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return exe


def _norm(x, gamma, beta, eps=1e-3):
    m = K.mean(x, axis=-1, keepdims=True)
    d = x - m
    v = K.mean(K.square(d), axis=-1, keepdims=True)
    return d / K.sqrt(v + eps) * gamma + beta, v


def _rows(batch, n, dtype="float32", steps=5):
    return (RNG.standard_normal((batch, steps, n)) * 3 + 1).astype(dtype)


@pytest.fixture(scope="module")
def norm13():
    """A normalisation over rows of 13 written with backend ops: a Variable
    gamma, a numpy beta, a Python eps; the variance leaves the group too."""
    K.clear_session()
    x = K.placeholder(shape=(None, 5, 13), name="x")
    gamma = K.variable(RNG.uniform(0.5, 2, 13).astype("float32"), name="gamma")
    beta = RNG.standard_normal(13).astype("float32")
    y, v = _norm(x, gamma, beta)
    graph = ir.Graph([x], [y, v * 2.0])
    return graph, gamma, compile_graph(graph, "cpu")


def test_a_normalisation_is_one_row_loop(norm13):
    graph, _, exe = norm13
    assert exe.source.count(GROUPED) >= 4  # mean, subtract, square, mean; the last node emits
    g, _ = run_pipeline(graph)
    plan = plan_row_groups(g, consumers(g), set(g.outputs))
    (group,) = {id(v): v for v in plan.values()}.values()
    assert [n.op for n in group.members].count("mean") == 2
    assert len(group.outputs) == 2  # the normalised rows and the variance


@pytest.mark.parametrize("batch", [0, 1, 3, 7])
def test_normalisation_matches_the_interpreter(norm13, batch):
    graph, _, exe = norm13
    _check(graph, [_rows(batch, 13)], exe)


def test_nan_and_inf_in_a_row_stay_in_that_row(norm13):
    graph, _, exe = norm13
    x = _rows(4, 13)
    x[1, 2, 7] = np.nan
    x[2, 0, 0] = np.inf
    x[3, 4, :] = 0.0  # a constant row: variance 0, the eps keeps it finite
    y, v = exe([x])
    assert np.isnan(y[1, 2]).all() and np.isfinite(y[1, [0, 1, 3, 4]]).all()
    assert np.isnan(y[2, 0]).all() and np.isfinite(y[0]).all()
    _check(graph, [x], exe)


def test_set_value_after_compiling_and_row_blocks(norm13):
    graph, gamma, exe = norm13
    K.set_value(gamma, np.linspace(-1, 1, 13).astype("float32"))
    exe.threads = 3
    try:
        _check(graph, [_rows(11, 13)], exe)
    finally:
        exe.threads = None


def test_layer_normalization_float64_rank4():
    K.clear_session()
    K.set_floatx("float64")
    x = K.placeholder(shape=(None, 2, 3, 33), dtype="float64")
    ln = layers.LayerNormalization(epsilon=1e-5)
    y = ln(x)
    ln.set_weights([RNG.uniform(0.5, 2, 33), RNG.standard_normal(33)])
    graph = ir.Graph([x], [y])
    exe = _check(graph, [RNG.standard_normal((4, 2, 3, 33)) * 10], rtol=1e-10, atol=1e-10)
    assert GROUPED in exe.source


def test_no_group_when_a_member_is_read_before_the_last_node():
    K.clear_session()
    x = K.placeholder(shape=(None, 4, 16))
    m = K.mean(x, axis=-1, keepdims=True)
    d = x - m
    c = K.max(d, axis=-1, keepdims=True)  # reads d outside, and the last node reads it
    v = K.mean(K.square(d), axis=-1, keepdims=True)
    y = d / K.sqrt(v + 1e-3) + c
    graph = ir.Graph([x], [y])
    exe = _check(graph, [_rows(3, 16, steps=4)])
    assert GROUPED not in exe.source


def test_sum_groups_and_the_normalisation_gradient():
    K.clear_session()
    x = K.placeholder(shape=(None, 6, 20))
    w = K.variable(RNG.standard_normal((20,)).astype("float32"))
    e = K.exp(x - K.max(x, axis=-1, keepdims=True))
    soft = e / K.sum(e, axis=-1, keepdims=True)   # sum keepdims: a group with its users
    y, _ = _norm(x, w, 0.5)
    loss = K.sum(y * soft)
    (gx,) = K.gradients(loss, [x])
    graph = ir.Graph([x], [soft, y, gx])
    exe = _check(graph, [_rows(5, 20, steps=6) * 0.5], rtol=2e-5, atol=2e-5)
    assert GROUPED in exe.source
