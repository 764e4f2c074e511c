"""Pass ``infer_types``: shape and dtype propagation.

Assumes: every node's operands fit its op (the type rule does not raise).
Guarantees: every node's recorded result types equal its type rule applied to
its operands' current types, bodies included; nodes whose types were stale
(after a rewrite changed an operand's type, or a dimension became known) are
rebuilt with the inferred types. Source nodes are kept as they are.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from .info import declare_pass
from .rewrite import map_bodies, rewrite


@declare_pass(ensures={"types"})
def infer_types(graph: Graph) -> Graph:
    """Re-infer every node's result types (see the module docstring)."""
    graph = map_bodies(graph, infer_types)
    return rewrite(graph, retype)


def retype(node: Node):
    """Rule: rebuild ``node`` when its type rule now gives other result types."""
    opdef = get_op(node.op)
    if opdef.kind == "source":
        return None
    types = opdef.infer([t.type for t in node.inputs], node.attrs)
    if tuple(types) == tuple(node.out_types):
        return None
    return Node(node.op, node.inputs, node.attrs, types, node.name, node.layer).outputs
