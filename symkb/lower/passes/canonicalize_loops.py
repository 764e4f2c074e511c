"""Pass ``canonicalize_loops``: every ``loop`` becomes plain nodes around one ``scan``.

Assumes: a verified graph. Guarantees: a verified graph computing the same
values with no ``loop`` node left, nested bodies included: each loop is
replaced by :func:`symkb.ir.ops.canonical.canonical_loop` (transposes for
``time_major``, the mask as one more bool sequence with ``where`` selects in
the body and the previous output as one more carried state, ``reverse=True``
for ``go_backwards`` with the outputs reversed after the scan,
``expand_dims`` of the last output for ``return_all_outputs=False``).

It runs first in ``PIPELINE`` (after ``verify``): the passes after it
(``sink_slices``, ``licm``) and the targets see scans only. It is a
legalisation as much as an optimisation: a target given a graph that still
holds a ``loop`` (``symkb.compile(..., passes=[])``) runs it itself
(:func:`legalize_loops`).
"""
from __future__ import annotations

from ...ir import Graph
from ...ir.ops.canonical import canonical_loop
from .rewrite import map_bodies, rewrite


def canonicalize_loops(graph: Graph) -> Graph:
    """Rewrite every ``loop`` of ``graph`` into its canonical scan (module docstring)."""
    graph = map_bodies(graph, canonicalize_loops)

    def rule(node):
        if node.op != "loop":
            return None
        return canonical_loop(node.inputs, node.attrs, name=node.name, layer=node.layer)

    return rewrite(graph, rule)


def legalize_loops(graph: Graph) -> Graph:
    """``graph`` with its loops canonicalised when it still holds any (what a
    target lowers: scans only); the same object otherwise."""
    if any(node.op == "loop" for _, node in graph.walk()):
        return canonicalize_loops(graph)
    return graph
