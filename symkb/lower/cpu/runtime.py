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

The float32 helpers must end up inside the calling loop, or the loop does not
vectorise. They are numba intrinsics written with llvmlite's IR builder, whose
code is emitted straight into the caller, on every numba: the LLVM 20 of numba
0.62-0.67 does not inline ``@njit`` helpers into loops (numba 0.65 ran an LSTM
up to 4x and a SimpleRNN 4x slower than numba 0.68), and where LLVM 22 does,
an ``@njit`` helper still costs its own compile (tanh and sigmoid 0.2-0.27 s
of every cold LSTM compile). Numba's own ``inline="always"`` would put them in
place too, but compiles slower still (each call site is typed again) and
drops a helper's fast-math flags (inlined code takes the caller's). Each
multiply-add of their polynomials may fuse into one FMA (one rounding instead
of two, so no less accurate; about a tenth off an LSTM step): on LLVM 22 a
multiply and an add with fast-math's ``contract`` flag, which LLVM schedules
as well as the ``@njit`` helpers' code it replaced (W2, W3 and W5 alike, in
alternating runs), before it an explicit ``llvm.fmuladd``. The generated
loop's own arithmetic keeps numpy's rounding. No other fast-math: NaN and Inf
keep numpy's behaviour. docs/numba-versions.md has the measurements.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ...ir import get_op

_F32 = np.float32

# jit options of a private helper that only other helpers call: numba builds
# no wrappers to call it from Python or C (0.01-0.03 s of its cold compile).
# Python must never call such a function: its dispatcher has no entry point.
HELPER = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}
_FLOAT = llvm_ir.FloatType()
_INT32 = llvm_ir.IntType(32)


def _llvm_contracts() -> bool:
    """Whether multiply-adds are left to LLVM's contraction (LLVM 22 on)."""
    from llvmlite import binding
    return binding.llvm_version_info >= (22,)


_CONTRACTS = _llvm_contracts()


def _const(value) -> llvm_ir.Constant:
    """A float32 LLVM constant (``value`` rounded to float32 first)."""
    return llvm_ir.Constant(_FLOAT, float(_F32(value)))


def _contract(instruction):
    """``instruction`` with fast-math's ``contract`` flag (LLVM may fuse it)."""
    instruction.flags.append("contract")
    return instruction


def _muladd(builder, a, b, c):
    """``a * b + c``, fused into one FMA where the machine has one: on LLVM 22
    a multiply and an add LLVM may contract (as numba's ``fastmath={"contract"}``
    writes them), before it ``llvm.fmuladd``."""
    if _CONTRACTS:
        return _contract(builder.fadd(_contract(builder.fmul(a, b)), c))
    fn = cgutils.get_or_insert_function(
        builder.module, llvm_ir.FunctionType(_FLOAT, [_FLOAT] * 3), "llvm.fmuladd.f32")
    return builder.call(fn, [a, b, c])


def _fabs(builder, x):
    """``|x|`` (``llvm.fabs``)."""
    fn = cgutils.get_or_insert_function(
        builder.module, llvm_ir.FunctionType(_FLOAT, [_FLOAT]), "llvm.fabs.f32")
    return builder.call(fn, [x])


def _horner(builder, x, coefficients):
    """The polynomial with ``coefficients`` (highest degree first, at least
    two) at ``x``, one fused multiply-add a coefficient."""
    p = _muladd(builder, x, _const(coefficients[0]), _const(coefficients[1]))
    for c in coefficients[2:]:
        p = _muladd(builder, p, x, _const(c))
    return p


def _tanh(builder, x):
    """float32 tanh: Eigen's clamped 13/6 rational approximation."""
    c = _const(7.90531110763549805)
    above = builder.fcmp_ordered(">", x, c)
    below = builder.fcmp_ordered("<", x, builder.fneg(c))
    xc = builder.select(above, c, builder.select(below, builder.fneg(c), x))
    x2 = builder.fmul(xc, xc)
    p = _horner(builder, x2, (-2.76076847742355e-16, 2.00018790482477e-13,
                              -8.60467152213735e-11, 5.12229709037114e-08,
                              1.48572235717979e-05, 6.37261928875436e-04,
                              4.89352455891786e-03))
    q = _horner(builder, x2, (1.19825839466702e-06, 1.18534705686654e-04,
                              2.26843463243900e-03, 4.89352518554385e-03))
    r = builder.fdiv(builder.fmul(p, xc), q)
    # beyond the clamp the result is +-1 exactly (with FMA the rational gives
    # 1 - 2**-22 there); tiny values are their own tanh; NaN stays NaN
    r = builder.select(above, _const(1.0), builder.select(below, _const(-1.0), r))
    tiny = builder.fcmp_ordered("<", _fabs(builder, x), _const(0.0004))
    return builder.select(tiny, x, r)


