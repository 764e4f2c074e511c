"""The CPU emitter of the ``scan`` node: a ``for`` over time inside the same function.

Only the canonical loop reaches this module (``symkb/ir/ops/scan.py``): the
``canonicalize_loops`` pass (or, for a graph compiled with ``passes=[]``,
the target itself) has already turned a ``loop``'s mask, ``go_backwards``,
``time_major`` and ``return_all_outputs`` into ordinary nodes. Layout of the
generated code::

    steps = x.shape[1]
    outputs = empty((batch, steps, units), np.float32)   # only when something reads it
    h = initial_state.copy()                    # one buffer per state
    <buffers of the body's values>              # hoisted: steps allocate nothing
    for i in range(steps):
        t = steps - 1 - i                       # reverse; else t = i
        <body: per-step products np.dot(h, U, buf) and fused gate loops>
        <outputs[:, t] = out_t; the new states into the state buffers>
    last_output = outputs[:, -1]                # (reverse: outputs[:, 0])

A stacked output nobody reads is neither allocated nor stored; a last output
read on its own then has a ``(batch, units)`` buffer written at every step.

When the whole graph keeps the batch rows apart (``rows.py``) and every
product in it runs on symkb's own code, the function is compiled with
``nogil=True`` and the executable runs it on blocks of rows, one a thread
(``row_split``). The products then stay on the calling thread
(``gemm_serial``), and a hoisted input projection read by the loop alone is
computed a step at a time into a small buffer (``step_projections``)::

    lstm_projection = empty((batch, 512), np.float32)
    for i in range(steps):
        t = i
        gemm_serial(x[:, t], lstm_kernel_panels, lstm_projection)
        <the step>

A step slice ``x[:, t]`` read only by fused loops is not copied: their element
reads index the sequence directly (``xp[i0, t, i1]``), so the hoisted input
projection (and a mask sequence) is read in place.

A new state computed by a fused loop (``fused_elementwise``, or the epilogue
of a ``fused_dot``) is written straight into its state buffer when that is
safe (see :func:`_in_place_states`), and a step output computed by one is
also stored into ``outputs[:, t]`` from that loop: the step then copies
nothing. That holds for at most ``STORES_IN_LOOP`` such step outputs: a step
with more (the forward scan of a gradient, saving its gate activations as
residuals) copies them all after its loops. Each extra array a loop writes
is one more pair of run-time overlap checks that LLVM must emit before it
vectorises the loop; past a few it does not vectorise it at all, and the LSTM
step saving six activations ran 1.8 times slower than the same step copying
them afterwards. Three copies or more are calls of ``runtime.store_step`` and
``store_rows``, compiled once (a copy loop written in place is a loop nest to
compile: the ten of an LSTM gradient's forward step cost 0.5 s cold); fewer
are loops, in one pass over the rows. The body is emitted in a
:class:`~.scope.LoopScope` of its own that carries those proposals to the
emitters.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager

from ...ir.ops.loop import split_operands
from ..emitters import registrar
from ..errors import Unsupported
from .elementwise import emit_body, packable, panels_for, small_product, small_weight
from .rows import graph_row_separable
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
STORES_IN_LOOP = 2  # step outputs stored from the loops computing them, at most
# a step storing this many matrices after its loops calls runtime.store_step and
# store_rows (compiled once, 0.1 s) rather than writing a copy loop each (0.05 s);
# so does every later step of the function (a gradient's reverse step)
HELPER_COPIES = 3
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
        if node.op == "scan":
            yield from _products(node.attrs["body"])


# The ops with work enough per batch row to run the graph on row blocks.
_BLOCK_WORTHY = ("scan", "conv", "fused_conv", "conv_transpose", "pool", "pool_grad",
                 "pool_select", "batch_dot")


def row_split(graph, invariant_inputs: int = 0):
    """For each result of ``graph``, whether it is row-wise, when the executable
    runs the function on blocks of rows (module docstring); None when it runs
    whole. Taken for graphs with a time loop that keep the batch rows apart
    (``rows.py``) and whose products all run on symkb's own code. A
    convolution, pooling or batched product (attention) counts as a loop: its
    kernels are serial, and each row block's thread runs them on its rows."""
    if not any(node.op in _BLOCK_WORTHY for node in graph.nodes):
        return None
    if not all(_own_product(node) for node in _products(graph)):
        return None
    if any(n.op == "batch_dot" and n.outputs[0].dtype != "float32" for n in graph.nodes):
        return None  # its products are BLAS calls: threaded already
    return graph_row_separable(graph, invariant_inputs)


