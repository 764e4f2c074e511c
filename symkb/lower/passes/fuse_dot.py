"""Pass ``fuse_dot``: a matrix product and its elementwise epilogue become one node.

Assumes: ``fuse_elementwise`` ran (epilogues are ``fused_elementwise`` nodes).
Guarantees: a ``dot(x, w)`` with a 2-D ``w`` whose only user is a
single-result ``fused_elementwise`` node of the product's shape, reading the
product once, is replaced with ``fused_dot(x, w, *other operands)`` whose
body is the epilogue's body with the product as its first input (the dense
layer's ``dot + bias_add + activation`` is one node; see
``symkb/ir/ops/fused.py``). Bodies are handled too.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from .info import declare_pass
from .rewrite import consumers, map_bodies


@declare_pass(requires={"types", "fused_elementwise"}, invalidates={"unfused"})
def fuse_dot(graph: Graph) -> Graph:
    """Merge ``dot`` nodes into their elementwise epilogues (see the module docstring)."""
    graph = map_bodies(graph, fuse_dot)
    users = consumers(graph)
    inputs = set(graph.inputs)
    chosen = {}
    for node in graph.nodes:
        if node.op != "fused_elementwise" or len(node.outputs) != 1:
            continue
        for i, t in enumerate(node.inputs):
            if (t.node.op == "dot" and t.node.inputs[1].ndim == 2 and t not in inputs
                    and t.type == node.out_types[0] and len(users.get(t, [])) == 1):
                chosen[node] = i
                break
    if not chosen:
        return graph
    env = {t: t for t in graph.inputs}
    for node in graph.nodes:
        ins = tuple(env.get(t, t) for t in node.inputs)
        new = node if ins == node.inputs else node.with_inputs(ins)
        if node in chosen:
            new = epilogue_node(new, chosen[node])
        env.update(zip(node.outputs, new.outputs))
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)


def epilogue_node(fused: Node, index: int) -> Node:
    """``fused_dot`` for ``fused``'s operand ``index`` (a ``dot``) and its body."""
    dot = fused.inputs[index].node
    body = fused.attrs["body"]
    order = [index] + [j for j in range(len(fused.inputs)) if j != index]
    new_body = Graph([body.inputs[j] for j in order], body.outputs, name=body.name)
    operands = (dot.inputs[0], dot.inputs[1]) + tuple(fused.inputs[j] for j in order[1:])
    attrs = {"body": new_body, "ops": ("dot",) + tuple(fused.attrs.get("ops", ()))}
    types = get_op("fused_dot").infer([t.type for t in operands], attrs)
    return Node("fused_dot", operands, attrs, types, fused.name, fused.layer)
