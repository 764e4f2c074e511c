"""Reductions, softmax and scans on the device.

A reduction moves its reduced axes last (the transpose kernel, skipped when
they already are), views the data as ``(rows, L)`` and runs a block tree
reduction: each block folds a strided share of one row into shared memory,
halves it ``log2(threads)`` times with ``cuda.syncthreads()`` between
rounds, and writes one partial per block. ``max``/``min`` instead give each
thread a contiguous stretch and combine neighbours pairwise, so the row is
folded in order and, of two equal values (``0.0``, ``-0.0``), the later one
stays, as in tf's fold. When a row needed more than one
block, a second launch of the same kernel shape reduces the partials and
applies the finish (``mean``'s division, ``any``/``all``'s conversion to
bool). ``argmax``/``argmin`` carry (value, index) pairs, as tf's scan:
only values beyond the dtype's lowest / highest one take part (NaN never
does), ties go to the first index, and a row with none answers 0.

``softmax`` is decomposed into ``max``, ``subtract``, ``exp``, ``sum`` and
``divide`` nodes; ``cumsum``/``cumprod`` run one thread per row along the
(last-moved) axis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...ir.ops.reduce import arg_bound
from ...ir.types import is_float
from . import adapter
from .movement import make_transpose
from .program import Step, emitter, make_node, runtime_types, size_of
from .scalar import lit
from .source import KERNEL, SourceWriter

_COMBINE = {
    "sum": "{a} + {b}", "mean": "{a} + {b}", "prod": "{a} * {b}",
    "max": "_maxnan({a}, {b})", "min": "_minnan({a}, {b})",
    "any": "({a} if {a} > {b} else {b})", "all": "({a} if {a} < {b} else {b})",
}


def _acc_dtype(op, in_dtype, out_dtype):
    if op in ("any", "all"):
        return "int32"
    if op == "mean":
        return "float32" if in_dtype == "bool" else ("int64" if not is_float(in_dtype)
                                                        else out_dtype)
    if op in ("argmax", "argmin"):
        return in_dtype
    if in_dtype == "bool":
        return "int32"
    return out_dtype


def _init(op, acc):
    if op in ("sum", "mean", "any"):
        return lit(0, acc)
    if op in ("prod", "all"):
        return lit(1, acc)
    if op in ("max", "argmax"):
        return lit(-math.inf, acc) if is_float(acc) else lit(np.iinfo(acc).min, acc)
    if op in ("min", "argmin"):
        return lit(math.inf, acc) if is_float(acc) else lit(np.iinfo(acc).max, acc)
    raise KeyError(op)


def build_reduce_kernel(name, op, in_dtype, acc, out_dtype, threads, first, final):
    """One block-tree reduction kernel: ``first`` reads the data, ``final`` finishes.

    A launch folds a share of each row into one partial per block; the
    first/final flags say whether it reads raw elements (and their indices
    for argmax/argmin) or the partials of a previous launch, and whether it
    writes the result or partials.
    """
    spec = _ReduceSpec(op, in_dtype, acc, out_dtype, threads, first, final)
    w = SourceWriter()
    params = ["out"] + (["out_idx"] if spec.arg and not final else []) + ["inp"] + \
        (["inp_idx"] if spec.arg and not first else []) + ["R", "L", "P", "count"]
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(params)}):")
    with w.indent():
        w.line(f"sh = cuda.shared.array({threads}, dtype=np.{acc})")
        if spec.arg:
            w.line(f"shi = cuda.shared.array({threads}, dtype=np.int64)")
        w.line("tid = cuda.threadIdx.x")
        w.line("part = cuda.blockIdx.x")
        w.line("r = cuda.blockIdx.y")
        w.line("while r < R:")
        with w.indent():
            _emit_thread_fold(w, spec)
            _emit_block_tree(w, spec)
            w.line("if tid == 0:")
            with w.indent():
                _emit_block_result(w, spec)
            w.line("cuda.syncthreads()")
            w.line("r += cuda.gridDim.y")
    return w.text()


@dataclass(frozen=True)
class _ReduceSpec:
    """What one reduction kernel computes (see :func:`build_reduce_kernel`)."""

    op: str
    in_dtype: str
    acc: str
    out_dtype: str
    threads: int
    first: bool
    final: bool

    @property
    def arg(self) -> bool:
        return self.op in ("argmax", "argmin")

    @property
    def sign(self) -> int:
        return 1 if self.op == "argmax" else -1

    @property
    def ordered(self) -> bool:
        # max/min keep the later of equal values (0.0 and -0.0), as tf's fold: their
        # elements are combined in row order (contiguous stretches, a pairwise tree)
        return self.op in ("max", "min")


def _emit_thread_fold(w, spec):
    """Each thread folds its share of row ``r`` into ``acc`` (and ``ai``)."""
    op, acc, threads = spec.op, spec.acc, spec.threads
    w.line(f"acc = {_init(op, acc)}")
    if spec.arg:
        w.line("ai = -1")
    if spec.ordered:
        # each thread folds a contiguous stretch, so the fold sees the row in order
        w.line(f"chunk = (L + {threads} * P - 1) // ({threads} * P)")
        w.line(f"j = (part * {threads} + tid) * chunk")
        w.line("stop = min(j + chunk, L)")
    else:
        w.line(f"j = part * {threads} + tid")
    w.line("while j < stop:" if spec.ordered else "while j < L:")
    with w.indent():
        _emit_read_element(w, spec)
        if spec.arg:
            w.line(f"if _arg_better(v, vi, acc, ai, {spec.sign}):")
            with w.indent():
                w.line("acc = v")
                w.line("ai = vi")
        else:
            w.line(f"acc = {_COMBINE[op].format(a='acc', b='v')}")
        w.line("j += 1" if spec.ordered else f"j += {threads} * P")


def _emit_read_element(w, spec):
    """``v`` (and ``vi``): element ``j`` of row ``r`` as the accumulator sees it."""
    op, acc, in_dtype, first = spec.op, spec.acc, spec.in_dtype, spec.first
    if first and op in ("any", "all"):
        w.line(f"v = {lit(1, acc)} if inp[r * L + j] != 0 else {lit(0, acc)}")
    elif first and in_dtype != acc:
        w.line(f"v = np.{acc}(inp[r * L + j])")
    else:
        w.line("v = inp[r * L + j]")
    if spec.arg:
        w.line("vi = j" if first else "vi = inp_idx[r * L + j]")
        if first:
            bound = lit(arg_bound(op, in_dtype), in_dtype)
            w.line(f"if not v {'>' if spec.sign > 0 else '<'} {bound}:")
            with w.indent():
                w.line("vi = -1")


def _emit_block_tree(w, spec):
    """Combine the threads' values in shared memory, ``log2(threads)`` rounds."""
    threads = spec.threads
    w.line("sh[tid] = acc")
    if spec.arg:
        w.line("shi[tid] = ai")
    w.line("cuda.syncthreads()")
    w.line("s = 1" if spec.ordered else f"s = {threads // 2}")
    w.line(f"while s < {threads}:" if spec.ordered else "while s > 0:")
    with w.indent():
        w.line("if tid % (2 * s) == 0:" if spec.ordered else "if tid < s:")
        with w.indent():
            if spec.arg:
                w.line(f"if _arg_better(sh[tid + s], shi[tid + s], sh[tid], shi[tid], "
                       f"{spec.sign}):")
                with w.indent():
                    w.line("sh[tid] = sh[tid + s]")
                    w.line("shi[tid] = shi[tid + s]")
            else:
                w.line(f"sh[tid] = {_COMBINE[spec.op].format(a='sh[tid]', b='sh[tid + s]')}")
        w.line("cuda.syncthreads()")
        w.line("s *= 2" if spec.ordered else "s //= 2")