def _seq_dims(cg, s) -> list:
    sunk = cg.scope.sunk
    if s in sunk:  # not computed as a whole: its dims are those of the product
        x, w = sunk[s].inputs[:2]
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
    and a 2-D weight that ``gemm.py`` takes (any width, and not small: a small
    projection costs little to hoist), read by that loop
    alone. A ``fused_dot``'s epilogue (the bias add) then runs on the step's
    buffer, and its other operands must be vectors (the same at every step and
    row).
    """
    out = {}
    for node in graph.nodes:
        if node.op != "scan":
            continue
        seqs = node.inputs[:node.attrs["num_sequences"]]
        for s in seqs:
            prod = s.node
            if prod.op not in ("dot", "fused_dot") or len(users.get(s, ())) != 1:
                continue
            x, w, *rest = prod.inputs
            if (x.ndim == 3 and w.node.op in ("param", "const") and packable(x, w, s.dtype)
                    and not small_weight(w)
                    and all(t.ndim <= 1 for t in rest)
                    and (prod.op == "dot" or prod.attrs["body"].inputs[0].dtype == s.dtype)):
                out[s] = prod
    return out


def _step_projection(cg, prod, step, batch, base, outer) -> str:
    """The buffer holding ``prod`` (a ``step_projections`` node of the level
    ``outer``) at this step: ``x[:, t] @ W`` into it, then a ``fused_dot``'s
    epilogue in place."""
    x, wt, *rest = prod.inputs
    panels = panels_for(cg, wt)
    buf = cg.fresh(f"{base}_projection")
    n = wt.shape[1]
    cg.scope.hoist.line(f"{buf} = empty(({batch}, {n}), np.float32)")
    cg.w.line(f"gemm_serial({step}, {panels}, {buf})")
    if prod.op == "fused_dot":
        idx, close = cg.w.loop_nest([batch, n])
        where = f"{buf}[{', '.join(idx)}]"
        operands = [where] + [cg.elem(t, idx, 2, outer) for t in rest]
        emit_body(cg, prod.attrs["body"], operands, [where])
        close()
    return buf


@emitter("scan")
def emit_scan(cg, node) -> None:
    """The time loop of a ``scan`` (module docstring)."""
    a = node.attrs
    body = a["body"]
    seqs, states, _, _ = split_operands(node.inputs, **a)
    no, ns = a["num_outputs"], len(states)
    w, outer = cg.w, cg.scope
    base = node.layer or "loop"
    steps = cg.fresh(f"{base}_steps")
    if outer.depth:
        outer.local.add(steps)  # a nested loop: its buffers live in the outer step
    length = _seq_dims(cg, seqs[0])[1]
    w.line(f"{steps} = {length}")
    if not (isinstance(length, int) and length > 0):  # a known length is never zero
        with w.block(f"if {steps} == 0:"):
            w.line("raise ValueError('loop: cannot iterate over zero time steps')")
    batch = _seq_dims(cg, seqs[0])[0]
    stacked, lasts, flipped = _result_buffers(cg, node, batch, steps, base)
    state_bufs = []
    for s in states:
        name = cg.fresh(f"{base}_state")
        # a zero fill read by loops alone is a new array of zeros already
        w.line(f"{name} = {cg.name(s)}" if s in cg.zero_states else f"{name} = {cg.name(s)}.copy()")
        state_bufs.append(name)
    i_var, t_var = cg.fresh("i"), cg.fresh("t")
    inner = SourceWriter(w.level + 1)
    with cg.entered(outer.inner(w), inner) as scope:
        inner.line(f"{t_var} = {steps} - 1 - {i_var}" if a["reverse"] else f"{t_var} = {i_var}")
        _bind_step_inputs(cg, node, outer, state_bufs, t_var, batch, base)
        cols = [t_var if a["reverse"] and not f else i_var for f in flipped]
        dests = [_destinations(*args) for args in zip(stacked, lasts, cols)]
        _propose(scope, body, a["num_sequences"], ns, no, state_bufs, dests)
        cg.emit_nodes(body)
        _store_step(cg, body, a["num_sequences"], states, state_bufs, dests, batch)
    w.line(f"for {i_var} in range({steps}):")
    w.lines.extend(inner.lines)  # written one level deeper already
    for t, buf, last, o, f in zip(node.outputs[:no], stacked, lasts, body.outputs[:no],
                                  flipped):
        if last is not None or buf is None or not cg.users.get(t):
            continue  # bound to its own buffer already, or nobody reads it
        name = cg.fresh(f"{base}_last")
        last_col = "0" if a["reverse"] and not f else "-1"
        w.line(f"{name} = np.ascontiguousarray({buf}[:, {last_col}])")
        cg.bind(t, name, [batch] + list(o.shape[1:]))
    for t, buf, s in zip(node.outputs[2 * no:], state_bufs, states):
        cg.bind(t, buf, cg.dims(s))


def _step_dims(o, batch) -> list:
    """The dims of step output ``o`` with the loop's batch (static after it)."""
    if any(d is None for d in o.shape[1:]):
        raise Unsupported(f"cpu codegen: scan step output {o.name} has unknown sizes after "
                          f"the batch axis ({o.type}); the cpu target needs them static")
    return [batch] + list(o.shape[1:])


