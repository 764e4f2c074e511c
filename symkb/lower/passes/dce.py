"""Pass ``dce``: dead-code elimination.

Assumes: a valid graph. Guarantees: every node left contributes to an output
(of the graph, or of the body it sits in), bodies included; the graph's
inputs and outputs are unchanged. Random ops whose results are unused are
dropped too: they have no effects besides their results.

Rebuilding a :class:`Graph` already walks back from the outputs only, so the
outer graph is pruned by construction; what this pass adds is the same for
every nested body.
"""
from __future__ import annotations

from ...ir import Graph
from .rewrite import map_bodies


def dce(graph: Graph) -> Graph:
    """Drop nodes no output depends on (see the module docstring)."""
    graph = map_bodies(graph, dce)
    pruned = Graph(graph.inputs, graph.outputs, name=graph.name)
    return graph if len(pruned.nodes) == len(graph.nodes) else pruned
