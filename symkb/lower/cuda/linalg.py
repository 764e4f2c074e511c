"""Matrix products: a tiled shared-memory kernel with a fused elementwise epilogue.

One kernel shape serves ``dot``, ``matmul``, ``batch_dot`` and ``fused_dot``:
a ``(M, K) @ (K, N)`` product per grid layer ``z`` (batched operands start
at per-batch offsets computed on the host once per shape), ``tile x tile``
thread blocks staging one tile of each operand in shared memory per step
along ``K``. The epilogue runs on the accumulator before the single store:
the body of a ``fused_dot`` node, or an elementwise consumer the lowering
absorbs (``dot -> bias_add -> relu`` becomes one kernel).

Operands that need reordering first (``dot`` with a rank > 2 right operand,
``batch_dot``'s axes) go through the transpose kernel of ``movement.py``.
"""
from __future__ import annotations

import numpy as np

from ...ir import get_op
from ...ir.types import result_dtype
from ..emitters import registrar
from . import adapter
from .elementwise import (Body, OperandPlan, emit_coords, is_elementwise, launch_args,
                          operand_read)
from .movement import make_transpose
from .program import Step, size_of
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)


def build_matmul_kernel(name, dtype, tile, epilogue=None):
    """Source of the tiled kernel; ``epilogue`` = (body, acc input, plans, rank) or None."""
    w = SourceWriter()
    plans = epilogue[2] if epilogue else []
    rank = epilogue[3] if epilogue else 0
    extra = [f"a{p.index}" for p in plans]
    dims = [f"d{d}" for d in range(rank)] if epilogue else []
    strides = [s for p in plans for s in p.stride_args()]
    w.line(KERNEL)
    params = ["out", "x", "y", "M", "N", "K", "offx", "offy"] + extra + dims + strides
    w.line(f"def {name}({', '.join(params)}):")
    with w.indent():
        w.line(f"sx = cuda.shared.array(({tile}, {tile}), dtype=np.{dtype})")
        w.line(f"sy = cuda.shared.array(({tile}, {tile}), dtype=np.{dtype})")
        w.line("tx = cuda.threadIdx.x")
        w.line("ty = cuda.threadIdx.y")
        w.line(f"row = cuda.blockIdx.y * {tile} + ty")
        w.line(f"col = cuda.blockIdx.x * {tile} + tx")
        w.line("z = cuda.blockIdx.z")
        w.line("ox = offx[z]")
        w.line("oy = offy[z]")
        w.line(f"acc = np.{dtype}(0)")
        w.line(f"for k0 in range(0, K, {tile}):")
        with w.indent():
            w.line("k = k0 + tx")
            w.line("if row < M and k < K:")
            with w.indent():
                w.line("sx[ty, tx] = x[ox + row * K + k]")
            w.line("else:")
            with w.indent():
                w.line(f"sx[ty, tx] = np.{dtype}(0)")
            w.line("k = k0 + ty")
            w.line("if k < K and col < N:")
            with w.indent():
                w.line("sy[ty, tx] = y[oy + k * N + col]")
            w.line("else:")
            with w.indent():
                w.line(f"sy[ty, tx] = np.{dtype}(0)")
            w.line("cuda.syncthreads()")
            w.line(f"for kk in range({tile}):")
            with w.indent():
                w.line("acc += sx[ty, kk] * sy[kk, tx]")
            w.line("cuda.syncthreads()")
        w.line("if row < M and col < N:")
        with w.indent():
            w.line("i = z * M * N + row * N + col")
            if epilogue is None:
                w.line("out[i] = acc")
            else:
                body, acc_input, plans, rank = epilogue
                names = {t: "acc" for t in acc_input}
                if any(p.kind == "strided" for p in plans):
                    emit_coords(w, rank)
                for p, t in zip(plans, [t for t in body.inputs if t not in acc_input]):
                    w.line(f"x{p.index} = {operand_read(p, f'a{p.index}')}")
                    names[t] = f"x{p.index}"
                (result,) = body.emit(w, names)
                w.line(f"out[i] = {result}")
    return w.text()


