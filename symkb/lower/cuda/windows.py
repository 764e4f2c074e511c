"""Convolution and pooling on the device: one generated kernel per node.

Every operand is a flat, contiguous channels-last array; the node's
geometry (its spatial sizes, taps, strides, dilations, pads and channels,
all static) is written into the kernel's text, only the batch comes at run
time. Each thread computes one result element and *gathers* what it needs,
so no kernel writes an element twice and none needs atomics:

* ``conv``: one output element, a sum over the taps that read real input
  and the channels of its group;
* ``conv_transpose``: one input element, a sum over the output positions
  whose window holds it (``(p + pad - t * dilation)`` divisible by the
  stride) and the filters of its group;
* ``conv_filter_grad``: one kernel element, a sum over the batch and the
  output positions;
* ``pool``, ``pool_select``: one output element, its window's max, mean or
  first maximum (the padding is never read);
* ``pool_grad``: one input element, the cotangents of the windows that hold
  it and whose first maximum it is (or their shares of the mean).

Index arithmetic is done in three spatial dims; a 1-D or 2-D op gets unit
dims after its own (as the cpu kernels, ``symkb/lower/cpu/windows.py``).
"""
from __future__ import annotations

import numpy as np

from ...ir import Node
from ...ir.types import TensorType
from ...ir.ops.fused import conv_part
from ..emitters import registrar
from . import adapter
from .elementwise import Body, lower_group
from .program import Step, size_of
from .scalar import lit
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)


def _three(values, fill):
    return list(values) + [fill] * (3 - len(values))


class Geometry:
    """The static facts of one node, in three spatial dims: input sizes ``n``,
    output sizes ``o``, taps ``k``, strides ``s``, dilations ``d``, pads before ``p``."""

    def __init__(self, image, result, taps, strides, dilation, pads):
        self.n = _three(image.shape[1:-1], 1)
        self.o = _three(result.shape[1:-1], 1)
        self.k = _three(taps, 1)
        self.s = _three(strides, 1)
        self.d = _three(dilation, 1)
        self.p = _three([p[0] for p in pads], 0)


def _head(w, name, params):
    """The kernel's signature and its grid-stride loop over ``n`` result elements."""
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(params)}):")
    w.level += 1
    w.line("i = cuda.grid(1)")
    w.line("step = cuda.gridsize(1)")
    w.line("while i < n:")
    w.level += 1


def _tail(w):
    w.line("i += step")
    w.level -= 2
    return w.text()


def _split(w, sizes, channels, prefix, channel="ch"):
    """Split the flat index ``i`` into ``b``, ``{prefix}1..3`` and ``channel``."""
    w.line(f"{channel} = i % {channels}")
    w.line(f"r_ = i // {channels}")
    for j in (3, 2, 1):
        w.line(f"{prefix}{j} = r_ % {sizes[j - 1]}")
        w.line(f"r_ = r_ // {sizes[j - 1]}")
    w.line("b = r_")


def _at(sizes, prefix, channels, channel) -> str:
    """The flat index of ``(b, {prefix}1..3, channel)`` in an image of ``sizes``."""
    return (f"(((b * {sizes[0]} + {prefix}1) * {sizes[1]} + {prefix}2) * {sizes[2]} + "
            f"{prefix}3) * {channels} + {channel}")


def _taps(w, g: Geometry, out="o", lo=None, hi=None):
    """Open loops over the taps whose input coordinates ``i1..i3`` are real
    (``lo``/``hi``: per-axis bounds of the taps, expressions); returns the
    levels opened."""
    for j in (1, 2, 3):
        start = "0" if lo is None else lo[j - 1]
        stop = str(g.k[j - 1]) if hi is None else hi[j - 1]
        w.line(f"for t{j} in range({start}, {stop}):")
        w.level += 1
        w.line(f"i{j} = {out}{j} * {g.s[j - 1]} + t{j} * {g.d[j - 1]} - {g.p[j - 1]}")
        if lo is None:
            w.line(f"if i{j} < 0 or i{j} >= {g.n[j - 1]}:")
            w.line("    continue")
    return 3


