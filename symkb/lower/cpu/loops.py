"""The CPU emitter of the ``loop`` node: a ``for`` over time inside the same function.

Layout of the generated code (see ``symkb/ir/ops/loop.py`` for the semantics)::

    steps = x.shape[1]                       # (time_major: x.shape[0])
    outputs = np.empty((batch, steps, units))
    h = initial_state.copy()                 # one buffer per state
    <buffers of the body's values>           # hoisted: steps allocate nothing
    for i in range(steps):
        t = steps - 1 - i                    # go_backwards; else t = i
        <body: per-step products np.dot(h, U, buf) and fused gate loops>
        <record out_t into outputs[:, i]; masked rows keep the previous output
         (or zeros) and the previous states>
        <copy the new states into the state buffers>
    last_output = outputs[:, -1]

When the whole graph keeps the batch rows apart (``rows.py``) and every
product in it runs on symkb's own code, the function is compiled with
``nogil=True`` and the executable runs it on blocks of rows, one a thread
(``row_split``). The products then stay on the calling thread
(``gemm_serial``), and a hoisted input projection read by the loop alone is
computed a step at a time into a small buffer (``step_projections``)::

    lstm_projection = np.empty((batch, 512), dtype=np.float32)
    for i in range(steps):
        t = i
        gemm_serial(x[:, t], lstm_kernel_panels, lstm_projection)
        <the step>

A step slice ``x[:, t]`` read only by fused loops is not copied: their element
reads index the sequence directly (``xp[i0, t, i1]``), so the hoisted input
projection is read in place.

Without a mask, a new state computed by a fused loop (``fused_elementwise``,
or the epilogue of a ``fused_dot``) is written straight into its state buffer
when that is safe (see :func:`_in_place_states`), and a step output computed
by one is also stored into ``outputs[:, i]`` from that loop: the step then
copies nothing.
"""
from __future__ import annotations

from ...ir.ops.loop import split_operands
from ..emitters import registrar
from ..errors import Unsupported
from . import gemm
from .elementwise import emit_body, packable, panels_for, small_product, small_weight
from .rows import graph_row_separable
from .scalar import lit, np_type
from ..writer import SourceWriter

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)


def _only_elementwise_readers(body, t) -> bool:
    for node in body.nodes:
        for i, u in enumerate(node.inputs):
            if u is not t:
                continue
            if node.op in ("fused_elementwise", "getitem") or (node.op == "fused_dot" and i >= 2):
                continue
            return False
    return t not in body.outputs


_FUSED = ("fused_elementwise", "fused_dot")
_EAGER = _FUSED + ("dot",)  # ops that read their operands when they run


def _reads_in_place(node, i, ph, value) -> bool:
    """Whether ``node`` reading ``ph`` as operand ``i`` allows ``value`` (a result
    of ``node``) to overwrite ``ph`` from ``node``'s own loop nest."""
    same = ph.type.shape == value.type.shape
    if node.op == "fused_elementwise":
        return same
    # fused_dot: the product is computed before the epilogue writes.
    return i == 0 or (i >= 2 and same)


def _in_place_states(body, nseq, ns, no) -> dict:
    """``new state value -> k``: the states whose new value may be written into
    state buffer ``k`` by the node computing it. Safe when the value comes from
    a fused node of the body and every read of the old state is by a fused
    node or product emitted before it, or by that node at the very element it
    writes; a state returned as a value is never overwritten."""
    position = {n: p for p, n in enumerate(body.nodes)}
    out = {}
    for k in range(ns):
        ph = body.inputs[nseq + k]
        value = body.outputs[no + k]
        node = value.node
        if node.op not in _FUSED or node not in position or value in out \
                or ph in body.outputs:
            continue
        ok = True
        for reader in body.nodes:
            for i, u in enumerate(reader.inputs):
                if u is not ph:
                    continue
                if reader is node:
                    ok = ok and _reads_in_place(reader, i, ph, value)
                else:
                    ok = ok and reader.op in _EAGER and position[reader] < position[node]
        if ok:
            out[value] = k
    return out


def _insert(idx, pos, value):
    idx = list(idx)
    idx.insert(pos, value)
    return idx


