"""Data movement on the device: reshape views and index-map kernels.

* ``reshape``, ``expand_dims``, ``squeeze``: every device value is
  contiguous, so these are views (no kernel, no copy).
* ``transpose``, ``reverse``, ``getitem``, ``tile``, ``repeat_elements``,
  ``pad``: one *gather* kernel each. The output's flat index is split into
  coordinates and each coordinate maps to the input by an affine term
  (``c * e``), a wrapped one (``(c % m) * e``, tile), a divided one
  (``(c // m) * e``, repeat) or a shifted and bounds-checked one (pad); the
  host computes the base offset and element strides from the runtime shape.
* ``concatenate``, ``stack``: a *scatter* kernel per operand writing its
  elements at their offset in the result.
* ``gather``, ``one_hot``: their own small kernels; ``shape`` uploads the
  (host-known) runtime shape.
"""
from __future__ import annotations

import numpy as np

from ...ir.node import expand_index
from ..emitters import registrar
from . import adapter
from .elementwise import emit_coords
from .program import Step, contiguous_strides, runtime_types, size_of
from .scalar import lit
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)


# ---------------------------------------------------------------------------
# gather: out[i] = inp[base + sum(term_d(c_d))]
# ---------------------------------------------------------------------------

def build_gather_kernel(name, modes, dtype):
    rank = len(modes)
    params = [f"d{d}" for d in range(rank)] + [f"e{d}" for d in range(rank)]
    params += [f"m{d}" for d, m in enumerate(modes) if m in ("mod", "div", "pad")]
    params += [f"q{d}" for d, m in enumerate(modes) if m == "pad"]
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(['out', 'inp', 'n', 'base'] + params)}):")
    with w.indent():
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while i < n:")
        with w.indent():
            emit_coords(w, rank)
            w.line("off = base")
            padded = [d for d, m in enumerate(modes) if m == "pad"]
            if padded:
                w.line("ok = True")
            for d, mode in enumerate(modes):
                if mode == "affine":
                    w.line(f"off += c{d} * e{d}")
                elif mode == "mod":
                    w.line(f"off += (c{d} % m{d}) * e{d}")
                elif mode == "div":
                    w.line(f"off += (c{d} // m{d}) * e{d}")
                elif mode == "pad":
                    w.line(f"p{d} = c{d} - m{d}")
                    w.line(f"ok = ok and p{d} >= 0 and p{d} < q{d}")
                    w.line(f"off += p{d} * e{d}")
            if padded:
                w.line(f"out[i] = inp[off] if ok else {lit(0, dtype)}")
            else:
                w.line("out[i] = inp[off]")
            w.line("i += step")
    return w.text()


class Gather:
    """A registered gather kernel; ``params(in_shape) -> (out_shape, base, e, m, q)``."""

    def __init__(self, low, node, modes, dtype, suffix):
        self.modes = tuple(modes)
        self.dtype = dtype
        self.module = low.module
        self.name = low.kernel(low.base_name(node, suffix),
                               lambda name: build_gather_kernel(name, self.modes, dtype), node)

    def __call__(self, inp, out_shape, base, e, m=(), q=()):
        out = adapter.empty(out_shape, self.dtype)
        n = size_of(out_shape)
        if n:
            adapter.launch_1d(self.module[self.name], n, adapter.flat(out), adapter.flat(inp), n,
                              int(base), *[int(d) for d in out_shape], *[int(v) for v in e],
                              *[int(v) for v in m], *[int(v) for v in q])
        return out


def make_transpose(low, node, perm, dtype):
    """A runtime function ``array -> transposed copy`` (identity perms return the input)."""
    perm = tuple(perm)
    if perm == tuple(range(len(perm))):
        return lambda a: a
    kernel = Gather(low, node, ["affine"] * len(perm), dtype, "transpose")

    def transpose(a):
        s = contiguous_strides(a.shape)
        return kernel(a, tuple(tuple(a.shape)[p] for p in perm), 0, [s[p] for p in perm])
    return transpose


def _view_step(low, node):
    (x,) = node.inputs
    out_t = node.outputs[0]

    def run(env):
        a = env[x]
        (t,) = runtime_types(node, [a])
        env[out_t] = adapter.reshape(a, t.shape)
    low.steps.append(Step(run, (x,), node.op))


