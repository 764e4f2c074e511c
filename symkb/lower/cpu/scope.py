"""The loop scope: what the emitters of one level of time loop share.

The code generator holds one :class:`LoopScope` for the level it is emitting:
the function's top level (``depth == 0``), or the body of a ``scan`` (one
level deeper each). The scan emitter (``loops.py``) makes the body's scope and
enters it (:meth:`Codegen.entered`), which restores the enclosing one on
exit; the elementwise and array emitters read the scope they are handed
(``cg.scope``) and nothing else. What lives here, and why:

* ``hoist``: the writer before the time loop, where a step's buffers are
  allocated (steps allocate nothing); ``pack_hoist``: where ``pack_rhs`` goes;
* ``invariant``: body values that are the same at every step (the constants),
  whose packed panels may be computed once before the loop;
* ``targets``: ``value -> state buffer`` proposed by the scan emitter for a
  new state, which the node computing it writes directly;
* ``extra_stores``: ``value -> [index vars -> element text]``, more
  destinations of a step output (the stacked outputs at this step, the last
  output), written by the loop computing it, which then records it in
  ``stored``;
* ``views``: ``tensor -> index vars -> element text``, values read in place
  (a step slice of a sequence, a sliced view) instead of copied;
* ``sunk``: ``sequence -> projection node`` computed a step at a time inside
  the scan that reads it (``loops.step_projections``), for this level's graph;
* ``local``: the names computed inside some time loop (a buffer sized by one
  is allocated in the step, not hoisted); one set shared by every level.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..writer import SourceWriter


@dataclass
class LoopScope:
    """The emitting state of one loop level (see the module docstring)."""

    hoist: SourceWriter
    pack_hoist: SourceWriter
    depth: int = 0
    invariant: set = field(default_factory=set)
    targets: dict = field(default_factory=dict)
    extra_stores: dict = field(default_factory=dict)
    stored: set = field(default_factory=set)
    views: dict = field(default_factory=dict)
    sunk: dict = field(default_factory=dict)
    local: set = field(default_factory=set)

    def inner(self, hoist: SourceWriter) -> "LoopScope":
        """The scope of a loop body emitted from this level, hoisting to ``hoist``."""
        return LoopScope(hoist=hoist, pack_hoist=hoist, depth=self.depth + 1, local=self.local)
