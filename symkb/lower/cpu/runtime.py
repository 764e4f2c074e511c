"""Scalar helpers the generated CPU modules import (this module imports numba).

Numba on this toolchain has no SVML: ``np.tanh``/``np.exp`` inside a loop are
scalar libm calls that stop LLVM from vectorising the loop. The float32
``tanh_f32`` and ``sigmoid_f32`` below are plain arithmetic (a clamped
rational approximation of tanh, and an ``exp`` from a Cody-Waite reduction, a
polynomial and an exponent built from integer bits), so fused gate loops
vectorise. Both agree with numpy to a few ulp (well under 1e-6 relative) and
keep numpy's NaN and Inf behaviour: NaN in gives NaN out, ``tanh(+-inf) =
+-1``, ``sigmoid(-inf) = 0``, ``sigmoid(inf) = 1``. float64 code uses exact
libm calls instead.

The float32 helpers are inlined into the generated code by numba itself
(``inline="always"``), on every numba the project allows: left to LLVM's
inliner they stay out-of-line calls with the LLVM 20 of numba 0.65 (its cost
model declines them), and a loop that calls a function does not vectorise:
numba 0.65 ran an LSTM 1.5-4x and a SimpleRNN 4x slower. Their polynomials
fuse each multiply and add with ``_muladd`` (``llvm.fmuladd``: one FMA where
the machine has one, one rounding instead of two, so no less accurate; about
a tenth off an LSTM step). That is explicit in the instructions, so it stays
when numba inlines the helper into a generated loop whose own arithmetic
keeps numpy's rounding (a fast-math flag on the helper would not: numba
compiles inlined code with the caller's flags). No other fast-math: NaN and
Inf keep numpy's behaviour. docs/numba-versions.md has the measurements.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_F32 = np.float32


@intrinsic
def _f32_from_bits(typingctx, bits):
    """Reinterpret the bits of an int32 as a float32 (free, vectorisable)."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _muladd(typingctx, a, b, c):
    """float32 ``a * b + c``, fused into one FMA where the machine has one
    (``llvm.fmuladd``; vectorisable)."""
    if not a == b == c == types.float32:
        return None

    def codegen(context, builder, signature, args):
        f32 = llvm_ir.FloatType()
        fn = cgutils.get_or_insert_function(
            builder.module, llvm_ir.FunctionType(f32, [f32, f32, f32]), "llvm.fmuladd.f32")
        return builder.call(fn, args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@njit(cache=True, error_model="numpy", inline="always")
def tanh_f32(x):
    """float32 tanh: Eigen's clamped 13/6 rational approximation."""
    c = _F32(7.90531110763549805)
    xc = c if x > c else (-c if x < -c else x)
    x2 = xc * xc
    p = _muladd(x2, _F32(-2.76076847742355e-16), _F32(2.00018790482477e-13))
    p = _muladd(p, x2, _F32(-8.60467152213735e-11))
    p = _muladd(p, x2, _F32(5.12229709037114e-08))
    p = _muladd(p, x2, _F32(1.48572235717979e-05))
    p = _muladd(p, x2, _F32(6.37261928875436e-04))
    p = _muladd(p, x2, _F32(4.89352455891786e-03))
    p = p * xc
    q = _muladd(x2, _F32(1.19825839466702e-06), _F32(1.18534705686654e-04))
    q = _muladd(q, x2, _F32(2.26843463243900e-03))
    q = _muladd(q, x2, _F32(4.89352518554385e-03))
    r = p / q
    # beyond the clamp the result is +-1 exactly (with FMA the rational gives
    # 1 - 2**-22 there)
    r = _F32(1.0) if x > c else (_F32(-1.0) if x < -c else r)
    small = x < _F32(0.0004) and x > _F32(-0.0004)
    return x if small else r


@njit(cache=True, error_model="numpy", inline="always")
def exp_neg_f32(x):
    """float32 exp(x) for x <= 0 (and NaN), subnormal results included:
    exp(-inf) = 0, NaN stays NaN."""
    lo = _F32(-104.0)
    xc = lo if x < lo else x
    # round to nearest: xc <= 0, so truncating (y - 0.5) rounds y (a NaN gives
    # a garbage exponent, but p below is NaN and so is the result)
    ni = np.int32(_muladd(xc, _F32(1.44269504088896341), _F32(-0.5)))
    n = np.float32(ni)
    r = _muladd(n, _F32(-0.693359375), xc)
    r = _muladd(n, _F32(2.12194440e-4), r)
    p = _muladd(r, _F32(1.9875691500e-4), _F32(1.3981999507e-3))
    p = _muladd(p, r, _F32(8.3334519073e-3))
    p = _muladd(p, r, _F32(4.1665795894e-2))
    p = _muladd(p, r, _F32(1.6666665459e-1))
    p = _muladd(p, r, _F32(5.0000001201e-1))
    p = _muladd(p * r, r, r) + _F32(1.0)
    # 2**n as two normal factors, so results down to the subnormals are exact.
    half = ni >> np.int32(1)
    s1 = _f32_from_bits(np.int32((half + np.int32(127)) << np.int32(23)))
    s2 = _f32_from_bits(np.int32((ni - half + np.int32(127)) << np.int32(23)))
    y = (p * s1) * s2
    return _F32(0.0) if x < lo else y


@njit(cache=True, error_model="numpy", inline="always")
def sigmoid_f32(x):
    """float32 1 / (1 + exp(-x)), accurate in both tails."""
    a = -x if x > _F32(0.0) else x
    e = exp_neg_f32(a)
    s = _F32(1.0) / (_F32(1.0) + e)
    return s if x >= _F32(0.0) else (e * s if x == x else x)


@njit(cache=True, error_model="numpy", inline="always")
def erf_f32(x):
    """The error function of a float32, computed with libm's float64 ``erf``
    and rounded once."""
    return np.float32(math.erf(x))


@njit(cache=True, error_model="numpy", inline="always")
def erf_f64(x):
    """The error function of a float64 (libm's ``erf``)."""
    return math.erf(x)


@njit(cache=True, error_model="numpy")
def _float_divmod(a, b):
    # numpy's npy_divmod for floats, in float64 (callers convert the result).
    a = np.float64(a)
    b = np.float64(b)
    if b == 0:
        return a / b, np.fmod(a, b)
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if mod != 0:
        if (b < 0) != (mod < 0):
            mod = mod + b
            div = div - 1.0
    else:
        mod = np.copysign(mod - mod, b)
    if div != 0:
        floordiv = np.floor(div)
        if div - floordiv > 0.5:
            floordiv = floordiv + 1.0
    else:
        floordiv = np.copysign(div - div, a / b)
    return floordiv, mod


@njit(cache=True, error_model="numpy")
def floordiv_float(a, b):
    """numpy's floor_divide of two floats of one dtype."""
    return _float_divmod(a, b)[0]


@njit(cache=True, error_model="numpy")
def mod_float(a, b):
    """numpy's remainder (np.mod) of two floats of one dtype."""
    return _float_divmod(a, b)[1]


def dropout_ref(x, rate, seed, noise_shape):
    """The numpy reference of ``dropout`` (called from object mode)."""
    from symkb.ir import get_op
    attrs = {"rate": rate, "seed": seed, "noise_shape": noise_shape}
    return np.ascontiguousarray(get_op("dropout").impl(x, **attrs))


@njit(cache=True, inline="always")
def round_f16(x):
    """``x`` (float32) rounded to the nearest float16 value, ties to even, as
    float32; beyond float16's range +-inf; NaN stays NaN.

    Adding and subtracting ``c = 2**(e + 13)`` (``2**e`` the binade of ``x``,
    at least float16's smallest normal ``2**-14``) rounds ``x`` in float32
    arithmetic to a multiple of ``2**(e - 10)``: float16's spacing there.
    """
    a = abs(x)
    if not a < _F32(65520.0):  # NaN, inf, or rounds past float16's largest value
        return x if x != x else _F32(math.copysign(math.inf, x))
    e = math.frexp(a)[1] - 1
    if e < -14:
        e = -14
    c = _F32(math.ldexp(1.0, e + 13))
    r = (a + c) - c
    return _F32(math.copysign(r, x))


def fresh_seed() -> int:
    """A new seed for an unseeded random op (called from object mode at each run)."""
    return int(np.random.default_rng().integers(0, 2**32))


def print_ref(x, message, summarize) -> None:
    """The numpy reference of ``print_tensor`` (called from object mode)."""
    from ...ir import get_op
    get_op("print_tensor").impl(np.asarray(x), message=message, summarize=summarize)
