"""Pass ``simplify``: algebraic identities.

Assumes: a valid graph (constants folded first finds more). Guarantees: these
nodes are replaced by their operand when the result type equals the
operand's type (so no broadcast or promotion is lost):

* ``x * 1``, ``1 * x``, ``x / 1``, ``x + 0``, ``0 + x``, ``x - 0`` (a ``const``
  filled with ones or zeros; ``-0.0 + 0`` gives ``+0.0`` where the rewrite
  keeps ``-0.0``: equal values, the only difference);
* ``identity``; ``cast`` to the operand's own dtype; ``reshape`` to the operand's own
  static shape;
* ``transpose(transpose(x))``: one transpose with the composed permutation,
  or ``x`` when that is the identity.

Bodies are simplified too.
"""
from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, get_op
from .rewrite import map_bodies, rewrite


def simplify(graph: Graph) -> Graph:
    """Apply the algebraic identities (see the module docstring)."""
    graph = map_bodies(graph, simplify)
    return rewrite(graph, simplify_node)


def _const_all(t, value) -> bool:
    if t.node.op != "const":
        return False
    array = t.node.attrs["value"]
    return array.size > 0 and bool(np.all(array == value))


def simplify_node(node: Node):
    """Rule: the simplified value of ``node``, or ``None``."""
    out = node.out_types[0] if len(node.out_types) == 1 else None
    x = None
    if node.op in ("multiply", "add") and len(node.inputs) == 2:
        unit = 1 if node.op == "multiply" else 0
        a, b = node.inputs
        if _const_all(b, unit):
            x = a
        elif _const_all(a, unit):
            x = b
    elif node.op in ("divide", "subtract") and len(node.inputs) == 2:
        unit = 1 if node.op == "divide" else 0
        if _const_all(node.inputs[1], unit):
            x = node.inputs[0]
    elif node.op in ("cast", "identity"):
        x = node.inputs[0]
    elif node.op == "reshape":
        x = node.inputs[0] if node.inputs[0].type.is_static else None
    elif node.op == "transpose" and node.inputs[0].node.op == "transpose":
        inner = node.inputs[0].node
        perm = tuple(inner.attrs["perm"][p] for p in node.attrs["perm"])
        source = inner.inputs[0]
        if perm == tuple(range(len(perm))):
            x = source
        else:
            attrs = dict(node.attrs, perm=perm)
            types = get_op("transpose").infer([source.type], attrs)
            return Node("transpose", (source,), attrs, types, node.name, node.layer).outputs
    if x is not None and out is not None and x.type == out:
        return (x,)
    return None
