"""The ``scan`` node as one persistent kernel: the whole time loop in one launch.

One block owns a slice of ``rows`` batch rows. Every body value of a step
lives in shared memory as a ``(rows, width)`` array, the states too, and the
2-D constants the body multiplies by (the recurrent kernels) are staged in
shared memory once when they fit. Each body node becomes one *stage* (the
block's threads stride over its ``rows * width`` elements) followed by
``cuda.syncthreads()``; after the body, a commit stage stores the step's
outputs at their time position and, after a barrier, overwrites the states.
A reverse scan is the same kernel visiting ``t = T - 1 - k``.

Which bodies qualify, and the shared-memory layout, are decided by
:class:`~.persistent_plan.PersistentPlan`.
"""
from __future__ import annotations

import contextlib

import numpy as np

from . import adapter
from .elementwise import Body, is_elementwise
from .persistent_plan import VIEW_OPS, PersistentPlan, result_used, width
from .program import Step, size_of
from .scalar import lit
from .source import KERNEL, SourceWriter

__all__ = ["PersistentPlan", "lower_persistent"]


def lower_persistent(low, node, plan: PersistentPlan):
    """Append the step launching ``node``'s persistent kernel (built from ``plan``)."""
    no = plan.no
    seqs, states, consts = plan.seqs, plan.states, plan.consts
    stored = [result_used(low, t) for t in node.outputs[no:2 * no]]
    kname = low.kernel(low.base_name(node, "loop_persistent"),
                       lambda name: _build_persistent(name, plan, stored), node)
    module = low.module
    out_types = [t.type for t in plan.body.outputs[:no]]

    def run(env):
        xs = [env[s] for s in seqs]
        B, T = tuple(xs[0].shape)[:2]
        if T == 0:
            raise ValueError(f"{node.op}: cannot iterate over zero time steps")
        lasts = [adapter.empty((B,) + t.shape[1:], t.dtype) for t in out_types]
        seq_outs = [adapter.empty((B, T) + t.shape[1:] if keep else (1,), t.dtype)
                    for t, keep in zip(out_types, stored)]
        finals = [adapter.empty(tuple(env[s].shape), s.dtype) for s in states]
        args = [adapter.flat(x) for x in xs] + [adapter.flat(env[s]) for s in states]
        args += [adapter.flat(env[c]) for c in consts]
        args += [adapter.flat(o) for o in lasts + seq_outs + finals] + [B, T]
        blocks = (B + plan.rows - 1) // plan.rows
        adapter.launch(module[kname], blocks, plan.threads, *args)
        for t_, o, keep in zip(node.outputs, lasts + seq_outs + finals,
                               [True] * no + stored + [True] * len(states)):
            if keep:
                env[t_] = o
    low.steps.append(Step(run, tuple(node.inputs), "scan (persistent)"))


class _Kernel:
    """The source of one persistent kernel being written, and how it reads each body value."""

    def __init__(self, w: SourceWriter, plan: PersistentPlan):
        self.w = w
        self.plan = plan
        self.R = plan.rows
        body = plan.body
        n_x, n_s = len(plan.seqs), len(plan.states)
        self.x_in = list(body.inputs[:n_x])
        self.s_in = list(body.inputs[n_x:n_x + n_s])
        self.c_in = list(body.inputs[n_x + n_s:])
        self.reads = {}      # body tensor -> fn(r, c) -> expression
        self.buffers = {}    # body value -> its shared array

    def params(self):
        plan = self.plan
        names = [f"seq{i}" for i in range(len(self.x_in))]
        names += [f"init{i}" for i in range(len(self.s_in))]
        names += [f"const{i}" for i in range(len(self.c_in))]
        names += [f"last{i}" for i in range(plan.no)] + [f"outseq{i}" for i in range(plan.no)]
        return names + [f"final{i}" for i in range(len(self.s_in))] + ["B", "T"]

    def read(self, t, r, c):
        return self.reads[t](r, c)


def _build_persistent(name, plan, stored):
    w = SourceWriter()
    kn = _Kernel(w, plan)
    w.line(KERNEL)
    with w.block(f"def {name}({', '.join(kn.params())}):"):
        w.line("tid = cuda.threadIdx.x")
        w.line("nt = cuda.blockDim.x")
        w.line(f"b0 = cuda.blockIdx.x * {kn.R}")
        _declare_states(kn)
        _declare_constants(kn)
        _declare_sequences(kn)
        _declare_values(kn)
        _stage_in(kn)
        w.line("cuda.syncthreads()")
        with w.block("for k in range(T):"):
            w.line("t = T - 1 - k" if plan.reverse else "t = k")
            _emit_body(kn)
            _emit_commit(kn, stored)
        _store_finals(kn)
    return w.text()


