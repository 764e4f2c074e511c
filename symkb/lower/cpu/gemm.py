"""A float32 matrix product with register tiles, for the products inside time loops.

A recurrent step multiplies a small state ``h`` (batch x units) by the same
recurrent kernel ``U`` at every step. A BLAS call repacks ``U`` on every call
and splits tiny products badly across threads; here ``U`` is packed once,
before the loop (``pack_rhs``), and every step runs ``gemm_serial`` on the
calling thread (the cpu executable runs row blocks of the batch on threads of
their own, ``blocks.py``):

* ``pack_rhs(w)`` lays ``w`` (K x N) out as column panels of ``NR`` = 32
  columns (the last may have 16), each panel K rows of contiguous floats:
  the kernel streams a panel row by row. N is padded with zero columns to a
  multiple of 16; the generated code then writes the product into a buffer
  that wide and copies the N columns it needs.
* A *tile kernel* computes an ``MR`` x ``16*nv`` block of the result (``MR``
  = 8 rows, or fewer for the last rows, ``nv`` = 2 or 1 vectors of 16
  floats): its ``8*nv`` accumulators are LLVM vector registers
  (``<16 x float>`` phi nodes) that live through the whole K loop, and each
  step of that loop is ``nv`` vector loads of the panel, 8 broadcasts of
  ``x`` and ``8*nv`` fused multiply-adds. The tile kernels are numba
  intrinsics written with llvmlite's IR builder, so they inline into the
  drivers and vectorise on any x86-64 (AVX-512 machines keep one
  accumulator per register).
* ``gemm_serial(x, p, out)`` walks the panels, and in each the row tiles.
  Each panel reads all of ``x``: an ``x`` larger than ``X_CACHED`` (512 KiB,
  which the L2 cache keeps between panels) is taken ``MC_BYTES`` (64 KiB) of
  rows at a time, every panel for each (a Transformer's feed-forward
  products, ``x`` of 1-4 MiB a thread, ran 10-20% faster).

Nothing here is ``parallel=True``: numba cannot safely cache a function that
calls a parallel one (the cached caller crashes when it was compiled against
a parallel callee loaded from the cache).

Everything here is float32; the sums run in float32 with FMA (one rounding
per multiply-add, as BLAS does), so results agree with ``np.dot`` to float32
rounding (rtol 1e-5 on the values the tests use).
"""
from __future__ import annotations

import threading

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .runtime import empty

LANES = 16        # floats in one vector register (AVX-512)
MR = 8            # rows of a register tile
NR = 2 * LANES    # columns of a full panel
KC = 256          # panel rows a pass over the row tiles takes (32 KiB: the L1 cache)
X_CACHED = 512 * 1024  # a left operand up to this size is read whole for each panel
MC_BYTES = 64 * 1024   # else its rows are taken this many bytes at a time

_F32 = ir.FloatType()
_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_VEC = ir.VectorType(_F32, LANES)


def _tile_kernel(mr: int, nv: int):
    """The intrinsic ``tile(x, x0, ldx, i0, p, poff, k, out, ldo, c0, accumulate, rows, cols)``.

    It computes ``out[i0:i0+rows, c0:c0+16*nv] (+)= x[i0:i0+rows, x0:x0+k] @ panel``,
    where ``panel`` is ``k`` rows of ``16*nv`` floats starting at ``p[poff]``;
    ``ldx`` and ``ldo`` are the row strides of ``x`` and ``out`` in elements;
    a nonzero ``accumulate`` adds to ``out`` instead of overwriting it. With
    ``rows`` < ``mr`` the missing rows repeat the last one and are not stored,
    so one kernel serves every row count. Only the first ``cols`` columns of
    the tile exist in ``out`` (its last panel of a width that is not a
    multiple of 16): where ``cols`` < ``16*nv`` the stores are masked.
    """
    @intrinsic
    def tile(typingctx, x, x0, ldx, i0, p, poff, k, out, ldo, c0, accumulate, rows, cols):
        sig = types.void(x, types.intp, types.intp, types.intp, p, types.intp, types.intp, out,
                         types.intp, types.intp, types.boolean, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            x_, x0_, ldx_, i0_, p_, poff_, k_, out_, ldo_, c0_, acc_, rows_, cols_ = args
            xs = context.make_array(signature.args[0])(context, builder, x_)
            ps = context.make_array(signature.args[4])(context, builder, p_)
            os_ = context.make_array(signature.args[7])(context, builder, out_)
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(_VEC, [_VEC, _VEC, _VEC]), "llvm.fma.v16f32")
            x_rows = _x_rows(builder, xs.data, x0_, ldx_, i0_, rows_, mr)
            panel = builder.gep(ps.data, [poff_])
            new = _k_loop(builder, fma, x_rows, panel, k_, mr, nv)
            flag = context.cast(builder, acc_, signature.args[10], types.boolean)
            adding = builder.icmp_unsigned("!=", flag, ir.Constant(flag.type, 0))
            whole = builder.icmp_signed(">=", cols_, ir.Constant(_I64, LANES * nv))
            with builder.if_else(whole, likely=True) as (full, part):
                with full:
                    _store_tile(builder, new, adding, os_.data, i0_, ldo_, c0_, rows_)
                with part:
                    _store_tile(builder, new, adding, os_.data, i0_, ldo_, c0_, rows_, cols_)
            return context.get_dummy_value()

        return sig, codegen

    return tile


