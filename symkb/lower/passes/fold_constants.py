"""Pass ``fold_constants``: compute at compile time what depends on constants only.

Assumes: a valid graph. Guarantees: no deterministic node whose operands are
all ``const`` nodes is left (it becomes a ``const`` holding the value its
numpy reference gives, so results are bit-identical to the interpreter's),
unless its result would exceed ``MAX_ELEMENTS`` elements. Never folded:
impure ops (random, print_tensor), sources, nodes with bodies, and ``param`` reads (Variables change
between calls). ``zeros_like`` and ``ones_like`` of a value whose shape is
fully known read nothing of it: they are folded too (the seed cotangent of a
scalar loss then no longer reads the loss, so the loss's gradient runs apart
from it: ``cpu/phases.py``).
"""
from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, get_op, run_node
from .info import declare_pass
from .rewrite import map_bodies, rewrite

MAX_ELEMENTS = 1 << 16
_FILLS = ("zeros_like", "ones_like")  # their value depends on the operand's shape only


@declare_pass(requires={"types"})
def fold_constants(graph: Graph) -> Graph:
    """Replace constant subexpressions by their values (see the module docstring)."""
    graph = map_bodies(graph, fold_constants)
    return rewrite(graph, fold_node)


def fold_node(node: Node):
    """Rule: a ``const`` for ``node`` when all its operands are constants."""
    opdef = get_op(node.op)
    fill = node.op in _FILLS
    if (opdef.kind == "source" or not opdef.pure or node.bodies() or not node.inputs
            or not (fill or all(t.node.op == "const" for t in node.inputs))):
        return None
    if any(not t.is_static or int(np.prod(t.shape)) > MAX_ELEMENTS for t in node.out_types):
        return None
    operands = ([np.zeros(t.shape, t.dtype) for t in node.inputs] if fill
                else [t.node.attrs["value"] for t in node.inputs])
    values = run_node(node, operands)
    outs = []
    for value in values:
        value = np.array(value)
        value.flags.writeable = False
        outs.append(Node("const", (), {"value": value},
                         (node.out_types[len(outs)],), layer=node.layer).outputs[0])
    return outs
