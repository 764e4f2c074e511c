"""Pooling as ops: ``pool`` and the two maps of its gradient.

Channels-last, 1 to 3 spatial dims, as the convolutions (``conv.py``):

* ``pool(x)``: the max or the mean of each window; a max window ignores the
  padding, a mean window averages its real (unpadded) elements only, as
  TensorFlow does;
* ``pool_grad(x, g)``: the adjoint of ``pool`` in ``x``: each window's
  cotangent goes to the window's first maximum (``'max'``), or is shared
  evenly by its real elements (``'avg'``);
* ``pool_select(x, c)``: the adjoint of a max ``pool_grad`` in ``g``: each
  window's value of ``c`` at the first maximum of ``x`` (pool's shape).

Attributes: ``mode`` (``'max'``/``'avg'``), ``window``, ``strides`` and
``pads`` (``(before, after)`` per spatial dim).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..types import TensorType, is_float
from .conv import check_window_attrs, out_size, window_index


def _pool_type(op, x, mode, window, strides, pads):
    rank = x.ndim - 2
    check_window_attrs(op, rank, strides=strides, dilation=window, pads=pads)
    if mode not in ("max", "avg"):
        raise ShapeError(f"{op}: mode must be 'max' or 'avg', received {mode!r}")
    if mode == "avg" and not is_float(x.dtype):
        raise ShapeError(f"{op}: average pooling needs a float tensor, received {x.dtype}")
    outs = []
    for n, k, s, p in zip(x.shape[1:-1], window, strides, pads):
        o = None if n is None else out_size(n, k, s, 1, p)
        if o is not None and (o < 1 or max(p) >= k):
            raise ShapeError(f"{op}: a window of {k} with pads {p} does not fit a spatial size "
                             f"of {n} (every window must hold a real element)")
        outs.append(o)
    return TensorType((x.shape[0],) + tuple(outs) + (x.shape[-1],), x.dtype)


def _pool_rule(types, *, mode, window, strides, pads):
    return _pool_type("pool", types[0], mode, window, strides, pads)


def _grad_rule(types, *, mode, window, strides, pads):
    x, g = types
    want = _pool_type("pool_grad", x, mode, window, strides, pads)
    if g.ndim != x.ndim or any(a is not None and b is not None and a != b
                               for a, b in zip(g.shape[1:], want.shape[1:])):
        raise ShapeError(f"pool_grad: the cotangent has shape {g.shape}; the pooling of "
                         f"{x.shape} has {want.shape}")
    return TensorType(x.shape, g.dtype)


def _select_rule(types, *, window, strides, pads):
    x, c = types
    if c.ndim != x.ndim or any(a is not None and b is not None and a != b
                               for a, b in zip(c.shape, x.shape)):
        raise ShapeError(f"pool_select: the values have shape {c.shape}, expected the shape "
                         f"of x {x.shape}")
    out = _pool_type("pool_select", x, "max", window, strides, pads)
    return TensorType(out.shape, c.dtype)


def _setup(x, window, strides, pads, fill):
    outs = tuple(out_size(n, k, s, 1, p) for n, k, s, p in
                 zip(x.shape[1:-1], window, strides, pads))
    xp = np.pad(x, ((0, 0),) + tuple(tuple(p) for p in pads) + ((0, 0),),
                constant_values=fill)
    real = np.pad(np.ones((1,) + x.shape[1:-1] + (1,), dtype=bool),
                  ((0, 0),) + tuple(tuple(p) for p in pads) + ((0, 0),))
    taps = list(itertools.product(*(range(k) for k in window)))
    return outs, xp, real, taps


def _first_max(x, window, strides, pads):
    """Per output element, the tap of its window's first maximum."""
    outs, xp, real, taps = _setup(x, window, strides, pads, 0)
    best = np.zeros((x.shape[0],) + outs + (x.shape[-1],), dtype=np.int64)
    top = top_ok = None
    for i, tap in enumerate(taps):
        index = window_index(tap, (1,) * len(outs), strides, outs)
        v, ok = xp[index], np.broadcast_to(real[index], best.shape)
        better = ok if top is None else ok & ((v > top) | ~top_ok)
        best = np.where(better, i, best)
        top = v if top is None else np.where(better, v, top)
        top_ok = ok if top_ok is None else top_ok | ok
    return outs, taps, best


@register("pool", type_rule=_pool_rule, kind="other", rows="window")
def pool(x, *, mode, window, strides, pads):
    """The max (padding ignored) or the mean over the real elements of each window."""
    if mode == "max":
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        outs, xp, _, taps = _setup(x, window, strides, pads, low)
        parts = [xp[window_index(t, (1,) * len(outs), strides, outs)] for t in taps]
        return np.max(np.stack(parts), axis=0)
    outs, xp, real, taps = _setup(x, window, strides, pads, 0)
    total = sum(xp[window_index(t, (1,) * len(outs), strides, outs)] for t in taps)
    count = sum(real[window_index(t, (1,) * len(outs), strides, outs)] for t in taps)
    return total / count.astype(x.dtype)


@register("pool_grad", type_rule=_grad_rule, kind="other", rows="window")
def pool_grad(x, g, *, mode, window, strides, pads):
    """Each window's cotangent sent to its first maximum, or shared by its real elements."""
    if mode == "max":
        outs, taps, best = _first_max(x, window, strides, pads)
        counts = None
    else:
        outs, _, real, taps = _setup(x, window, strides, pads, 0)
        counts = sum(real[window_index(t, (1,) * len(outs), strides, outs)] for t in taps)
    padded = tuple(n + p[0] + p[1] for n, p in zip(x.shape[1:-1], pads))
    gp = np.zeros((x.shape[0],) + padded + (x.shape[-1],), dtype=g.dtype)
    for i, tap in enumerate(taps):
        index = window_index(tap, (1,) * len(outs), strides, outs)
        gp[index] += np.where(best == i, g, 0) if counts is None else g / counts
    crop = (slice(None),) + tuple(slice(p[0], p[0] + n) for n, p in zip(x.shape[1:-1], pads))
    return gp[crop]


@register("pool_select", type_rule=_select_rule, kind="other", rows="window")
def pool_select(x, c, *, window, strides, pads):
    """``c`` at the first maximum of ``x`` in each window."""
    outs, taps, best = _first_max(x, window, strides, pads)
    cp = np.pad(c, ((0, 0),) + tuple(tuple(p) for p in pads) + ((0, 0),))
    out = np.zeros(best.shape, dtype=c.dtype)
    for i, tap in enumerate(taps):
        out = np.where(best == i, cp[window_index(tap, (1,) * len(outs), strides, outs)], out)
    return out
