"""Gradient rules of the convolution and pooling ops (``conv.py``, ``pool.py``).

``conv``, ``conv_transpose`` and ``conv_filter_grad`` are bilinear and are
each other's adjoints: for ``y = conv(x, w)``, ``<conv(x, w), g> ==
<x, conv_transpose(g, w)> == <w, conv_filter_grad(x, g)>``, so each op's
two cotangents are the other two ops with the same attributes. Pooling's
gradient is ``pool_grad``; a max ``pool_grad`` is linear in its cotangent,
with ``pool_select`` as adjoint, and an average one is ``pool`` transposed.
The maximum's position is piecewise constant in ``x``: no cotangent flows to
``x`` through ``pool_grad`` or ``pool_select``.
"""
from __future__ import annotations

from ..build import call
from ..registry import declare
from .conv import conv_attrs


def _spatial(t):
    return tuple(t.shape[1:-1])


def _conv(node, cts):
    x, w = node.inputs
    (g,) = cts
    a = conv_attrs(node)
    return [call("conv_transpose", g, w, sizes=_spatial(x), **a),
            call("conv_filter_grad", x, g, kernel_size=tuple(w.shape[:-2]), **a)]


def _conv_transpose(node, cts):
    g, w = node.inputs
    (h,) = cts  # the shape of a conv input
    a = conv_attrs(node)
    return [call("conv", h, w, **a),
            call("conv_filter_grad", h, g, kernel_size=tuple(w.shape[:-2]), **a)]


def _conv_filter_grad(node, cts):
    x, g = node.inputs
    (h,) = cts  # the shape of a kernel
    a = conv_attrs(node)
    return [call("conv_transpose", g, h, sizes=_spatial(x), **a), call("conv", x, h, **a)]


def _window(node):
    return {k: node.attrs[k] for k in ("window", "strides", "pads")}


def _pool(node, cts):
    (x,) = node.inputs
    return [call("pool_grad", x, cts[0], mode=node.attrs["mode"], **_window(node))]


def _pool_grad(node, cts):
    x, _ = node.inputs
    if node.attrs["mode"] == "max":
        return [None, call("pool_select", x, cts[0], **_window(node))]
    return [None, call("pool", cts[0], mode="avg", **_window(node))]


def _pool_select(node, cts):
    x, _ = node.inputs
    return [None, call("pool_grad", x, cts[0], mode="max", **_window(node))]


declare("conv", grad=_conv)
declare("conv_transpose", grad=_conv_transpose)
declare("conv_filter_grad", grad=_conv_filter_grad)
declare("pool", grad=_pool)
declare("pool_grad", grad=_pool_grad)
declare("pool_select", grad=_pool_select)
