"""``SourceWriter``: the one owner of indentation in generated code (cpu and cuda).

Emitters call :meth:`line` and open blocks with ``with w.block("for i in range(n):")``
(or ``with w.indent():`` under a header they wrote); they never build
indentation by hand. :func:`ir_line` is the one text of the IR line that
both targets write as a comment above the code a node became.
"""
from __future__ import annotations

import contextlib


class SourceWriter:
    """Collects lines of Python source at the current indentation level."""

    INDENT = "    "

    def __init__(self, level: int = 0):
        self.lines: list = []
        self.level = level

    def line(self, text: str = "") -> None:
        """Append one line (or several, split on newlines) at the current level."""
        for part in text.split("\n"):
            self.lines.append(self.INDENT * self.level + part if part else "")

    def comment(self, text: str) -> None:
        for part in text.split("\n"):
            self.line("# " + part)

    @contextlib.contextmanager
    def block(self, header: str):
        """``header`` (ending in ':') then an indented block."""
        self.line(header)
        self.level += 1
        try:
            yield self
        finally:
            self.level -= 1

    @contextlib.contextmanager
    def indent(self):
        self.level += 1
        try:
            yield self
        finally:
            self.level -= 1

    def loop_nest(self, dims):
        """Open ``for i<k> in range(dims[k]):`` blocks, one per dim.

        Returns ``(index names, close)``; call ``close()`` to leave the nest.
        The names ``i0, i1, ...`` are reserved for these nests (they never nest).
        """
        idx = [f"i{k}" for k in range(len(dims))]
        blocks = [self.block(f"for {v} in range({d}):") for v, d in zip(idx, dims)]
        for b in blocks:
            b.__enter__()

        def close():
            for b in reversed(blocks):
                b.__exit__(None, None, None)
        return idx, close

    def extend(self, other: "SourceWriter") -> None:
        """Append another writer's lines, re-indented to this writer's level."""
        pad = self.INDENT * self.level
        self.lines.extend(pad + ln if ln else "" for ln in other.lines)

    def call(self, head: str, args, tail: str = "", width: int = 92) -> None:
        """``head(arg, arg, ...)tail`` on one line, or wrapped before ``width``
        columns with the arguments continued one indent deeper."""
        args = [str(a) for a in args]
        pad = len(self.INDENT * self.level)
        one = f"{head}({', '.join(args)}){tail}"
        if pad + len(one) <= width:
            self.line(one)
            return
        lines, cur = [], f"{head}("
        for k, a in enumerate(args):
            piece = a + (", " if k < len(args) - 1 else f"){tail}")
            fresh = cur in (f"{head}(", self.INDENT)
            if pad + len(cur) + len(piece.rstrip()) > width and not fresh:
                lines.append(cur.rstrip())
                cur = self.INDENT + piece
            else:
                cur += piece
        lines.append(cur.rstrip())
        self.line("\n".join(lines))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _NamesOnDemand:
    """A printer :class:`~symkb.ir.printer.Namer` that numbers a value it has not
    named yet (a node a target built while lowering, e.g. a decomposition)."""

    def __init__(self, namer):
        self.namer = namer

    def __getitem__(self, tensor) -> str:
        return self.namer.names.get(tensor) or self.namer.numbered(tensor)


def ir_line(node, namer, width: int = 100) -> str:
    """``node`` as one line of IR for a comment in generated code (cpu and cuda).

    The text is the IR printer's :func:`~symkb.ir.printer.format_node` (bodies
    left out, a fused group as ``fused{op, op}``) under the graph's printed
    value names, cut at ``width`` characters, then the node's layer.
    """
    from ..ir.printer import format_node
    text = format_node(node, _NamesOnDemand(namer), compact=True)
    if len(text) > width:
        text = text[:width - 3] + "..."
    return f"{text}   [{node.layer}]" if node.layer else text
