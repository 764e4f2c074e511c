"""Code forms the cpu generator uses to keep cold compiles short, checked on values.

``runtime.reshaped`` stands for numba's ``reshape`` (whose shape checks cost a
tenth of a second or more of every cold compile that reshapes), ``runtime.empty``
and ``runtime.zeros`` for ``np.empty`` and ``np.zeros`` (an implementation
compiled per rank and dtype, 0.03-0.07 s each), and a softmax
over short rows of a static size sums its exps in one loop. Both must still
give numpy's answers: shapes, views, errors, NaN and Inf rows.
"""
from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from symkb import backend as K
from symkb import ir
from symkb.lower.cpu.runtime import empty, reshaped, zeros
from tests.harness import assert_same, compiled

RNG = np.random.default_rng(5)


@njit(cache=True)
def _reshape_rows(a, n):
    return reshaped(a, (-1, n))


@njit(cache=True)
def _reshape_flat_of_transpose(a):
    return reshaped(a.T, (-1,))


@njit(cache=True)
def _reshape_fresh(n):
    a = np.empty((n, 3, 4), np.float32)
    for i in range(a.size):
        a.reshape(-1)[i] = i
    b = reshaped(a, (n * 3, 4))
    b[0, 1] = -1.0
    return a, b


def test_reshaped_is_numpys_reshape_of_a_contiguous_array():
    a = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    got = _reshape_rows(a, 4)
    assert got.shape == (6, 4) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, a.reshape(-1, 4))
    assert np.shares_memory(got, a)
    assert _reshape_rows(np.zeros((0, 3, 4), np.float32), 4).shape == (0, 4)


def test_reshaped_result_is_a_view_that_keeps_its_buffer_alive():
    a, b = _reshape_fresh(2)
    assert b.shape == (6, 4) and a.shape == (2, 3, 4)
    assert a[0, 0, 1] == -1.0 and b[5, 3] == 23.0
    del a
    np.testing.assert_array_equal(b[1], [4, 5, 6, 7])


def test_reshaped_refuses_a_size_that_changes():
    with pytest.raises(ValueError, match="total size would change"):
        _reshape_rows(np.zeros((2, 3, 4), np.float32), 5)


def test_reshaped_of_a_strided_view_as_numba_reshapes_it():
    column = np.arange(6.0).reshape(2, 3)[:, :1]      # its transpose is one contiguous row
    np.testing.assert_array_equal(_reshape_flat_of_transpose(column), [0.0, 3.0])
    with pytest.raises(NotImplementedError, match="incompatible shape"):
        _reshape_flat_of_transpose(np.arange(6.0).reshape(2, 3))   # only a copy would do


@njit(cache=True)
def _allocate(n):
    a = zeros((n, 3), np.float32)
    b = empty(n, np.int64)
    for i in range(n):
        b[i] = i
    return a, b, empty((), np.bool_), zeros((n, 2, 2), np.float64)


@njit(cache=True)
def _cube(n):
    return empty((n, n, n), np.float32)


def test_empty_and_zeros_allocate_as_numpy_does():
    a, b, c, d = _allocate(4)
    assert a.shape == (4, 3) and a.dtype == np.float32 and a.flags.c_contiguous
    assert not a.any() and not d.any() and d.strides == (32, 16, 8) and d.dtype == np.float64
    np.testing.assert_array_equal(b, np.arange(4))
    assert c.shape == () and c.dtype == np.bool_
    assert _allocate(0)[0].shape == (0, 3)
    with pytest.raises(ValueError, match="negative dimensions not allowed"):
        _allocate(-1)
    with pytest.raises(ValueError, match="array is too big"):
        _cube(2 ** 40)


def test_softmax_of_short_and_long_rows_matches_the_interpreter():
    widths = (1, 3, 4, 16, 17, 40)
    for dtype in ("float32", "float64"):
        xs = [K.placeholder(shape=(None, 5, w), dtype=dtype) for w in widths]
        outs = [K.softmax(x) for x in xs] + [K.softmax(xs[2], axis=1)]
        g = ir.Graph(xs, outs)
        src = compiled(g, "cpu").source
        assert "s = np.float32(0.0)" in src or dtype == "float64"
        arrays = []
        for w in widths:
            a = (RNG.standard_normal((3, 5, w)) * 4).astype(dtype)
            a[0, 1, 0] = np.nan
            a[1, 2, -1] = np.inf
            a[2, 3, :] = -np.inf
            a[2, 4, 0] = 80.0
            arrays.append(a)
        expected = assert_same(g, arrays)
        assert np.isnan(expected[0][0, 1]).all() and np.isfinite(expected[3][0, 0]).all()


def test_store_step_and_store_rows_copy_a_steps_matrices():
    from symkb.lower.cpu.runtime import store_rows, store_step
    src = RNG.standard_normal((3, 5)).astype(np.float32)
    dst = np.zeros((3, 4, 5), np.float32)
    store_step(dst, 2, src)
    np.testing.assert_array_equal(dst[:, 2], src)
    assert not dst[:, [0, 1, 3]].any()
    rows = np.full((3, 5), np.nan, np.float32)
    store_rows(rows, src)
    np.testing.assert_array_equal(rows, src)
    store_step(np.zeros((0, 4, 5), np.float32), 0, np.zeros((0, 5), np.float32))  # no rows


def test_recurrent_layers_start_from_zeros_without_a_fill_loop():
    import symkb
    from symkb import layers
    K.clear_session()
    model = symkb.Sequential([layers.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                              layers.GRU(3)])
    model.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.5
                       for w in model.get_weights()])
    src = compiled(model.graph, "cpu").source
    assert src.count("_state = zeros((input_1.shape[0], 4), np.float32)") == 1
    assert "_state_1 = zeros((input_1.shape[0], 4), np.float32)" in src
    assert "zeros((input_1.shape[0], 3), np.float32)" in src
    assert ".copy()" not in src   # no zero fill copied into the state buffers
    signature = src.split("\ndef ", 1)[1].split(":\n", 1)[0]
    assert "const" not in signature   # the fill's broadcast operand is no argument
    x = RNG.standard_normal((6, 5, 3)).astype(np.float32)
    x[2, 1] = np.nan
    assert_same(model.graph, [x])