def build_conv(name, g: Geometry, c, f, groups, dtype):
    cg, fg = c // groups, f // groups
    w = SourceWriter()
    _head(w, name, ["out", "x", "wt", "n"])
    _split(w, g.o, f, "o", "j")
    w.line(f"acc = {lit(0, dtype)}")
    w.line(f"base = (j // {fg}) * {cg}")
    _taps(w, g)
    w.line(f"xo = {_at(g.n, 'i', c, 'base')}")
    w.line(f"wo = ((t1 * {g.k[1]} + t2) * {g.k[2]} + t3) * {cg * f} + j")
    w.line(f"for q in range({cg}):")
    w.line(f"    acc += x[xo + q] * wt[wo + q * {f}]")
    w.level -= 3
    w.line("out[i] = acc")
    return _tail(w)


def _covering(w, g: Geometry, at="i"):
    """Per axis, ``lo{j}``/``hi{j}``: the output positions whose window may hold
    input coordinate ``{at}{j}`` (for pooling, whose dilation is 1)."""
    for j in (1, 2, 3):
        s, k, p, o = g.s[j - 1], g.k[j - 1], g.p[j - 1], g.o[j - 1]
        w.line(f"lo{j} = max(0, ({at}{j} + {p} - {k} + {s}) // {s})")
        w.line(f"hi{j} = min({o}, ({at}{j} + {p}) // {s} + 1)")


def build_conv_transpose(name, g: Geometry, c, f, groups, dtype):
    cg, fg = c // groups, f // groups
    w = SourceWriter()
    _head(w, name, ["out", "gy", "wt", "n"])
    _split(w, g.n, c, "p")
    w.line(f"acc = {lit(0, dtype)}")
    w.line(f"first = (ch // {cg}) * {fg}")
    w.line(f"q = ch % {cg}")
    for j in (1, 2, 3):
        w.line(f"for t{j} in range({g.k[j - 1]}):")
        w.level += 1
        w.line(f"e{j} = p{j} + {g.p[j - 1]} - t{j} * {g.d[j - 1]}")
        w.line(f"if e{j} < 0 or e{j} % {g.s[j - 1]} != 0 or e{j} // {g.s[j - 1]} >= "
               f"{g.o[j - 1]}:")
        w.line("    continue")
        w.line(f"o{j} = e{j} // {g.s[j - 1]}")
    w.line(f"go = {_at(g.o, 'o', f, 'first')}")
    w.line(f"wo = ((t1 * {g.k[1]} + t2) * {g.k[2]} + t3) * {cg * f} + q * {f} + first")
    w.line(f"for r in range({fg}):")
    w.line("    acc += gy[go + r] * wt[wo + r]")
    w.level -= 3
    w.line("out[i] = acc")
    return _tail(w)


def build_conv_filter(name, g: Geometry, c, f, groups, dtype):
    cg, fg = c // groups, f // groups
    w = SourceWriter()
    _head(w, name, ["out", "x", "gy", "n", "batch"])
    w.line(f"j = i % {f}")
    w.line(f"r_ = i // {f}")
    w.line(f"q = r_ % {cg}")
    w.line(f"r_ = r_ // {cg}")
    for j in (3, 2, 1):
        w.line(f"t{j} = r_ % {g.k[j - 1]}")
        w.line(f"r_ = r_ // {g.k[j - 1]}")
    w.line(f"ch = (j // {fg}) * {cg} + q")
    w.line(f"acc = {lit(0, dtype)}")
    w.line("for b in range(batch):")
    w.level += 1
    for j in (1, 2, 3):
        w.line(f"for o{j} in range({g.o[j - 1]}):")
        w.level += 1
        w.line(f"i{j} = o{j} * {g.s[j - 1]} + t{j} * {g.d[j - 1]} - {g.p[j - 1]}")
        w.line(f"if i{j} < 0 or i{j} >= {g.n[j - 1]}:")
        w.line("    continue")
    w.line(f"acc += x[{_at(g.n, 'i', c, 'ch')}] * gy[{_at(g.o, 'o', f, 'j')}]")
    w.level -= 4
    w.line("out[i] = acc")
    return _tail(w)


def _real_taps(w, g: Geometry, out="o"):
    """Per axis, ``a{j}``/``z{j}``: the taps of window ``{out}`` reading real input."""
    for j in (1, 2, 3):
        w.line(f"l{j} = {out}{j} * {g.s[j - 1]} - {g.p[j - 1]}")
        w.line(f"a{j} = max(0, -l{j})")
        w.line(f"z{j} = min({g.k[j - 1]}, {g.n[j - 1]} - l{j})")


