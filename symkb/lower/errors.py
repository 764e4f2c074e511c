"""The errors and warnings of the lowering targets.

One error class for "this target cannot compile this graph", whatever the
target: :class:`LoweringError` says which target, which op and which node.
The cpu target's :class:`Unsupported` (here, so that the cpu emitter modules
need not import the code generator) and the cuda target's ``CudaLoweringError``
are its subclasses, so ``except LoweringError`` catches both.
"""
from __future__ import annotations


class LoweringError(NotImplementedError):
    """A target cannot compile a graph.

    Attributes:
        target: ``'cpu'`` or ``'cuda'`` (``None`` when not known).
        op: the op of the node that could not be lowered, if any.
        node: that node, if any.
    """

    default_target: str | None = None

    def __init__(self, message: str = "", *, target: str | None = None, op: str | None = None,
                 node=None):
        self.target = target if target is not None else self.default_target
        self.node = node
        self.op = op if op is not None else getattr(node, "op", None)
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        where = []
        if self.target and not text.startswith(f"{self.target} "):
            where.append(f"target {self.target!r}")
        if self.op and f"{self.op}" not in text:
            where.append(f"op {self.op!r}")
        layer = getattr(self.node, "layer", None)
        if layer and layer not in text:
            where.append(f"layer {layer!r}")
        return f"{text} ({', '.join(where)})" if where else text


class Unsupported(LoweringError):
    """The cpu target cannot compile this graph (the message says which node and why)."""

    default_target = "cpu"


class CudaLoweringError(LoweringError):
    """A node the cuda target cannot compile."""

    default_target = "cuda"


__all__ = ["LoweringError", "Unsupported", "CudaLoweringError"]
