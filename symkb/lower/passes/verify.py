"""Pass ``verify``: check the IR invariants (``symkb.ir.verify``).

Assumes: nothing. Guarantees: the graph is returned unchanged, or a
:class:`~symkb.ir.VerifyError` is raised showing the printed graph.
"""
from __future__ import annotations

from ...ir import Graph
from ...ir import verify as _verify
from .info import declare_pass


@declare_pass(ensures={"verified"})
def verify(graph: Graph) -> Graph:
    """Raise when ``graph`` breaks an IR invariant; return it unchanged otherwise."""
    _verify(graph)
    return graph
