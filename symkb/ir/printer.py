"""The readable text form of a graph (``print(graph)``).

One line per node: result names with their types, the op, sorted attributes in
brackets, the operands, and the layer that built the node as a trailing
comment. Names are given at print time: inputs and parameters keep their own
(made unique and valid), every other value is ``%0, %1, ...`` in order. Loop
bodies are printed in place, indented under their node.
"""
from __future__ import annotations

import re

import numpy as np

from .types import TensorType

_COMMENT_COL = 60


def format_value(value) -> str:
    """An attribute value as text (stable, and parseable back for plain data)."""
    from .graph import Graph
    from .variable import Variable
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, np.ndarray):
        t = TensorType.of(value)
        flat = ", ".join(format_value(v.item()) for v in value.reshape(-1))
        return f"{t}{{{flat}}}"
    if isinstance(value, Variable):
        return format_value(value.name)
    if isinstance(value, Graph):
        return "<body>"
    return repr(value)


class _Namer:
    """Unique, valid value names for one printed graph and its bodies."""

    def __init__(self):
        self.names: dict = {}
        self.used: set = set()
        self.counter = 0

    def _unique(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base) or "v"
        name, i = base, 1
        while name in self.used or name.isdigit():
            name = f"{base}_{i}"
            i += 1
        self.used.add(name)
        return name

    def named(self, tensor, base: str) -> str:
        if tensor not in self.names:
            self.names[tensor] = "%" + self._unique(base)
        return self.names[tensor]

    def numbered(self, tensor) -> str:
        if tensor not in self.names:
            while str(self.counter) in self.used:
                self.counter += 1
            self.used.add(str(self.counter))
            self.names[tensor] = f"%{self.counter}"
            self.counter += 1
        return self.names[tensor]

    def __getitem__(self, tensor) -> str:
        return self.names.get(tensor, "%<undefined>")


def _node_attrs(node) -> str:
    attrs = dict(node.attrs)
    if node.op == "param":
        attrs = {"name": attrs["variable"].name}
    items = [f"{k}={format_value(v)}" for k, v in sorted(attrs.items())
             if not _is_graph(v)]
    return f"[{', '.join(items)}]" if items else ""


def _is_graph(value) -> bool:
    from .graph import Graph
    return isinstance(value, Graph)


def _with_comment(line: str, comment: str | None) -> str:
    if not comment:
        return line
    return f"{line.ljust(_COMMENT_COL)}  # {comment}"


def _format_body(graph, namer, indent, keyword, lines):
    pad = "  " * indent
    params = ", ".join(f"{namer.named(t, t.node.name or 'arg')}: {t.type}" for t in graph.inputs)
    lines.append(f"{pad}{keyword}({params}) {{")
    _format_nodes(graph, namer, indent + 1, lines)
    lines.append(f"{pad}  return {', '.join(namer[t] for t in graph.outputs)}")
    lines.append(f"{pad}}}")


def _format_nodes(graph, namer, indent, lines):
    pad = "  " * indent
    for node in graph.nodes:
        if node.op == "param":
            base = node.attrs["variable"].name.rsplit("/", 1)[-1].split(":")[0]
            results = [namer.named(node.outputs[0], base)]
        elif node.op == "input":
            results = [namer.named(node.outputs[0], node.name or "input")]
        else:
            results = [namer.numbered(t) for t in node.outputs]
        lhs = ", ".join(f"{r}: {t}" for r, t in zip(results, node.out_types))
        operands = ", ".join(namer[t] for t in node.inputs)
        line = f"{pad}{lhs} = {node.op}{_node_attrs(node)}"
        if operands:
            line += f" {operands}"
        bodies = node.bodies()
        if not bodies:
            lines.append(_with_comment(line, node.layer))
            continue
        lines.append(line + " {")
        for body in bodies:
            _format_body(body, namer, indent + 1, "body", lines)
        lines.append(_with_comment(f"{pad}}}", node.layer))


def format_graph(graph) -> str:
    """The text form of ``graph`` (see the module docstring)."""
    namer = _Namer()
    ins = ", ".join(f"{namer.named(t, t.node.name or 'input')}: {t.type}" for t in graph.inputs)
    outs = ", ".join(str(t.type) for t in graph.outputs)
    lines = [f"graph {graph.name}({ins}) -> ({outs}) {{"]
    _format_nodes(graph, namer, 1, lines)
    lines.append(f"  return {', '.join(namer[t] for t in graph.outputs)}")
    lines.append("}")
    return "\n".join(lines)
