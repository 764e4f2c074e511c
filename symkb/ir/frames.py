"""Trace frames: the nodes a traced function built.

``K.rnn`` traces its step function once into a closed body graph. A value the
step function reads but did not build there (an outer tensor, a Variable's
``param``) must become an explicit operand of the loop, so the body never
reaches outside itself. Which values were built by the trace is *recorded*,
not inferred from construction order: while a :class:`TraceFrame` is active,
every :class:`~symkb.ir.node.Node` constructed registers itself with it.

The active frame lives in a :class:`contextvars.ContextVar`, so each thread
(and each asyncio task) has its own: a second thread building a graph at the
same time never adds its nodes to this trace, and a tensor it hands over
mid-trace counts as an outer value. Nested traces nest frames: when an inner
frame ends, its nodes join the enclosing frame, since they were built during
the outer trace too. A thread started inside a trace does not inherit the
frame (threads begin with an empty context), so nodes a step function builds
through another thread count as outer values.
"""
from __future__ import annotations

import contextlib
import contextvars

_FRAME: contextvars.ContextVar = contextvars.ContextVar("symkb_trace_frame", default=None)


class TraceFrame:
    """The nodes built while this frame was the active one (nested frames included)."""

    __slots__ = ("_nodes", "_parent")

    def __init__(self, parent: "TraceFrame | None"):
        self._nodes: set = set()
        self._parent = parent

    def built(self, node) -> bool:
        """Whether ``node`` was constructed while this frame (or one nested in it) was active."""
        return node in self._nodes


def note_built(node) -> None:
    """Record ``node`` in the active frame, if any (called by every node's constructor)."""
    frame = _FRAME.get()
    if frame is not None:
        frame._nodes.add(node)


@contextlib.contextmanager
def trace_frame():
    """Make a fresh :class:`TraceFrame` the active one for the ``with`` block and yield it.

    The frame keeps its nodes alive while it is referenced, so a node identity
    it holds is never reused by another object.
    """
    parent = _FRAME.get()
    frame = TraceFrame(parent)
    token = _FRAME.set(frame)
    try:
        yield frame
    finally:
        _FRAME.reset(token)
        if parent is not None:
            parent._nodes |= frame._nodes
