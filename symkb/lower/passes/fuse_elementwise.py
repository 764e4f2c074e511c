"""Pass ``fuse_elementwise``: chains and trees of elementwise ops become one node.

Assumes: a valid graph. Guarantees: every elementwise node ends up inside a
``fused_elementwise`` node (see ``symkb/ir/ops/fused.py`` for its contract),
bodies included. A group grows from a root (visited in reverse topological
order) through operands whose producer is elementwise, has one result of the
root's shape, and is used only inside the group (so nothing is computed
twice and no cycle can form). Scalar constants join the body as ``const``
nodes, so code generators inline them as typed literals; every other value a
group reads becomes an operand of the fused node (listed once, in order of
first use). A lone elementwise node becomes a group of one: code generators
only ever see fused groups.

The fused node keeps the root's ``name`` and ``layer``; its ``ops`` attribute
lists the fused ops in order, for printing.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from .info import declare_pass
from .rewrite import consumers, map_bodies


@declare_pass(requires={"types"}, ensures={"fused_elementwise"},
              invalidates={"unfused"})
def fuse_elementwise(graph: Graph) -> Graph:
    """Group elementwise nodes into ``fused_elementwise`` nodes (see the module docstring)."""
    graph = map_bodies(graph, fuse_elementwise)
    groups = find_groups(graph)
    if not groups:
        return graph
    return _rebuild(graph, groups)


def _fusible(node: Node) -> bool:
    # a fused node (from an earlier run of the pipeline) stays as it is
    opdef = get_op(node.op)
    return opdef.kind == "elementwise" and len(node.outputs) == 1 and not opdef.fused


def _scalar_const(t) -> bool:
    return t.node.op == "const" and t.node.attrs["value"].size == 1 and t.ndim == 0


def find_groups(graph: Graph) -> dict:
    """``root node -> list of member nodes (topological order, root last)``."""
    users = consumers(graph)
    inputs = set(graph.inputs)
    group_of: dict = {}
    groups: dict = {}
    position = {n: i for i, n in enumerate(graph.nodes)}
    for root in reversed(graph.nodes):
        if not _fusible(root) or root in group_of:
            continue
        group_of[root] = root
        members = [root]
        frontier = list(root.inputs)
        while frontier:
            t = frontier.pop()
            p = t.node
            if t in inputs or p in group_of or not _fusible(p):
                continue
            if p.out_types[0].shape != root.out_types[0].shape:
                continue
            if not all(u is not None and group_of.get(u) is root for u, _ in users.get(t, [])):
                continue
            group_of[p] = root
            members.append(p)
            frontier.extend(p.inputs)
        members.sort(key=position.__getitem__)
        groups[root] = members
    return groups


def _rebuild(graph: Graph, groups: dict) -> Graph:
    member_of = {m: root for root, ms in groups.items() for m in ms}
    env = {t: t for t in graph.inputs}
    for node in graph.nodes:
        if node in member_of and node not in groups:
            continue  # built inside its root's body
        if node in groups:
            fused = build_fused(node, groups[node], env)
            env[node.outputs[0]] = fused.outputs[0]
            continue
        ins = tuple(env.get(t, t) for t in node.inputs)
        new = node if ins == node.inputs else node.with_inputs(ins)
        env.update(zip(node.outputs, new.outputs))
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)


def build_fused(root: Node, members: list, env: dict) -> Node:
    """The ``fused_elementwise`` node computing ``root`` from ``members``'s operands."""
    inside = {m for m in members}
    operands, body_inputs, local = [], [], {}
    for m in members:
        for t in m.inputs:
            if t.node in inside or t in local:
                continue
            if _scalar_const(t):
                local[t] = t
                continue
            outer = env.get(t, t)
            ph = Node("input", (), {}, (outer.type,), name=f"x{len(operands)}").outputs[0]
            operands.append(outer)
            body_inputs.append(ph)
            local[t] = ph
    for m in members:
        ins = tuple(local[t] for t in m.inputs)
        new = m if ins == m.inputs else m.with_inputs(ins)
        local.update(zip(m.outputs, new.outputs))
    body = Graph(body_inputs, [local[root.outputs[0]]], name=f"{root.op}_body")
    attrs = {"body": body, "ops": tuple(m.op for m in members)}
    types = get_op("fused_elementwise").infer([t.type for t in operands], attrs)
    return Node("fused_elementwise", tuple(operands), attrs, types, root.name, root.layer)

