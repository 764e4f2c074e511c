"""Compiled kernels of the convolution and pooling ops, called by generated code.

Every kernel takes channels-last arrays of exactly three spatial dims,
``(batch, d1, d2, d3, channels)``: the emitters (``windows.py``) view a 1-D
or 2-D op's operands with unit dims added, so one compiled version per dtype
serves every rank. Window geometry comes as ``geo``, the int64 array
``[k1, k2, k3, s1, s2, s3, r1, r2, r3, p1, p2, p3]`` (taps, strides,
dilations, pads before), one argument instead of twelve.

``conv_packed`` is the float32 convolution without groups: an *im2col per
row block*: a block of output positions at a time (``PATCH_FLOATS``), their windows are copied
into a small packed buffer (one row per position, the taps' channels side by
side, zeros where a tap reads the padding) that stays in the cache, and
``gemm_serial`` multiplies it by the kernel packed once (``pack_rhs``) on
the calling thread. Everything else (groups, other dtypes, the two gradient
products, pooling) is a direct loop nest whose innermost loop runs along
the contiguous channels. Nothing here is ``parallel=True``: the cpu
executable runs row blocks of the batch on threads of their own.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .gemm import KC, LANES, MR, NR, _tile, gemm_serial
from .runtime import empty, reshaped, zeros

# The output positions one im2col block holds: as many as fill PATCH_FLOATS
# (128 KiB, in the L2 cache beside the packed kernel), within these bounds.
PATCH_FLOATS = 32768
MIN_ROWS, MAX_ROWS = 32, 1024


@njit(cache=True, error_model="numpy", inline="always")
def _source(o, t, j, geo):
    """The padded input coordinate tap ``t`` of output ``o`` reads along axis ``j``."""
    return o * geo[3 + j] + t * geo[6 + j] - geo[9 + j]


@njit(cache=True, error_model="numpy", inline="always")
def _fill_taps(xf, dims, geo, b, o1, o2, o3, row):
    """One row of the im2col buffer: output position ``(b, o1, o2, o3)``'s
    window, tap-major, each tap's channels contiguous (zeros in the padding).
    With one tap along axis 3 and dilation 1 along axis 2, the taps of one
    ``t1`` read a contiguous run of the input: copied as one run."""
    n1, n2, n3, c = dims[0], dims[1], dims[2], dims[3]
    k1, k2, k3 = geo[0], geo[1], geo[2]
    col = 0
    for t1 in range(k1):
        i1 = _source(o1, t1, 0, geo)
        i3 = _source(o3, 0, 2, geo)
        if k3 == 1 and geo[7] == 1 and 0 <= i1 < n1 and 0 <= i3 < n3:
            first = _source(o2, 0, 1, geo)
            lo = max(0, -first)
            hi = max(min(k2, n2 - first), lo)
            for q in range(lo * c):
                row[col + q] = 0
            off = (((b * n1 + i1) * n2 + first + lo) * n3 + i3) * c
            for q in range((hi - lo) * c):
                row[col + lo * c + q] = xf[off + q]
            for q in range(hi * c, k2 * c):
                row[col + q] = 0
            col += k2 * c
            continue
        for t2 in range(k2):
            i2 = _source(o2, t2, 1, geo)
            for t3 in range(k3):
                i3 = _source(o3, t3, 2, geo)
                if 0 <= i1 < n1 and 0 <= i2 < n2 and 0 <= i3 < n3:
                    off = (((b * n1 + i1) * n2 + i2) * n3 + i3) * c
                    for q in range(c):
                        row[col + q] = xf[off + q]
                else:
                    for q in range(c):
                        row[col + q] = 0
                col += c


def block_rows(depth: int) -> int:
    """The output positions one im2col block holds for a window of ``depth``
    floats: as many as fill ``PATCH_FLOATS``, within ``MIN_ROWS``..``MAX_ROWS``."""
    return max(MIN_ROWS, min(MAX_ROWS, PATCH_FLOATS // depth // 8 * 8))


@njit(cache=True, error_model="numpy", inline="always")
def _rows_in_place(xf, panels, wide, geo, b, o1, count, o1n, o2n, n1, n2, c):
    """``count`` whole output rows from ``(b, o1)`` on (``o2n`` positions each,
    ``o1n`` rows an image) of a
    convolution whose windows lie inside the input along axis 2 (one tap
    along axis 3, no dilation along axis 2) into ``wide``, with no im2col:
    the taps ``t1`` of a row read ``k2 * c`` contiguous floats a position,
    the positions ``s2 * c`` floats apart, so for each ``t1`` the row's
    windows are a matrix of overlapping rows of the input itself, multiplied
    in place by that tap's rows of the packed kernel (and added to what the
    taps before wrote)."""
    run = geo[1] * c
    depth = geo[0] * run
    ldx = geo[4] * c
    ldo = wide.strides[0] // 4
    n = wide.shape[1]
    x2 = reshaped(xf, (1, xf.shape[0]))
    first = _source(0, 0, 1, geo)
    for q in range(count):
        r0 = q * o2n
        row1 = o1 + q
        bq = b + row1 // o1n
        row1 = row1 % o1n
        wrote = False
        for t1 in range(geo[0]):
            i1 = _source(row1, t1, 0, geo)
            if i1 < 0 or i1 >= n1:
                continue
            # the tile kernel steps x and wide by the same row index: x's
            # offset takes back the r0 rows wide is ahead
            x0 = ((bq * n1 + i1) * n2 + first) * c - r0 * ldx
            for c0 in range(0, n, NR):
                whole = n - c0 >= NR
                width = NR if whole else LANES
                for k0 in range(0, run, KC):
                    kc = run - k0 if run - k0 < KC else KC
                    poff = c0 * depth + (t1 * run + k0) * width
                    for i in range(r0, r0 + o2n, MR):
                        left = r0 + o2n - i
                        _tile(x2, x0 + k0, ldx, i, panels, poff, kc, wide, ldo, c0,
                              wrote or k0 > 0, whole, left if left < MR else MR, n - c0)
            wrote = True
        if not wrote:  # every tap of the row reads padding
            for i in range(r0, r0 + o2n):
                for j in range(n):
                    wide[i, j] = 0


@njit(cache=True, error_model="numpy")
def conv_block(x, panels, wide, patch, geo, m0, rows, o1n, o2n, o3n):
    """Output positions ``m0 .. m0 + rows`` (flat over ``(batch, o1, o2, o3)``)
    of the float32 convolution into ``wide[:rows]`` (``padded(filters)``
    columns): their windows copied into ``patch`` (one row each), then one
    ``gemm_serial`` by the packed kernel. The coordinates are stepped, not
    divided, from one position to the next; a window inside the input along
    axes 2 and 3 (one tap along axis 3, no dilation along axis 2) is copied as
    ``k1`` runs, with no per-tap checks."""
    _, n1, n2, n3, c = x.shape
    xf = reshaped(x, (-1,))
    dims = (n1, n2, n3, c)
    # one tap along axis 3, no dilation along axis 2: a row is k1 runs of k2 * c floats
    runs = geo[2] == 1 and geo[7] == 1
    run = geo[1] * c
    q = m0
    o3 = q % o3n
    q //= o3n
    o2 = q % o2n
    q //= o2n
    o1 = q % o1n
    b = q // o1n
    if runs and o3n == 1 and n3 == 1 and _source(0, 0, 2, geo) == 0 and o2 == 0 and o2n >= MR \
            and rows % o2n == 0 and _source(0, 0, 1, geo) >= 0 \
            and _source(o2n - 1, 0, 1, geo) + geo[1] <= n2:
        # whole output rows of 8 positions or more, every window inside the
        # input along axis 2 (W6's two convolutions: 3.8 -> 2.6 ms)
        _rows_in_place(xf, panels, wide, geo, b, o1, rows // o2n, o1n, o2n, n1, n2, c)
        return
    for r in range(rows):
        first = _source(o2, 0, 1, geo)
        i3 = _source(o3, 0, 2, geo)
        if runs and first >= 0 and first + geo[1] <= n2 and 0 <= i3 < n3:
            row = patch[r]
            for t1 in range(geo[0]):
                i1 = _source(o1, t1, 0, geo)
                col = t1 * run
                if 0 <= i1 < n1:
                    off = (((b * n1 + i1) * n2 + first) * n3 + i3) * c
                    for k in range(run):
                        row[col + k] = xf[off + k]
                else:
                    for k in range(run):
                        row[col + k] = 0
        else:
            _fill_taps(xf, dims, geo, b, o1, o2, o3, patch[r])
        o3 += 1
        if o3 == o3n:
            o3 = 0
            o2 += 1
            if o2 == o2n:
                o2 = 0
                o1 += 1
                if o1 == o1n:
                    o1 = 0
                    b += 1
    gemm_serial(patch[:rows], panels, wide[:rows])


@njit(cache=True, error_model="numpy")
def conv_packed(x, panels, out, geo):
    """``out = conv(x, w)`` for float32 and one group; ``panels = pack_rhs(w2)``
    of the kernel as a ``(taps * channels, filters)`` matrix."""
    nb = x.shape[0]
    _, o1n, o2n, o3n, f = out.shape
    depth = geo[0] * geo[1] * geo[2] * x.shape[4]
    m = nb * o1n * o2n * o3n
    block = max(MIN_ROWS, min(MAX_ROWS, PATCH_FLOATS // depth // 8 * 8))  # block_rows
    patch = empty((block, depth), np.float32)
    # the kernel writes whole vectors of 16: straight into out, or through a buffer that wide
    columns = (f + LANES - 1) // LANES * LANES  # pack_rhs's padded width
    direct = f == columns
    wide = empty((block if not direct else 0, columns), np.float32)
    out2 = reshaped(out, (m, f))
    for m0 in range(0, m, block):
        rows = min(block, m - m0)
        if direct:
            conv_block(x, panels, out2[m0:m0 + rows], patch, geo, m0, rows, o1n, o2n, o3n)
            continue
        conv_block(x, panels, wide, patch, geo, m0, rows, o1n, o2n, o3n)
        for r in range(rows):
            for j in range(f):
                out2[m0 + r, j] = wide[r, j]


@njit(cache=True, error_model="numpy")
def conv_direct(x, w, out, geo, groups):
    """``out = conv(x, w)``: any dtype, any groups; a vector of accumulators per
    output position, the innermost loop along the filters."""
    nb, n1, n2, n3, _ = x.shape
    _, o1n, o2n, o3n, f = out.shape
    k1, k2, k3, cg = w.shape[0], w.shape[1], w.shape[2], w.shape[3]
    fg = f // groups
    acc = zeros(f, out.dtype)
    for b in range(nb):
        for o1 in range(o1n):
            for o2 in range(o2n):
                for o3 in range(o3n):
                    acc[:] = 0
                    for t1 in range(k1):
                        i1 = _source(o1, t1, 0, geo)
                        if i1 < 0 or i1 >= n1:
                            continue
                        for t2 in range(k2):
                            i2 = _source(o2, t2, 1, geo)
                            if i2 < 0 or i2 >= n2:
                                continue
                            for t3 in range(k3):
                                i3 = _source(o3, t3, 2, geo)
                                if i3 < 0 or i3 >= n3:
                                    continue
                                for g in range(groups):
                                    for ch in range(cg):
                                        xv = x[b, i1, i2, i3, g * cg + ch]
                                        for j in range(g * fg, g * fg + fg):
                                            acc[j] += xv * w[t1, t2, t3, ch, j]
                    for j in range(f):
                        out[b, o1, o2, o3, j] = acc[j]


@njit(cache=True, error_model="numpy")
def conv_transpose_direct(g, w, out, geo, groups):
    """``out = conv_transpose(g, w)``: each output position's cotangent times
    the kernel, added onto the input elements its window read."""
    nb, o1n, o2n, o3n, f = g.shape
    _, n1, n2, n3, _ = out.shape
    k1, k2, k3, cg = w.shape[0], w.shape[1], w.shape[2], w.shape[3]
    fg = f // groups
    out[:] = 0
    for b in range(nb):
        for o1 in range(o1n):
            for o2 in range(o2n):
                for o3 in range(o3n):
                    for t1 in range(k1):
                        i1 = _source(o1, t1, 0, geo)
                        if i1 < 0 or i1 >= n1:
                            continue
                        for t2 in range(k2):
                            i2 = _source(o2, t2, 1, geo)
                            if i2 < 0 or i2 >= n2:
                                continue
                            for t3 in range(k3):
                                i3 = _source(o3, t3, 2, geo)
                                if i3 < 0 or i3 >= n3:
                                    continue
                                for gr in range(groups):
                                    for ch in range(cg):
                                        at = gr * cg + ch
                                        for j in range(gr * fg, gr * fg + fg):
                                            out[b, i1, i2, i3, at] += \
                                                g[b, o1, o2, o3, j] * w[t1, t2, t3, ch, j]


@njit(cache=True, error_model="numpy")
def conv_filter_direct(x, g, out, geo, groups):
    """``out = conv_filter_grad(x, g)``: the windows contracted with the
    cotangent over the batch and the output positions."""
    nb, n1, n2, n3, c = x.shape
    _, o1n, o2n, o3n, f = g.shape
    k1, k2, k3, cg = out.shape[0], out.shape[1], out.shape[2], out.shape[3]
    fg = f // groups
    out[:] = 0
    for b in range(nb):
        for o1 in range(o1n):
            for o2 in range(o2n):
                for o3 in range(o3n):
                    for t1 in range(k1):
                        i1 = _source(o1, t1, 0, geo)
                        if i1 < 0 or i1 >= n1:
                            continue
                        for t2 in range(k2):
                            i2 = _source(o2, t2, 1, geo)
                            if i2 < 0 or i2 >= n2:
                                continue
                            for t3 in range(k3):
                                i3 = _source(o3, t3, 2, geo)
                                if i3 < 0 or i3 >= n3:
                                    continue
                                for gr in range(groups):
                                    for ch in range(cg):
                                        xv = x[b, i1, i2, i3, gr * cg + ch]
                                        for j in range(gr * fg, gr * fg + fg):
                                            out[t1, t2, t3, ch, j] += xv * g[b, o1, o2, o3, j]
