"""CPU emitters of the convolution and pooling ops: calls of compiled kernels.

Each emitter views its operands as channels-last arrays of three spatial
dims (unit dims added after a 1-D or 2-D op's), writes the window geometry
as one int64 array and calls a kernel of ``conv_kernels.py`` or
``pool_kernels.py``; the kernels are compiled once per dtype, whatever the
rank and the sizes. A float32 ``conv`` without groups runs on the
register-tiled matrix kernel (im2col per row block), everything else on
direct loop nests. A ``fused_conv`` (a convolution with its epilogue, from
the pass ``fuse_conv``) is a loop over blocks of whole output rows in the
generated code: ``conv_block`` computes a block into a small buffer and the
epilogue, emitted inline, writes the result from it while it is in the cache.
"""
from __future__ import annotations

import math

import numpy as np

from ...ir.ops.fused import conv_part
from ..emitters import registrar
from ..errors import Unsupported
from . import gemm
from .conv_kernels import block_rows
from .elementwise import emit_body
from .scalar import np_type

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)


def _as5(cg, t, dims, lead, dtype=None, name=None) -> str:
    """``t`` (its dims ``dims``; or the array called ``name``) viewed with three
    spatial dims: ``lead`` leading axes kept, unit axes added after the spatial
    ones, the last two (one for an image) kept."""
    tail = 1 if lead == 1 else 2
    spatial = dims[lead:len(dims) - tail]
    shape = list(dims[:lead]) + list(spatial) + [1] * (3 - len(spatial)) + list(dims[-tail:])
    src = cg.name(t) if name is None else name
    if dtype is not None and t is not None and t.dtype != dtype:
        src = f"{src}.astype({np_type(dtype)})"
    name = cg.fresh(f"{src.split('.')[0]}_5d")
    cg.w.line(f"{name} = reshaped({src}, {cg.shape_text(shape)})")
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


def _packs(out_dtype, w, a) -> bool:
    """Whether a convolution runs on the packed matrix kernel."""
    return out_dtype == "float32" and a["groups"] == 1 and None not in w.shape


def _panels(cg, w) -> str:
    """The kernel as a ``(taps * channels, filters)`` matrix, packed for ``gemm_serial``."""
    w2 = cg.fresh(f"{cg.name(w)}_2d")
    src = cg.name(w) if w.dtype == "float32" else f"{cg.name(w)}.astype(np.float32)"
    cg.w.line(f"{w2} = reshaped(np.ascontiguousarray({src}), ({math.prod(w.shape[:-1])}, "
              f"{w.shape[-1]}))")
    panels = cg.fresh(f"{cg.name(w)}_panels")
    cg.w.line(f"{panels} = pack_rhs({w2})")
    return panels


def _conv_into(cg, x, w, a, dims, name, dtype) -> None:
    """``name`` (an array of ``dims``, allocated) ``= conv(x, w)`` in ``dtype``."""
    geo = _geo(cg, w.shape[:x.ndim - 2], a["strides"], a["dilation"], a["pads"])
    x5, o5 = _image(cg, x, dtype), _as5(cg, None, dims, 1, name=name)
    if _packs(dtype, w, a):
        cg.w.line(f"conv_packed({x5}, {_panels(cg, w)}, {o5}, {geo})")
        return
    cg.w.line(f"conv_direct({x5}, {_kernel(cg, w, dtype)}, {o5}, {geo}, {a['groups']})")


@emitter("conv")
def emit_conv(cg, node) -> None:
    x, w = node.inputs
    out = node.outputs[0]
    dims = _out_dims(cg, node, x)
    _conv_into(cg, x, w, node.attrs, dims, cg.alloc(out, dims), out.dtype)


@emitter("fused_conv")
def emit_fused_conv(cg, node) -> None:
    x, w, *rest = node.inputs
    out = node.outputs[0]
    a = conv_part(node)
    pool = tuple(node.attrs.get("pool", ()))
    acc_t = node.attrs["body"].inputs[0]
    dims = _out_dims(cg, node, x)
    conv_dims = [dims[0]] + list(acc_t.shape[1:])
    name = cg.alloc(out, dims)
    if _packs(acc_t.dtype, w, a) and not cg.scope.depth:
        _blocked_fused_conv(cg, node, x, w, a, conv_dims, name, pool)
        return
    if pool and cg.scope.extra_stores.get(out):
        raise Unsupported("cpu codegen: a pooled fused_conv whose result a loop also "
                          "stores elsewhere", node=node)
    # the convolution into a buffer of its own, then the epilogue over it (and
    # the pooling, from a buffer of the epilogue's values)
    acc = cg.fresh(f"{name}_acc")
    cg.alloc_buffer(acc, conv_dims, acc_t.dtype)
    _conv_into(cg, x, w, a, conv_dims, acc, acc_t.dtype)
    full = cg.fresh(f"{name}_full") if pool else name
    if pool:
        cg.alloc_buffer(full, conv_dims, out.dtype)
    idx, close = cg.w.loop_nest(conv_dims)
    value = _epilogue(cg, node, f"{acc}[{', '.join(idx)}]", idx)
    cg.w.line(f"{full}[{', '.join(idx)}] = {value}")
    if not pool:
        cg.extra_store_lines(out, idx, value)
    close()
    if pool:
        geo = _geo(cg, pool, pool, (1,) * len(pool), [(0, 0)] * len(pool))
        cg.w.line(f"pool_window({_as5(cg, None, conv_dims, 1, name=full)}, "
                  f"{_as5(cg, out, dims, 1)}, {geo}, True, {_lowest(out.dtype)})")