def _declare_states(kn):
    for i, s in enumerate(kn.s_in):
        kn.w.line(f"st{i} = cuda.shared.array(({kn.R}, {width(s)}), dtype=np.{s.dtype})")
        kn.reads[s] = (lambda r, c, i=i: f"st{i}[{r}, {c}]")


def _declare_constants(kn):
    """Staged weights in shared memory; other constants read from global memory."""
    plan = kn.plan
    for i, cst in enumerate(kn.c_in):
        if cst in plan.shared_weights:
            k_, n_ = cst.shape
            kn.w.line(f"wsh{i} = cuda.shared.array(({k_}, {n_}), dtype=np.{cst.dtype})")
            kn.reads[cst] = (lambda r, c, i=i: f"wsh{i}[{r}, {c}]")
        elif cst.ndim == 2 and cst.shape[0] not in (1,):
            n_ = cst.shape[1]
            if cst in plan.matrices:
                kn.reads[cst] = (lambda r, c, i=i, n_=n_: f"const{i}[({r}) * {n_} + {c}]")
            else:   # a per-batch constant (batch, width)
                kn.reads[cst] = (lambda r, c, i=i, n_=n_: f"const{i}[rb * {n_} + {c}]")
        elif size_of([d or 2 for d in cst.shape]) == 1 or cst.ndim == 0:
            kn.reads[cst] = (lambda r, c, i=i: f"const{i}[0]")
        else:
            kn.reads[cst] = (lambda r, c, i=i: f"const{i}[{c}]")


def _declare_values(kn):
    """A shared ``(rows, width)`` array per body value; scalar constants as literals."""
    vid = 0
    for n in kn.plan.body.nodes:
        if n.op == "input":
            continue
        if n.op == "const":
            value = np.asarray(n.attrs["value"]).reshape(-1)[0]
            text = lit(value, n.outputs[0].dtype)
            kn.reads[n.outputs[0]] = (lambda r, c, text=text: text)
            continue
        if n.op in VIEW_OPS:          # (batch,) <-> (batch, 1): the same elements
            kn.reads[n.outputs[0]] = kn.reads[n.inputs[0]]
            if n.inputs[0] in kn.buffers:
                kn.buffers[n.outputs[0]] = kn.buffers[n.inputs[0]]
            continue
        for o in n.outputs:
            kn.w.line(f"val{vid} = cuda.shared.array(({kn.R}, {width(o)}), dtype=np.{o.dtype})")
            kn.buffers[o] = f"val{vid}"
            kn.reads[o] = (lambda r, c, v=f"val{vid}": f"{v}[{r}, {c}]")
            vid += 1


def _declare_sequences(kn):
    """Step ``t`` of a batch-major sequence, read in place from global memory."""
    for i, x in enumerate(kn.x_in):
        f_ = width(x)
        kn.reads[x] = (lambda r, c, i=i, f_=f_: f"seq{i}[(rb * T + t) * {f_} + {c}]")


def _stage_in(kn):
    """Copy the shared weights and the initial states into shared memory."""
    w = kn.w
    for i, cst in enumerate(kn.c_in):
        if cst in kn.plan.shared_weights:
            k_, n_ = cst.shape
            with w.block(f"for e in range(tid, {k_ * n_}, nt):"):
                w.line(f"wsh{i}[e // {n_}, e % {n_}] = const{i}[e]")
    for i, s in enumerate(kn.s_in):
        u = width(s)
        with _rows_loop(w, kn.R, u):
            w.line(f"st{i}[r, c] = init{i}[(b0 + r) * {u} + c] if b0 + r < B else "
                   f"{lit(0, s.dtype)}")


def _emit_body(kn):
    """One stage per body node, a barrier only where a stage reads another thread's writes.

    A stage's threads stride over its ``(rows, width)`` elements, so a value
    written as ``(r, c)`` by a stage of the same width is written by the very
    thread that reads it there: elementwise stages (and a fused product's
    epilogue) reading such values need no barrier before them. Products,
    slices, concatenations and width-1 broadcasts read across threads.
    """
    dirty = {}       # shared buffer written since the last barrier -> its stage's width
    for n in kn.plan.body.nodes:
        if n.op in ("input", "const") + VIEW_OPS:
            continue
        if _reads_across_threads(n, kn.buffers, dirty):
            kn.w.line("cuda.syncthreads()")
            dirty.clear()
        kn.w.line(f"# {n.op}")
        _emit_stage(kn.w, n, kn.reads, kn.buffers, kn.R)
        # a concatenation writes column ranges piece by piece: never read in place
        u = None if n.op == "concatenate" else width(n.outputs[0])
        dirty.update((kn.buffers[o], u) for o in n.outputs)
    outs = kn.plan.body.outputs[:kn.plan.no]
    if any(dirty.get(kn.buffers.get(o), width(o)) != width(o) for o in outs):
        kn.w.line("cuda.syncthreads()")


