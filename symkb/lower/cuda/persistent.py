"""The ``loop`` node as one persistent kernel: the whole time loop in one launch.

One block owns a slice of ``rows`` batch rows. Every body value of a step
lives in shared memory as a ``(rows, width)`` array, the states and the
previous outputs too, and the 2-D constants the body multiplies by (the
recurrent kernels) are staged in shared memory once when they fit. Each
body node becomes one *stage* (the block's threads stride over its
``rows * width`` elements) followed by ``cuda.syncthreads()``; after the
body, a commit stage applies the mask, records the output and, after a
barrier, overwrites the states.

:class:`PersistentPlan` decides eligibility: rank-2 ``(batch, width)`` body
values with static widths, built from elementwise ops (plain or fused),
products with a constant matrix (``dot``/``fused_dot``), last-axis slices
and last-axis concatenations. The recurrent layers' cells qualify.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ...ir.ops.loop import split_operands
from . import adapter
from .elementwise import Body, is_elementwise
from .program import Step, size_of
from .scalar import lit
from .source import KERNEL, SourceWriter

_STAGE_OPS = ("dot", "fused_dot", "getitem", "concatenate")


class PersistentPlan:
    """Whether and how a loop body runs as one persistent kernel."""

    def __init__(self, node):
        self.node = node
        a = node.attrs
        self.body = a["body"]
        self.no = a.get("num_outputs", 1)
        self.seqs, self.states, self.consts, self.mask = split_operands(node.inputs, **a)
        g = adapter.geometry()
        self.rows = 2
        self.threads = g.loop_threads
        self.max_shared = g.persistent_max_shared
        self.shared_weights = []

    @staticmethod
    def why(node):
        try:
            PersistentPlan._check(node)
        except _NotEligible as exc:
            return str(exc)
        return "its shared-memory footprint is too large"

    @staticmethod
    def build(node):
        try:
            PersistentPlan._check(node)
        except _NotEligible:
            return None
        plan = PersistentPlan(node)
        plan._layout()
        return plan

    @staticmethod
    def _check(node):
        a = node.attrs
        body = a["body"]
        seqs, states, consts, mask = split_operands(node.inputs, **a)
        n_x = len(seqs)
        const_inputs = set(body.inputs[n_x + len(states):])
        for t in list(body.inputs[:n_x + len(states)]):
            if t.ndim != 2 or t.shape[1] is None:
                raise _NotEligible(f"body input {t.name} is not (batch, width) with a static width")
        for node_ in body.nodes:
            if node_.op in ("input", "const"):
                if node_.op == "const" and np.asarray(node_.attrs["value"]).size != 1:
                    raise _NotEligible("the body holds an array constant")
                continue
            for o in node_.outputs:
                if o.ndim != 2 or o.shape[1] is None:
                    raise _NotEligible(f"body value of type {o.type} (op {node_.op}) is not "
                                       "(batch, width) with a static width")
            if is_elementwise(node_):
                continue
            if node_.op in ("dot", "fused_dot"):
                w = node_.inputs[1]
                if w not in const_inputs or w.ndim != 2:
                    raise _NotEligible(f"{node_.op} by a non-constant or non-2-D matrix")
                continue
            if node_.op == "getitem":
                items = node_.attrs["index"]
                if len(items) != 2 or items[0] != ("slice", None, None, None) or \
                        items[1][0] != "slice":
                    raise _NotEligible("getitem other than x[:, a:b:c]")
                continue
            if node_.op == "concatenate" and node_.attrs["axis"] == 1:
                continue
            raise _NotEligible(f"body op {node_.op!r}")
        for o in body.outputs:
            if o.ndim != 2:
                raise _NotEligible("body output of rank != 2")
        for c in consts:
            if c.ndim > 2:
                raise _NotEligible("a constant of rank > 2")

    def _layout(self):
        body = self.body
        n_x, n_s = len(self.seqs), len(self.states)
        self.const_inputs = list(body.inputs[n_x + n_s:])
        matrices = []
        for n in body.nodes:
            if n.op in ("dot", "fused_dot") and n.inputs[1] not in matrices:
                matrices.append(n.inputs[1])
        values = [o for n in body.nodes if n.op not in ("input", "const") for o in n.outputs]
        values += list(body.inputs[n_x:n_x + n_s]) + list(body.outputs[:self.no])
        per_row = sum(o.shape[1] * np.dtype(o.dtype).itemsize for o in values)
        self.values_bytes = per_row * self.rows
        budget = self.max_shared - self.values_bytes
        for mtx in matrices:
            size = size_of(mtx.shape) * np.dtype(mtx.dtype).itemsize
            if mtx.shape[0] is not None and mtx.shape[1] is not None and size <= budget:
                self.shared_weights.append(mtx)
                budget -= size
        self.matrices = matrices

    def small(self) -> bool:
        return self.values_bytes <= self.max_shared and \
            len(self.shared_weights) == len(self.matrices)


class _NotEligible(Exception):
    pass


def lower_persistent(low, node, plan: PersistentPlan):
    a = node.attrs
    body = plan.body
    no = plan.no
    seqs, states, consts, mask = plan.seqs, plan.states, plan.consts, plan.mask
    n_x, n_s = len(seqs), len(states)
    text = {}

    def build(name):
        text[name] = _build_persistent(name, plan, a)
        return text[name]

    kname = low.kernel(low.base_name(node, "loop_persistent"), build, node)
    module = low.module
    time_major = a["time_major"]
    all_out = a["return_all_outputs"]
    out_types = [t.type for t in body.outputs[:no]]

    def run(env):
        xs = [env[s] for s in seqs]
        shape0 = tuple(xs[0].shape)
        T, B = (shape0[0], shape0[1]) if time_major else (shape0[1], shape0[0])
        if T == 0:
            raise ValueError("loop: cannot iterate over zero time steps")
        n_rec = T if all_out else 1
        lasts = [adapter.empty((B, t.shape[1]), t.dtype) for t in out_types]
        seq_outs = [adapter.empty((n_rec, B, t.shape[1]) if time_major else
                                  (B, n_rec, t.shape[1]), t.dtype) for t in out_types]
        finals = [adapter.empty(tuple(env[s].shape), s.dtype) for s in states]
        args = [adapter.flat(x) for x in xs] + [adapter.flat(env[s]) for s in states]
        args += [adapter.flat(env[c]) for c in consts]
        if mask is not None:
            args.append(adapter.flat(env[mask]))
        args += [adapter.flat(o) for o in lasts + seq_outs + finals] + [B, T]
        blocks = (B + plan.rows - 1) // plan.rows
        adapter.launch(module[kname], blocks, plan.threads, *args)
        outs = lasts + seq_outs + finals
        for t_, o in zip(node.outputs, outs):
            env[t_] = o
    low.steps.append(Step(run, tuple(node.inputs), "loop (persistent)"))


def _build_persistent(name, plan, attrs):
    body = plan.body
    no = plan.no
    seqs, states, consts = plan.seqs, plan.states, plan.consts
    n_x, n_s = len(seqs), len(states)
    R = plan.rows
    time_major = attrs["time_major"]
    backwards = attrs["go_backwards"]
    zero_out = attrs["zero_output_for_mask"]
    all_out = attrs["return_all_outputs"]
    has_mask = attrs["has_mask"]
    x_in = list(body.inputs[:n_x])
    s_in = list(body.inputs[n_x:n_x + n_s])
    c_in = list(body.inputs[n_x + n_s:])

    params = [f"seq{i}" for i in range(n_x)] + [f"init{i}" for i in range(n_s)]
    params += [f"const{i}" for i in range(len(c_in))] + (["mask"] if has_mask else [])
    params += [f"last{i}" for i in range(no)] + [f"outseq{i}" for i in range(no)]
    params += [f"final{i}" for i in range(n_s)] + ["B", "T"]
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(params)}):")
    reads = {}      # body tensor -> fn(r, c) -> expression
    with w.indent():
        w.line("tid = cuda.threadIdx.x")
        w.line("nt = cuda.blockDim.x")
        w.line(f"b0 = cuda.blockIdx.x * {R}")
        # shared buffers: states, previous outputs, every body value, staged weights
        for i, s in enumerate(s_in):
            w.line(f"st{i} = cuda.shared.array(({R}, {s.shape[1]}), dtype=np.{s.dtype})")
            reads[s] = (lambda r, c, i=i: f"st{i}[{r}, {c}]")
        for i, o in enumerate(body.outputs[:no]):
            w.line(f"prev{i} = cuda.shared.array(({R}, {o.shape[1]}), dtype=np.{o.dtype})")
        for i, cst in enumerate(c_in):
            if cst in plan.shared_weights:
                k_, n_ = cst.shape
                w.line(f"wsh{i} = cuda.shared.array(({k_}, {n_}), dtype=np.{cst.dtype})")
                reads[cst] = (lambda r, c, i=i: f"wsh{i}[{r}, {c}]")
            elif cst.ndim == 2 and cst.shape[0] not in (1,):
                n_ = cst.shape[1]
                if cst in plan.matrices:
                    reads[cst] = (lambda r, c, i=i, n_=n_: f"const{i}[({r}) * {n_} + {c}]")
                else:   # a per-batch constant (batch, width)
                    reads[cst] = (lambda r, c, i=i, n_=n_:
                                  f"const{i}[rb * {n_} + {c}]")
            elif size_of([d or 2 for d in cst.shape]) == 1 or cst.ndim == 0:
                reads[cst] = (lambda r, c, i=i: f"const{i}[0]")
            else:
                reads[cst] = (lambda r, c, i=i: f"const{i}[{c}]")
        vid = 0
        buffers = {}
        for n in body.nodes:
            if n.op in ("input", "const"):
                continue
            for o in n.outputs:
                w.line(f"val{vid} = cuda.shared.array(({R}, {o.shape[1]}), dtype=np.{o.dtype})")
                buffers[o] = f"val{vid}"
                reads[o] = (lambda r, c, v=f"val{vid}": f"{v}[{r}, {c}]")
                vid += 1
        for i, x in enumerate(x_in):
            f_ = x.shape[1]
            if time_major:
                reads[x] = (lambda r, c, i=i, f_=f_:
                            f"seq{i}[(t * B + rb) * {f_} + {c}]")
            else:
                reads[x] = (lambda r, c, i=i, f_=f_:
                            f"seq{i}[(rb * T + t) * {f_} + {c}]")
        # stage weights and initial states
        for i, cst in enumerate(c_in):
            if cst in plan.shared_weights:
                k_, n_ = cst.shape
                w.line(f"for e in range(tid, {k_ * n_}, nt):")
                with w.indent():
                    w.line(f"wsh{i}[e // {n_}, e % {n_}] = const{i}[e]")
        for i, s in enumerate(s_in):
            u = s.shape[1]
            with _rows_loop(w, R, u):
                w.line(f"st{i}[r, c] = init{i}[(b0 + r) * {u} + c] if b0 + r < B else "
                       f"{lit(0, s.dtype)}")
        for i, o in enumerate(body.outputs[:no]):
            with _rows_loop(w, R, o.shape[1]):
                w.line(f"prev{i}[r, c] = {lit(0, o.dtype)}")
        w.line("cuda.syncthreads()")
        w.line("for k in range(T):")
        with w.indent():
            w.line("t = T - 1 - k" if backwards else "t = k")
            for n in body.nodes:
                if n.op in ("input", "const"):
                    continue
                w.line(f"# {n.op}")
                _emit_stage(w, n, reads, buffers, R)
                w.line("cuda.syncthreads()")
            # commit: masks, outputs, states
            outs = body.outputs[:no]
            news = body.outputs[no:]
            for i, o in enumerate(outs):
                width = o.shape[1]
                with _rows_loop(w, R, width):
                    w.line("b = b0 + r")
                    w.line("if b < B:")
                    with w.indent():
                        val = reads[o]("r", "c")
                        if has_mask:
                            m = "mask[t * B + b]" if time_major else "mask[b * T + t]"
                            fill = lit(0, o.dtype) if zero_out else f"prev{i}[r, c]"
                            w.line(f"o = {val} if {m} else {fill}")
                        else:
                            w.line(f"o = {val}")
                        pos = "k" if all_out else "0"
                        n_rec = "T" if all_out else "1"
                        if time_major:
                            w.line(f"outseq{i}[({pos} * B + b) * {width} + c] = o")
                        else:
                            w.line(f"outseq{i}[(b * {n_rec} + {pos}) * {width} + c] = o")
                        w.line(f"last{i}[b * {width} + c] = o")
                    w.line("else:")
                    with w.indent():
                        w.line(f"o = {lit(0, o.dtype)}")
                    w.line(f"prev{i}[r, c] = o")
            # every stage has read the states (barrier above): now overwrite them
            if news:
                w.line("cuda.syncthreads()")
                for i, (nw, s) in enumerate(zip(news, s_in)):
                    width = s.shape[1]
                    with _rows_loop(w, R, width):
                        val = reads[nw]("r", "c")
                        if has_mask:
                            w.line("b = b0 + r")
                            m = "mask[t * B + b]" if time_major else "mask[b * T + t]"
                            w.line(f"if b < B and {m}:")
                            with w.indent():
                                w.line(f"st{i}[r, c] = {val}")
                        else:
                            w.line(f"st{i}[r, c] = {val}")
            w.line("cuda.syncthreads()")
        for i, s in enumerate(s_in):
            u = s.shape[1]
            with _rows_loop(w, R, u):
                w.line("if b0 + r < B:")
                with w.indent():
                    w.line(f"final{i}[(b0 + r) * {u} + c] = st{i}[r, c]")
    return w.text()


@contextlib.contextmanager
def _rows_loop(w, rows, width):
    """A block-strided loop over the (row, column) elements of a state slice."""
    with w.block(f"for e in range(tid, {rows * width}, nt):"):
        w.line(f"r = e // {width}")
        w.line(f"c = e % {width}")
        # the batch row this element reads (rows past the batch read its last row, never stored)
        w.line("rb = b0 + r if b0 + r < B else B - 1")
        yield


def _emit_stage(w, n, reads, buffers, R):
    out = n.outputs[0]
    width = out.shape[1]
    if n.op == "getitem":
        _, start, stop, step = n.attrs["index"][1]
        src = n.inputs[0]
        s0, _, st = slice(start, stop, step).indices(src.shape[1])
        with _rows_loop(w, R, width):
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
        with _rows_loop(w, R, width):
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
                    names[b_in] = _bcast_read(reads, t, width)
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
    with _rows_loop(w, R, width):
        names = {b_in: _bcast_read(reads, t, width) for b_in, t in zip(body.inputs, operands)}
        results = body.emit(w, names)
        for o, res in zip(n.outputs, results):
            w.line(f"{buffers[o]}[r, c] = {res}")


def _bcast_read(reads, t, width):
    """Read ``t`` at (r, c) broadcast against a (rows, width) iteration space."""
    if t.ndim == 0:
        return reads[t]("r", "0")
    last = t.shape[-1]
    col = "0" if (last == 1 and width != 1) else "c"
    return reads[t]("r", col)