def _epilogue(cg, node, acc_elem: str, idx) -> str:
    """The body of ``node`` at the convolution's index ``idx``, from its element
    ``acc_elem``: the name of the value."""
    rest = node.inputs[2:]
    elems = [acc_elem] + [cg.elem(t, idx, len(idx)) for t in rest]
    value = cg.fresh("value")
    emit_body(cg, node.attrs["body"], elems, [value])
    return value


def _blocked_fused_conv(cg, node, x, w, a, dims, name, pool) -> None:
    """Blocks of whole output rows (axis 1): ``conv_block`` into a small buffer,
    the epilogue from it into the result (or into the maximum of its pooling
    window); only the block's patch and products pass through memory twice.
    ``dims``: the convolution's."""
    spatial = dims[1:-1]
    cover = [n // p * p for n, p in zip(spatial, pool)] if pool else spatial
    inner = math.prod(spatial[1:])  # positions of one output row
    depth = math.prod(w.shape[:-1])
    first = pool[0] if pool else 1
    step = max(first, min(cover[0], block_rows(depth) // inner) // first * first)
    filters = w.shape[-1]
    geo = _geo(cg, w.shape[:x.ndim - 2], a["strides"], a["dilation"], a["pads"])
    x5 = _image(cg, x, "float32")
    panels = _panels(cg, w)
    patch, wide = cg.fresh("patch"), cg.fresh("wide")
    cg.alloc_buffer(patch, [step * inner, depth], "float32")
    cg.alloc_buffer(wide, [step * inner, gemm.padded(filters)], "float32")
    o123 = list(spatial) + [1] * (3 - len(spatial))
    b, s, e, r = cg.fresh("b"), cg.fresh("o1s"), cg.fresh("o1e"), cg.fresh("r")
    with cg.w.block(f"for {b} in range({dims[0]}):"):
        with cg.w.block(f"for {s} in range(0, {cover[0]}, {step}):"):
            cg.w.line(f"{e} = min({s} + {step}, {cover[0]})")
            cg.w.line(f"conv_block({x5}, {panels}, {wide}, {patch}, {geo}, "
                      f"({b} * {spatial[0]} + {s}) * {inner}, ({e} - {s}) * {inner}, "
                      f"{o123[0]}, {o123[1]}, {o123[2]})")
            axes = [cg.fresh(f"o{k + 1}") for k in range(len(spatial))]
            blocks = [cg.w.block(f"for {axes[0]} in range({s}, {e}):")]
            blocks += [cg.w.block(f"for {v} in range({n}):") for v, n in zip(axes[1:], cover[1:])]
            for blk in blocks:
                blk.__enter__()
            flat = f"{axes[0]} - {s}"
            for v, n in zip(axes[1:], spatial[1:]):
                flat = f"({flat}) * {n} + {v}"
            cg.w.line(f"{r} = {flat}")
            opens = cg.fresh("opens")  # the first position of its pooling window
            if pool:
                cg.w.line(f"{opens} = " + " and ".join(f"{v} % {p} == 0"
                                                     for v, p in zip(axes, pool)))
            j = cg.fresh("j")
            with cg.w.block(f"for {j} in range({filters}):"):
                value = _epilogue(cg, node, f"{wide}[{r}, {j}]", [b, *axes, j])
                if not pool:
                    cg.w.line(f"{name}[{', '.join([b, *axes, j])}] = {value}")
                    cg.extra_store_lines(node.outputs[0], [b, *axes, j], value)
                else:
                    _pool_store(cg, name, [b, *axes, j], pool, value, opens)
            for blk in reversed(blocks):
                blk.__exit__(None, None, None)


def _pool_store(cg, name, idx, pool, value, opens) -> None:
    """``value`` into the maximum of its pooling window in ``name``: stored at the
    window's first position, compared at the others (a NaN is kept, as
    ``pool_window`` keeps it)."""
    b, *axes, j = idx
    target = f"{name}[{', '.join([b] + [f'{v} // {p}' for v, p in zip(axes, pool)] + [j])}]"
    with cg.w.block(f"if {opens}:"):
        cg.w.line(f"{target} = {value}")
    with cg.w.block("else:"):
        seen = cg.fresh("seen")
        cg.w.line(f"{seen} = {target}")
        cg.w.line(f"{target} = {seen} if ({seen} >= {value} or {seen} != {seen}) else {value}")


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