@emitter("reshape", "expand_dims", "squeeze")
def lower_view(low, node):
    _view_step(low, node)


@emitter("transpose")
def lower_transpose(low, node):
    (x,) = node.inputs
    fn = make_transpose(low, node, node.attrs["perm"], x.dtype)

    def run(env):
        env[node.outputs[0]] = fn(env[x])
    low.steps.append(Step(run, (x,), "transpose"))


@emitter("reverse")
def lower_reverse(low, node):
    (x,) = node.inputs
    axes = set(node.attrs["axes"])
    kernel = Gather(low, node, ["affine"] * x.ndim, x.dtype, "reverse")

    def run(env):
        a = env[x]
        s = contiguous_strides(a.shape)
        base = sum((tuple(a.shape)[d] - 1) * s[d] for d in axes if tuple(a.shape)[d] > 0)
        e = [-s[d] if d in axes else s[d] for d in range(a.ndim)]
        env[node.outputs[0]] = kernel(a, tuple(a.shape), base, e)
    low.steps.append(Step(run, (x,), "reverse"))


def _getitem_plan(shape, items):
    """(out_shape, base, e) of basic indexing ``items`` on a contiguous ``shape``."""
    s = contiguous_strides(shape)
    out_shape, e, base, dim = [], [], 0, 0
    for it in expand_index(items, len(shape)):
        if it[0] == "newaxis":
            out_shape.append(1)
            e.append(0)
            continue
        size = shape[dim]
        if it[0] == "int":
            i = it[1] + size if it[1] < 0 else it[1]
            if not 0 <= i < size:
                raise IndexError(f"getitem: index {it[1]} is out of bounds for axis {dim} with "
                                 f"size {size}")
            base += i * s[dim]
        else:
            start, stop, step = slice(it[1], it[2], it[3]).indices(size)
            length = len(range(start, stop, step))
            out_shape.append(length)
            e.append(step * s[dim])
            if length:
                base += start * s[dim]
        dim += 1
    return tuple(out_shape), base, e


@emitter("getitem")
def lower_getitem(low, node):
    (x,) = node.inputs
    items = node.attrs["index"]
    kernel = Gather(low, node, ["affine"] * node.out_types[0].ndim, x.dtype, "getitem")

    def run(env):
        a = env[x]
        out_shape, base, e = _getitem_plan(tuple(a.shape), items)
        env[node.outputs[0]] = kernel(a, out_shape, base, e)
    low.steps.append(Step(run, (x,), "getitem"))


@emitter("tile")
def lower_tile(low, node):
    (x,) = node.inputs
    reps = node.attrs["reps"]
    kernel = Gather(low, node, ["mod"] * x.ndim, x.dtype, "tile")

    def run(env):
        a = env[x]
        out_shape = tuple(d * r for d, r in zip(a.shape, reps))
        env[node.outputs[0]] = kernel(a, out_shape, 0, contiguous_strides(a.shape),
                                      m=[max(d, 1) for d in a.shape])
    low.steps.append(Step(run, (x,), "tile"))


@emitter("repeat_elements")
def lower_repeat(low, node):
    (x,) = node.inputs
    rep, axis = node.attrs["rep"], node.attrs["axis"]
    modes = ["div" if d == axis else "affine" for d in range(x.ndim)]
    kernel = Gather(low, node, modes, x.dtype, "repeat")

    def run(env):
        a = env[x]
        out_shape = tuple(d * rep if i == axis else d for i, d in enumerate(a.shape))
        env[node.outputs[0]] = kernel(a, out_shape, 0, contiguous_strides(a.shape), m=[rep])
    low.steps.append(Step(run, (x,), "repeat_elements"))


@emitter("pad")
def lower_pad(low, node):
    (x,) = node.inputs
    pads = [tuple(p) for p in node.attrs["pads"]]
    kernel = Gather(low, node, ["pad"] * x.ndim, x.dtype, "pad")

    def run(env):
        a = env[x]
        out_shape = tuple(d + lo + hi for d, (lo, hi) in zip(a.shape, pads))
        env[node.outputs[0]] = kernel(a, out_shape, 0, contiguous_strides(a.shape),
                                      m=[lo for lo, _ in pads], q=list(a.shape))
    low.steps.append(Step(run, (x,), "pad"))


# ---------------------------------------------------------------------------
# scatter: out[base + sum(c_d * e_d)] = inp[i]   (concatenate, stack)
# ---------------------------------------------------------------------------