class MatmulKernel:
    """One registered matrix-product kernel and its launcher."""

    def __init__(self, low, node, dtype, epilogue=None):
        """``epilogue``: (body, acc inputs, operand tensors, out shape) or None."""
        self.module = low.module
        self.tile = adapter.geometry().tile
        self.dtype = dtype
        self.operands = []
        self.plans = []
        self.has_epilogue = epilogue is not None
        ep = None
        if epilogue is not None:
            body, acc_inputs, operands, out_shape = epilogue
            self.operands = list(operands)
            self.plans = [OperandPlan(j, t.shape, out_shape) for j, t in enumerate(operands)]
            ep = (body, set(acc_inputs), self.plans, len(out_shape))
        suffix = "matmul" + ("_" + "_".join(n.op for n in epilogue[0].nodes if n.op != "const")
                             if epilogue else "")
        self.name = low.kernel(low.base_name(node, suffix[:40]),
                               lambda name: build_matmul_kernel(name, dtype, self.tile, ep), node)
        self._offsets = {}

    def offsets(self, key, offx, offy):
        if key not in self._offsets:
            self._offsets[key] = (adapter.to_device(np.asarray(offx, dtype=np.int64)),
                                  adapter.to_device(np.asarray(offy, dtype=np.int64)))
        return self._offsets[key]

    def __call__(self, x, y, out, M, N, K, batch=1, offx=(0,), offy=(0,), extra=()):
        if M == 0 or N == 0 or batch == 0:
            return
        ox, oy = self.offsets((tuple(offx), tuple(offy)), offx, offy)
        args = [adapter.flat(out), adapter.flat(x), adapter.flat(y), M, N, K, ox, oy]
        if self.has_epilogue:
            shape = tuple(out.shape)
            tail = launch_args(self.plans, list(extra), shape)
            # launch_args gives arrays, then n, then dims, then strides: drop n
            k = len(self.plans)
            args += tail[:k] + tail[k + 1:]
        t = self.tile
        grid = ((N + t - 1) // t, (M + t - 1) // t, batch)
        adapter.launch(self.module[self.name], grid, (t, t), *args)


def _epilogue_chain(low, node):
    """Elementwise nodes after a 2-D-weight ``dot`` that can run as its epilogue.

    A chain of single-use plain elementwise consumers of the product's shape
    (``bias_add`` then ``relu``), or one ``fused_elementwise`` consumer; every
    other operand they read must exist before the product runs.
    """
    shape = node.out_types[0].shape
    position = low.position
    chain, cur = [], node.outputs[0]
    while low.single_use(cur):
        consumer = low.consumers[cur][0]
        if not is_elementwise(consumer) or len(consumer.outputs) != 1 or \
                consumer.op in ("zeros_like", "ones_like") or \
                consumer.out_types[0].shape != shape:
            break
        inside = {node.outputs[0]} | {c.outputs[0] for c in chain}
        ready = all(t in inside or get_op(t.node.op).kind == "source"
                    or position.get(t.node, 1 << 60) < position[node] for t in consumer.inputs)
        fused = get_op(consumer.op).fused  # a fused_elementwise group ends the chain
        if not ready or (fused and chain):
            break
        chain.append(consumer)
        if fused:
            break
        cur = consumer.outputs[0]
    return chain


@emitter("dot")
def lower_dot(low, node):
    x, y = node.inputs
    dtype = node.out_types[0].dtype
    if y.ndim == 2:
        chain = _epilogue_chain(low, node)
        if chain:
            low.absorbed.update(chain)
            acc = node.outputs[0]
            if get_op(chain[0].op).fused:
                body = Body.of_graph(chain[0].attrs["body"])
                acc_inputs = [b for b, t in zip(body.inputs, chain[0].inputs) if t is acc]
                operands = [t for t in chain[0].inputs if t is not acc]
            else:
                inside = {acc} | {c.outputs[0] for c in chain}
                operands = list(dict.fromkeys(t for c in chain for t in c.inputs
                                              if t not in inside))
                body = Body([acc] + operands, chain, chain[-1].outputs)
                acc_inputs = [acc]
            for t in operands:
                if t.node.op == "const":
                    low.upload_const(t)
            return _lower_dense(low, node, x, y, chain[-1].outputs[0],
                                (body, acc_inputs, operands, chain[-1].out_types[0].shape))
        return _lower_dense(low, node, x, y, node.outputs[0], None)
    kernel = MatmulKernel(low, node, dtype)
    if y.ndim == 1:
        def run(env):
            xa, ya = env[x], env[y]
            K = tuple(ya.shape)[0]
            M = size_of(tuple(xa.shape)[:-1])
            out = adapter.empty(tuple(xa.shape)[:-1], dtype)
            kernel(xa, ya, out, M, 1, K)
            env[node.outputs[0]] = out
        low.steps.append(Step(run, (x, y), "dot"))
        return
    # y of rank > 2: move its contracted axis first, then one 2-D product
    perm = (y.ndim - 2,) + tuple(range(y.ndim - 2)) + (y.ndim - 1,)
    transpose = make_transpose(low, node, perm, y.dtype)

    def run(env):
        xa, ya = env[x], env[y]
        K = tuple(ya.shape)[-2]
        yt = transpose(ya)
        M = size_of(tuple(xa.shape)[:-1])
        N = size_of(tuple(yt.shape)[1:])
        xs, ys = tuple(xa.shape), tuple(ya.shape)
        out_shape = xs[:-1] + ys[:-2] + (ys[-1],)
        out = adapter.empty(out_shape, dtype)
        kernel(xa, yt, out, M, N, K)
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (x, y), "dot"))


