"""Gradient rules of the reductions, scans and ``softmax`` (``reduce.py``, ``nn.py``).

A reduction's cotangent has the reduced shape; it is brought back to the
operand's by ``expand_dims`` on the reduced axes and an ``add`` of
``zeros_like(x)`` (a broadcast that stays differentiable in the cotangent).
``max``/``min`` share the gradient among tied maxima as TensorFlow does;
``prod`` is the product of the others along each axis (exclusive running
products from both ends, so zeros are handled), reduced one axis at a time.
"""
from __future__ import annotations

import numpy as np

from ..build import call
from ..node import encode_index
from ..registry import NoGradient, declare


def _axes(node) -> tuple:
    axis = node.attrs.get("axis")
    return tuple(range(node.inputs[0].ndim)) if axis is None else tuple(axis)


def _kept(g, node):
    """``g`` with size-1 axes where the reduction removed them (a scalar
    broadcasts as it is)."""
    if node.attrs.get("keepdims") or g.ndim == 0:
        return g
    for a in sorted(_axes(node)):
        g = call("expand_dims", g, axis=a)
    return g


def _broadcast_like(g, x):
    return call("add", g, call("zeros_like", x))


def _sum(node, cts):
    return [_broadcast_like(_kept(cts[0], node), node.inputs[0])]


def _count(x, axes):
    """The number of elements reduced: a Python number when the sizes are known."""
    dims = [x.shape[a] for a in axes]
    if all(d is not None for d in dims):
        return float(np.prod(dims)) if dims else 1.0
    sizes = call("gather", call("shape", x), np.array(axes, dtype=np.int32))
    return call("cast", call("prod", sizes, axis=None, keepdims=False), dtype=x.dtype)


def _mean(node, cts):
    x = node.inputs[0]
    g = call("divide", _kept(cts[0], node), _count(x, _axes(node)))
    return [_broadcast_like(g, x)]


def _extreme(node, cts):
    """TensorFlow's ``max``/``min`` gradient: split evenly among the elements equal
    to the result."""
    x = node.inputs[0]
    y = _kept(node.outputs[0], node)
    hits = call("cast", call("equal", y, x), dtype=x.dtype)
    count = call("sum", hits, axis=tuple(sorted(_axes(node))), keepdims=True)
    return [call("multiply", call("divide", hits, count), _kept(cts[0], node))]


def _slice(x, axis, start, stop):
    index = [slice(None)] * axis + [slice(start, stop)]
    return call("getitem", x, index=encode_index(tuple(index), x.ndim))


def _exclusive_cumprod(x, axis):
    """Products of the elements before each one along ``axis`` (1 for the first)."""
    ones = call("ones_like", _slice(x, axis, 0, 1))
    shifted = call("concatenate", ones, _slice(x, axis, None, -1), axis=axis)
    return call("cumprod", shifted, axis=axis)


def _others_product(x, axis):
    """For each element, the product of the others along ``axis``."""
    before = _exclusive_cumprod(x, axis)
    flipped = call("reverse", x, axes=(axis,))
    after = call("reverse", _exclusive_cumprod(flipped, axis), axes=(axis,))
    return call("multiply", before, after)


def _prod(node, cts):
    """One axis: ``g * (product of the others)``; several: the chain of
    single-axis products (``keepdims``), differentiated through."""
    from ..gradients import through

    axes = sorted(_axes(node))
    if len(axes) == 1:
        x = node.inputs[0]
        if x.shape[axes[0]] == 0:
            return [call("zeros_like", x)]
        return [call("multiply", _broadcast_like(_kept(cts[0], node), x),
                     _others_product(x, axes[0]))]

    def chain(x):
        for a in axes:
            x = call("prod", x, axis=(a,), keepdims=True)
        if not node.attrs.get("keepdims"):
            for a in reversed(axes):
                x = call("squeeze", x, axis=a)
        return x
    return through(node, cts, chain)


def _cumsum(node, cts):
    axis = node.attrs["axis"]
    flipped = call("reverse", cts[0], axes=(axis,))
    return [call("reverse", call("cumsum", flipped, axis=axis), axes=(axis,))]


def _cumprod(node, cts):
    """TensorFlow's ``reverse_cumsum(y * g) / x`` (undefined where ``x`` is 0, as there)."""
    x, y = node.inputs[0], node.outputs[0]
    axis = node.attrs["axis"]
    flipped = call("reverse", call("multiply", y, cts[0]), axes=(axis,))
    total = call("reverse", call("cumsum", flipped, axis=axis), axes=(axis,))
    return [call("divide", total, x)]


def _softmax(node, cts):
    y, g = node.outputs[0], cts[0]
    inner = call("sum", call("multiply", g, y), axis=(node.attrs["axis"],), keepdims=True)
    return [call("multiply", y, call("subtract", g, inner))]


for _name, _rule in {"sum": _sum, "mean": _mean, "max": _extreme, "min": _extreme,
                     "prod": _prod, "cumsum": _cumsum, "cumprod": _cumprod,
                     "softmax": _softmax}.items():
    declare(_name, grad=_rule)
for _name, _why in {"any": "a bool result", "all": "a bool result",
                    "argmax": "an integer result (tf: None)",
                    "argmin": "an integer result (tf: None)"}.items():
    declare(_name, grad=NoGradient(_why))
