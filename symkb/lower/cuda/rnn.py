"""The ``loop`` node on the device, in two strategies.

Whatever precedes the loop (the pass pipeline hoists the input projection
out of the body, so it arrives as one big ``dot`` over all time steps) is
ordinary graph code; this module runs the time loop itself:

``steps``
    A host loop over time launching the body's kernels (lowered once, like
    any graph) on device arrays: the sequences are made time-major once (one
    transpose kernel) so each ``x_t`` is a contiguous view; masked steps run
    a select kernel; each step's output is written into a preallocated
    ``(T, batch, ...)`` buffer. Nothing returns to the host between steps.

``persistent``
    One kernel launch runs the whole time loop, one block per slice of batch
    rows, recurrent weights and states in shared memory (``persistent.py``).
    Bodies it cannot express use ``steps``.

``strategy='auto'`` picks ``persistent`` when the body qualifies and its
shared-memory footprint is small (small hidden sizes), else ``steps``.
Masks, ``go_backwards``, ``zero_output_for_mask``, ``return_all_outputs``
and ``time_major`` are honoured by both.
"""
from __future__ import annotations


from ...ir.ops.loop import split_operands
from ..emitters import registrar
from . import adapter
from .movement import make_transpose
from .persistent import PersistentPlan, lower_persistent
from .program import Lowering, Step, size_of
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)


@emitter("loop")
def lower_loop(low, node):
    strategy = low.options.get("strategy", "auto")
    plan = None
    if strategy in ("auto", "persistent"):
        plan = PersistentPlan.build(node)
        if plan is not None and strategy == "auto" and not plan.small():
            plan = None
        if plan is None and strategy == "persistent":
            raise NotImplementedError(
                f"loop: strategy='persistent' cannot run this body ({PersistentPlan.why(node)}); "
                "use strategy='steps' or 'auto'")
    if plan is not None:
        return lower_persistent(low, node, plan)
    return _lower_steps(low, node)


# ---------------------------------------------------------------------------
# small helper kernels shared by the steps strategy
# ---------------------------------------------------------------------------

def _grid_stride_kernel(name, params, statement):
    """A kernel running ``statement`` for every ``i < n`` (a grid-stride loop)."""
    w = SourceWriter()
    w.line(KERNEL)
    with w.block(f"def {name}({params}):"):
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        with w.block("while i < n:"):
            w.line(statement)
            w.line("i += step")
    return w.text()


def _select_kernel(name):
    return _grid_stride_kernel(name, "out, m, a, b, n, inner",
                               "out[i] = a[i] if m[i // inner] else b[i]")


def _copy_kernel(name):
    return _grid_stride_kernel(name, "out, a, n", "out[i] = a[i]")


def _zero_kernel(name):
    return _grid_stride_kernel(name, "out, n", "out[i] = 0")


def _lower_steps(low, node):
    a = node.attrs
    body = a["body"]
    no, ns = a.get("num_outputs", 1), a["num_states"]
    seqs, states, consts, mask = split_operands(node.inputs, **a)
    time_major, backwards = a["time_major"], a["go_backwards"]
    zero_out, all_out = a["zero_output_for_mask"], a["return_all_outputs"]

    low.module.section(f"---- body of the loop below, run once per time step [{node.layer or ''}]")
    body_low = Lowering(body, low.module, options=low.options, emitters=low.emitters).lower()
    low.module.section(f"---- end of the loop body [{node.layer or ''}]")
    to_tm = [make_transpose(low, node, (1, 0) + tuple(range(2, s.ndim)), s.dtype)
             if not time_major else (lambda x: x) for s in seqs]
    mask_tm = make_transpose(low, node, (1, 0), "bool") if (mask is not None and
                                                           not time_major) else (lambda x: x)
    out_types = [t.type for t in body.outputs[:no]]
    from_tm = [make_transpose(low, node, (1, 0) + tuple(range(2, t.ndim + 1)), t.dtype)
               if not time_major else (lambda x: x) for t in out_types]
    m = low.module
    k_select = low.kernel("loop_mask_select", _select_kernel)
    k_copy = low.kernel("loop_copy", _copy_kernel)
    k_zero = low.kernel("loop_zeros", _zero_kernel)

    def copy_into(dst, src):
        n = size_of(tuple(src.shape))
        adapter.launch_1d(m[k_copy], n, adapter.flat(dst), adapter.flat(src), n)

    def zeros(shape, dtype):
        out = adapter.empty(shape, dtype)
        n = size_of(shape)
        adapter.launch_1d(m[k_zero], n, adapter.flat(out), n)
        return out

    def select(mt, a_, b_):
        out = adapter.empty(tuple(a_.shape), a_.dtype)
        n = size_of(tuple(a_.shape))
        inner = max(n // max(tuple(mt.shape)[0], 1), 1)
        adapter.launch_1d(m[k_select], n, adapter.flat(out), mt, adapter.flat(a_),
                          adapter.flat(b_), n, inner)
        return out

    def run(env):
        xs = [f(env[s]) for f, s in zip(to_tm, seqs)]
        T = tuple(xs[0].shape)[0]
        if T == 0:
            raise ValueError("loop: cannot iterate over zero time steps")
        mk = mask_tm(env[mask]) if mask is not None else None
        st = [env[s] for s in states]
        cs = [env[c] for c in consts]
        bufs, prev = None, None
        order = range(T - 1, -1, -1) if backwards else range(T)
        for k, t in enumerate(order):
            benv = dict(zip(body.inputs, [x[t] for x in xs] + st + cs))
            body_low.run(benv)
            res = [benv[o] for o in body.outputs]
            outs, new = res[:no], res[no:]
            if mk is not None:
                mt = mk[t]
                fill = [zeros(tuple(o.shape), o.dtype) for o in outs] \
                    if (prev is None or zero_out) else prev
                outs = [select(mt, o, f) for o, f in zip(outs, fill)]
                new = [select(mt, n_, s) for n_, s in zip(new, st)]
            if bufs is None:
                n_rec = T if all_out else 1
                bufs = [adapter.empty((n_rec,) + tuple(o.shape), o.dtype) for o in outs]
            for buf, o in zip(bufs, outs):
                copy_into(buf[k if all_out else 0], o)
            st, prev = list(new), outs
        for t_, o in zip(node.outputs[:no], prev):
            env[t_] = o
        for t_, buf, f in zip(node.outputs[no:2 * no], bufs, from_tm):
            env[t_] = f(buf)
        for t_, s in zip(node.outputs[2 * no:], st):
            env[t_] = s
    low.steps.append(Step(run, tuple(node.inputs), "loop (steps)"))