def _emit_block_result(w, spec):
    """Thread 0 writes the block's partial, or the finished result when ``final``."""
    op, acc, out_dtype, final = spec.op, spec.acc, spec.out_dtype, spec.final
    if spec.arg:
        if final:
            w.line("out[r * P + part] = shi[0] if shi[0] >= 0 else 0")
        else:
            w.line("out[r * P + part] = sh[0]")
            w.line("out_idx[r * P + part] = shi[0]")
    elif final and op == "mean":
        if is_float(out_dtype):
            w.line(f"out[r * P + part] = sh[0] / np.{acc}(count)")
        else:
            w.line(f"out[r * P + part] = np.{out_dtype}(math.trunc(sh[0] / count))")
    elif final and op in ("any", "all"):
        w.line("out[r * P + part] = sh[0] != 0")
    elif final and out_dtype != acc:
        w.line("out[r * P + part] = sh[0] != 0" if out_dtype == "bool"
               else f"out[r * P + part] = np.{out_dtype}(sh[0])")
    else:
        w.line("out[r * P + part] = sh[0]")


@emitter("sum", "prod", "mean", "max", "min", "any", "all", "argmax", "argmin")
def lower_reduce(low, node):
    (x,) = node.inputs
    op = node.op
    if op in ("max", "min") and x.dtype == "bool":
        op = "any" if op == "max" else "all"
    if op in ("sum", "prod") and x.dtype == "bool":
        op = "any" if op == "sum" else "all"
    arg = op in ("argmax", "argmin")
    axis = node.attrs.get("axis")
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if arg else tuple(axis))
    kept = tuple(d for d in range(x.ndim) if d not in axes)
    transpose = make_transpose(low, node, kept + axes, x.dtype)
    out_dtype = node.out_types[0].dtype
    acc = _acc_dtype(op, x.dtype, out_dtype)
    g = adapter.geometry()
    threads = g.reduce_threads
    names = {}
    for first, final in ((True, True), (True, False), (False, True)):
        def build(name, first=first, final=final):
            return build_reduce_kernel(name, op, x.dtype, acc, out_dtype, threads, first, final)
        tag = ("one" if first and final else "partial" if first else "final")
        names[(first, final)] = low.kernel(low.base_name(node, f"{node.op}_{tag}"), build, node)
    module = low.module

    def run(env):
        a = env[x]
        (t,) = runtime_types(node, [a])
        L = size_of([tuple(a.shape)[d] for d in axes])
        R = size_of([tuple(a.shape)[d] for d in kept])
        out = adapter.empty(t.shape, out_dtype)
        if R == 0:
            env[node.outputs[0]] = out
            return
        src = adapter.flat(transpose(a))
        rows = min(R, 65535)
        P = max(1, min(g.reduce_blocks, math.ceil(L / threads)))
        if P == 1:
            adapter.launch(module[names[(True, True)]], (1, rows), threads,
                           adapter.flat(out), src, R, L, 1, L)
        else:
            part = adapter.empty((R * P,), acc)
            extra = [adapter.empty((R * P,), "int64")] if arg else []
            adapter.launch(module[names[(True, False)]], (P, rows), threads,
                           part, *extra, src, R, L, P, L)
            adapter.launch(module[names[(False, True)]], (1, rows), threads,
                           adapter.flat(out), part, *extra, R, P, 1, L)
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (x,), node.op))