def _reads_across_threads(n, buffers, dirty) -> bool:
    """Whether stage ``n`` reads a value written since the last barrier at another element."""
    if is_elementwise(n):
        in_place = set(n.inputs)
    elif n.op == "fused_dot":
        in_place = set(n.inputs[2:])
    else:
        in_place = set()
    u = width(n.outputs[0])
    for t in n.inputs:
        buf = buffers.get(t)
        if buf not in dirty:
            continue
        if t in in_place and width(t) == u and dirty[buf] == u:
            continue
        return True
    return False


def _emit_commit(kn, stored):
    """Store the step's outputs at time ``t`` (the last step's as ``last``), then the states."""
    w, plan = kn.w, kn.plan
    outs, news = plan.body.outputs[:plan.no], plan.body.outputs[plan.no:]
    for i, o in enumerate(outs):
        u = width(o)
        with _rows_loop(w, kn.R, u):
            w.line("b = b0 + r")
            with w.block("if b < B:"):
                w.line(f"o = {kn.read(o, 'r', 'c')}")
                if stored[i]:
                    w.line(f"outseq{i}[(b * T + t) * {u} + c] = o")
                with w.block("if k == T - 1:"):
                    w.line(f"last{i}[b * {u} + c] = o")
    # every stage has read the states (barrier above): now overwrite them
    if news:
        w.line("cuda.syncthreads()")
        for i, (nw, s) in enumerate(zip(news, kn.s_in)):
            with _rows_loop(w, kn.R, width(s)):
                w.line(f"st{i}[r, c] = {kn.read(nw, 'r', 'c')}")
    w.line("cuda.syncthreads()")


def _store_finals(kn):
    for i, s in enumerate(kn.s_in):
        u = width(s)
        with _rows_loop(kn.w, kn.R, u):
            with kn.w.block("if b0 + r < B:"):
                kn.w.line(f"final{i}[(b0 + r) * {u} + c] = st{i}[r, c]")


@contextlib.contextmanager
def _rows_loop(w, rows, u):
    """A block-strided loop over the (row, column) elements of a state slice."""
    with w.block(f"for e in range(tid, {rows * u}, nt):"):
        w.line(f"r = e // {u}")
        w.line(f"c = e % {u}")
        # the batch row this element reads (rows past the batch read its last row, never stored)
        w.line("rb = b0 + r if b0 + r < B else B - 1")
        yield


def _emit_stage(w, n, reads, buffers, R):
    out = n.outputs[0]
    u = width(out)
    if n.op == "getitem":
        _, start, stop, step = n.attrs["index"][1]
        src = n.inputs[0]
        s0, _, st = slice(start, stop, step).indices(src.shape[1])
        with _rows_loop(w, R, u):
            w.line(f"{buffers[out]}[r, c] = {reads[src]('r', f'{s0} + c * {st}')}")
        return
    if n.op == "concatenate":
        offset = 0
        for piece in n.inputs:
            pw = piece.shape[1]
            with _rows_loop(w, R, pw):
                w.line(f"{buffers[out]}[r, {offset} + c] = {reads[piece]('r', 'c')}")
            offset += pw
        return
    if n.op in ("dot", "fused_dot"):
        x, mtx = n.inputs[:2]
        kdim = mtx.shape[0] if mtx.shape[0] is not None else x.shape[1]
        with _rows_loop(w, R, u):
            w.line(f"acc = np.{n.out_types[0].dtype}(0)" if n.op == "dot" else
                   f"acc = np.{n.inputs[0].dtype}(0)")
            w.line(f"for q in range({kdim}):")
            with w.indent():
                w.line(f"acc += {reads[x]('r', 'q')} * {reads[mtx]('q', 'c')}")
            if n.op == "dot":
                w.line(f"{buffers[out]}[r, c] = acc")
            else:
                body = Body.of_graph(n.attrs["body"])
                names = {body.inputs[0]: "acc"}
                for b_in, t in zip(body.inputs[1:], n.inputs[2:]):
                    names[b_in] = _bcast_read(reads, t, u)
                (res,) = body.emit(w, names)
                w.line(f"{buffers[out]}[r, c] = {res}")
        return
    # elementwise (plain or fused)
    if n.op == "fused_elementwise":
        body = Body.of_graph(n.attrs["body"])
        operands = list(n.inputs)
    else:
        body = Body(list(n.inputs), [n], n.outputs)
        operands = list(n.inputs)
    with _rows_loop(w, R, u):
        names = {b_in: _bcast_read(reads, t, u) for b_in, t in zip(body.inputs, operands)}
        results = body.emit(w, names)
        for o, res in zip(n.outputs, results):
            w.line(f"{buffers[o]}[r, c] = {res}")


def _bcast_read(reads, t, u):
    """Read ``t`` at (r, c) broadcast against a (rows, u) iteration space."""
    if t.ndim == 0:
        return reads[t]("r", "0")
    last = t.shape[-1]
    col = "0" if (last == 1 and u != 1) else "c"
    return reads[t]("r", col)
