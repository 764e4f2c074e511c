"""Graphs whose time loop keeps the batch rows apart but whose ends mix them.

A loss and its gradients is such a graph: the forward scan, the elementwise
backward and the reverse scan treat each batch row on its own, but the loss
is a mean over the whole batch, the weights' gradients are sums over the
batch (``x^T · dz`` over every row and step), and the mean's cotangent
divides by the batch size. As a whole it runs on one thread, its per-step
products on BLAS calls (``rows.py`` keeps it whole), while the loop is most
of the work. Here such a graph runs in three phases:

1. the *head*: values computed from the batch size alone (``shape`` of a
   row-wise value with its other sizes known, and what is computed from that
   and from constants: the ``1 / size`` of a mean), evaluated with the ops'
   numpy references once per batch size and remembered;
2. the *rows* graph: every row-wise value (``rows.py``'s rules, with the head
   values as values the same for every row), compiled as a function that
   runs on row blocks, one a thread, the per-step products on symkb's own
   kernel; it returns the row-wise values the rest reads;
3. the *tail* graph: everything else (the reductions over the batch, the
   weights' gradient products, the optimizer's updates), compiled as a
   function that runs whole, reading the rows' results (written straight into
   whole-batch arrays by the blocks) and the head values as inputs.

Values computed from the parameters and constants alone are computed by
whichever part reads them. The same nodes run in the same order as in the
whole function, only on row blocks for the rows part; the results equal
the interpreter's as the whole function's do. Taken only when the rows
part holds a ``scan`` and its products all run on symkb's own kernel (what
``loops.row_split`` asks of a whole graph), and no loop's body holds another
loop (a checkpointed gradient's segments); otherwise the graph compiles as
one function, as before.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...ir import Graph, get_op
from ...ir.graph import run_node
from ..executable import Executable
from ..shape_guard import ShapeGuard
from .loops import row_split
from .rows import ROW_RULES, RowSet, _carry_span

_ROW, _INV, _HEAD, _TAIL = "row", "inv", "head", "tail"
_BOTH = "both"  # row-wise values several rows a batch row, computed by both parts


@dataclass(frozen=True)
class Phases:
    """How a graph splits (module docstring).

    ``head`` lists the nodes the head evaluates, in order; ``batch_of`` maps
    each ``shape`` node there to the index of a graph input whose batch size
    is its operand's. The rows graph's inputs are the graph's inputs then
    ``rows_head`` (head values); the tail's are the graph's inputs, then
    ``tail_head``, then the rows graph's outputs. ``results[k]`` is
    ``("rows", i)`` or ``("tail", i)``: where result ``k`` of the graph comes
    from.
    """

    graph: Graph
    head: tuple
    batch_of: dict
    rows: Graph
    rows_head: tuple
    tail: Graph
    tail_head: tuple
    results: tuple


class _Classes:
    """Each value of a graph's top level: row-wise, invariant, head or tail."""

    def __init__(self, graph):
        self.kind: dict = {}
        self.const_only: set = set()    # invariant values computed from constants only
        self.source: dict = {}          # row-wise value -> a graph input with its batch
        # every row-wise value so far, with the rows a batch row spans (``rows.py``)
        self.rows = RowSet()
        for k, t in enumerate(graph.inputs):
            self.kind[t], self.source[t] = _ROW, k
            self.rows.add(t)
        placeholders = {t.node for t in graph.inputs}
        for node in graph.nodes:
            if node not in placeholders:
                self._classify(node)

    def of(self, t):
        return self.kind.get(t, _TAIL)

    def _classify(self, node) -> None:
        opdef = get_op(node.op)
        kinds = [self.of(t) for t in node.inputs]
        if not opdef.pure or _TAIL in kinds:
            kind = _TAIL
        elif opdef.kind == "source" and not node.inputs:
            kind = _TAIL if any(None in t.shape for t in node.outputs) else _INV
            if kind == _INV and node.op == "const":
                self.const_only.update(node.outputs)
        elif all(k == _INV for k in kinds):
            kind = _INV
            if all(t in self.const_only for t in node.inputs):
                self.const_only.update(node.outputs)
        elif self._head(node, kinds):
            kind = _HEAD
        elif self._row(node, opdef, kinds):
            kind = _ROW
            rows = [self.source[t] for t, k in zip(node.inputs, kinds) if k == _ROW]
            for t in node.outputs:
                self.source[t] = min(rows)
            self.rows.update(node.outputs)
        else:
            kind = _TAIL
        for t in node.outputs:
            self.kind[t] = kind

    def _head(self, node, kinds) -> bool:
        if any(None in t.shape for t in node.outputs):
            return False
        if node.op == "shape":
            x = node.inputs[0]  # one row a batch row: axis 0 is the batch
            return (kinds[0] == _ROW and x.ndim >= 1 and None not in x.shape[1:]
                    and self.rows.span.get(x, 1) == 1)
        return all(k == _HEAD or t in self.const_only for t, k in zip(node.inputs, kinds))

    def _row(self, node, opdef, kinds) -> bool:
        rule = ROW_RULES.get(opdef.rows)
        if rule is None or not all(k in (_ROW, _INV, _HEAD) for k in kinds):
            return False
        invariant = {t for t, k in zip(node.inputs, kinds) if k != _ROW}
        return rule(node, self.rows, invariant) and _carry_span(node, self.rows)


