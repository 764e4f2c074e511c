"""Whether a loop's step treats the batch rows independently.

A recurrent step maps row ``b`` of its states and step inputs to row ``b`` of
its new states and outputs: nothing mixes the rows of the batch. When that
holds for every node of the body, the cpu target splits the batch into row
blocks, one a thread (``prange``), and each thread runs the whole time loop on
its rows: the threads never wait for each other between steps.

``row_separable(body, nseq, nstates)`` decides it on the optimised body graph.
Every value is either *row-wise* (axis 0 is the batch, and row ``b`` depends
only on row ``b`` of the row-wise operands) or *invariant* (computed from the
closed-over constants only). The rules:

* the sequence and state placeholders are row-wise; the constants are
  invariant when none of their sizes is unknown (a per-sample constant, with a
  batch axis, makes the loop run whole);
* a node whose operands are all invariant is invariant;
* an elementwise node (fused or not) is row-wise when its row-wise operands
  have its rank and its invariant operands broadcast over the rows (a lower
  rank, or a leading 1);
* ``dot`` and ``fused_dot`` of a row-wise ``x`` (rank >= 2) and an invariant
  matrix are row-wise (the epilogue's operands follow the elementwise rule);
* ``getitem`` that keeps axis 0 whole, ``reshape`` that keeps the row size,
  ``concatenate`` along another axis are row-wise;
* anything else (reductions over rows, ``shape``, random ops, a nested loop)
  touching a row-wise value makes the loop run whole.

Every result of the body must be row-wise.
"""
from __future__ import annotations

import math

from ...ir import get_op

_FULL = ("slice", None, None, None)


def _broadcasts_over_rows(t, rank) -> bool:
    return t.ndim < rank or t.shape[0] == 1


def _elementwise(operands, outputs, rows) -> bool:
    for out in outputs:
        for t in operands:
            if t in rows:
                if t.ndim != out.ndim:
                    return False
            elif not _broadcasts_over_rows(t, out.ndim):
                return False
    return True


def _row_wise(node, rows) -> bool:
    op, ins, outs = node.op, node.inputs, node.outputs
    if op == "fused_elementwise" or get_op(op).kind == "elementwise":
        return _elementwise(ins, outs, rows)
    if op in ("dot", "fused_dot"):
        x, w, *rest = ins
        return (x in rows and x.ndim >= 2 and w not in rows and w.ndim == 2
                and _elementwise(rest, outs, rows))
    if op == "getitem":
        index = node.attrs["index"]
        return ins[0] in rows and bool(index) and index[0] == _FULL
    if op == "reshape":
        (x,), (out,) = ins, outs
        rest_in, rest_out = x.shape[1:], out.shape[1:]
        return (x in rows and x.ndim >= 1 and out.ndim >= 1
                and x.shape[0] is None and out.shape[0] is None
                and None not in rest_in and None not in rest_out
                and math.prod(rest_in) == math.prod(rest_out))
    if op == "concatenate":
        axis = node.attrs["axis"] % outs[0].ndim
        return axis != 0 and all(t in rows for t in ins)
    return False


def row_separable(body, nseq: int, nstates: int) -> bool:
    """Whether the step ``body`` keeps the batch rows apart (module docstring)."""
    rows = set(body.inputs[:nseq + nstates])
    invariant = set(body.inputs[nseq + nstates:])
    if any(None in t.shape for t in invariant):
        return False
    if any(t.ndim == 0 for t in rows):
        return False
    placeholders = {t.node for t in body.inputs}
    for node in body.nodes:
        if node in placeholders:
            continue
        if get_op(node.op).random:
            return False
        if node.op == "loop":
            return False
        if all(t in invariant for t in node.inputs):
            invariant.update(node.outputs)
            continue
        if not _row_wise(node, rows):
            return False
        rows.update(node.outputs)
    return all(t in rows for t in body.outputs)