def _row(builder, base, i0, i, ld):
    """The pointer to row ``i0 + i`` of a matrix at ``base`` with row stride ``ld``."""
    return builder.gep(base, [builder.mul(builder.add(i0, i), ld)])


def _x_rows(builder, x, x0, ldx, i0, rows, mr: int) -> list:
    """Pointers to ``x[i0 + r, x0]`` for the ``mr`` rows of a tile; rows past
    ``rows`` read the last one (their results are never stored)."""
    last = builder.sub(rows, ir.Constant(_I64, 1))

    def x_row(r):
        r = ir.Constant(_I64, r)
        valid = builder.icmp_signed("<", r, rows)
        return builder.gep(_row(builder, x, i0, builder.select(valid, r, last), ldx), [x0])

    return [x_row(r) for r in range(mr)]


def _k_loop(builder, fma, x_rows, panel, k, mr: int, nv: int) -> list:
    """The K loop of a tile: ``mr`` x ``nv`` vector accumulators (phi nodes) that
    each step adds a broadcast element of ``x`` times a panel vector to.
    Returns the accumulators' values after the last step ([row][vector]); the
    builder is left at the start of the block after the loop."""
    width = LANES * nv
    zero = ir.Constant(_VEC, [0.0] * LANES)
    splat_mask = ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
    entry = builder.basic_block
    body = builder.append_basic_block("tile.k")
    done = builder.append_basic_block("tile.store")
    builder.branch(body)

    builder.position_at_end(body)
    kk = builder.phi(_I64)
    kk.add_incoming(ir.Constant(_I64, 0), entry)
    acc = [[builder.phi(_VEC) for _ in range(nv)] for _ in range(mr)]
    for a_row in acc:
        for a in a_row:
            a.add_incoming(zero, entry)
    p_row = builder.gep(panel, [builder.mul(kk, ir.Constant(_I64, width))])
    b = [builder.load(builder.bitcast(builder.gep(p_row, [ir.Constant(_I64, LANES * v)]),
                                      _VEC.as_pointer()), align=4)
         for v in range(nv)]
    new = []
    for r in range(mr):
        s = builder.load(builder.gep(x_rows[r], [kk]))
        s = builder.insert_element(ir.Constant(_VEC, ir.Undefined), s, ir.Constant(_I32, 0))
        s = builder.shuffle_vector(s, ir.Constant(_VEC, ir.Undefined), splat_mask)
        new.append([builder.call(fma, [s, b[v], acc[r][v]]) for v in range(nv)])
    k_next = builder.add(kk, ir.Constant(_I64, 1))
    latch = builder.basic_block
    kk.add_incoming(k_next, latch)
    for r in range(mr):
        for v in range(nv):
            acc[r][v].add_incoming(new[r][v], latch)
    builder.cbranch(builder.icmp_signed("<", k_next, k), body, done)
    builder.position_at_end(done)
    return new


_MASK = ir.VectorType(ir.IntType(1), LANES)
_ALIGN = ir.Constant(_I32, 4)


def _lane_masks(builder, cols, nv: int) -> list:
    """For each of a tile's ``nv`` vectors, the mask of its lanes below ``cols``."""
    lanes = ir.VectorType(_I64, LANES)
    splat = builder.insert_element(ir.Constant(lanes, ir.Undefined), cols, ir.Constant(_I32, 0))
    splat = builder.shuffle_vector(splat, ir.Constant(lanes, ir.Undefined),
                                   ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))
    return [builder.icmp_signed("<", ir.Constant(lanes, [LANES * v + j for j in range(LANES)]),
                                splat) for v in range(nv)]


