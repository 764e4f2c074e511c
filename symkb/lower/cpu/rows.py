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
* ``getitem`` that keeps axis 0 whole, ``reshape`` that keeps the row size
  or splits each row into several or joins the rows one batch row spans
  (``RowSet``), ``batch_dot`` of row-wise operands,
  ``transpose`` that keeps axis 0 first, ``tile`` and ``pad`` that leave it
  alone, ``gather`` of an invariant table at row-wise indices, and
  ``concatenate``, ``stack``, ``expand_dims``, ``squeeze``, ``reverse``,
  ``repeat_elements``, scans, reductions and ``softmax`` along other axes are
  row-wise;
* ``conv``, ``fused_conv`` and ``conv_transpose`` of a row-wise image and
  an invariant kernel (the epilogue's operands follow the elementwise rule),
  and the pooling ops of row-wise images, are row-wise;
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


def _elementwise_rule(node, rows, invariant) -> bool:
    return _elementwise(node.inputs, node.outputs, rows)


def _dot_rule(node, rows, invariant) -> bool:
    x, w, *rest = node.inputs
    return (x in rows and x.ndim >= 2 and w not in rows and w.ndim == 2
            and _elementwise(rest, node.outputs, rows))


def _getitem_rule(node, rows, invariant) -> bool:
    index = node.attrs["index"]
    return node.inputs[0] in rows and bool(index) and index[0] == _FULL


class RowSet(set):
    """The row-wise values, and for some the rows each batch row spans
    (``span``, default 1): a reshape that folds an axis into the batch (the
    attention's heads, ``(b, h, s, d) -> (b * h, s, d)``) gives each batch
    row ``h`` consecutive rows, and one that unfolds them again is row-wise
    too, as long as it joins rows of one batch row only."""

    def __init__(self, values=()):
        super().__init__(values)
        self.span: dict = {}


def _reshape_rule(node, rows, invariant) -> bool:
    (x,), (out,) = node.inputs, node.outputs
    rest_in, rest_out = x.shape[1:], out.shape[1:]
    if not (x in rows and x.ndim >= 1 and out.ndim >= 1
            and x.shape[0] is None and out.shape[0] is None
            and None not in rest_in and None not in rest_out):
        return False
    size_in, size_out = math.prod(rest_in), math.prod(rest_out)
    span = getattr(rows, "span", {}).get(x, 1)
    if size_in == size_out:
        new = span
    elif size_out and size_in % size_out == 0:  # each row split into several
        new = span * (size_in // size_out)
    elif size_in and size_out % size_in == 0 and span % (size_out // size_in) == 0:
        new = span // (size_out // size_in)  # rows of one batch row joined
    else:
        return False
    if new != 1:
        rows.span[out] = new
    return True


def _batch_rule(node, rows, invariant) -> bool:
    """``batch_dot`` of row-wise operands (row ``b`` of each with row ``b`` of
    the other), contracting other axes than the batch."""
    x, y = node.inputs
    spans = getattr(rows, "span", {})
    return (x in rows and y in rows and x.ndim >= 2 and y.ndim >= 2
            and spans.get(x, 1) == spans.get(y, 1))


def _join_rule(node, rows, invariant) -> bool:
    """``concatenate`` and ``stack`` along another axis than the batch."""
    return (_off_0(node.attrs["axis"], node.outputs[0].ndim)
            and all(t in rows for t in node.inputs))


def _gather_rule(node, rows, invariant) -> bool:
    """Rows of an invariant table picked by row-wise indices."""
    table, indices = node.inputs
    return table not in rows and indices in rows and indices.ndim >= 1


def _off_0(axes, ndim) -> bool:
    """Whether none of ``axes`` (an int or a sequence; None: all) is axis 0."""
    if axes is None:
        return False
    axes = (axes,) if isinstance(axes, int) else axes
    return all(a % ndim != 0 for a in axes)


def _one_operand(keeps):
    """A rule for a one-operand op that works along other axes than the batch:
    its operand is row-wise, both it and the result have a batch axis, and
    ``keeps(attrs, x, out)`` says the op leaves axis 0 alone."""

    def rule(node, rows, invariant) -> bool:
        x, out = node.inputs[0], node.outputs[0]
        if x not in rows or x.ndim == 0 or out.ndim == 0:
            return False
        return keeps(node.attrs, x, out)

    rule.__name__ = keeps.__name__
    return rule


@_one_operand
def _transpose_keeps(a, x, out) -> bool:
    return a["perm"][0] == 0


@_one_operand
def _expand_dims_keeps(a, x, out) -> bool:
    return _off_0(a["axis"], out.ndim)


@_one_operand
def _axis_keeps(a, x, out) -> bool:
    """An ``axis`` attribute (reductions, softmax, scans, squeeze, repeat_elements)."""
    return _off_0(a.get("axis"), x.ndim)


@_one_operand
def _axes_keeps(a, x, out) -> bool:
    return _off_0(a["axes"], x.ndim)


@_one_operand
def _tile_keeps(a, x, out) -> bool:
    return len(a["reps"]) == x.ndim and a["reps"][0] == 1


@_one_operand
def _pad_keeps(a, x, out) -> bool:
    return len(a["pads"]) == x.ndim and tuple(a["pads"][0]) == (0, 0)


@_one_operand
def _per_row(a, x, out) -> bool:
    """Each row maps to its own row (``one_hot``)."""
    return True


def _conv_rule(node, rows, invariant) -> bool:
    """``conv``, ``fused_conv`` and ``conv_transpose`` of row-wise images and an
    invariant kernel (an epilogue's operands follow the elementwise rule)."""
    x, w, *rest = node.inputs
    return x in rows and w not in rows and _elementwise(rest, node.outputs, rows)


def _window_rule(node, rows, invariant) -> bool:
    """The pooling ops: every operand is a row-wise image (batch first)."""
    return all(t in rows for t in node.inputs)


def _loop_rule(node, rows, invariant) -> bool:
    a = node.attrs
    seqs, states, consts, _ = split_operands(node.inputs, **a)
    return (all(t in rows for t in (*seqs, *states))
            and all(t in invariant for t in consts)
            and row_separable(a["body"], a["num_sequences"], len(states)))


# The row rules by name: an op names its rule in its ``rows`` trait
# (``symkb.ir.registry``); ``rule(node, rows, invariant)`` is True when the node
# is row-wise given which of its operands are.
ROW_RULES = {
    "elementwise": _elementwise_rule, "dot": _dot_rule, "getitem": _getitem_rule,
    "reshape": _reshape_rule, "join": _join_rule, "gather": _gather_rule,
    "transpose": _transpose_keeps, "expand_dims": _expand_dims_keeps, "axis": _axis_keeps,
    "axes": _axes_keeps, "tile": _tile_keeps, "pad": _pad_keeps, "per_row": _per_row,
    "loop": _loop_rule, "conv": _conv_rule, "window": _window_rule, "batch": _batch_rule,
}


def _row_wise(node, opdef, rows, invariant) -> bool:
    rule = ROW_RULES.get(opdef.rows)
    return rule is not None and rule(node, rows, invariant)


def _propagate(graph, rows: set, invariant: set, *, loops: bool) -> bool:
    """Mark every value of ``graph`` row-wise or invariant; False when one is neither."""
    placeholders = {t.node for t in graph.inputs}
    for node in graph.nodes:
        if node in placeholders:
            continue
        opdef = get_op(node.op)
        if not opdef.pure:
            return False
        if opdef.kind == "source" and not node.inputs:  # parameters and constants
            if any(None in t.shape for t in node.outputs):
                return False
            invariant.update(node.outputs)
            continue
        # a node holding a step (a loop) is decided by its own rule, at graph level only
        stepped = bool(opdef.bodies) and not opdef.fused
        if stepped and not (loops and _row_wise(node, opdef, rows, invariant)):
            return False
        if all(t in invariant for t in node.inputs):
            invariant.update(node.outputs)
            continue
        if not stepped and not _row_wise(node, opdef, rows, invariant):
            return False
        if not _carry_span(node, rows):
            return False
        rows.update(node.outputs)
    return True


def _carry_span(node, rows) -> bool:
    """Give a row-wise node's results the span of its row-wise operands
    (``RowSet``; a reshape sets its own); False when they disagree."""
    spans = getattr(rows, "span", None)
    if spans is None or node.op == "reshape":
        return True
    found = {spans.get(t, 1) for t in node.inputs if t in rows}
    if len(found) > 1:
        return False
    span = found.pop() if found else 1
    if span != 1:
        spans.update((t, span) for t in node.outputs)
    return True


def row_separable(body, nseq: int, nstates: int) -> bool:
    """Whether the step ``body`` keeps the batch rows apart (module docstring)."""
    rows = RowSet(body.inputs[:nseq + nstates])
    invariant = set(body.inputs[nseq + nstates:])
    if any(None in t.shape for t in invariant):
        return False
    if any(t.ndim == 0 for t in rows):
        return False
    return (_propagate(body, rows, invariant, loops=False)
            and all(t in rows for t in body.outputs))


def graph_row_separable(graph, invariant_inputs: int = 0):
    """For each result of ``graph``, whether it is row-wise (module docstring);
    None when the graph does not keep the batch rows apart.

    The last ``invariant_inputs`` inputs are the same for every row (values of
    the batch size alone, computed before the row blocks run: ``phases.py``);
    their sizes must all be known.
    """
    split = len(graph.inputs) - invariant_inputs
    rows, invariant = RowSet(graph.inputs[:split]), set(graph.inputs[split:])
    if any(t.ndim == 0 or t.shape[0] is not None for t in graph.inputs[:split]):
        return None
    if any(None in t.shape for t in invariant):
        return None
    if not _propagate(graph, rows, invariant, loops=True):
        return None
    if any(rows.span.get(t, 1) != 1 for t in graph.outputs):
        return None  # the blocks' results are joined (and allocated) a batch row a row
    return tuple(t in rows for t in graph.outputs)