def _holds_scan(body: Graph) -> bool:
    return any(n.op == "scan" for n in body.nodes)


def plan_phases(graph: Graph) -> Phases | None:
    """The three phases of ``graph`` (module docstring), or None when it
    compiles as one function: it keeps its rows apart as a whole, or its
    row-wise part holds no time loop or a product on BLAS."""
    if not graph.inputs or any(t.ndim == 0 or t.shape[0] is not None for t in graph.inputs):
        return None
    if not any(n.op == "scan" for n in graph.nodes):
        return None
    if any(n.op == "scan" and _holds_scan(n.attrs["body"]) for n in graph.nodes):
        return None  # a loop in a loop (checkpointed segments): one function, as before
    cls = _Classes(graph)
    inputs = set(graph.inputs)
    readers = _readers(graph, cls)
    outs = set(graph.outputs)

    def crossing(kind, to):
        return [t for n in graph.nodes for t in n.outputs
                if cls.of(t) == kind and t not in inputs and to in readers.get(t, ())]
    tail_kinds = (_TAIL, _INV, _BOTH)
    rows_out = [t for n in graph.nodes for t in n.outputs if cls.of(t) == _ROW
                and t not in inputs and (_TAIL in readers.get(t, ()) or t in outs)]
    if not any(cls.of(t) in (_TAIL, _HEAD) for t in graph.outputs) and not crossing(_ROW, _TAIL):
        return None  # the whole graph keeps its rows apart: one function on row blocks
    rows_head = crossing(_HEAD, _ROW)
    tail_head = [t for n in graph.nodes for t in n.outputs if cls.of(t) == _HEAD
                 and (_TAIL in readers.get(t, ()) or t in outs)]
    rows = Graph(list(graph.inputs) + rows_head, _unique(rows_out), name=f"{graph.name}_rows")
    if not rows.outputs or not _only(rows, cls, (_ROW, _INV, _BOTH)):
        return None
    if not any(n.op == "scan" for n in rows.nodes):
        return None
    if row_split(rows, len(rows_head)) is None:
        return None
    tail_outs = _unique([t for t in graph.outputs if cls.of(t) != _ROW or t in inputs])
    tail = Graph(list(graph.inputs) + tail_head + [t for t in rows.outputs],
                 tail_outs, name=f"{graph.name}_tail")
    if not _only(tail, cls, tail_kinds):
        return None
    head = _head_nodes(graph, set(rows_head) | set(tail_head))
    results = tuple(("rows", rows.outputs.index(t)) if cls.of(t) == _ROW and t not in inputs
                    else ("tail", tail.outputs.index(t)) for t in graph.outputs)
    batch_of = {n: cls.source[n.inputs[0]] for n in head if n.op == "shape"}
    return Phases(graph, tuple(head), batch_of, rows, tuple(rows_head), tail,
                  tuple(tail_head), results)


def _readers(graph, cls) -> dict:
    """``value -> kinds of the nodes reading it``. A row-wise value spanning
    several rows a batch row (``time`` folded into the batch before a weight
    gradient's product) cannot be a result of the row blocks (they are joined a
    batch row a row): when the tail reads one, its node (and those of such
    values it reads) is computed by the tail as well (``_BOTH``)."""
    readers: dict = {}

    def read(node, kind):
        for t in node.inputs:
            readers.setdefault(t, set()).add(kind)
    for node in graph.nodes:
        read(node, cls.of(node.outputs[0]))
    for node in reversed(graph.nodes):
        out = node.outputs[0]
        if cls.of(out) == _ROW and cls.rows.span.get(out, 1) != 1 \
                and readers.get(out, set()) & {_TAIL, _BOTH}:
            for t in node.outputs:
                cls.kind[t] = _BOTH
            read(node, _TAIL)
    return readers


def _unique(tensors) -> list:
    seen, out = set(), []
    for t in tensors:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _only(part: Graph, cls, kinds) -> bool:
    """Whether every node of ``part`` computes values of ``kinds`` (no part
    recomputes another's values)."""
    given = {t.node for t in part.inputs}
    return all(cls.of(n.outputs[0]) in kinds for n in part.nodes if n not in given)