def build_scatter_kernel(name, rank):
    dims = [f"d{d}" for d in range(rank)]
    es = [f"e{d}" for d in range(rank)]
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(['out', 'inp', 'n', 'base'] + dims + es)}):")
    with w.indent():
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while i < n:")
        with w.indent():
            emit_coords(w, rank)
            terms = " + ".join(f"c{d} * e{d}" for d in range(rank))
            w.line(f"out[base{' + ' + terms if terms else ''}] = inp[i]")
            w.line("i += step")
    return w.text()


def _lower_join(low, node, axis, new_axis):
    xs = node.inputs
    out_t = node.outputs[0]
    rank = xs[0].ndim
    name = low.kernel(low.base_name(node, node.op), lambda n: build_scatter_kernel(n, rank), node)
    module = low.module

    def run(env):
        arrays = [env[t] for t in xs]
        (t,) = runtime_types(node, arrays)
        out = adapter.empty(t.shape, out_t.dtype)
        so = contiguous_strides(t.shape)
        e = [so[d] for d in range(len(t.shape)) if not (new_axis and d == axis)]
        offset = 0
        for a in arrays:
            n = size_of(a.shape)
            if n:
                adapter.launch_1d(module[name], n, adapter.flat(out), adapter.flat(a), n,
                                  offset * so[axis], *[int(d) for d in a.shape], *e)
            offset += 1 if new_axis else tuple(a.shape)[axis]
        env[out_t] = out
    low.steps.append(Step(run, tuple(xs), node.op))


@emitter("concatenate")
def lower_concatenate(low, node):
    _lower_join(low, node, node.attrs["axis"], False)


@emitter("stack")
def lower_stack(low, node):
    _lower_join(low, node, node.attrs["axis"], True)


# ---------------------------------------------------------------------------
# gather rows, one_hot, shape
# ---------------------------------------------------------------------------

def build_take_kernel(name):
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}(out, ref, idx, n, inner, rows):")
    with w.indent():
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while i < n:")
        with w.indent():
            w.line("q = i // inner")
            w.line("row = idx[q]")
            w.line("if row < 0 or row >= rows:")  # tf on a GPU: zeros
            with w.indent():
                w.line("out[i] = 0")
            w.line("else:")
            with w.indent():
                w.line("out[i] = ref[row * inner + i % inner]")
            w.line("i += step")
    return w.text()


@emitter("gather")
def lower_gather(low, node):
    ref, idx = node.inputs
    name = low.kernel(low.base_name(node, "gather"), build_take_kernel, node)
    module = low.module
    dtype = node.out_types[0].dtype

    def run(env):
        r, i = env[ref], env[idx]
        out_shape = tuple(i.shape) + tuple(tuple(r.shape)[1:])
        out = adapter.empty(out_shape, dtype)
        n = size_of(out_shape)
        adapter.launch_1d(module[name], n, adapter.flat(out), adapter.flat(r), adapter.flat(i),
                          n, max(size_of(tuple(r.shape)[1:]), 1), tuple(r.shape)[0])
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (ref, idx), "gather"))


def build_one_hot_kernel(name):
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}(out, idx, n, classes):")
    with w.indent():
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while i < n:")
        with w.indent():
            w.line("out[i] = np.float32(1.0) if idx[i // classes] == i % classes "
                   "else np.float32(0.0)")
            w.line("i += step")
    return w.text()


@emitter("one_hot")
def lower_one_hot(low, node):
    (idx,) = node.inputs
    classes = node.attrs["num_classes"]
    name = low.kernel(low.base_name(node, "one_hot"), build_one_hot_kernel, node)
    module = low.module

    def run(env):
        i = env[idx]
        out_shape = tuple(i.shape) + (classes,)
        out = adapter.empty(out_shape, "float32")
        n = size_of(out_shape)
        if n:
            adapter.launch_1d(module[name], n, adapter.flat(out), adapter.flat(i), n, classes)
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (idx,), "one_hot"))


@emitter("shape")
def lower_shape(low, node):
    """The runtime shape is host metadata of the device array: upload it."""
    (x,) = node.inputs

    def run(env):
        env[node.outputs[0]] = adapter.to_device(np.asarray(env[x].shape, dtype=np.int32))
    low.steps.append(Step(run, (x,), "shape"))
