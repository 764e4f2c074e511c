"""Pass: unroll ``loop`` nodes into straight-line code (opt-in; not in ``PIPELINE``).

Assumes: a verified graph. Guarantees: a verified graph computing the same
values, in which every ``loop`` node with a static ``length`` (at most
``max_length`` when given) is replaced by ``length`` inlined copies of its
body (``symkb.ir.ops.canonical.unroll_loop``: the loop made canonical, then
its scan inlined; the unroll=False semantics, masks included). Loops nested in
bodies are unrolled first. Loops of unknown length are kept.

``K.rnn(unroll=True)`` already records the unrolled form; this pass does the
same for graphs built with ``unroll=False``, e.g.
``symkb.compile(model, passes=[unroll_loops, *PIPELINE])``.
"""
from __future__ import annotations

from ...ir import Graph
from ...ir.ops.canonical import unroll_loop
from .rewrite import map_bodies, rewrite


def unroll_loops(graph: Graph, max_length: int | None = None) -> Graph:
    """Return ``graph`` with its static-length loops unrolled (see the module docstring)."""
    graph = map_bodies(graph, lambda body: unroll_loops(body, max_length))

    def unroll_rule(node):
        if node.op != "loop":
            return None
        length = node.attrs["length"]
        if length is None or (max_length is not None and length > max_length):
            return None
        return unroll_loop(node.inputs, node.attrs, layer=node.layer)

    return rewrite(graph, unroll_rule)
