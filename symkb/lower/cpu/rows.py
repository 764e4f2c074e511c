"""Whether a graph treats the batch rows independently.

Row ``b`` of a recurrent model's result depends only on row ``b`` of its
inputs: the step maps row ``b`` of its states and step inputs to row ``b`` of
its new states and outputs, and the products, gates and projections around
the loop do the same. When that holds for every node, the cpu executable
splits the batch into row blocks and runs the compiled function on each
block from a thread of its own (the function releases the GIL): each thread
runs the whole time loop on its rows, so the threads never wait for each
other between steps.

``row_separable(body, nseq, nstates)`` decides it for a loop's step and
``graph_row_separable(graph)`` for a whole graph. Every value is either
*row-wise* (axis 0 is the batch, and row ``b`` depends only on row ``b`` of
the row-wise operands) or *invariant* (computed from the parameters and
constants only). The rules:

* the graph's inputs (the step's sequences and states) are row-wise, and
  must have a rank of at least 1 (and, for a graph, an unknown batch size);
  the parameters and constants are invariant when none of their sizes is
  unknown (a per-sample constant, with a batch axis, keeps the graph whole);
* a node whose operands are all invariant is invariant;
* an elementwise node (fused or not) is row-wise when its row-wise operands
  have its rank and its invariant operands broadcast over the rows (a lower
  rank, or a leading 1);
* ``dot`` and ``fused_dot`` of a row-wise ``x`` (rank >= 2) and an invariant
  matrix are row-wise (the epilogue's operands follow the elementwise rule);
* ``getitem`` that keeps axis 0 whole, ``reshape`` that keeps the row size,
  ``transpose`` that keeps axis 0 first, ``tile`` and ``pad`` that leave it
  alone, ``gather`` of an invariant table at row-wise indices, and
  ``concatenate``, ``stack``, ``expand_dims``, ``squeeze``, ``reverse``,
  ``repeat_elements``, scans, reductions and ``softmax`` along other axes are
  row-wise;
* a ``scan`` whose sequences and states are row-wise, whose constants are
  invariant and whose step is row-separable is row-wise (a ``loop``'s mask,
  time-major transposes and reversals are ordinary nodes around its scan by
  then);
* anything else (reductions over rows, ``shape``, random ops, a nested scan)
  touching a row-wise value keeps the graph whole.

Every result of a step must be row-wise; a graph's results may also be
invariant (every block computes the same value).
"""
from __future__ import annotations

import math

from ...ir import get_op
from ...ir.ops.loop import split_operands
from ...ir.ops.scan import is_loop_op

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
    if op in ("concatenate", "stack"):
        return _off_0(node.attrs["axis"], outs[0].ndim) and all(t in rows for t in ins)
    if op == "gather":  # rows of an invariant table picked by row-wise indices
        return ins[0] not in rows and ins[1] in rows and ins[1].ndim >= 1
    return _keeps_axis_0(node, ins[0], outs[0], rows)


def _off_0(axes, ndim) -> bool:
    """Whether none of ``axes`` (an int or a sequence; None: all) is axis 0."""
    if axes is None:
        return False
    axes = (axes,) if isinstance(axes, int) else axes
    return all(a % ndim != 0 for a in axes)


def _keeps_axis_0(node, x, out, rows) -> bool:
    """The one-operand ops that work along other axes than the batch."""
    op, a = node.op, node.attrs
    if x not in rows or x.ndim == 0 or out.ndim == 0:
        return False
    if op == "transpose":
        return a["perm"][0] == 0
    if op == "expand_dims":
        return _off_0(a["axis"], out.ndim)
    if op in ("squeeze", "repeat_elements", "cumsum", "cumprod") or \
            get_op(op).kind == "reduction":  # softmax and argmax are reductions too
        return _off_0(a.get("axis"), x.ndim)
    if op == "reverse":
        return _off_0(a["axes"], x.ndim)
    if op == "tile":
        return len(a["reps"]) == x.ndim and a["reps"][0] == 1
    if op == "pad":
        return len(a["pads"]) == x.ndim and tuple(a["pads"][0]) == (0, 0)
    if op == "one_hot":
        return True
    return False


def _loop_row_wise(node, rows, invariant) -> bool:
    a = node.attrs
    seqs, states, consts, _ = split_operands(node.inputs, **a)
    return (all(t in rows for t in (*seqs, *states))
            and all(t in invariant for t in consts)
            and row_separable(a["body"], a["num_sequences"], len(states)))


def _propagate(graph, rows: set, invariant: set, *, loops: bool) -> bool:
    """Mark every value of ``graph`` row-wise or invariant; False when one is neither."""
    placeholders = {t.node for t in graph.inputs}
    for node in graph.nodes:
        if node in placeholders:
            continue
        if not get_op(node.op).pure:
            return False
        if node.op in ("param", "const") and not node.inputs:
            if any(None in t.shape for t in node.outputs):
                return False
            invariant.update(node.outputs)
            continue
        if is_loop_op(node.op) and not (loops and node.op == "scan"
                                         and _loop_row_wise(node, rows, invariant)):
            return False
        if all(t in invariant for t in node.inputs):
            invariant.update(node.outputs)
            continue
        if not is_loop_op(node.op) and not _row_wise(node, rows):
            return False
        rows.update(node.outputs)
    return True


def row_separable(body, nseq: int, nstates: int) -> bool:
    """Whether the step ``body`` keeps the batch rows apart (module docstring)."""
    rows = set(body.inputs[:nseq + nstates])
    invariant = set(body.inputs[nseq + nstates:])
    if any(None in t.shape for t in invariant):
        return False
    if any(t.ndim == 0 for t in rows):
        return False
    return (_propagate(body, rows, invariant, loops=False)
            and all(t in rows for t in body.outputs))


def graph_row_separable(graph):
    """For each result of ``graph``, whether it is row-wise (module docstring);
    None when the graph does not keep the batch rows apart."""
    rows, invariant = set(graph.inputs), set()
    if any(t.ndim == 0 or t.shape[0] is not None for t in graph.inputs):
        return None
    if not _propagate(graph, rows, invariant, loops=True):
        return None
    return tuple(t in rows for t in graph.outputs)
