"""Pass ``sink_transposes``: layout transposes move below elementwise ops and cancel.

Assumes: a valid, typed, unfused graph. Guarantees: an elementwise node whose
operands are each a single-use ``transpose`` with one permutation ``P``, a
value computed from parameters and constants only (of the same rank), or a
scalar, and whose result flows through single-use elementwise ops into a
transpose undoing ``P`` (so the move cancels two transposes), becomes the op on the untransposed values (the invariant operands
transposed back by ``P``'s inverse: a few elements) followed by one
``transpose(P)``; repeated down chains of elementwise ops, and a transpose
meeting its inverse cancels (``simplify``'s rule). Every element is computed
by the same operations on the same values: results are unchanged, bit for bit.

Why: the convolutions and pooling work channels-last; a channels_first model
transposes its image into every ``conv``/``pool`` and back after it, and its
``bias_add`` and activation run in between, on the channels_first layout.
With the transposes sunk through them, ``transpose(P)`` meets the next op's
``transpose(P^-1)`` and both vanish: channels_first runs like channels_last,
with one transpose at the model's input and one at its output.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from .info import declare_pass
from .rewrite import consumers, rewrite
from .simplify import simplify_node

_CARRIERS = ("reshape", "transpose", "cast", "expand_dims")  # of an invariant value


def _invariant(t, depth=0) -> bool:
    """Whether ``t`` is computed from parameters and constants only (shallowly)."""
    op = t.node.op
    if op in ("param", "const"):
        return True
    return depth < 4 and op in _CARRIERS and _invariant(t.node.inputs[0], depth + 1)


def _inverse(perm) -> tuple:
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


def _transpose(t, perm):
    attrs = {"perm": tuple(perm)}
    return Node("transpose", (t,), attrs, get_op("transpose").infer([t.type], attrs)).outputs[0]


def _meets_inverse(t, perm, users) -> bool:
    """Whether ``t`` flows, through single-use elementwise ops only, into a
    transpose that undoes ``perm`` (so sinking one cancels two)."""
    for _ in range(64):
        uses = users.get(t, ())
        if len(uses) != 1 or uses[0][0] is None:
            return False
        user = uses[0][0]
        if user.op == "transpose":
            return tuple(perm[q] for q in user.attrs["perm"]) == tuple(range(len(perm)))
        if get_op(user.op).kind != "elementwise" or user.outputs[0].ndim != t.ndim:
            return False
        t = user.outputs[0]
    return False


def _sink(node, users):
    """The node's replacement (the op before one transpose), or None."""
    opdef = get_op(node.op)
    if opdef.kind != "elementwise" or not opdef.pure or len(node.outputs) != 1 or \
            opdef.bodies:
        return None
    rank = node.outputs[0].ndim
    perm = None
    for t in node.inputs:
        if t.node.op == "transpose" and len(users.get(t, ())) == 1:
            p = tuple(t.node.attrs["perm"])
            if perm not in (None, p):
                return None
            perm = p
    if perm is None or rank < 2 or not _meets_inverse(node.outputs[0], perm, users):
        return None
    inverse = _inverse(perm)
    operands = []
    for t in node.inputs:
        if t.node.op == "transpose" and tuple(t.node.attrs["perm"]) == perm and \
                len(users.get(t, ())) == 1:
            operands.append(t.node.inputs[0])
        elif t.ndim == 0:
            operands.append(t)
        elif t.ndim == rank and _invariant(t):
            operands.append(_transpose(t, inverse))
        else:
            return None
    moved = node.with_inputs(tuple(operands))
    moved = Node(node.op, moved.inputs, node.attrs,
                 opdef.infer([t.type for t in moved.inputs], node.attrs), node.name, node.layer)
    return (_transpose(moved.outputs[0], perm),)


@declare_pass(requires={"types", "unfused"})
def sink_transposes(graph: Graph) -> Graph:
    """Sink transposes through elementwise ops until they cancel (module docstring)."""
    for _ in range(16):  # one step down a chain per round
        users = consumers(graph)

        def rule(node):
            if node.op == "transpose":
                return simplify_node(node)
            return _sink(node, users)

        new = rewrite(graph, rule)
        if new is graph:
            return graph
        graph = new
    return graph
