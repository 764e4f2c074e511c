"""The two helpers every pass is built from.

:func:`rewrite` offers each node of a graph, in topological order, to a
*rule*: by then the node's operands have been replaced by their rewritten
values (the node is rebuilt when any operand changed). The rule returns
``None`` to keep the node, or one replacement tensor per result. Consumers
are rebuilt to read the replacements; nothing is mutated, a new graph comes
back (the same object when nothing changed).

:func:`map_bodies` is the one way passes reach loop bodies: it applies a pass
to every graph nested in a node's attributes and rebuilds the node around the
new bodies. A pass that handles bodies calls ``graph = map_bodies(graph,
this_pass)`` first, then works on the outer graph.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op


def rewrite(graph: Graph, rule) -> Graph:
    """Return ``graph`` with ``rule`` applied to every node (see the module docstring)."""
    env = {t: t for t in graph.inputs}
    changed = False
    for original in graph.nodes:
        if all(o in env for o in original.outputs):
            continue
        node = original
        new_inputs = tuple(env.get(t, t) for t in node.inputs)
        if any(a is not b for a, b in zip(new_inputs, node.inputs)):
            node = node.with_inputs(new_inputs)
            changed = True
        replacement = rule(node)
        if replacement is None:
            outs = node.outputs
        else:
            if not isinstance(replacement, (tuple, list)):
                raise TypeError(f"rewrite rule {getattr(rule, '__name__', rule)!r} returned a "
                                f"{type(replacement).__name__} for node {node.op}; a rule "
                                "returns None (no change) or a tuple of tensors, one per "
                                "result of the node (e.g. `return (x,)`)")
            outs = tuple(replacement)
            if len(outs) != len(node.outputs):
                raise ValueError(f"rewrite rule {getattr(rule, '__name__', rule)!r} returned "
                                 f"{len(outs)} values for node {node.op} with "
                                 f"{len(node.outputs)} results")
            changed = changed or any(a is not b for a, b in zip(outs, node.outputs))
        env.update(zip(original.outputs, outs))
    if not changed:
        return graph
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)


def replace_bodies(node: Node, bodies: dict) -> Node:
    """A copy of ``node`` whose graph attributes are replaced by ``bodies`` (name -> Graph)."""
    attrs = dict(node.attrs)
    attrs.update(bodies)
    return Node(node.op, node.inputs, attrs, node.out_types, node.name, node.layer)


def map_bodies(graph: Graph, graph_pass) -> Graph:
    """Apply ``graph_pass`` to every body nested in ``graph``'s nodes (one level;
    the pass recurses by calling this again on the bodies it is given). The
    body of a fused node is left as the fusion built it, so a graph that has
    been through the pipeline goes through it again unchanged."""

    def rule_bodies(node):
        opdef = get_op(node.op)
        if opdef.fused:
            return None
        names = [k for k in sorted(opdef.bodies) if isinstance(node.attrs.get(k), Graph)]
        if not names:
            return None
        new = {k: graph_pass(node.attrs[k]) for k in names}
        if all(new[k] is node.attrs[k] for k in names):
            return None
        return replace_bodies(node, new).outputs

    return rewrite(graph, rule_bodies)


def consumers(graph: Graph) -> dict:
    """``tensor -> list of (node, operand index)`` for the graph's own nodes;
    graph outputs appear as ``(None, output index)``."""
    users: dict = {}
    for node in graph.nodes:
        for i, t in enumerate(node.inputs):
            users.setdefault(t, []).append((node, i))
    for i, t in enumerate(graph.outputs):
        users.setdefault(t, []).append((None, i))
    return users