def _result_buffers(cg, node, batch, steps, base):
    """Per step output: the stacked outputs' buffer (None when nobody reads
    them), a buffer of its own for the last output when that is read without
    the stacked ones (else None), and whether the buffer holds the steps in
    processing order (see :func:`_flip_reader`)."""
    no, body = node.attrs["num_outputs"], node.attrs["body"]
    lasts_t, stacked_t = node.outputs[:no], node.outputs[no:2 * no]
    stacked, flipped = [], []
    for t, o in zip(stacked_t, body.outputs[:no]):
        flip = _flip_reader(cg, node, t)
        flipped.append(flip is not None)
        if not cg.users.get(t):
            stacked.append(None)
            continue
        dims = _insert(_step_dims(o, batch), 1, steps)
        target = t if flip is None else flip.outputs[0]
        stacked.append(cg.alloc(target, dims, name=cg.fresh(f"{base}_outputs")))
    lasts = []
    for t, o, buf in zip(lasts_t, body.outputs[:no], stacked):
        if buf is not None or not cg.users.get(t):
            lasts.append(None)
            continue
        lasts.append(cg.alloc(t, _step_dims(o, batch), name=cg.fresh(f"{base}_last")))
    return stacked, lasts, flipped


def _flip_reader(cg, node, stacked):
    """The ``reverse`` on the time axis that is the only reader of a reverse
    scan's stacked outputs (a ``go_backwards`` loop's outputs, in processing
    order), or None. The scan then stores the steps in processing order
    straight into that node's result, and the node is not emitted."""
    users = cg.users.get(stacked, [])
    if not node.attrs["reverse"] or len(users) != 1 or users[0][0] is None:
        return None
    reader = users[0][0]
    if reader.op != "reverse" or tuple(reader.attrs["axes"]) != (1,):
        return None
    return reader


class _Destination:
    """A place a step output is stored: ``buffer``, at step ``col`` of its time
    axis (axis 1) or, with ``col`` None, whole; called with index variables,
    the element's text."""

    def __init__(self, buffer: str, col):
        self.buffer, self.col = buffer, col

    def __call__(self, idx) -> str:
        where = idx if self.col is None else _insert(idx, 1, self.col)
        return f"{self.buffer}[{', '.join(where)}]"

    def whole_rows(self, src: str) -> str:
        """The statement storing the matrix ``src`` (rows, n) there."""
        if self.col is None:
            return f"store_rows({self.buffer}, {src})"
        return f"store_step({self.buffer}, {self.col}, {src})"


def _destinations(stacked, last, col) -> list:
    """The places (:class:`_Destination`) a step output is stored."""
    out = []
    if stacked is not None:
        out.append(_Destination(stacked, col))
    if last is not None:
        out.append(_Destination(last, None))
    return out


