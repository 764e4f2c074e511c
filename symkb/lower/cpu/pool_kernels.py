"""Compiled kernels of the pooling ops, called by generated code.

The arrays are channels-last with three spatial dims and the geometry is
the ``geo`` array of ``conv_kernels.py`` (its dilations are 1). Each output
position scans its window's real elements (the padding is skipped, never
read) with the innermost loop along the contiguous channels. A maximum
keeps the first NaN it meets, and the first of equal maxima, as the numpy
reference does.
"""
from __future__ import annotations

from numba import njit

from .conv_kernels import _source
from .runtime import empty


@njit(cache=True, error_model="numpy", inline="always")
def _range(o, j, n, geo):
    """The taps of window ``o`` along axis ``j`` that read real elements."""
    lo = o * geo[3 + j] - geo[9 + j]
    return max(0, -lo), min(geo[j], n - lo)


@njit(cache=True, error_model="numpy")
def pool_window(x, out, geo, is_max, low):
    """``out = pool(x)``: the max (from ``low``, the dtype's lowest value) or
    the mean over the real elements of each window."""
    nb, n1, n2, n3, c = x.shape
    _, o1n, o2n, o3n, _ = out.shape
    acc = empty(c, out.dtype)
    for b in range(nb):
        for o1 in range(o1n):
            a1, e1 = _range(o1, 0, n1, geo)
            for o2 in range(o2n):
                a2, e2 = _range(o2, 1, n2, geo)
                for o3 in range(o3n):
                    a3, e3 = _range(o3, 2, n3, geo)
                    acc[:] = low if is_max else 0
                    for t1 in range(a1, e1):
                        i1 = _source(o1, t1, 0, geo)
                        for t2 in range(a2, e2):
                            i2 = _source(o2, t2, 1, geo)
                            for t3 in range(a3, e3):
                                i3 = _source(o3, t3, 2, geo)
                                if is_max:
                                    for ch in range(c):  # a select: it vectorises
                                        a = acc[ch]
                                        v = x[b, i1, i2, i3, ch]
                                        acc[ch] = a if a >= v or a != a else v
                                else:
                                    for ch in range(c):
                                        acc[ch] += x[b, i1, i2, i3, ch]
                    if is_max:
                        for ch in range(c):
                            out[b, o1, o2, o3, ch] = acc[ch]
                    else:
                        count = (e1 - a1) * (e2 - a2) * (e3 - a3)
                        for ch in range(c):
                            out[b, o1, o2, o3, ch] = acc[ch] / count


@njit(cache=True, error_model="numpy", inline="always")
def _first_max(x, b, o1, o2, o3, ch, geo):
    """The coordinates of the first maximum of a window (a NaN wins)."""
    _, n1, n2, n3, _ = x.shape
    a1, e1 = _range(o1, 0, n1, geo)
    a2, e2 = _range(o2, 1, n2, geo)
    a3, e3 = _range(o3, 2, n3, geo)
    j1, j2, j3 = _source(o1, a1, 0, geo), _source(o2, a2, 1, geo), _source(o3, a3, 2, geo)
    best = x[b, j1, j2, j3, ch]
    for t1 in range(a1, e1):
        i1 = _source(o1, t1, 0, geo)
        for t2 in range(a2, e2):
            i2 = _source(o2, t2, 1, geo)
            for t3 in range(a3, e3):
                i3 = _source(o3, t3, 2, geo)
                v = x[b, i1, i2, i3, ch]
                if v > best and best == best:
                    best, j1, j2, j3 = v, i1, i2, i3
    return j1, j2, j3


@njit(cache=True, error_model="numpy")
def pool_grad_window(x, g, out, geo, is_max):
    """``out = pool_grad(x, g)``: each window's cotangent to its first maximum,
    or shared evenly by its real elements."""
    nb, n1, n2, n3, c = x.shape
    _, o1n, o2n, o3n, _ = g.shape
    out[:] = 0
    for b in range(nb):
        for o1 in range(o1n):
            a1, e1 = _range(o1, 0, n1, geo)
            for o2 in range(o2n):
                a2, e2 = _range(o2, 1, n2, geo)
                for o3 in range(o3n):
                    a3, e3 = _range(o3, 2, n3, geo)
                    if is_max:
                        for ch in range(c):
                            j1, j2, j3 = _first_max(x, b, o1, o2, o3, ch, geo)
                            out[b, j1, j2, j3, ch] += g[b, o1, o2, o3, ch]
                        continue
                    count = (e1 - a1) * (e2 - a2) * (e3 - a3)
                    for t1 in range(a1, e1):
                        i1 = _source(o1, t1, 0, geo)
                        for t2 in range(a2, e2):
                            i2 = _source(o2, t2, 1, geo)
                            for t3 in range(a3, e3):
                                i3 = _source(o3, t3, 2, geo)
                                for ch in range(c):
                                    out[b, i1, i2, i3, ch] += g[b, o1, o2, o3, ch] / count


@njit(cache=True, error_model="numpy")
def pool_select_window(x, v, out, geo):
    """``out = pool_select(x, v)``: ``v`` at each window's first maximum of ``x``."""
    nb, _, _, _, c = x.shape
    _, o1n, o2n, o3n, _ = out.shape
    for b in range(nb):
        for o1 in range(o1n):
            for o2 in range(o2n):
                for o3 in range(o3n):
                    for ch in range(c):
                        j1, j2, j3 = _first_max(x, b, o1, o2, o3, ch, geo)
                        out[b, o1, o2, o3, ch] = v[b, j1, j2, j3, ch]