def _head_nodes(graph, wanted) -> list:
    """The head nodes (and the constants they read) that ``wanted`` needs, in order."""
    needed = set(wanted)
    keep = []
    for node in reversed(graph.nodes):
        if any(t in needed for t in node.outputs):
            keep.append(node)
            if node.op != "shape":
                needed.update(node.inputs)
    return keep[::-1]


class PhasedExecutable(Executable):
    """Runs a graph split by :func:`plan_phases`: head, rows on row blocks, tail."""

    target = "cpu"

    def __init__(self, phases: Phases, rows, tail, *, source_graph=None, **kwargs):
        graph = phases.graph
        source = (f"# phase 2 of 3 (rows): {rows.name}\n{rows.source}\n"
                  f"# phase 3 of 3 (tail): {tail.name}\n{tail.source}")
        super().__init__(graph, source=source, **kwargs)
        self.phases = phases
        self.rows, self.tail = rows, tail
        self.row_split = None  # the graph as a whole does not run on row blocks
        self.path = rows.path
        self.cache_hit = rows.cache_hit and tail.cache_hit
        self.reused = rows.reused and tail.reused
        self.compile_seconds = rows.compile_seconds + tail.compile_seconds
        self.source_graph = source_graph if source_graph is not None else graph
        self._guard = ShapeGuard(self.source_graph, name=self.name, target=self.target)
        self._heads: dict = {}
        self._heads_lock = threading.Lock()

    @property
    def form(self) -> str:
        """The phases' forms (``tiers.py``): "own" when both run their own."""
        forms = {self.rows.form, self.tail.form}
        return next((f for f in ("size-generic", "quick") if f in forms), "own")

    @property
    def generic(self) -> bool:
        """Whether a phase runs a size-generic kernel while its own compiles (``tiers.py``)."""
        return self.form == "size-generic"

    @property
    def threads(self):
        """The most row blocks the rows phase uses; ``None``: numba's thread count."""
        return self.rows.threads

    @threads.setter
    def threads(self, value) -> None:
        self.rows.threads = value

    def _head_values(self, arrays) -> dict:
        key = tuple(a.shape[0] for a in arrays)
        with self._heads_lock:
            env = self._heads.get(key)
        if env is not None:
            return env
        env = {}
        for node in self.phases.head:
            if node.op == "shape":
                x = node.inputs[0]
                batch = arrays[self.phases.batch_of[node]].shape[0]
                env[node.outputs[0]] = np.array((batch,) + x.shape[1:], dtype=np.int32)
                continue
            env.update(zip(node.outputs, run_node(node, [env[t] for t in node.inputs])))
        env = {t: np.array(env[t], dtype=t.dtype) for t in
               (*self.phases.rows_head, *self.phases.tail_head)}
        with self._heads_lock:
            if len(self._heads) >= 64:
                self._heads.clear()
            self._heads[key] = env
        return env

    def _run(self, arrays) -> list:
        if not self._guard.fits(arrays):
            return self._interpret(arrays)
        self._ran_on("kernel")
        p = self.phases
        head = self._head_values(arrays)
        rows = self.rows._run(arrays + [head[t] for t in p.rows_head])
        tail = self.tail._run(arrays + [head[t] for t in p.tail_head] + rows)
        parts = {"rows": rows, "tail": tail}
        return [parts[part][k] for part, k in p.results]


def compile_phased(phases: Phases, compile_cpu, *, single_output, name, passes_report,
                   source_graph, clock, beside=None) -> PhasedExecutable:
    """Compile the rows and tail graphs of ``phases`` with ``compile_cpu`` and
    return the executable running the three phases. ``beside``: the pair
    ``(start_beside, finish_beside)`` of ``cpu/__init__.py``, with which the
    tail compiles in a child process while this process compiles the rows,
    then loads from numba's disk cache."""
    from ..cache import release
    base = name or phases.graph.name
    # the tail compiles in a child process while this one compiles the rows
    start_beside, finish_beside = beside if beside is not None else (None, None)
    started = start_beside(phases.tail, f"{base}_tail", clock) if start_beside else None
    try:
        rows = compile_cpu(phases.rows, name=f"{base}_rows", phases=clock,
                           invariant_inputs=len(phases.rows_head))
        if started is not None:
            finish_beside(started, clock)
        tail = compile_cpu(phases.tail, name=f"{base}_tail", phases=clock, split=False)
    finally:
        if started is not None:
            if started.child is not None and started.child.poll() is None:
                started.child.kill()  # the rows failed: nothing waits for the tail
                started.child.wait()
            release(started.module)
    executable = PhasedExecutable(phases, rows, tail, source_graph=source_graph,
                                  single_output=single_output, name=name,
                                  passes_report=passes_report)
    executable.compile_phases = clock.as_dict()
    return executable