def _own_product(node) -> bool:
    """Whether a per-step product runs on symkb's own code, not on a BLAS call
    (a multi-threaded BLAS inside each row block would oversubscribe the cores)."""
    x, w = node.inputs[:2]
    if w.ndim != 2:
        return False
    return small_product(x, w) or packable(x, w, node.outputs[0].dtype)


def _products(graph):
    for node in graph.nodes:
        if node.op in ("dot", "fused_dot"):
            yield node
        if node.op == "loop":
            yield from _products(node.attrs["body"])


def row_split(graph):
    """For each result of ``graph``, whether it is row-wise, when the executable
    runs the function on blocks of rows (module docstring); None when it runs
    whole. Taken for graphs with a time loop that keep the batch rows apart
    (``rows.py``) and whose products all run on symkb's own code."""
    if not any(node.op == "loop" for node in graph.nodes):
        return None
    if not all(_own_product(node) for node in _products(graph)):
        return None
    return graph_row_separable(graph)


def _seq_dims(cg, s) -> list:
    if s in cg.sunk:  # not computed as a whole: its dims are those of the product
        x, w = cg.sunk[s].inputs[:2]
        return list(cg.dims(x))[:-1] + [w.shape[1]]
    return cg.dims(s)


def step_projections(graph, users) -> dict:
    """``sequence -> dot or fused_dot node`` for the input projections a loop
    computes a step at a time instead of reading a hoisted (batch, time, n)
    array; called when the function runs on row blocks (``row_split``).

    In a row block each thread already runs its own products, as efficiently
    per core as one large product split across the threads; computing
    ``x[rows, t] @ W`` at each step into a small buffer saves writing, paging in
    and reading back the whole projected sequence (52 MB for a batch of 128,
    50 steps and 2048 gate columns). Taken: a float32 product of a rank-3 value
    and a 2-D weight that ``gemm.py`` takes with a multiple of 16 columns (and
    not small: a small projection costs little to hoist), read by that loop
    alone. A ``fused_dot``'s epilogue (the bias add) then runs on the step's
    buffer, and its other operands must be vectors (the same at every step and
    row).
    """
    out = {}
    for node in graph.nodes:
        if node.op != "loop" or node.attrs["time_major"]:
            continue
        seqs = node.inputs[:node.attrs["num_sequences"]]
        for s in seqs:
            prod = s.node
            if prod.op not in ("dot", "fused_dot") or len(users.get(s, ())) != 1:
                continue
            x, w, *rest = prod.inputs
            if (x.ndim == 3 and w.node.op in ("param", "const") and packable(x, w, s.dtype)
                    and gemm.padded(w.shape[1]) == w.shape[1] and not small_weight(w)
                    and all(t.ndim <= 1 for t in rest)
                    and (prod.op == "dot" or prod.attrs["body"].inputs[0].dtype == s.dtype)):
                out[s] = prod
    return out


def _step_projection(cg, prod, step, batch, base) -> str:
    """The buffer holding ``prod`` (a ``step_projections`` node) at this step:
    ``x[:, t] @ W`` into it, then a ``fused_dot``'s epilogue in place."""
    x, wt, *rest = prod.inputs
    panels = panels_for(cg, wt)
    buf = cg.fresh(f"{base}_projection")
    n = wt.shape[1]
    cg.hoist.line(f"{buf} = np.empty(({batch}, {n}), dtype=np.float32)")
    cg.w.line(f"gemm_serial({step}, {panels}, {buf})")
    if prod.op == "fused_dot":
        idx, close = cg.w.loop_nest([batch, n])
        where = f"{buf}[{', '.join(idx)}]"
        operands = [where] + [cg.elem(t, idx, 2) for t in rest]
        emit_body(cg, prod.attrs["body"], operands, [where])
        close()
    return buf