def _lower_dense(low, node, x, y, result, epilogue):
    dtype = node.out_types[0].dtype
    out_dtype = result.dtype
    kernel = MatmulKernel(low, node, dtype, epilogue)
    operands = epilogue[2] if epilogue else []

    def run(env):
        xa, ya = env[x], env[y]
        K, N = ya.shape
        M = size_of(tuple(xa.shape)[:-1])
        out = adapter.empty(tuple(tuple(xa.shape)[:-1]) + (N,), out_dtype)
        kernel(xa, ya, out, M, N, K, extra=[env[t] for t in operands])
        env[result] = out
    low.steps.append(Step(run, (x, y, *operands), node.op))


@emitter("fused_dot")
def lower_fused_dot(low, node):
    x, w, *rest = node.inputs
    body = Body.of_graph(node.attrs["body"])
    for t in body.array_consts:
        low.upload_const(t)
    operands = list(rest) + body.array_consts
    body = Body(list(body.inputs) + body.array_consts, body.nodes, body.outputs)
    acc_inputs = [body.inputs[0]]
    _lower_dense(low, node, x, w, node.outputs[0],
                 (body, acc_inputs, operands, node.out_types[0].shape))


def batched_offsets(xb, yb, mx, my):
    """Per-batch element offsets of two operands with broadcast batch shapes."""
    bshape = np.broadcast_shapes(tuple(xb), tuple(yb))
    ix = np.broadcast_to(np.arange(size_of(xb)).reshape(xb), bshape).reshape(-1) * mx
    iy = np.broadcast_to(np.arange(size_of(yb)).reshape(yb), bshape).reshape(-1) * my
    return bshape, ix, iy


@emitter("matmul")
def lower_matmul(low, node):
    x, y = node.inputs
    dtype = node.out_types[0].dtype
    kernel = MatmulKernel(low, node, dtype)

    def run(env):
        xa, ya = env[x], env[y]
        xs = tuple(xa.shape) if xa.ndim > 1 else (1,) + tuple(xa.shape)
        ys = tuple(ya.shape) if ya.ndim > 1 else tuple(ya.shape) + (1,)
        M, K = xs[-2:]
        N = ys[-1]
        bshape, ox, oy = batched_offsets(xs[:-2], ys[:-2], M * K, K * N)
        out_shape = bshape + ((M,) if xa.ndim > 1 else ()) + ((N,) if ya.ndim > 1 else ())
        out = adapter.empty(out_shape, dtype)
        kernel(xa, ya, out, M, N, K, size_of(bshape), tuple(ox), tuple(oy))
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (x, y), "matmul"))


@emitter("batch_dot")
def lower_batch_dot(low, node):
    x, y = node.inputs
    ax, ay = node.attrs["axes"]
    dtype = result_dtype(x.dtype, y.dtype)
    px = tuple(d for d in range(x.ndim) if d != ax) + (ax,)
    py = (0, ay) + tuple(d for d in range(1, y.ndim) if d != ay)
    tx = make_transpose(low, node, px, x.dtype)
    ty = make_transpose(low, node, py, y.dtype)
    kernel = MatmulKernel(low, node, dtype)

    def run(env):
        xa, ya = env[x], env[y]
        xm, ym = tx(xa), ty(ya)
        B, K = tuple(xm.shape)[0], tuple(xm.shape)[-1]
        M = size_of(tuple(xm.shape)[1:-1])
        N = size_of(tuple(ym.shape)[2:])
        out_shape = (tuple(xa.shape)[0],) + tuple(tuple(xa.shape)[d] for d in px[1:-1]) + \
            tuple(tuple(ya.shape)[d] for d in py[2:])
        if len(out_shape) == 1:
            out_shape = out_shape + (1,)
        out = adapter.empty(out_shape, dtype)
        kernel(xm, ym, out, M, N, K, B, tuple(np.arange(B) * M * K), tuple(np.arange(B) * K * N))
        env[node.outputs[0]] = out
    low.steps.append(Step(run, (x, y), "batch_dot"))