def _store_tile(builder, new, adding, out, i0, ldo, c0, rows, cols=None) -> None:
    """Store (or, where ``adding``, add) the tile's rows below ``rows`` into ``out``;
    with ``cols``, only its columns below ``cols`` (masked loads and stores)."""
    masks = None if cols is None else _lane_masks(builder, cols, len(new[0]))
    pointer = _VEC.as_pointer()
    if masks is not None:
        store_fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_VEC, pointer, _I32, _MASK]),
            "llvm.masked.store.v16f32.p0")
        load_fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [pointer, _I32, _MASK, _VEC]),
            "llvm.masked.load.v16f32.p0")
        zero = ir.Constant(_VEC, [0.0] * LANES)

    def load(ptr, v):
        if masks is None:
            return builder.load(ptr, align=4)
        return builder.call(load_fn, [ptr, _ALIGN, masks[v], zero])

    def store(value, ptr, v):
        if masks is None:
            builder.store(value, ptr, align=4)
        else:
            builder.call(store_fn, [value, ptr, _ALIGN, masks[v]])

    for r, vectors in enumerate(new):
        with builder.if_then(builder.icmp_signed("<", ir.Constant(_I64, r), rows), likely=True):
            o_row = builder.gep(_row(builder, out, i0, ir.Constant(_I64, r), ldo), [c0])
            ptrs = [builder.bitcast(builder.gep(o_row, [ir.Constant(_I64, LANES * v)]),
                                    pointer) for v in range(len(vectors))]
            with builder.if_else(adding) as (add, put):
                with add:
                    for v, (ptr, value) in enumerate(zip(ptrs, vectors)):
                        store(builder.fadd(load(ptr, v), value), ptr, v)
                with put:
                    for v, (ptr, value) in enumerate(zip(ptrs, vectors)):
                        store(value, ptr, v)


_t8_2 = _tile_kernel(MR, 2)  # numba resolves globals by name: one name a kernel
_t8_1 = _tile_kernel(MR, 1)


# One compiled version each, whatever the layout of the arrays a caller passes
# (numba converts C-contiguous arrays to these), so a model's first compile does
# not build a version per call site. (The cpu executable copies read-only
# inputs, so operands are always writable.)
_F2 = types.Array(types.float32, 2, "A")
_P = types.Array(types.float32, 1, "C")


def supported(k, n) -> bool:
    """Whether ``gemm_serial`` takes a right operand of static shape (k, n)."""
    return isinstance(k, int) and isinstance(n, int) and k >= 1 and n >= 1


def padded(n: int) -> int:
    """The columns of ``pack_rhs(w)`` for ``n`` columns of ``w``: a multiple of 16."""
    return (n + LANES - 1) // LANES * LANES


@njit(cache=True, error_model="numpy")
def pack_rhs(w):
    """``w`` (K x N float32) as column panels (see the module docstring), its
    columns padded with zeros to a multiple of 16 (``padded``)."""
    k, n = w.shape
    n16 = (n + LANES - 1) // LANES * LANES  # padded(n), spelt out: one compile less
    # runtime's empty and conditionals rather than np.zeros and min(): every
    # numba implementation a helper uses is one more compile on a cold start
    p = empty((k * n16,), np.float32)
    # unsigned indices: numba tests a signed index for wraparound, which kept
    # the copy loop scalar (3-4x slower: 150 against 55 us for 256 x 1024)
    pos = np.uint64(0)
    un = np.uint64(n)
    for c0 in range(0, n16, NR):
        width = np.uint64(n16 - c0 if n16 - c0 < NR else NR)
        uc0 = np.uint64(c0)
        for r in range(k):
            ur = np.uint64(r)
            for c in range(width):
                p[pos + c] = w[ur, uc0 + c] if uc0 + c < un else np.float32(0.0)
            pos += width
    return p


