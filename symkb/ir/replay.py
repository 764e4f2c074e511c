"""Re-applying a graph to new input tensors.

:func:`replay` rebuilds every node of ``graph`` on top of ``new_inputs``
(types re-inferred, so unknown dims may become known and vice versa), sharing
the graph's params and constants. A functional Model called on a new tensor
uses it; so can passes and tools.
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