def _bind_step_inputs(cg, node, outer, state_bufs, t_var, batch, base) -> None:
    """Bind the body's placeholders: step slices, state buffers, constants."""
    a, scope, w = node.attrs, cg.scope, cg.w
    body, nseq, ns = a["body"], a["num_sequences"], len(state_bufs)
    seqs, states, consts, _ = split_operands(node.inputs, **a)
    for ph, seq in zip(body.inputs[:nseq], seqs):
        if seq in outer.sunk:  # a projection computed here, a step at a time
            prod = outer.sunk[seq]
            buf = _step_projection(cg, prod, f"{cg.name(prod.inputs[0])}[:, {t_var}]", batch,
                                   base, outer)
            cg.bind(ph, buf, [batch, prod.inputs[1].shape[1]])
            continue
        sname = cg.name(seq)
        step_dims = [batch] + list(_seq_dims(cg, seq))[2:]
        if _only_elementwise_readers(body, ph):
            scope.views[ph] = (lambda idx, sname=sname:
                               f"{sname}[{', '.join(_insert(idx, 1, t_var))}]")
            cg.bind(ph, f"{sname}[:, {t_var}]", step_dims)
        else:
            name = cg.fresh(f"{sname}_t")
            w.line(f"{name} = np.ascontiguousarray({sname}[:, {t_var}])")
            cg.bind(ph, name, step_dims)
    for ph, s, buf in zip(body.inputs[nseq:nseq + ns], states, state_bufs):
        cg.bind(ph, buf, [batch] + list(cg.dims(s))[1:])
    for ph, c in zip(body.inputs[nseq + ns:], consts):
        cg.bind(ph, cg.name(c), cg.dims(c))
        scope.invariant.add(ph)
        if c in outer.views:
            scope.views[ph] = outer.views[c]


def _propose(scope, body, nseq, ns, no, state_bufs, dests) -> None:
    """New states straight into their buffers, step outputs stored from the
    loops computing them, where that is safe."""
    for value, k in _in_place_states(body, nseq, ns, no).items():
        scope.targets[value] = state_bufs[k]
    stores = [(o, fns) for o, fns in zip(body.outputs[:no], dests)
              if fns and o.node.op in _FUSED and o.ndim >= 1]
    if len(stores) > STORES_IN_LOOP:
        return  # copied after the step's loops (module docstring)
    for o, fns in stores:
        scope.extra_stores.setdefault(o, []).extend(fns)


def _store_step(cg, body, nseq, states, state_bufs, dests, batch) -> None:
    """Copy what the step's loops did not store: step outputs to their
    destinations, new states to their buffers (one pass over the rows)."""
    no, ns, w, stored = len(dests), len(states), cg.w, cg.scope.stored
    new_vals = [cg.name(t) for t in body.outputs]
    if any(t in set(body.inputs[nseq:nseq + ns]) for t in body.outputs[no:]) and ns > 1:
        # a state returned as another state: copy before overwriting buffers.
        new_vals = new_vals[:no] + [f"{v}.copy()" for v in new_vals[no:]]
    b = cg.fresh("b")
    outs = [(k, o) for k, o in enumerate(body.outputs[:no]) if dests[k] and o not in stored]
    news = [k for k, buf in enumerate(state_bufs) if new_vals[no + k] != buf]
    if not outs and not news:
        return  # the step's loops stored everything already
    matrices = all(o.ndim == 2 for _, o in outs) and all(states[k].ndim == 2 for k in news)
    count = sum(len(dests[k]) for k, _ in outs) + len(news)
    if matrices and (count >= HELPER_COPIES or cg.store_helpers):
        # many copies (or the helpers are compiled for this function already):
        # calls of one compiled copy each (runtime.store_step)
        cg.store_helpers = True
        for k, _ in outs:
            for dest in dests[k]:
                w.line(dest.whole_rows(new_vals[k]))
        for k in news:
            w.line(f"store_rows({state_bufs[k]}, {new_vals[no + k]})")
        return
    with w.block(f"for {b} in range({batch}):"):
        for k, o in outs:
            with _row_loops(cg, o.ndim, cg.dims(o)) as rest:
                src = f"{new_vals[k]}[{', '.join([b] + rest)}]"
                for fn in dests[k]:
                    w.line(f"{fn([b] + rest)} = {src}")
        for k in news:
            with _row_loops(cg, states[k].ndim, cg.dims(states[k])) as rest:
                ix = ", ".join([b] + rest)
                w.line(f"{state_bufs[k]}[{ix}] = {new_vals[no + k]}[{ix}]")


@contextmanager
def _row_loops(cg, ndim, dims):
    """Loops over the axes after the batch; yields their index variables."""
    rest = [cg.fresh(f"j{d}") for d in range(1, ndim)]
    with ExitStack() as stack:
        for v, d in zip(rest, dims[1:]):
            stack.enter_context(cg.w.block(f"for {v} in range({d}):"))
        yield rest
