"""Whether a ``scan`` body can run as one persistent kernel, and its memory layout.

The persistent kernel (``persistent.py``) keeps every value of a step in
shared memory as a ``(rows, width)`` array, so it runs bodies whose values
are *row values*: one row per batch element, a static width. A ``(batch,)``
value (the step's slice of a bool mask sequence, for instance) is a row
value of width 1. The body may use elementwise ops (plain or fused),
products with a constant matrix (``dot``/``fused_dot``), last-axis slices and
concatenations, and the width-1 views between ``(batch,)`` and
``(batch, 1)`` (``expand_dims``, ``squeeze``, ``reshape``). The recurrent
layers' cells qualify, masked ones included (their canonical body selects
with ``where``).
"""
from __future__ import annotations

import numpy as np

from . import adapter
from .elementwise import is_elementwise
from .program import size_of

VIEW_OPS = ("expand_dims", "squeeze", "reshape")


def scan_groups(node):
    """``(sequences, initial_states, constants)``: the operand groups of a scan node."""
    a = node.attrs
    ns, nst = a["num_sequences"], a["num_states"]
    ins = list(node.inputs)
    return ins[:ns], ins[ns:ns + nst], ins[ns + nst:ns + nst + a["num_constants"]]


def width(t) -> int:
    """The row width of a row value: its last axis, or 1 for a ``(batch,)`` value."""
    return t.shape[1] if t.ndim == 2 else 1


def result_used(low, t) -> bool:
    """Whether the graph being lowered reads result ``t`` (or returns it).

    A node made while lowering (a decomposition's) is not in the graph's use
    counts: its results count as used.
    """
    if t.node not in low.position:
        return True
    return t in low.graph.outputs or bool(low.consumers.get(t))


class NotEligible(Exception):
    """Why a body cannot run as one persistent kernel."""


class PersistentPlan:
    """How a scan body runs as one persistent kernel (see :meth:`build`)."""

    def __init__(self, node):
        self.node = node
        a = node.attrs
        self.body = a["body"]
        self.no = a["num_outputs"]
        self.reverse = a["reverse"]
        self.seqs, self.states, self.consts = scan_groups(node)
        g = adapter.geometry()
        self.rows = 2
        self.threads = g.loop_threads
        self.max_shared = g.persistent_max_shared
        self.shared_weights = []
        self.matrices = []
        self.values_bytes = 0

    @staticmethod
    def why(node) -> str:
        try:
            _check(node)
        except NotEligible as exc:
            return str(exc)
        return "its shared-memory footprint is too large"

    @staticmethod
    def build(node):
        """The plan of ``node``, or None when its body is not eligible."""
        try:
            _check(node)
        except NotEligible:
            return None
        plan = PersistentPlan(node)
        plan._layout()
        return plan

    def _layout(self):
        body = self.body
        n_var = len(self.seqs) + len(self.states)
        for n in body.nodes:
            if n.op in ("dot", "fused_dot") and n.inputs[1] not in self.matrices:
                self.matrices.append(n.inputs[1])
        values = [o for n in body.nodes if n.op not in ("input", "const") + VIEW_OPS
                  for o in n.outputs]
        values += list(body.inputs[len(self.seqs):n_var])
        per_row = sum(width(o) * np.dtype(o.dtype).itemsize for o in values)
        self.values_bytes = per_row * self.rows
        budget = self.max_shared - self.values_bytes
        for mtx in self.matrices:
            size = size_of(mtx.shape) * np.dtype(mtx.dtype).itemsize
            if mtx.shape[0] is not None and mtx.shape[1] is not None and size <= budget:
                self.shared_weights.append(mtx)
                budget -= size

    def fits(self) -> bool:
        """Whether the step's values fit in shared memory (the weights that do
        not fit beside them are read from global memory)."""
        return self.values_bytes <= self.max_shared


def _is_row(t) -> bool:
    return t.ndim == 1 or (t.ndim == 2 and t.shape[1] is not None)


def _check(node):
    """Raise :class:`NotEligible` naming the first body value or op the kernel cannot hold."""
    body = node.attrs["body"]
    seqs, states, consts = scan_groups(node)
    n_var = len(seqs) + len(states)
    const_inputs = set(body.inputs[n_var:])
    rows = set(body.inputs[:n_var])          # values with one row per batch element
    for t in body.inputs[:n_var]:
        if not _is_row(t):
            raise NotEligible(f"body input {t.name} is not (batch,) or (batch, width) with a "
                              "static width")
    for n in body.nodes:
        if n.op == "input":
            continue
        if n.op == "const":
            if np.asarray(n.attrs["value"]).size != 1:
                raise NotEligible("the body holds an array constant")
            continue
        invariant = not any(t in rows for t in n.inputs)
        if invariant and not all(o.ndim == 2 and o.shape[0] == 1 for o in n.outputs):
            # a (1, width) invariant (a bias slice) is held as identical rows
            raise NotEligible(f"body op {n.op} computes a loop-invariant value that is not "
                              "one row")
        for o in n.outputs:
            if not _is_row(o):
                raise NotEligible(f"body value of type {o.type} (op {n.op}) is not "
                                  "(batch,) or (batch, width) with a static width")
        _check_op(n, rows, const_inputs)
        if not invariant:
            rows.update(n.outputs)
    for o in body.outputs:
        if o not in rows:
            raise NotEligible(f"body output {o.name} is not computed from the step's values")
    old_states = body.inputs[len(seqs):n_var]
    for new, old in zip(body.outputs[node.attrs["num_outputs"]:], old_states):
        if new in old_states and new is not old:
            # the states are overwritten in place, one after the other
            raise NotEligible(f"new state {old.name} is another state's old value")
    for c in consts:
        if c.ndim > 2:
            raise NotEligible("a constant of rank > 2")


def _check_op(n, rows, const_inputs):
    out = n.outputs[0]
    if is_elementwise(n):
        for t in n.inputs:
            if t in rows and t.ndim < out.ndim:
                raise NotEligible(f"{n.op} broadcasts a (batch,) value along a row")
            if t not in rows and out.ndim == 1 and size_of([d or 2 for d in t.shape]) != 1:
                raise NotEligible(f"{n.op} broadcasts a constant against a (batch,) value")
        return
    if n.op in ("dot", "fused_dot"):
        x, w = n.inputs[:2]
        if w not in const_inputs or w.ndim != 2 or x.ndim != 2:
            raise NotEligible(f"{n.op} by a non-constant or non-2-D matrix")
        return
    if n.op == "getitem":
        items = n.attrs["index"]
        if len(items) != 2 or items[0] != ("slice", None, None, None) or \
                items[1][0] != "slice":
            raise NotEligible("getitem other than x[:, a:b:c]")
        return
    if n.op == "concatenate" and out.ndim == 2 and n.attrs["axis"] in (1, -1):
        return
    if n.op in VIEW_OPS and width(n.inputs[0]) == 1 and width(out) == 1:
        return
    raise NotEligible(f"body op {n.op!r}")