def _first_max(w, g: Geometry, c, out="o"):
    """``m1..m3``: the input coordinates of window ``{out}``'s first maximum in
    channel ``ch`` (a NaN wins); the real taps' bounds are set."""
    _real_taps(w, g, out)
    for j in (1, 2, 3):
        w.line(f"m{j} = l{j} + a{j}")
    w.line(f"best = x[{_at(g.n, 'm', c, 'ch')}]")
    _taps(w, g, out, lo=["a1", "a2", "a3"], hi=["z1", "z2", "z3"])
    w.line(f"v = x[{_at(g.n, 'i', c, 'ch')}]")
    w.line("if v > best and best == best:")
    w.line("    best = v")
    w.line("    m1 = i1")
    w.line("    m2 = i2")
    w.line("    m3 = i3")
    w.level -= 3


def build_pool(name, g: Geometry, c, is_max, dtype, low):
    w = SourceWriter()
    _head(w, name, ["out", "x", "n"])
    _split(w, g.o, c, "o")
    _real_taps(w, g)
    w.line(f"acc = {low if is_max else lit(0, dtype)}")
    _taps(w, g, "o", lo=["a1", "a2", "a3"], hi=["z1", "z2", "z3"])
    w.line(f"v = x[{_at(g.n, 'i', c, 'ch')}]")
    if is_max:
        w.line("if (v > acc or v != v) and acc == acc:")
        w.line("    acc = v")
    else:
        w.line("acc += v")
    w.level -= 3
    if is_max:
        w.line("out[i] = acc")
    else:
        w.line("out[i] = acc / ((z1 - a1) * (z2 - a2) * (z3 - a3))")
    return _tail(w)


def build_pool_select(name, g: Geometry, c):
    w = SourceWriter()
    _head(w, name, ["out", "x", "v_in", "n"])
    _split(w, g.o, c, "o")
    _first_max(w, g, c)
    w.line(f"out[i] = v_in[{_at(g.n, 'm', c, 'ch')}]")
    return _tail(w)


def build_pool_grad(name, g: Geometry, c, is_max, dtype):
    w = SourceWriter()
    _head(w, name, ["out", "x", "gy", "n"])
    _split(w, g.n, c, "p")
    w.line(f"acc = {lit(0, dtype)}")
    _covering(w, g, "p")
    for j in (1, 2, 3):
        w.line(f"for o{j} in range(lo{j}, hi{j}):")
        w.level += 1
    gy = f"gy[{_at(g.o, 'o', c, 'ch')}]"
    if is_max:
        _first_max(w, g, c)
        w.line("if m1 == p1 and m2 == p2 and m3 == p3:")
        w.line(f"    acc += {gy}")
    else:
        _real_taps(w, g)
        w.line(f"acc += {gy} / ((z1 - a1) * (z2 - a2) * (z3 - a3))")
    w.level -= 3
    w.line("out[i] = acc")
    return _tail(w)


def _step(low, node, operands, kernel, out_shape_of, extra=lambda arrays: ()):
    """Run ``kernel`` over the result's elements: ``out_shape_of(arrays)``."""
    module, out_t = low.module, node.outputs[0]

    def run(env):
        arrays = [env[t] for t in operands]
        shape = out_shape_of(arrays)
        out = adapter.empty(shape, out_t.dtype)
        n = size_of(shape)
        if n:
            adapter.launch_1d(module[kernel], n, adapter.flat(out),
                              *[adapter.flat(a) for a in arrays], n, *extra(arrays))
        env[out_t] = out
    low.steps.append(Step(run, tuple(operands), node.op))


def _batch_and(rest):
    return lambda arrays: (arrays[0].shape[0],) + tuple(rest)


@emitter("conv")
def lower_conv(low, node):
    x, wt = node.inputs
    out = node.outputs[0]
    a = node.attrs
    g = Geometry(x, out, wt.shape[:x.ndim - 2], a["strides"], a["dilation"], a["pads"])
    args = (g, x.shape[-1], wt.shape[-1], a["groups"], out.dtype)
    name = low.kernel(low.base_name(node, "conv"), lambda n: build_conv(n, *args), node)
    _step(low, node, [x, wt], name, _batch_and(out.shape[1:]))


