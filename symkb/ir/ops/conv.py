"""Convolutions as ops: ``conv`` and the two products of its gradient.

All three work on channels-last tensors with 1 to 3 spatial dims (the
backend transposes a channels_first input around them, and the compiler
sees the transposes as ordinary movement), so one op holds every layout:

* ``conv(x, w)``: ``x`` ``(batch, *sizes, channels)``, ``w`` ``(*kernel,
  channels // groups, filters)``; result ``(batch, *out, filters)``;
* ``conv_transpose(g, w)``: the adjoint of ``conv`` in ``x`` (its input
  gradient, and ``K.conv2d_transpose``): ``g`` has the shape of a ``conv``
  result, the result the shape of its input, spatial ``sizes``;
* ``conv_filter_grad(x, g)``: the adjoint of ``conv`` in ``w`` (its kernel
  gradient), of shape ``(*kernel_size, channels // groups, filters)``.

The three are bilinear and each one's gradient is the other two
(``conv_grad.py``), so gradients of gradients stay in the family.

Attributes, shared: ``strides`` and ``dilation`` (one int per spatial dim),
``pads`` (``(before, after)`` zeros per spatial dim: 'valid', 'same' and
'causal' are all explicit amounts by the time the op is built) and
``groups`` (the channels split in ``groups`` slices, slice ``i`` feeding the
filters ``i * filters // groups ...``; depthwise is ``groups == channels``).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..types import TensorType, result_dtype

_ATTRS = ("strides", "dilation", "pads", "groups")


def out_size(n: int, k: int, s: int, d: int, pads) -> int:
    """The output length of a window of ``k`` taps dilated ``d`` stepping ``s``
    over ``n`` elements padded ``pads``."""
    return (n + pads[0] + pads[1] - ((k - 1) * d + 1)) // s + 1


def check_window_attrs(op: str, rank: int, *, strides, dilation, pads, **_) -> None:
    """A clear error for attributes that do not fit ``rank`` spatial dims."""
    if not 1 <= rank <= 3:
        raise ShapeError(f"{op}: expected 1 to 3 spatial dims (an input of rank 3 to 5), "
                         f"received rank {rank + 2}")
    for what, value in (("strides", strides), ("dilation", dilation)):
        if len(value) != rank or any(int(v) < 1 for v in value):
            raise ShapeError(f"{op}: {what} must be {rank} positive ints, received {value}")
    if len(pads) != rank or any(len(p) != 2 or min(p) < 0 for p in pads):
        raise ShapeError(f"{op}: pads must be {rank} pairs (before, after) of ints >= 0, "
                         f"received {pads}")


def _out_sizes(op, sizes, kernel, strides, dilation, pads):
    outs = []
    for n, k, s, d, p in zip(sizes, kernel, strides, dilation, pads):
        o = None if n is None or k is None else out_size(n, k, s, d, p)
        if o is not None and o < 1:
            raise ShapeError(f"{op}: the window ({(k - 1) * d + 1}) is larger than the padded "
                             f"input ({n + p[0] + p[1]}); spatial sizes {tuple(sizes)}, "
                             f"kernel {tuple(kernel)}, pads {pads}")
        outs.append(o)
    return tuple(outs)


def _channels(op, c, w_in, groups, filters):
    if groups < 1 or (filters is not None and filters % groups):
        raise ShapeError(f"{op}: groups ({groups}) must be >= 1 and divide the filters "
                         f"({filters})")
    if c is not None and w_in is not None and c != w_in * groups:
        raise ShapeError(f"{op}: the input has {c} channels but the kernel expects "
                         f"{w_in} * groups ({groups}) = {w_in * groups}")


def _conv_rule(types, *, strides, dilation, pads, groups):
    x, w = types
    rank = x.ndim - 2
    check_window_attrs("conv", rank, strides=strides, dilation=dilation, pads=pads)
    if w.ndim != x.ndim:
        raise ShapeError(f"conv: expected a {x.ndim}-D kernel (*kernel, channels // groups, "
                         f"filters) for an input of shape {x.shape}, received {w.shape}")
    _channels("conv", x.shape[-1], w.shape[-2], groups, w.shape[-1])
    outs = _out_sizes("conv", x.shape[1:-1], w.shape[:-2], strides, dilation, pads)
    return TensorType((x.shape[0],) + outs + (w.shape[-1],), result_dtype(x.dtype, w.dtype))


def _transpose_rule(types, *, strides, dilation, pads, groups, sizes):
    g, w = types
    rank = g.ndim - 2
    check_window_attrs("conv_transpose", rank, strides=strides, dilation=dilation, pads=pads)
    if w.ndim != g.ndim or len(sizes) != rank:
        raise ShapeError(f"conv_transpose: expected a {g.ndim}-D kernel and {rank} sizes for "
                         f"an input of shape {g.shape}, received kernel {w.shape} and sizes "
                         f"{sizes}")
    _channels("conv_transpose", None, w.shape[-2], groups, w.shape[-1])
    if g.shape[-1] is not None and w.shape[-1] is not None and g.shape[-1] != w.shape[-1]:
        raise ShapeError(f"conv_transpose: the input has {g.shape[-1]} channels but the "
                         f"kernel {w.shape} has {w.shape[-1]} filters")
    want = _out_sizes("conv_transpose", sizes, w.shape[:-2], strides, dilation, pads)
    for got, exp in zip(g.shape[1:-1], want):
        if got is not None and exp is not None and got != exp:
            raise ShapeError(f"conv_transpose: an input of spatial sizes {g.shape[1:-1]} is "
                             f"not what a convolution of sizes {tuple(sizes)} gives ({want}) "
                             f"with kernel {w.shape}, strides {strides}, pads {pads}")
    channels = None if w.shape[-2] is None else w.shape[-2] * groups
    return TensorType((g.shape[0],) + tuple(sizes) + (channels,),
                      result_dtype(g.dtype, w.dtype))


def _filter_rule(types, *, strides, dilation, pads, groups, kernel_size):
    x, g = types
    rank = x.ndim - 2
    check_window_attrs("conv_filter_grad", rank, strides=strides, dilation=dilation, pads=pads)
    if g.ndim != x.ndim or len(kernel_size) != rank:
        raise ShapeError(f"conv_filter_grad: expected operands of equal rank and {rank} kernel "
                         f"sizes, received {x.shape}, {g.shape} and {kernel_size}")
    _channels("conv_filter_grad", None, None, groups, g.shape[-1])
    c = x.shape[-1]
    if c is not None and c % groups:
        raise ShapeError(f"conv_filter_grad: groups ({groups}) must divide the channels ({c})")
    return TensorType(tuple(kernel_size) + (None if c is None else c // groups, g.shape[-1]),
                      result_dtype(x.dtype, g.dtype))


def window_index(offset, dilation, strides, outs) -> tuple:
    """The index of the elements tap ``offset`` reads for every output position."""
    return (slice(None),) + tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                                  for o, d, n, s in zip(offset, dilation, outs, strides)) \
        + (slice(None),)


def _grouped(a, groups):
    """``(..., C)`` as ``(..., groups, C // groups)``."""
    return a.reshape(a.shape[:-1] + (groups, a.shape[-1] // groups))


@register("conv", type_rule=_conv_rule, kind="linalg", rows="conv")
def conv(x, w, *, strides, dilation, pads, groups):
    """The correlation of ``x`` with ``w`` (TensorFlow's convolution), one tap
    of the kernel at a time: each tap's windows times its ``(C // groups, F)``
    matrix, per group."""
    rank = x.ndim - 2
    outs = tuple(out_size(n, k, s, d, p) for n, k, s, d, p in
                 zip(x.shape[1:-1], w.shape[:-2], strides, dilation, pads))
    xp = np.pad(x, ((0, 0),) + tuple(tuple(p) for p in pads) + ((0, 0),))
    dtype = result_dtype(x.dtype.name, w.dtype.name)
    out = np.zeros((x.shape[0],) + outs + (w.shape[-1],), dtype=dtype)
    fg = w.shape[-1] // groups
    for tap in itertools.product(*(range(k) for k in w.shape[:rank])):
        win = _grouped(xp[window_index(tap, dilation, strides, outs)], groups)
        wk = w[tap].reshape(w.shape[-2], groups, fg)
        out += np.einsum("...gc,cgf->...gf", win, wk).reshape(out.shape)
    return out


@register("conv_transpose", type_rule=_transpose_rule, kind="linalg", rows="conv")
def conv_transpose(g, w, *, strides, dilation, pads, groups, sizes):
    """The adjoint of ``conv`` in its input: each tap scatters ``g`` times its
    matrix back onto the windows it read; the padding is cut off."""
    rank = g.ndim - 2
    outs = g.shape[1:-1]
    padded = tuple(n + p[0] + p[1] for n, p in zip(sizes, pads))
    c = w.shape[-2] * groups
    dtype = result_dtype(g.dtype.name, w.dtype.name)
    xp = np.zeros((g.shape[0],) + padded + (c,), dtype=dtype)
    fg = w.shape[-1] // groups
    gg = _grouped(g, groups)
    for tap in itertools.product(*(range(k) for k in w.shape[:rank])):
        wk = w[tap].reshape(w.shape[-2], groups, fg)
        part = np.einsum("...gf,cgf->...gc", gg, wk)
        xp[window_index(tap, dilation, strides, outs)] += part.reshape(part.shape[:-2] + (c,))
    crop = (slice(None),) + tuple(slice(p[0], p[0] + n) for n, p in zip(sizes, pads))
    return xp[crop]


@register("conv_filter_grad", type_rule=_filter_rule, kind="linalg")
def conv_filter_grad(x, g, *, strides, dilation, pads, groups, kernel_size):
    """The adjoint of ``conv`` in its kernel: for each tap, the windows it read
    contracted with ``g`` over the batch and the output positions, per group."""
    outs = g.shape[1:-1]
    xp = np.pad(x, ((0, 0),) + tuple(tuple(p) for p in pads) + ((0, 0),))
    cg, f = x.shape[-1] // groups, g.shape[-1]
    dtype = result_dtype(x.dtype.name, g.dtype.name)
    dw = np.zeros(tuple(kernel_size) + (cg, f), dtype=dtype)
    gg = _grouped(g, groups)
    axes = "pqrs"[:g.ndim - 1]
    for tap in itertools.product(*(range(k) for k in kernel_size)):
        win = _grouped(xp[window_index(tap, dilation, strides, outs)], groups)
        dw[tap] = np.einsum(f"{axes}gc,{axes}gf->cgf", win, gg).reshape(cg, f)
    return dw


def conv_attrs(node) -> dict:
    """The attributes the three ops share, from a node of any of them."""
    return {k: node.attrs[k] for k in _ATTRS}
