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
from numba import njit, types

_XXGEMM = types.ExternalFunction("numba_xxgemm", types.intc(
    types.char, types.char, types.char,                   # kind, transa, transb
    types.intp, types.intp, types.intp,                   # m, n, k
    types.CPointer(types.float32), types.CPointer(types.float32), types.intp,  # alpha, a, lda
    types.CPointer(types.float32), types.intp,            # b, ldb
    types.CPointer(types.float32),                        # beta
    types.CPointer(types.float32), types.intp))           # c, ldc

_S, _N, _T = ord("s"), ord("n"), ord("t")
_F2 = types.Array(types.float32, 2, "A")


@njit(cache=True, error_model="numpy", inline="always")
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


@njit(cache=True, error_model="numpy", inline="always")
def _rows_copy(a):
    """``a`` copied row-major by loops (np.ascontiguousarray: one more compile)."""
    r, c = a.shape
    out = np.empty((r, c), dtype=np.float32)
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
    target = out if ko == 1 else np.empty((m, n), dtype=np.float32)
    if ko != 1:
        ldo = n
        if beta != 0:
            for i in range(m):
                for j in range(n):
                    target[i, j] = out[i, j]
    scalars = np.empty(2, dtype=np.float32)
    scalars[0] = alpha
    scalars[1] = beta
    _XXGEMM(_S, _N if kw == 1 else _T, _N if kx == 1 else _T, n, m, k,
            scalars[0:].ctypes, w.ctypes, ldw, x.ctypes, ldx, scalars[1:].ctypes,
            target.ctypes, ldo)
    if ko != 1:
        for i in range(m):
            for j in range(n):
                out[i, j] = target[i, j]


SIGNATURE = types.void(_F2, _F2, _F2, types.float32, types.float32)


def prepare() -> None:
    """Compile (or load from numba's cache) the one version of ``sgemm_into``
    that generated code calls (every layout converts to it); one thread at a
    time (see ``gemm.prepare``)."""
    with _PREPARE_LOCK:
        if not sgemm_into.signatures:
            sgemm_into.compile(SIGNATURE)
            sgemm_into.disable_compile()


_PREPARE_LOCK = threading.Lock()