@emitter("fused_conv")
def lower_fused_conv(low, node):
    """The convolution into a buffer of its own, then the epilogue as an
    elementwise group over it (the cpu target fuses them; here they stay apart)."""
    x, wt, *rest = node.inputs
    body, pool = node.attrs["body"], tuple(node.attrs.get("pool", ()))
    acc = body.inputs[0].type
    conv = Node("conv", (x, wt), conv_part(node), (acc,), node.name, node.layer)
    lower_conv(low, conv)
    if not pool:
        lower_group(low, node, Body.of_graph(body), (conv.outputs[0], *rest))
        return
    # the folded pooling: the epilogue's values, then the pool kernel over them
    values = Node("fused_elementwise", (conv.outputs[0], *rest), {"body": body},
                  (TensorType(acc.shape, node.out_types[0].dtype),), node.name, node.layer)
    lower_group(low, values, Body.of_graph(body), values.inputs)
    pooled = Node("pool", values.outputs, {"mode": "max", "window": pool, "strides": pool,
                                           "pads": ((0, 0),) * len(pool)},
                  node.out_types, node.name, node.layer)
    lower_pool(low, pooled)
    result, source = node.outputs[0], pooled.outputs[0]
    low.steps.append(Step(lambda env: env.__setitem__(result, env[source]), (source,),
                          node.op))


@emitter("conv_transpose")
def lower_conv_transpose(low, node):
    gy, wt = node.inputs
    out = node.outputs[0]
    a = node.attrs
    g = Geometry(out, gy, wt.shape[:gy.ndim - 2], a["strides"], a["dilation"], a["pads"])
    args = (g, out.shape[-1], wt.shape[-1], a["groups"], out.dtype)
    name = low.kernel(low.base_name(node, "conv_transpose"),
                      lambda n: build_conv_transpose(n, *args), node)
    _step(low, node, [gy, wt], name, _batch_and(out.shape[1:]))


@emitter("conv_filter_grad")
def lower_conv_filter_grad(low, node):
    x, gy = node.inputs
    out = node.outputs[0]
    a = node.attrs
    g = Geometry(x, gy, a["kernel_size"], a["strides"], a["dilation"], a["pads"])
    args = (g, x.shape[-1], gy.shape[-1], a["groups"], out.dtype)
    name = low.kernel(low.base_name(node, "conv_filter_grad"),
                      lambda n: build_conv_filter(n, *args), node)
    _step(low, node, [x, gy], name, lambda arrays: out.shape,
          lambda arrays: (int(arrays[0].shape[0]),))


def _pool_geometry(node, image, result):
    a = node.attrs
    return Geometry(image, result, a["window"], a["strides"], (1,) * len(a["window"]),
                    a["pads"])


def _lowest(dtype):
    """The start of a maximum: the dtype's lowest value."""
    if dtype.startswith("float"):
        return lit(float("-inf"), dtype)
    return lit(int(np.iinfo(dtype).min), dtype)


@emitter("pool")
def lower_pool(low, node):
    (x,) = node.inputs
    out = node.outputs[0]
    g = _pool_geometry(node, x, out)
    is_max = node.attrs["mode"] == "max"
    args = (g, x.shape[-1], is_max, out.dtype, _lowest(out.dtype) if is_max else None)
    name = low.kernel(low.base_name(node, "pool"), lambda n: build_pool(n, *args), node)
    _step(low, node, [x], name, _batch_and(out.shape[1:]))


@emitter("pool_grad")
def lower_pool_grad(low, node):
    x, gy = node.inputs
    out = node.outputs[0]
    g = _pool_geometry(node, x, gy)
    args = (g, x.shape[-1], node.attrs["mode"] == "max", out.dtype)
    name = low.kernel(low.base_name(node, "pool_grad"), lambda n: build_pool_grad(n, *args),
                      node)
    _step(low, node, [x, gy], name, lambda arrays: tuple(arrays[0].shape))


@emitter("pool_select")
def lower_pool_select(low, node):
    x, v = node.inputs
    out = node.outputs[0]
    g = _pool_geometry(node, x, out)
    name = low.kernel(low.base_name(node, "pool_select"),
                      lambda n: build_pool_select(n, g, x.shape[-1]), node)
    _step(low, node, [x, v], name, _batch_and(out.shape[1:]))
