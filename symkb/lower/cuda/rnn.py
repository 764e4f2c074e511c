"""The recurrence on the device: the canonical ``scan`` node, in two strategies.

The cuda target lowers only the canonical loop: batch-major sequences, an
optional ``reverse``, no mask. A raw ``loop`` node (a graph compiled with
``passes=[]``) is first rewritten by ``canonicalize_loops`` into plain nodes
and a ``scan`` (a legalisation, like a decomposition), so masks,
``go_backwards``, ``time_major`` and ``return_all_outputs`` are ordinary graph
code here (selects in the body, transposes and reversals around it).

Whatever precedes the scan (the pass pipeline hoists the input projection
out of the body, so it arrives as one big ``dot`` over all time steps) is
ordinary graph code; this module runs the time loop itself:

``steps``
    A host loop over time launching the body's kernels (lowered once, like
    any graph) on device arrays: the sequences are made time-major once (one
    transpose kernel) so each ``x_t`` is a contiguous view; each step's output
    is copied into a ``(T, batch, ...)`` buffer at its time position, made
    batch-major again at the end. Nothing returns to the host between steps.

``persistent``
    One kernel launch runs the whole time loop, one block per slice of batch
    rows, recurrent weights and states in shared memory (``persistent.py``).
    Bodies it cannot express use ``steps``.

``strategy='auto'`` picks ``persistent`` when the body qualifies and a
step's values fit in shared memory (recurrent weights that do not fit beside
them are read from global memory), else ``steps``: on an H200 the LSTM of W2
ran in 8.0 ms persistent with its weights in global memory against 285 ms
as per-step launches, the GRU of W5 in 7.5 against 182. A
reverse scan visits ``t = T - 1 - i`` and stores in time order in both. A
stacked output nobody reads is neither allocated nor stored.
"""
from __future__ import annotations

from ..emitters import registrar
from . import adapter
from .movement import make_transpose
from .persistent import PersistentPlan, lower_persistent
from .persistent_plan import result_used, scan_groups
from .program import Lowering, Step, size_of
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)


@emitter("loop")
def lower_loop(low, node):
    """A raw loop: rewritten into its canonical form (plain nodes and a scan), then lowered."""
    from ...ir.ops.canonical import canonical_loop
    low.decompose(node, list(canonical_loop(node.inputs, node.attrs, name=node.name,
                                            layer=node.layer)))


@emitter("scan")
def lower_scan(low, node):
    strategy = low.options.get("strategy", "auto")
    plan = None
    if strategy in ("auto", "persistent"):
        plan = PersistentPlan.build(node)
        if plan is not None and strategy == "auto" and not plan.fits():
            plan = None
        if plan is None and strategy == "persistent":
            raise NotImplementedError(
                f"{node.op}: strategy='persistent' cannot run this body "
                f"({PersistentPlan.why(node)}); use strategy='steps' or 'auto'")
    if plan is not None:
        return lower_persistent(low, node, plan)
    return _lower_steps(low, node)


def _copy_kernel(name):
    """A kernel copying ``n`` elements (a grid-stride loop)."""
    w = SourceWriter()
    w.line(KERNEL)
    with w.block(f"def {name}(out, a, n):"):
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        with w.block("while i < n:"):
            w.line("out[i] = a[i]")
            w.line("i += step")
    return w.text()


def _swap_01(ndim):
    """The permutation exchanging the batch and time axes of a rank-``ndim`` array."""
    return (1, 0) + tuple(range(2, ndim))


def _lower_steps(low, node):
    a = node.attrs
    body, no, reverse = a["body"], a["num_outputs"], a["reverse"]
    seqs, states, consts = scan_groups(node)
    low.module.section(f"---- body of the loop below, run once per time step [{node.layer or ''}]")
    body_low = Lowering(body, low.module, options=low.options, emitters=low.emitters).lower()
    low.module.section(f"---- end of the loop body [{node.layer or ''}]")
    to_tm = [make_transpose(low, node, _swap_01(s.ndim), s.dtype) for s in seqs]
    stored = [result_used(low, t) for t in node.outputs[no:2 * no]]
    from_tm = [make_transpose(low, node, _swap_01(t.ndim + 1), t.dtype) if keep else None
               for t, keep in zip(body.outputs[:no], stored)]
    copy_name = low.kernel("loop_copy", _copy_kernel)
    m = low.module

    def copy_into(dst, src):
        n = size_of(tuple(src.shape))
        adapter.launch_1d(m[copy_name], n, adapter.flat(dst), adapter.flat(src), n)

    def run(env):
        xs = [f(env[s]) for f, s in zip(to_tm, seqs)]
        T = tuple(xs[0].shape)[0]
        if T == 0:
            raise ValueError(f"{node.op}: cannot iterate over zero time steps")
        st, cs = [env[s] for s in states], [env[c] for c in consts]
        bufs, outs = None, None
        for i in range(T):
            t = T - 1 - i if reverse else i
            benv = dict(zip(body.inputs, [x[t] for x in xs] + st + cs))
            body_low.run(benv)
            res = [benv[o] for o in body.outputs]
            outs, st = res[:no], res[no:]
            if bufs is None:
                bufs = [adapter.empty((T,) + tuple(o.shape), o.dtype) if keep else None
                        for o, keep in zip(outs, stored)]
            for buf, o in zip(bufs, outs):
                if buf is not None:
                    copy_into(buf[t], o)
        env.update(zip(node.outputs[:no], outs))
        for t_, buf, f in zip(node.outputs[no:2 * no], bufs, from_tm):
            if buf is not None:
                env[t_] = f(buf)
        env.update(zip(node.outputs[2 * no:], st))
    low.steps.append(Step(run, tuple(node.inputs), "scan (steps)"))