@njit(cache=True, error_model="numpy")
def pack_rhs_t(v):
    """``pack_rhs(v.T)`` for ``v`` (N x K float32, unit column stride): the
    keys of an attention head. ``v`` is read along its rows (a column of
    ``v.T`` at a time) and the padding written apart: 3.5 us for a 128 x 64
    head, where ``pack_rhs`` of the transposed view gathers for 10. Compiled
    only for code that calls it (``prepare(transposed=True)``)."""
    n, k = v.shape
    n16 = (n + LANES - 1) // LANES * LANES
    p = empty((k * n16,), np.float32)
    pos = np.uint64(0)  # unsigned indices, as in pack_rhs
    uk = np.uint64(k)
    for c0 in range(0, n16, NR):
        width = np.uint64(n16 - c0 if n16 - c0 < NR else NR)
        full = np.uint64(n - c0 if n - c0 < width else width)
        uc0 = np.uint64(c0)
        for c in range(full):
            for r in range(uk):
                p[pos + r * width + c] = v[uc0 + c, r]
        for c in range(full, width):
            for r in range(uk):
                p[pos + r * width + c] = np.float32(0.0)
        pos += uk * width
    return p


@njit(cache=True, error_model="numpy", inline="always")
def _tile(x, x0, ldx, i0, p, poff, k, out, ldo, c0, accumulate, wide, rows, cols):
    if wide:
        _t8_2(x, x0, ldx, i0, p, poff, k, out, ldo, c0, accumulate, rows, cols)
    else:
        _t8_1(x, x0, ldx, i0, p, poff, k, out, ldo, c0, accumulate, rows, cols)


@njit(cache=True, error_model="numpy")
def gemm_serial(x, p, out):
    """``out[:] = x @ w`` for ``p = pack_rhs(w)``, on the calling thread.

    ``x`` is (M, K) float32 with unit column stride (any row stride), ``out``
    (M, N) float32 with unit column stride, or (M, padded(N)) (its columns
    past N come out zero); M may be anything, zero included. The last panel
    of an N that is not a multiple of 16 is stored with masked stores, so the
    result needs no buffer of padded width (and a model's code does not
    depend on whether its widths are multiples of 16). The generated code never
    passes another ``x``: the executable's inputs are C-contiguous, slices
    numba would not keep contiguous are copied, and a transposed view (``x.T``)
    is multiplied by BLAS instead (``elementwise._panels``). A copy here for
    the other case cost every model with a product 0.1 s of cold compile.
    """
    m, k = x.shape
    if m == 0:
        return
    ldx = x.strides[0] // 4
    n = out.shape[1]
    ldo = out.strides[0] // 4
    n16 = p.shape[0] // k if k > 0 else 0   # the panels' padded width
    # every panel reads all of x: a large x is taken MC_BYTES of rows at a
    # time, which stay in the cache while every panel reads them
    mc = m
    if m * k * 4 > X_CACHED:
        mc = MC_BYTES // (k * 4) // MR * MR
        if mc < MR:
            mc = MR
    # (the loops over a panel and its row tiles are written here, not in
    # helpers numba inlines: each inlined helper is typed again, 0.04 s cold)
    for m0 in range(0, m, mc):
        m1 = m0 + mc if m0 + mc < m else m
        for c0 in range(0, n16, NR):
            # rows m0:m1 of the panel at column c0, KC panel rows at a time (a
            # chunk stays in the L1 cache while every row tile uses it; later
            # chunks add to the result); the last row tile may have fewer
            # than MR rows, the last panel fewer columns than it holds
            wide = n16 - c0 >= NR
            width = NR if wide else LANES
            cols = n - c0
            for k0 in range(0, k, KC):
                kc = k - k0 if k - k0 < KC else KC
                poff = c0 * k + k0 * width
                for i in range(m0, m1, MR):
                    rows = m1 - i if m1 - i < MR else MR
                    if wide:
                        _t8_2(x, k0, ldx, i, p, poff, kc, out, ldo, c0, k0 > 0, rows, cols)
                    else:
                        _t8_1(x, k0, ldx, i, p, poff, kc, out, ldo, c0, k0 > 0, rows, cols)


def prepare(transposed: bool = False) -> None:
    """Compile (or load from numba's cache) the one version of ``pack_rhs`` and
    ``gemm_serial`` that generated code calls (``transposed``: ``pack_rhs_t``
    alone, compiled only for code that calls it). Called by the cpu target
    before it compiles a graph, inside its recovery from a damaged cache. One
    thread at a time: another would find compiling disabled between the check
    and its compile (two compiles at once, ``lower/background.py``)."""
    kernels = ((pack_rhs_t, _P(_F2)),) if transposed else \
        ((pack_rhs, _P(_F2)), (gemm_serial, types.void(_F2, _P, _F2)))
    with _PREPARE_LOCK:
        for fn, sig in kernels:
            if not fn.signatures:
                fn.compile(sig)
                fn.disable_compile()


_PREPARE_LOCK = threading.Lock()
