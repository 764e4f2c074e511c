"""A float32 matrix product through BLAS that takes transposed operands as they are.

Outside time loops a float32 product of two matrices calls BLAS, whose
threads and cache blocking beat any loop numba writes. ``np.dot`` in numba
would do, but it has two costs a training step feels:

* an operand that is a transposed view (``x.T`` in ``x^T @ dy``, ``dy @ W^T``
  in a backward pass) is a Fortran-ordered array; numba's ``np.dot`` passes
  it to BLAS as such only when its layout is known at compile time, and
  copies an array of unknown ("A") layout first;
* every call site compiles its own ``np.dot`` for its combination of
  layouts (about 0.3 s cold each).

``sgemm_into(x, w, out, alpha, beta)`` computes ``out = alpha * x @ w + beta *
out`` with one compiled version (cached in numba's cache, like ``gemm.py``):
it reads each operand's strides when it runs and tells BLAS to transpose a
column-major one, so a transposed view costs nothing. ``beta = 0`` never
reads ``out`` (it may hold anything, NaN included), as BLAS promises.

The call goes through numba's own BLAS wrapper (``numba_xxgemm``, the one
its ``np.dot`` uses: SciPy's BLAS), so results are those of ``np.dot``.
"""
from __future__ import annotations

import threading

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .runtime import HELPER, empty


def _pointer(context, builder, aryty, ary):
    """The data pointer of an array value, as ``void*``."""
    data = context.make_array(aryty)(context, builder, ary).data
    return builder.bitcast(data, ir.IntType(8).as_pointer())


@intrinsic
def _xxgemm(typingctx, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """numba's BLAS wrapper ``numba_xxgemm`` for float32, column-major:
    ``c = alpha * op(a) @ op(b) + beta * c`` (``op``: transposed where the flag
    is ``ord('t')``); the scalars are passed by address as BLAS wants."""
    sig = types.int32(types.intp, types.intp, types.intp, types.intp, types.intp, types.float32,
                     a, types.intp, b, types.intp, types.float32, c, types.intp)

    def codegen(context, builder, signature, args):
        ta, tb, m_, n_, k_, al, a_, lda_, b_, ldb_, be, c_, ldc_ = args
        char, intp = ir.IntType(8), context.get_value_type(types.intp)
        void_p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, void_p,
                                                void_p, intp, void_p, intp, void_p, void_p,
                                                intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        al_p = cgutils.alloca_once_value(builder, al)
        be_p = cgutils.alloca_once_value(builder, be)
        ptrs = [_pointer(context, builder, signature.args[i], v)
                for i, v in ((6, a_), (8, b_), (11, c_))]
        return builder.call(fn, [ir.Constant(char, ord("s")), builder.trunc(ta, char),
                                 builder.trunc(tb, char), m_, n_, k_,
                                 builder.bitcast(al_p, void_p), ptrs[0], lda_, ptrs[1], ldb_,
                                 builder.bitcast(be_p, void_p), ptrs[2], ldc_])

    return sig, codegen


_S, _N, _T = ord("s"), ord("n"), ord("t")
_F2 = types.Array(types.float32, 2, "A")

# _layout and _rows_copy are functions of their own, which LLVM may inline:
# numba's inline="always" typed them again at each of their five call sites
# (0.12 s of sgemm_into's cold compile)


@njit(cache=True, error_model="numpy", **HELPER)
def _layout(a):
    """How BLAS reads ``a`` (rows x cols, float32): ``(1, ld)`` row-major,
    ``(2, ld)`` column-major (a transposed view), ``(0, 0)`` neither."""
    r, c = a.shape
    s0, s1 = a.strides
    if (c <= 1 or s1 == 4) and (r <= 1 or (s0 % 4 == 0 and s0 >= 4 * c)):
        return 1, (s0 // 4 if r > 1 else (c if c > 1 else 1))
    if (r <= 1 or s0 == 4) and (c <= 1 or (s1 % 4 == 0 and s1 >= 4 * r)):
        return 2, (s1 // 4 if c > 1 else (r if r > 1 else 1))
    return 0, 0


@njit(cache=True, error_model="numpy", **HELPER)
def _rows_copy(a):
    """``a`` copied row-major by loops (np.ascontiguousarray: one more compile)."""
    r, c = a.shape
    out = empty((r, c), np.float32)
    for i in range(r):
        for j in range(c):
            out[i, j] = a[i, j]
    return out


@njit(cache=True, error_model="numpy")
def sgemm_into(x, w, out, alpha, beta):
    """``out[:] = alpha * x @ w + beta * out`` for float32 matrices of any strides.

    ``x`` (M, K), ``w`` (K, N), ``out`` (M, N). Row-major operands and
    transposed views go to BLAS as they are; anything else (a strided slice)
    is copied first. BLAS works column-major, so it computes
    ``out^T = w^T @ x^T``: each row-major matrix is, to BLAS, its transpose.
    """
    m, k = x.shape
    n = w.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        for i in range(m):
            for j in range(n):
                out[i, j] = np.float32(0.0) if beta == 0 else beta * out[i, j]
        return
    kx, ldx = _layout(x)
    if kx == 0:
        x = _rows_copy(x)
        kx, ldx = 1, k
    kw, ldw = _layout(w)
    if kw == 0:
        w = _rows_copy(w)
        kw, ldw = 1, n
    ko, ldo = _layout(out)
    if ko != 1:
        raise ValueError("sgemm_into: the result must be a row-major matrix")
    status = _xxgemm(_N if kw == 1 else _T, _N if kx == 1 else _T, n, m, k, np.float32(alpha),
                     w, ldw, x, ldx, np.float32(beta), out, ldo)
    if status != 0:
        raise RuntimeError("sgemm_into: numba's BLAS wrapper found no sgemm (SciPy's BLAS)")


# alpha and beta as float64: generated code passes plain literals (``1.0``);
# a float32 value converts exactly
SIGNATURE = types.void(_F2, _F2, _F2, types.float64, types.float64)


def prepare() -> None:
    """Compile (or load from numba's cache) the one version of ``sgemm_into``
    that generated code calls (every layout converts to it); one thread at a
    time (see ``gemm.prepare``)."""
    with _PREPARE_LOCK:
        if not sgemm_into.signatures:
            sgemm_into.compile(SIGNATURE)
            sgemm_into.disable_compile()


_PREPARE_LOCK = threading.Lock()
