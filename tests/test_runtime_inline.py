"""The float32 activation helpers of the cpu target end up inside the loops that
call them, as vector code, whatever the numba (and LLVM) version: left to
LLVM's inliner they stayed calls on numba 0.65 and its loops ran scalar
(symkb/lower/cpu/runtime.py). One small loop, compiled once (never cached)."""
from __future__ import annotations

import re

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from symkb.lower.cpu.runtime import sigmoid_f32, tanh_f32  # noqa: E402


@numba.njit(error_model="numpy")
def _gate(x, out):
    # the shape of a generated gate loop: a helper call in a loop of float32
    for i in range(x.shape[0]):
        out[i] = tanh_f32(x[i]) * sigmoid_f32(x[i] - np.float32(1.0))


def test_helpers_are_inlined_and_vectorised_in_a_loop():
    x = np.linspace(-12, 12, 1001, dtype=np.float32)
    out = np.empty_like(x)
    _gate(x, out)
    ref = np.tanh(x.astype(np.float64)) / (1 + np.exp(1 - x.astype(np.float64)))
    np.testing.assert_allclose(out, ref, rtol=2e-6, atol=1e-7)
    llvm = _gate.inspect_llvm(_gate.signatures[0])
    calls = re.findall(r"call [^\n]*@([\w.$]+)\(", llvm)
    assert not [c for c in calls if "tanh_f32" in c or "sigmoid_f32" in c], \
        "a helper stayed an out-of-line call"
    # the polynomial steps run on vectors of floats: llvm.fmuladd.vNf32 (the
    # intrinsics, LLVM < 22) or contracted fmul/fadd on <N x float> (the @njit
    # helpers, which LLVM 22 inlines by itself)
    assert re.search(r"@llvm\.fmuladd\.v\d+f32|fmul [a-z ]*<\d+ x float>", llvm), \
        "the helper loop did not vectorise"


def test_nan_and_infinities_keep_numpys_behaviour():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], np.float32)
    out = np.empty_like(x)
    _gate(x, out)
    want = np.array([np.nan, 1.0, -0.0, 0.0, -0.0], np.float32)
    np.testing.assert_array_equal(out, want)
