"""CPU emitters of the convolution and pooling ops: calls of compiled kernels.

Each emitter views its operands as channels-last arrays of three spatial
dims (unit dims added after a 1-D or 2-D op's), writes the window geometry
as one int64 array and calls a kernel of ``conv_kernels.py`` or
``pool_kernels.py``; the kernels are compiled once per dtype, whatever the
rank and the sizes. A float32 ``conv`` without groups runs on the
register-tiled matrix kernel (im2col per row block), everything else on
direct loop nests.
"""
from __future__ import annotations

import math

import numpy as np

from ..emitters import registrar
from ..errors import Unsupported
from .scalar import np_type

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)


def _as5(cg, t, dims, lead, dtype=None) -> str:
    """``t`` (its dims ``dims``) viewed with three spatial dims: ``lead`` leading
    axes kept, unit axes added after the spatial ones, the last two (one for an
    image) kept."""
    tail = 1 if lead == 1 else 2
    spatial = dims[lead:len(dims) - tail]
    shape = list(dims[:lead]) + list(spatial) + [1] * (3 - len(spatial)) + list(dims[-tail:])
    src = cg.name(t)
    if dtype is not None and t.dtype != dtype:
        src = f"{src}.astype({np_type(dtype)})"
    name = cg.fresh(f"{cg.name(t)}_5d")
    cg.w.line(f"{name} = {src}.reshape({cg.shape_text(shape)})")
    return name


def _out_dims(cg, node, like) -> list:
    """The result's dims: the batch of operand ``like``, the rest static."""
    out = node.outputs[0]
    rest = list(out.shape[1:])
    if None in rest:
        raise Unsupported(f"cpu codegen: {node.op} with unknown non-batch dims {out.shape}")
    return [cg.dims(like)[0]] + rest


def _geo(cg, taps, strides, dilation, pads) -> str:
    """The kernels' ``geo`` array for one node."""
    pad3 = lambda v, fill: list(v) + [fill] * (3 - len(v))  # noqa: E731
    values = pad3(taps, 1) + pad3(strides, 1) + pad3(dilation, 1) + pad3([p[0] for p in pads], 0)
    name = cg.fresh("geo")
    cg.w.line(f"{name} = np.array({[int(v) for v in values]}, dtype=np.int64)")
    return name


def _image(cg, t, dtype=None) -> str:
    return _as5(cg, t, cg.dims(t), 1, dtype)


def _kernel(cg, t, dtype=None) -> str:
    return _as5(cg, t, cg.dims(t), 0, dtype)


@emitter("conv")
def emit_conv(cg, node) -> None:
    x, w = node.inputs
    out = node.outputs[0]
    a = node.attrs
    rank = x.ndim - 2
    taps = w.shape[:rank]
    dims = _out_dims(cg, node, x)
    cg.alloc(out, dims)
    geo = _geo(cg, taps, a["strides"], a["dilation"], a["pads"])
    x5, o5 = _image(cg, x, out.dtype), _as5(cg, out, dims, 1)
    if out.dtype == "float32" and a["groups"] == 1 and None not in w.shape:
        # the kernel as a (taps * channels, filters) matrix, packed for gemm_serial
        w2 = cg.fresh(f"{cg.name(w)}_2d")
        src = cg.name(w) if w.dtype == "float32" else f"{cg.name(w)}.astype(np.float32)"
        cg.w.line(f"{w2} = np.ascontiguousarray({src}).reshape(({math.prod(w.shape[:-1])}, "
                  f"{w.shape[-1]}))")
        panels = cg.fresh(f"{cg.name(w)}_panels")
        cg.w.line(f"{panels} = pack_rhs({w2})")
        cg.w.line(f"conv_packed({x5}, {panels}, {o5}, {geo})")
        return
    cg.w.line(f"conv_direct({x5}, {_kernel(cg, w, out.dtype)}, {o5}, {geo}, {a['groups']})")


@emitter("conv_transpose")
def emit_conv_transpose(cg, node) -> None:
    g, w = node.inputs
    out = node.outputs[0]
    a = node.attrs
    dims = _out_dims(cg, node, g)
    cg.alloc(out, dims)
    geo = _geo(cg, w.shape[:g.ndim - 2], a["strides"], a["dilation"], a["pads"])
    cg.w.line(f"conv_transpose_direct({_image(cg, g, out.dtype)}, "
              f"{_kernel(cg, w, out.dtype)}, {_as5(cg, out, dims, 1)}, {geo}, {a['groups']})")


@emitter("conv_filter_grad")
def emit_conv_filter_grad(cg, node) -> None:
    x, g = node.inputs
    out = node.outputs[0]
    a = node.attrs
    dims = list(out.shape)
    cg.alloc(out, dims)
    geo = _geo(cg, a["kernel_size"], a["strides"], a["dilation"], a["pads"])
    cg.w.line(f"conv_filter_direct({_image(cg, x, out.dtype)}, {_image(cg, g, out.dtype)}, "
              f"{_as5(cg, out, dims, 0)}, {geo}, {a['groups']})")


def _pool_geo(cg, a) -> str:
    return _geo(cg, a["window"], a["strides"], (1,) * len(a["window"]), a["pads"])


def _lowest(dtype: str) -> str:
    """The start of a maximum: the dtype's lowest value."""
    if dtype.startswith("float"):
        return f"{np_type(dtype)}(-np.inf)"
    return f"{np_type(dtype)}({np.iinfo(dtype).min if dtype != 'bool' else 0})"


@emitter("pool")
def emit_pool(cg, node) -> None:
    (x,) = node.inputs
    out = node.outputs[0]
    dims = _out_dims(cg, node, x)
    cg.alloc(out, dims)
    is_max = node.attrs["mode"] == "max"
    cg.w.line(f"pool_window({_image(cg, x)}, {_as5(cg, out, dims, 1)}, "
              f"{_pool_geo(cg, node.attrs)}, {is_max}, {_lowest(out.dtype)})")


@emitter("pool_grad")
def emit_pool_grad(cg, node) -> None:
    x, g = node.inputs
    out = node.outputs[0]
    dims = cg.dims(x)
    cg.alloc(out, dims)
    is_max = node.attrs["mode"] == "max"
    cg.w.line(f"pool_grad_window({_image(cg, x)}, {_image(cg, g)}, {_as5(cg, out, dims, 1)}, "
              f"{_pool_geo(cg, node.attrs)}, {is_max})")


@emitter("pool_select")
def emit_pool_select(cg, node) -> None:
    x, v = node.inputs
    out = node.outputs[0]
    dims = _out_dims(cg, node, x)
    cg.alloc(out, dims)
    cg.w.line(f"pool_select_window({_image(cg, x)}, {_image(cg, v)}, "
              f"{_as5(cg, out, dims, 1)}, {_pool_geo(cg, node.attrs)})")