@emitter("loop")
def emit_loop(cg, node) -> None:
    a = node.attrs
    body = a["body"]
    seqs, states, consts, mask = split_operands(node.inputs, **a)
    no, ns = a.get("num_outputs", 1), len(states)
    time_major = a["time_major"]
    t_axis, b_axis = (0, 1) if time_major else (1, 0)
    w = cg.w
    base = node.layer or "loop"
    steps = cg.fresh(f"{base}_steps")
    if cg.in_loop:
        cg.loop_local.add(steps)  # a nested loop: its buffers live in the outer step
    w.line(f"{steps} = {_seq_dims(cg, seqs[0])[t_axis]}")
    with w.block(f"if {steps} == 0:"):
        w.line("raise ValueError('loop: cannot iterate over zero time steps')")
    batch = _seq_dims(cg, seqs[0])[b_axis]
    last_outs, seq_outs, finals = (node.outputs[:no], node.outputs[no:2 * no],
                                   node.outputs[2 * no:])
    # Result buffers.
    out_bufs = []
    for t in seq_outs:
        step_dims = [batch] + [d if d is not None else "-1" for d in body.outputs[len(out_bufs)]
                               .shape[1:]]
        if "-1" in map(str, step_dims[1:]):
            raise Unsupported("cpu codegen: loop outputs with unknown feature dims")
        n = steps if a["return_all_outputs"] else 1
        dims = _insert(step_dims, t_axis, n)
        out_bufs.append(cg.alloc(t, dims, name=cg.fresh(f"{base}_outputs")))
    state_bufs = []
    for s in states:
        name = cg.fresh(f"{base}_state")
        w.line(f"{name} = {cg.name(s)}.copy()")
        state_bufs.append(name)
    prev_bufs = []
    if mask is not None and not a["zero_output_for_mask"]:
        for o in body.outputs[:no]:
            name = cg.fresh(f"{base}_prev")
            dims = [batch] + [d if d is not None else -1 for d in o.shape[1:]]
            w.line(f"{name} = np.zeros({cg.shape_text(dims)}, dtype={np_type(o.dtype)})")
            prev_bufs.append(name)
    mname = cg.name(mask) if mask is not None else None
    seq_names = [None if s in cg.sunk else cg.name(s) for s in seqs]
    # Body inputs.
    i_var, t_var = cg.fresh("i"), cg.fresh("t")
    inner = SourceWriter(w.level + 1)
    saved = cg.w, cg.hoist, cg.pack_hoist
    cg.hoist, cg.w, cg.pack_hoist = w, inner, w
    cg.in_loop += 1
    nseq = a["num_sequences"]
    if a["go_backwards"]:
        inner.line(f"{t_var} = {steps} - 1 - {i_var}")
    else:
        inner.line(f"{t_var} = {i_var}")
    for ph, seq, sname in zip(body.inputs[:nseq], seqs, seq_names):
        if sname is None:  # a projection computed here, a step at a time
            prod = cg.sunk[seq]
            buf = _step_projection(cg, prod, f"{cg.name(prod.inputs[0])}[:, {t_var}]", batch,
                                   base)
            cg.bind(ph, buf, [batch, prod.inputs[1].shape[1]])
            continue
        sdims = list(_seq_dims(cg, seq))
        sdims[b_axis] = batch
        step_dims = [d for k, d in enumerate(sdims) if k != t_axis]
        if _only_elementwise_readers(body, ph):
            cg.elem_fns[ph] = (lambda idx, sname=sname:
                               f"{sname}[{', '.join(_insert(idx, t_axis, t_var))}]")
            cg.bind(ph, f"{sname}[{t_var}]" if time_major else f"{sname}[:, {t_var}]", step_dims)
        else:
            name = cg.fresh(f"{sname}_t")
            if time_major:
                inner.line(f"{name} = {sname}[{t_var}]")
            else:
                inner.line(f"{name} = np.ascontiguousarray({sname}[:, {t_var}])")
            cg.bind(ph, name, step_dims)
    for ph, s, buf in zip(body.inputs[nseq:nseq + ns], states, state_bufs):
        cg.bind(ph, buf, [batch] + list(cg.dims(s))[1:])
    for ph, c in zip(body.inputs[nseq + ns:], consts):
        cg.bind(ph, cg.name(c), cg.dims(c))
        cg.invariant.add(ph)
        if c in cg.elem_fns:
            cg.elem_fns[ph] = cg.elem_fns[c]
    # The step: new states straight into their buffers, outputs stored from
    # the loops that compute them, where that is safe.
    direct = mask is None
    if direct:
        for value, k in _in_place_states(body, nseq, ns, no).items():
            cg.targets[value] = state_bufs[k]
        col = "0" if not a["return_all_outputs"] else i_var
        for o, buf in zip(body.outputs[:no], out_bufs):
            if o.node.op in _FUSED and o.ndim >= 1:
                cg.extra_stores.setdefault(o, []).append(
                    lambda idx, buf=buf: f"{buf}[{', '.join(_insert(idx, t_axis, col))}]")
    cg.emit_nodes(body)
    new_vals = [cg.name(t) for t in body.outputs]
    state_inputs = set(body.inputs[nseq:nseq + ns])
    if any(t in state_inputs for t in body.outputs[no:]) and ns > 1:
        # a state returned as another state: copy before overwriting buffers.
        new_vals = new_vals[:no] + [f"{v}.copy()" for v in new_vals[no:]]
    col = "0" if not a["return_all_outputs"] else i_var
    out_t, new_t = body.outputs[:no], body.outputs[no:]
    b = cg.fresh("b")
    # Nothing is left to copy when the step's loops stored everything already.
    copies = (mname is not None or any(o not in cg.stored for o in out_t)
              or any(v != buf for v, buf in zip(new_vals[no:], state_bufs)))
    if copies:
        with inner.block(f"for {b} in range({batch}):"):
            if mname is not None:
                m = f"{mname}[{t_var}, {b}]" if time_major else f"{mname}[{b}, {t_var}]"
                inner.line(f"keep = {m}")
            for k, (o, buf) in enumerate(zip(out_t, out_bufs)):
                if o in cg.stored:
                    continue
                rest = [cg.fresh(f"j{d}") for d in range(1, o.ndim)]
                blocks = [inner.block(f"for {v} in range({d}):")
                          for v, d in zip(rest, cg.dims(o)[1:])]
                for blk in blocks:
                    blk.__enter__()
                src = f"{new_vals[k]}[{', '.join([b] + rest)}]"
                dst = f"{buf}[{', '.join(_insert([b] + rest, t_axis, col))}]"
                if mname is None:
                    inner.line(f"{dst} = {src}")
                else:
                    fill = (f"{prev_bufs[k]}[{', '.join([b] + rest)}]" if prev_bufs
                            else lit(0, o.dtype))
                    inner.line(f"v = {src} if keep else {fill}")
                    inner.line(f"{dst} = v")
                    if prev_bufs:
                        inner.line(f"{prev_bufs[k]}[{', '.join([b] + rest)}] = v")
                for blk in reversed(blocks):
                    blk.__exit__(None, None, None)
            for k, (s, buf) in enumerate(zip(new_t, state_bufs)):
                src = new_vals[no + k]
                if src == buf:
                    continue
                rest = [cg.fresh(f"j{d}") for d in range(1, s.ndim)]
                blocks = [inner.block(f"for {v} in range({d}):")
                          for v, d in zip(rest, cg.dims(states[k])[1:])]
                for blk in blocks:
                    blk.__enter__()
                ix = ", ".join([b] + rest)
                if mname is None:
                    inner.line(f"{buf}[{ix}] = {src}[{ix}]")
                else:
                    with inner.block("if keep:"):
                        inner.line(f"{buf}[{ix}] = {src}[{ix}]")
                for blk in reversed(blocks):
                    blk.__exit__(None, None, None)
    cg.in_loop -= 1
    cg.w, cg.hoist, cg.pack_hoist = saved
    w.line(f"for {i_var} in range({steps}):")
    w.lines.extend(inner.lines)  # written one level deeper already
    # Results after the loop.
    for t, buf, o in zip(last_outs, out_bufs, body.outputs[:no]):
        if not cg.users.get(t):
            continue  # nobody reads the last output
        name = cg.fresh(f"{base}_last")
        sl = f"{buf}[-1]" if time_major else f"{buf}[:, -1]"
        w.line(f"{name} = np.ascontiguousarray({sl})")
        cg.bind(t, name, [batch] + list(o.shape[1:]))
    for t, buf, s in zip(finals, state_bufs, states):
        cg.bind(t, buf, cg.dims(s))