@emitter("softmax")
def lower_softmax(low, node):
    """exp(x - max) / sum(exp(x - max)), as kernels for its parts."""
    (x,) = node.inputs
    axis = (node.attrs["axis"],)
    m = make_node("max", x, axis=axis, keepdims=True, layer=node.layer).outputs[0]
    d = make_node("subtract", x, m, layer=node.layer).outputs[0]
    e = make_node("exp", d, layer=node.layer).outputs[0]
    s = make_node("sum", e, axis=axis, keepdims=True, layer=node.layer).outputs[0]
    y = make_node("divide", e, s, layer=node.layer).outputs[0]
    low.decompose(node, [y])


def build_scan_kernel(name, op, dtype):
    sym = "+" if op == "cumsum" else "*"
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}(out, inp, R, L):")
    with w.indent():
        w.line("r = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while r < R:")
        with w.indent():
            w.line(f"acc = {lit(0 if op == 'cumsum' else 1, dtype)}")
            w.line("for j in range(L):")
            with w.indent():
                w.line(f"acc = np.{dtype}(acc {sym} inp[r * L + j])")
                w.line("out[r * L + j] = acc")
            w.line("r += step")
    return w.text()


@emitter("cumsum", "cumprod")
def lower_scan(low, node):
    (x,) = node.inputs
    axis = node.attrs["axis"]
    perm = tuple(d for d in range(x.ndim) if d != axis) + (axis,)
    inverse = tuple(int(i) for i in np.argsort(perm))
    forward = make_transpose(low, node, perm, x.dtype)
    back = make_transpose(low, node, inverse, x.dtype)
    dtype = node.out_types[0].dtype
    name = low.kernel(low.base_name(node, node.op),
                      lambda n: build_scan_kernel(n, node.op, dtype), node)
    module = low.module

    def run(env):
        a = forward(env[x])
        L = tuple(a.shape)[-1] if a.ndim else 1
        R = size_of(a.shape) // max(L, 1)
        out = adapter.empty(a.shape, dtype)
        adapter.launch_1d(module[name], R, adapter.flat(out), adapter.flat(a), R, L)
        env[node.outputs[0]] = back(out)
    low.steps.append(Step(run, (x,), node.op))
