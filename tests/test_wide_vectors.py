"""Wide vectors (``runtime.wide_vectors``): a generated function whose values are
wide along their last axis asks LLVM for the machine's widest vectors, a
narrow one does not, and either way it computes what the interpreter does."""
from __future__ import annotations

import re

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from symkb import backend as K  # noqa: E402
from symkb.lower.cpu.codegen import WIDE_ROWS  # noqa: E402
from symkb.lower.cpu.runtime import exp_neg_f32, wide_vectors  # noqa: E402


def _softmax_fn(width):
    x = K.placeholder(shape=(None, width))
    y = K.softmax(K.tanh(x) * 3.0 + K.variable(np.linspace(-1, 1, width, dtype="float32")))
    return K.function([x], [y], target="cpu"), K.function([x], [y], target="interpreter")


@pytest.mark.parametrize("width", [WIDE_ROWS - 1, WIDE_ROWS, 200])
def test_wide_functions_ask_for_wide_vectors_and_match_the_interpreter(width):
    compiled, interp = _softmax_fn(width)
    assert ("wide_vectors()" in compiled.source) == (width >= WIDE_ROWS), compiled.source
    x = np.random.default_rng(width).normal(size=(9, width)).astype("float32") * 4
    x[1, 3] = np.nan
    x[2, :] = np.inf
    x[3, 5] = -np.inf
    got, = compiled([x])
    want, = interp([x])
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    assert np.isnan(got[1]).all() and np.isfinite(got[2]).all()  # tanh(inf) = 1


@numba.njit(error_model="numpy")
def _exp_rows(x, out):
    wide_vectors()
    for i in range(x.shape[0]):
        out[i] = exp_neg_f32(x[i])


def test_the_function_carries_the_attribute_and_its_loop_vectorises():
    x = -np.linspace(0, 100, 1001, dtype=np.float32)
    out = np.empty_like(x)
    _exp_rows(x, out)
    np.testing.assert_allclose(out, np.exp(x.astype(np.float64)), rtol=2e-6, atol=1e-30)
    llvm = _exp_rows.inspect_llvm(_exp_rows.signatures[0])
    assert '"prefer-vector-width"="512"' in llvm
    from llvmlite import binding
    if "+avx512f" not in binding.get_host_cpu_features().flatten().split(","):
        pytest.skip("the 512-bit check needs an AVX-512 machine (the attribute is checked above)")
    asm = _exp_rows.inspect_asm(_exp_rows.signatures[0])
    assert re.search(r"\bzmm\d+", asm), "the exp loop did not use 512-bit vectors"