def _exp_neg(builder, x):
    """float32 exp(x) for x <= 0 (and NaN), subnormal results included:
    exp(-inf) = 0, NaN stays NaN."""
    lo = _const(-104.0)
    under = builder.fcmp_ordered("<", x, lo)
    xc = builder.select(under, lo, x)
    # round to nearest: xc <= 0, so truncating (y - 0.5) rounds y (a NaN gives
    # a garbage exponent, but p below is NaN and so is the result)
    ni = builder.fptosi(_muladd(builder, xc, _const(1.44269504088896341), _const(-0.5)),
                        _INT32)
    n = builder.sitofp(ni, _FLOAT)
    r = _muladd(builder, n, _const(-0.693359375), xc)
    r = _muladd(builder, n, _const(2.12194440e-4), r)
    p = _horner(builder, r, (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                             4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
    p = builder.fadd(_muladd(builder, builder.fmul(p, r), r, r), _const(1.0))
    # 2**n as two normal factors, so results down to the subnormals are exact
    half = builder.ashr(ni, llvm_ir.Constant(_INT32, 1))
    bias = llvm_ir.Constant(_INT32, 127)
    mantissa_bits = llvm_ir.Constant(_INT32, 23)
    s1 = builder.bitcast(builder.shl(builder.add(half, bias), mantissa_bits), _FLOAT)
    s2 = builder.bitcast(builder.shl(builder.add(builder.sub(ni, half), bias), mantissa_bits),
                         _FLOAT)
    y = builder.fmul(builder.fmul(p, s1), s2)
    return builder.select(under, _const(0.0), y)


def _sigmoid(builder, x):
    """float32 1 / (1 + exp(-x)), accurate in both tails."""
    zero, one = _const(0.0), _const(1.0)
    a = builder.select(builder.fcmp_ordered(">", x, zero), builder.fneg(x), x)
    e = _exp_neg(builder, a)
    s = builder.fdiv(one, builder.fadd(one, e))
    negative = builder.select(builder.fcmp_ordered("==", x, x), builder.fmul(e, s), x)
    return builder.select(builder.fcmp_ordered(">=", x, zero), s, negative)


def _float32_intrinsic(emit, name, doc):
    """A numba intrinsic computing ``emit(builder, x)`` on ``x`` cast to float32.

    An intrinsic's code is written into its caller, so the helper is inside
    the calling loop on every numba (see the module docstring)."""
    def typer(typingctx, x):
        if not isinstance(x, (types.Float, types.Integer, types.Boolean)):
            return None

        def codegen(context, builder, signature, args):
            value = context.cast(builder, args[0], signature.args[0], types.float32)
            return emit(builder, value)
        return types.float32(x), codegen
    typer.__name__ = typer.__qualname__ = name
    typer.__doc__ = doc
    return intrinsic(typer)


_tanh_f32_inlined = _float32_intrinsic(
    _tanh, "tanh_f32", "float32 tanh (Eigen's clamped rational approximation), inlined.")
_sigmoid_f32_inlined = _float32_intrinsic(
    _sigmoid, "sigmoid_f32", "float32 1 / (1 + exp(-x)), accurate in both tails, inlined.")


# exp of x <= 0 for softmax's loops (a libm call there does not vectorise)
_exp_neg_f32_inlined = _float32_intrinsic(
    _exp_neg, "exp_neg_f32", "float32 exp(x) for x <= 0 (and NaN), inlined.")

tanh_f32, sigmoid_f32 = _tanh_f32_inlined, _sigmoid_f32_inlined
exp_neg_f32 = _exp_neg_f32_inlined


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
    get_op("print_tensor").impl(np.asarray(x), message=message, summarize=summarize)


@intrinsic
def wide_vectors(typingctx):
    """Lets LLVM vectorise the calling function's loops with the machine's
    widest vectors. On an AVX-512 machine LLVM prefers 256-bit vectors for
    loops it vectorises by itself (``prefer-256-bit``, a guard against the
    clock drop of older AVX-512 chips); this call sets the calling function's
    ``prefer-vector-width`` to 512, so a softmax's ``exp`` or a gate loop
    takes 16 floats a vector instead of 8. On a machine with narrower vectors
    LLVM takes its widest, as before. The matrix kernels (``gemm.py``) write
    their 512-bit vectors themselves and do not depend on it."""
    def codegen(context, builder, signature, args):
        # llvmlite's attribute set accepts only the attributes it lists: the
        # string attribute goes in through set.add
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.void(), codegen


@intrinsic
def nonneg_sizes(typingctx, sizes):
    """The sizes tuple of a size-generic function (``canonical.lift_sizes``)
    with each element ``max(size, 0)``: LLVM then knows every size is not
    negative, so an index ``size + j`` needs no wraparound test and its loop
    vectorises. One call for the whole tuple: numba types a ``max`` call at
    every site, about 3 ms each cold (a gradient has a hundred sizes)."""
    if not isinstance(sizes, types.UniTuple) or not isinstance(sizes.dtype, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        (values,) = args
        out = cgutils.get_null_value(context.get_value_type(signature.return_type))
        zero = llvm_ir.Constant(context.get_value_type(sizes.dtype), 0)
        for k in range(sizes.count):
            v = builder.extract_value(values, k)
            v = builder.select(builder.icmp_signed("<", v, zero), zero, v)
            out = builder.insert_value(out, v, k)
        return out
    return sizes(sizes), codegen


@intrinsic
def reshaped(typingctx, ary, shape):
    """``ary.reshape(shape)`` without numba's compile of its shape checks.

    numba's ``reshape`` compiles a helper that normalises the shape (its
    ``ValueError`` messages and a loop over the tuple): 0.1-0.2 s of a cold
    compile, once per function that reshapes. Here the shape is normalised in
    a few instructions: at most one ``-1`` entry, inferred from the size; a
    size that does not match raises ``ValueError`` with a fixed message. A
    C-contiguous ``ary`` (what the generated code reshapes: its buffers and
    inputs) gets C strides directly; another layout asks numba's
    ``numba_attempt_nocopy_reshape`` for them and raises
    ``NotImplementedError`` where only a copy would do, as numba does."""
    if not (isinstance(ary, types.Array) and isinstance(shape, types.BaseTuple)
            and all(isinstance(t, types.Integer) for t in shape.types)):
        return None
    result = ary.copy(ndim=shape.count, layout="C" if ary.layout == "C" else "A")

    def codegen(context, builder, signature, args):
        from numba.core.imputils import impl_ret_borrowed
        from numba.np.arrayobj import _attempt_nocopy_reshape, make_array, populate_array
        value, dims = args
        intp = context.get_value_type(types.intp)
        src = make_array(ary)(context, builder, value)
        dims = [context.cast(builder, builder.extract_value(dims, k), t, types.intp)
                for k, t in enumerate(shape.types)]
        zero, one = intp(0), intp(1)
        known = one
        for d in dims:
            known = builder.mul(known, builder.select(builder.icmp_signed("<", d, zero), one, d))
        size = src.nitems
        inferred = builder.select(builder.icmp_signed("==", known, zero), zero,
                                  builder.sdiv(size, builder.select(
                                      builder.icmp_signed("==", known, zero), one, known)))
        dims = [builder.select(builder.icmp_signed("<", d, zero), inferred, d) for d in dims]
        total = one
        for d in dims:
            total = builder.mul(total, d)
        with builder.if_then(builder.icmp_signed("!=", total, size), likely=False):
            context.call_conv.return_user_exc(
                builder, ValueError, ("cannot reshape: the total size would change",))
        itemsize = src.itemsize
        if ary.layout == "C":
            strides, step = [], itemsize
            for d in reversed(dims):
                strides.insert(0, step)
                step = builder.mul(step, d)
        else:
            new_shape = cgutils.alloca_once(builder, llvm_ir.ArrayType(intp, shape.count))
            builder.store(cgutils.pack_array(builder, dims, intp), new_shape)
            new_strides = cgutils.alloca_once(builder, llvm_ir.ArrayType(intp, shape.count))
            ok = _attempt_nocopy_reshape(context, builder, ary, src, shape.count,
                                         new_shape, new_strides)
            with builder.if_then(builder.icmp_unsigned("==", ok, ok.type(0)), likely=False):
                context.call_conv.return_user_exc(
                    builder, NotImplementedError, ("incompatible shape for array",))
            strides = cgutils.unpack_tuple(builder, builder.load(new_strides), shape.count)
        out = make_array(result)(context, builder)
        populate_array(out, data=src.data, shape=cgutils.pack_array(builder, dims, intp),
                       strides=cgutils.pack_array(builder, strides, intp), itemsize=itemsize,
                       meminfo=src.meminfo, parent=src.parent)
        res = out._getvalue()
        # the view shares the source's memory: it holds a reference of its own
        return impl_ret_borrowed(context, builder, result, res)
    return result(ary, shape), codegen


def _new_array(zeroed: bool):
    """The intrinsic ``empty`` (``zeroed`` False) or ``zeros``: see ``empty``."""
    def allocate(typingctx, shape, dtype):
        return _allocation(shape, dtype, zeroed)
    allocate.__name__ = allocate.__qualname__ = "zeros" if zeroed else "empty"
    allocate.__doc__ = _allocation.__doc__
    return intrinsic(allocate)


def _allocation(shape, dtype, zeroed: bool):
    """``np.empty(shape, dtype)`` (a C-contiguous array), written into the caller
    (``zeroed``: ``np.zeros``).

    numba's ``np.empty`` compiles an implementation for every pair of rank and
    dtype a process meets (about 0.03 s each, and 0.07 s for the first, with
    the allocator it calls): four or five of them in a recurrent model's cold
    compile. This allocates through numba's runtime directly, with numpy's
    checks: a negative size raises ``ValueError("negative dimensions not
    allowed")``, a size past the address space ``ValueError("array is too
    big")``. ``shape`` is an int or a tuple of ints, ``dtype`` a numpy scalar
    type (``np.float32``)."""
    from numba.np.arrayobj import ty_parse_dtype
    if isinstance(shape, types.Integer):
        ndim = 1
    elif isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer)
                                                   for t in shape.types):
        ndim = shape.count
    else:
        return None
    nb_dtype = ty_parse_dtype(dtype)
    if nb_dtype is None:
        return None
    result = types.Array(nb_dtype, ndim, "C")

    def codegen(context, builder, signature, args):
        from numba.core.imputils import impl_ret_new_ref
        from numba.np.arrayobj import _parse_shape, get_itemsize, make_array, populate_array
        dims = _parse_shape(context, builder, shape, args[0])   # numpy's negative-size check
        intp = context.get_value_type(types.intp)
        itemsize = intp(get_itemsize(context, result))
        count, overflow = intp(1), llvm_ir.Constant(llvm_ir.IntType(1), 0)
        for d in dims:
            product = builder.smul_with_overflow(count, d)
            count = builder.extract_value(product, 0)
            overflow = builder.or_(overflow, builder.extract_value(product, 1))
        strides, step = [], itemsize
        for d in reversed(dims):
            strides.insert(0, step)
            step = builder.mul(step, d)
        total = builder.smul_with_overflow(count, itemsize)
        nbytes = builder.extract_value(total, 0)
        overflow = builder.or_(overflow, builder.extract_value(total, 1))
        with builder.if_then(overflow, likely=False):
            context.call_conv.return_user_exc(
                builder, ValueError,
                ("array is too big; `arr.size * arr.dtype.itemsize` is larger than the "
                 "maximum possible size.",))
        align = llvm_ir.Constant(llvm_ir.IntType(32),
                                 context.get_preferred_array_alignment(nb_dtype))
        meminfo = context.nrt.meminfo_alloc_aligned(builder, nbytes, align)
        data = context.nrt.meminfo_data(builder, meminfo)
        if zeroed:
            cgutils.memset(builder, data, nbytes, 0)
        out = make_array(result)(context, builder)
        populate_array(out, data=builder.bitcast(data, context.get_data_type(nb_dtype).as_pointer()),
                       shape=cgutils.pack_array(builder, dims, intp),
                       strides=cgutils.pack_array(builder, strides, intp),
                       itemsize=itemsize, meminfo=meminfo)
        return impl_ret_new_ref(context, builder, result, out._getvalue())
    return result(shape, dtype), codegen


empty = _new_array(False)
zeros = _new_array(True)


@intrinsic
def no_inline(typingctx):
    """Keeps LLVM from inlining the calling function into its callers: a helper
    called at many places of one generated function (``store_step``) is then
    optimised once, not once a call site."""
    def codegen(context, builder, signature, args):
        builder.function.attributes.add("noinline")
        return context.get_dummy_value()
    return types.void(), codegen


@njit(cache=True, error_model="numpy", nogil=True)
def store_step(dst, t, src):
    """``dst[:, t] = src`` for ``dst`` (rows, steps, n) and ``src`` (rows, n): a
    time loop storing its step outputs after the step (``loops.py``). One
    compiled copy for all of them: as loops written in place, the ten copies
    of an LSTM gradient's forward step cost 0.5 s of its cold compile."""
    no_inline()
    for b in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[b, t, j] = src[b, j]


@njit(cache=True, error_model="numpy", nogil=True)
def store_rows(dst, src):
    """``dst[:] = src`` for matrices of one shape: a time loop's new states
    stored into their buffers after the step (see ``store_step``)."""
    no_inline()
    for b in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[b, j] = src[b, j]
