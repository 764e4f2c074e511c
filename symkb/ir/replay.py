"""Re-applying a graph to new input tensors.

:func:`replay` rebuilds every node of ``graph`` on top of ``new_inputs``
(types re-inferred, so unknown dims may become known and vice versa), sharing
the graph's params and constants. A functional Model called on a new tensor
uses it; so can passes and tools. :func:`fresh_copy` rebuilds every node,
constants included: a loop body built from another shares no node with it.
"""
from __future__ import annotations

from .graph import Graph
from .node import Node
from .registry import get_op


def replay(graph: Graph, new_inputs) -> list:
    """The outputs of ``graph`` recomputed from ``new_inputs`` (KerasTensors)."""
    new_inputs = list(new_inputs)
    if len(new_inputs) != len(graph.inputs):
        raise ValueError(f"replay of graph {graph.name!r}: expected {len(graph.inputs)} inputs, "
                         f"received {len(new_inputs)}")
    env = dict(zip(graph.inputs, new_inputs))
    for node in graph.nodes:
        if all(o in env for o in node.outputs):
            continue
        if not node.inputs:
            env.update(zip(node.outputs, node.outputs))
            continue
        inputs = [env[t] for t in node.inputs]
        out_types = get_op(node.op).infer([t.type for t in inputs], node.attrs)
        new = Node(node.op, inputs, node.attrs, out_types, node.name, node.layer)
        env.update(zip(node.outputs, new.outputs))
    return [env[t] for t in graph.outputs]


def fresh_copy(graph: Graph, inputs) -> list:
    """``graph``'s outputs rebuilt on ``inputs``, every node a new one (its
    constants too: a body shares no node with another, so each prints, parses
    and lowers on its own, and a target keeps one buffer per node)."""
    env = dict(zip(graph.inputs, inputs))
    for n in graph.nodes:
        if all(o in env for o in n.outputs):
            continue
        ins = tuple(env[t] for t in n.inputs)
        types = get_op(n.op).infer([t.type for t in ins], n.attrs) if ins else n.out_types
        env.update(zip(n.outputs, Node(n.op, ins, n.attrs, types, n.name, n.layer).outputs))
    return [env[t] for t in graph.outputs]
