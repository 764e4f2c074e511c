"""symkb's own float32 matrix product (symkb/lower/cpu/gemm.py) and where codegen uses it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symkb
from symkb import backend as K
from symkb import layers
from symkb.lower.cpu import gemm
from symkb.lower.cpu.gemm import gemm_serial, pack_rhs


def _check(x, w):
    p = pack_rhs(w)
    out = np.full((x.shape[0], w.shape[1]), np.nan, np.float32)
    gemm_serial(x, p, out)
    ref = x.astype(np.float64) @ w.astype(np.float64)
    scale = np.abs(x).astype(np.float64) @ np.abs(w).astype(np.float64)
    assert out.dtype == np.float32
    np.testing.assert_array_less(np.abs(out - ref), 1e-6 * (scale + 1))
    return out


def test_pack_rhs_lays_out_panels_of_32_then_16_columns():
    w = np.arange(3 * 48, dtype=np.float32).reshape(3, 48)
    p = pack_rhs(w)
    assert p.shape == (3 * 48,)
    np.testing.assert_array_equal(p[:96].reshape(3, 32), w[:, :32])
    np.testing.assert_array_equal(p[96:].reshape(3, 16), w[:, 32:])


@pytest.mark.parametrize("m", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 130])
@pytest.mark.parametrize("n", [16, 32, 48, 80])
def test_every_row_remainder_and_panel_tail(m, n):
    rng = np.random.default_rng(m * 100 + n)
    x = rng.standard_normal((m, 7)).astype(np.float32)
    w = rng.standard_normal((7, n)).astype(np.float32)
    out = _check(x, w)
    assert out.shape == (m, n)


@pytest.mark.parametrize("k", [3, 300])          # 300: past one KC chunk (masked adds)
@pytest.mark.parametrize("n", [1, 4, 10, 17, 33, 40, 72, 136])
def test_widths_that_are_not_a_multiple_of_16_write_only_their_columns(n, k):
    rng = np.random.default_rng(n * 7 + k)
    x = rng.standard_normal((13, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    big = np.full((13, n + 9), 7.0, np.float32)
    gemm_serial(x, pack_rhs(w), big[:, :n])      # the tail panel's stores are masked
    ref = x.astype(np.float64) @ w.astype(np.float64)
    scale = np.abs(x).astype(np.float64) @ np.abs(w).astype(np.float64)
    np.testing.assert_array_less(np.abs(big[:, :n] - ref), 1e-6 * (scale + 1))
    assert (big[:, n:] == 7.0).all()             # nothing past the n columns written


def test_large_products_agree():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 96)).astype(np.float32)
    w = rng.standard_normal((96, 512)).astype(np.float32)
    _check(x, w)


def test_rows_with_a_stride_and_a_result_inside_a_larger_array():
    rng = np.random.default_rng(2)
    big = rng.standard_normal((9, 40)).astype(np.float32)
    x = big[:, 3:19]                      # row stride 40, unit column stride
    w = rng.standard_normal((16, 32)).astype(np.float32)
    out = np.zeros((9, 64), np.float32)
    gemm_serial(x, pack_rhs(w), out[:, 16:48])
    np.testing.assert_allclose(out[:, 16:48], x @ w, rtol=1e-5, atol=1e-5)
    assert not out[:, :16].any() and not out[:, 48:].any()  # nothing else written
    # (a left operand without unit column stride is never passed: the code
    # generator multiplies a transposed view by BLAS, test_transposed_left_...)


def test_transposed_left_operands_are_not_given_to_gemm_serial():
    from symkb.lower.cpu.codegen import Codegen
    from symkb.lower.cpu.elementwise import _panels
    from symkb import backend as K
    from symkb import ir
    x = K.placeholder(shape=(4, 6))
    w = K.variable(np.ones((4, 16), np.float32))
    t = K.transpose(x)
    graph = ir.Graph([x], [K.dot(t, w)])
    cg = Codegen(graph, "f")
    cg.row_split = (True,)  # as in a function that runs on row blocks
    cg.transposed_views.add(t)  # bound as ``x.T`` (``arrays.emit_transpose``)
    assert _panels(cg, t, w, "float32") is None  # a BLAS product instead


def test_nan_and_inf_propagate_like_numpy():
    x = np.ones((3, 4), np.float32)
    x[1, 2] = np.nan
    x[2, 0] = np.inf
    w = np.ones((4, 16), np.float32)
    out = np.empty((3, 16), np.float32)
    gemm_serial(x, pack_rhs(w), out)
    np.testing.assert_array_equal(out, x @ w)


def test_supported_shapes():
    assert gemm.supported(5, 16) and gemm.supported(1, 512) and gemm.supported(5, 24)
    assert not gemm.supported(None, 32) and not gemm.supported(5, None)
    assert [gemm.padded(n) for n in (1, 16, 17, 100)] == [16, 16, 32, 112]


@pytest.mark.parametrize("n", [1, 10, 24, 50, 100])
def test_odd_widths_are_padded_with_zero_columns(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((11, 9)).astype(np.float32)
    w = rng.standard_normal((9, n)).astype(np.float32)
    p = pack_rhs(w)
    assert p.shape == (9 * gemm.padded(n),)
    out = np.full((11, gemm.padded(n)), np.nan, np.float32)
    gemm_serial(x, p, out)
    np.testing.assert_allclose(out[:, :n], x @ w, rtol=1e-5, atol=1e-5)
    assert not out[:, n:].any()


@settings(deadline=None, max_examples=30, derandomize=True)
@given(m=st.integers(0, 40), k=st.integers(1, 70), nv=st.integers(1, 6),
       scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_property_agrees_with_float64_numpy(m, k, nv, scale):
    rng = np.random.default_rng(m * 7919 + k * 31 + nv)
    x = (rng.standard_normal((m, k)) * scale).astype(np.float32)
    w = rng.standard_normal((k, 16 * nv)).astype(np.float32)
    _check(x, w)


# -- where the generated code uses it -------------------------------------

def _source(model):
    return symkb.compile(model, target="cpu").source


def test_recurrent_kernel_is_packed_once_before_the_time_loop():
    K.clear_session()
    m = symkb.Sequential([layers.Input((5, 8)), layers.LSTM(16, return_sequences=True)])
    src = _source(m)
    loop_at = src.index("for i in range(")
    step = src[loop_at:]
    assert "pack_rhs(" not in step
    assert "gemm_serial(lstm_state, lstm_recurrent_kernel_panels, " in step
    assert src.index("lstm_recurrent_kernel_panels = pack_rhs(lstm_recurrent_kernel)") < loop_at
    assert src.count("pack_rhs(") == 2  # the input kernel and the recurrent kernel
    assert "np.dot(" not in src and "sgemm_into(" not in src


def test_float64_and_functions_without_row_blocks_stay_on_blas():
    K.clear_session()
    K.set_floatx("float64")
    try:
        m = symkb.Sequential([layers.Input((5, 8)), layers.LSTM(16)])
        src = _source(m)
    finally:
        K.set_floatx("float32")
    assert "gemm_serial(" not in src.split("def ", 1)[1] and "np.dot(" in src
    K.clear_session()
    m = symkb.Sequential([layers.Input((20,)), layers.Dense(100)])  # 100 columns
    src = _source(m)
    assert "sgemm_into(" in src and "pack_rhs(" not in src.split("def ", 1)[1]


def test_functions_that_run_whole_leave_products_to_blas():
    # no row blocks (no time loop here): BLAS brings its own threads
    K.clear_session()
    m = symkb.Sequential([layers.Input((20,)), layers.Dense(64)])
    src = _source(m)
    assert "sgemm_into(" in src and "gemm_serial(" not in src.split("def ", 1)[1]


def test_compiled_lstm_with_packed_products_matches_the_interpreter():
    K.clear_session()
    rng = np.random.default_rng(3)
    m = symkb.Sequential([layers.Input((None, 24)), layers.LSTM(48, return_sequences=True),
                          layers.GRU(32)])
    m.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.3
                   for w in m.get_weights()])
    cpu = symkb.compile(m, target="cpu")
    ref = symkb.compile(m, target="interpreter")
    assert "gemm_serial(" in cpu.source
    for batch, time in [(1, 3), (13, 7), (70, 2)]:  # batch sizes around the 8-row tiles
        x = rng.standard_normal((batch, time, 24)).astype(np.float32)
        np.testing.assert_allclose(cpu(x), ref(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [gemm.KC - 1, gemm.KC, gemm.KC + 1, 2 * gemm.KC + 88])
@pytest.mark.parametrize("m", [3, 8, 21])
def test_long_inner_dimension_is_taken_in_chunks_that_add_up(k, m):
    rng = np.random.default_rng(k * 10 + m)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, 48)).astype(np.float32)
    _check(x, w)
