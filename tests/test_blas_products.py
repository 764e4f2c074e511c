"""Matrix products outside time loops: BLAS through ``sgemm_into`` (``lower/cpu/blas.py``).

What a train step's backward pass needs of them: transposed operands read as
views (no copy), a plain SGD update done by the weight-gradient product in
the Variable's own array (``lower/cpu/in_place.py``), bias gradients summed
over the batch without a transposed copy. Values are checked against numpy
and the interpreter; one small compiled train step serves several checks.
"""
from __future__ import annotations

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers, optimizers
from symkb.lower.cpu import blas
from symkb.lower.cpu.merge_nests import merge_nests

RNG = np.random.default_rng(17)
F32 = np.float32


@pytest.fixture(scope="module")
def sgemm():
    blas.prepare()
    return blas.sgemm_into


@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (1, 4, 6), (6, 1, 2), (3, 5, 1), (40, 33, 17)])
def test_sgemm_into_takes_rows_and_transposed_views(sgemm, m, k, n):
    x = RNG.standard_normal((m, k)).astype(F32)
    w = RNG.standard_normal((k, n)).astype(F32)
    want = x.astype(np.float64) @ w
    out = np.full((m, n), np.nan, F32)  # beta 0 never reads the result
    sgemm(x, w, out, F32(1.0), F32(0.0))
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    xt, wt = np.ascontiguousarray(x.T), np.ascontiguousarray(w.T)
    out = np.ones((m, n), F32)
    sgemm(xt.T, wt.T, out, F32(-0.5), F32(1.0))  # both operands column-major views
    np.testing.assert_allclose(out, 1.0 - 0.5 * want, rtol=1e-5, atol=1e-5)
    strided = np.repeat(x, 2, axis=1)[:, ::2]  # neither layout: copied first
    out = np.empty((m, n), F32)
    sgemm(strided, w, out, F32(2.0), F32(0.0))
    np.testing.assert_allclose(out, 2.0 * want, rtol=1e-5, atol=1e-5)


def test_sgemm_into_empty_sizes_and_a_strided_result(sgemm):
    out = np.full((3, 2), 7.0, F32)
    sgemm(np.zeros((3, 0), F32), np.zeros((0, 2), F32), out, F32(1.0), F32(0.0))
    np.testing.assert_array_equal(out, np.zeros((3, 2), F32))  # K = 0: a sum of nothing
    sgemm(np.zeros((0, 4), F32), np.zeros((4, 2), F32), np.zeros((0, 2), F32),
          F32(1.0), F32(0.0))
    wide = np.zeros((3, 4), F32)
    with pytest.raises(ValueError, match="row-major"):
        sgemm(np.ones((3, 2), F32), np.ones((2, 2), F32), wide[:, ::2], F32(1.0), F32(0.0))


def _mlp():
    # an orthogonal kernel comes out of its QR column-major: its Variable must still
    # hold it row-major, or the in-place update's BLAS call cannot write into it
    model = symkb.Sequential([layers.Input((6,)),
                              layers.Dense(8, activation="relu", kernel_initializer="orthogonal"),
                              layers.Dense(3, activation="softmax")], name="mlp")
    model.set_weights([RNG.standard_normal(w.shape).astype(F32) * 0.5 for w in model.weights])
    return model


@pytest.fixture(scope="module")
def trained():
    """Two SGD steps of the same MLP compiled for cpu and for the interpreter."""
    x = RNG.standard_normal((10, 6)).astype(F32)
    y = RNG.integers(0, 3, 10)
    start = _mlp().get_weights()
    out = {}
    for target in ("cpu", "interpreter"):
        K.clear_session()
        model = _mlp()
        model.set_weights(start)
        model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      target=target)
        losses = [model.train_on_batch(x, y) for _ in range(2)]
        out[target] = (model, losses, model.get_weights())
    return out


def test_sgd_step_updates_kernels_in_place_and_matches_the_interpreter(trained):
    model, losses, weights = trained["cpu"]
    _, want_losses, want = trained["interpreter"]
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    for got, ref in zip(weights, want):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    src = model._training.train_fn.source
    for kernel in ("dense_kernel", "dense_1_kernel"):
        assert f", {kernel}, -SGD_learning_rate[()], 1.0)" in src
        assert f"{kernel}[i0, i1] = " not in src  # no copy at the end
    assert "dense_bias[i0] = " in src  # the biases are stored by loops
    assert "[...] = " not in src


def test_a_variable_holds_its_value_row_major():
    fortran = np.asfortranarray(RNG.standard_normal((3, 4)).astype(F32))
    held = K.variable(fortran).value()
    assert held.flags.c_contiguous
    np.testing.assert_array_equal(held, fortran)


def test_backward_products_read_transposes_as_views(trained):
    src = trained["cpu"][0]._training.train_fn.source
    assert "dense_1_transpose = dense_1_kernel.T" in src
    assert "= input_1.T" in src
    assert "_moved" not in src  # bias gradients: no transposed copy to sum


def test_cross_entropy_backward_has_no_gradient_of_the_max(trained):
    graph = trained["cpu"][0]._training.train_fn.graph
    ops = [n.op for n in graph.nodes]
    assert "equal" not in ops and not any(
        "equal" in n.attrs.get("ops", ()) for n in graph.nodes)


def test_a_variable_read_after_its_update_is_not_updated_in_place():
    K.clear_session()
    x = K.placeholder(shape=(None, 4), name="x")
    w0 = RNG.standard_normal((4, 3)).astype(F32)
    w = K.variable(w0, name="w")
    loss = K.sum(K.square(K.dot(x, w)))
    (g,) = K.gradients(loss, [w])
    # an output reads w elementwise: the update must wait for the end
    seen = K.sum(w * K.mean(x), axis=0)
    fn = K.function([x], [loss, seen], updates=[(w, w - 0.01 * g)], target="cpu")
    xv = RNG.standard_normal((5, 4)).astype(F32)
    got_loss, got_seen = fn([xv])
    assert "w[i0, i1] = " in fn.source and ", w, -" not in fn.source
    np.testing.assert_allclose(got_seen, w0.sum(axis=0) * xv.mean(), rtol=1e-5)
    np.testing.assert_allclose(got_loss, np.sum((xv @ w0) ** 2), rtol=1e-5)
    grad = 2.0 * xv.T.astype(np.float64) @ (xv @ w0)
    np.testing.assert_allclose(K.get_value(w), w0 - 0.01 * grad, rtol=1e-5, atol=1e-6)


def test_sums_over_leading_axes_match_numpy():
    K.clear_session()
    x = K.placeholder(shape=(None, 3, 5), name="x")
    i = K.placeholder(shape=(None, 4), dtype="int32", name="i")
    outs = [K.sum(x, axis=0), K.mean(x, axis=[0, 1]), K.sum(i, axis=0), K.mean(i, axis=0)]
    fn = K.function([x, i], outs, target="cpu")
    xv = RNG.standard_normal((7, 3, 5)).astype(F32)
    iv = RNG.integers(-9, 9, (7, 4)).astype(np.int32)
    got = fn([xv, iv])
    assert "_moved" not in fn.source
    want = K.function([x, i], outs, target="interpreter")([xv, iv])
    for g, r in zip(got, want):
        assert g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=1e-5)
    np.testing.assert_allclose(got[0], xv.sum(axis=0), rtol=1e-5)


def test_nests_at_different_depths_do_not_merge():
    lines = [
        "    for r in range(n):",
        "        for k in range(m):",
        "            s[k] += x[r, k]",
        "    for k in range(m):",
        "        out[k] = s[k]",
    ]
    assert merge_nests(lines) == lines
