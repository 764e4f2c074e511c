"""The readable text form of a graph (``print(graph)``).

One line per node: result names with their types, the op, sorted attributes in
brackets, the operands, and the layer that built the node as a trailing
comment::

    graph mlp(%x: f32[?,4]) -> (f32[?,3]) {
      %kernel: f32[4,3] = param[name="dense/kernel"]
      %0: f32[?,3] = dot %x, %kernel                            # dense
      return %0
    }

Names are given at print time: inputs and parameters keep their own (made
unique and valid), every other value is ``%0, %1, ...`` in order, counted
across nested bodies. Parameters are listed first in each graph; the full
variable name is the ``name`` attribute. A node whose attributes hold graphs
(``loop``, ``fused_elementwise``, ...) prints each of them in place, indented,
as ``key(params) { ... }`` (``key name(params)`` when the graph's own name is
not the attribute key); long attribute and parameter lists wrap onto
continuation lines.

A ``getitem`` index prints numpy-style (``index=[:, 0, ::2]``). Values print
exactly: floats with the shortest text that reads back to the same number of
their dtype (``inf``, ``nan``, ``-0.0`` included), arrays as
``f32[2,2]{1.0, 2.5, -0.0, 3.0}``. Arrays of more than :data:`ABBREVIATE_OVER`
elements are abbreviated (``...``) unless ``full=True``; :func:`symkb.ir.parse`
reads the full form back into an equal graph.
"""
from __future__ import annotations

import json
import re

import numpy as np

from .node import Body
from .registry import REGISTRY
from .safe_text import escape_controls, has_controls
from .types import TensorType
from .variable import Variable

ABBREVIATE_OVER = 16   # arrays with more elements print abbreviated unless full=True
_ABBREVIATED_SHOWN = 8
_COMMENT_COL = 60      # where trailing layer comments start
_WRAP_OVER = 100       # lines longer than this wrap their attribute list ...
_WRAP_AT = 80          # ... filling continuation lines up to this width
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def format_scalar(value, dtype: str) -> str:
    """One element of an array of ``dtype``, as the shortest exact text."""
    if dtype == "bool":
        return "true" if value else "false"
    if dtype.startswith(("int", "uint")):
        return str(int(value))
    return str(np.dtype(dtype).type(value))  # numpy's shortest round-trip text


def format_array(array: np.ndarray, *, full: bool = True) -> str:
    """``f32[2]{1.0, 2.0}``; abbreviated with ``...`` when large and not ``full``."""
    array = np.asarray(array)
    t = TensorType.of(array)
    flat = array.reshape(-1)
    dtype = t.dtype
    if full or flat.size <= ABBREVIATE_OVER:
        items = [format_scalar(v, dtype) for v in flat.tolist()]
    else:
        items = [format_scalar(v, dtype) for v in flat[:_ABBREVIATED_SHOWN]] + ["..."]
    return f"{t}{{{', '.join(items)}}}"


def format_value(value, *, full: bool = True) -> str:
    """An attribute value as text, exact and parseable for plain data.

    ``None`` -> ``none``, bools -> ``true``/``false``, ints, floats (``repr``),
    strings (JSON-quoted), tuples ``(a, b)`` / ``(a,)``, lists ``[a, b]``,
    dicts ``{"k": v}`` (sorted keys), arrays ``f32[2]{1.0, 2.0}``; a
    Variable prints its name and a Graph ``<graph name>``.
    """
    if value is None:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v, full=full) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v, full=full) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: format_value(kv[0]))
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v, full=full)}"
                               for k, v in items) + "}"
    if isinstance(value, np.ndarray):
        return format_array(value, full=full)
    if isinstance(value, Variable):
        return format_value(value.name)
    if isinstance(value, Body):
        return f"<graph {value.name}>"
    return repr(value)


# (op, attribute) pairs holding an encoded index (symkb.ir.node.encode_index),
# printed numpy-style: index=[:, 0, 1:3, ::2, newaxis, ...]
INDEX_ATTRS = {("getitem", "index")}


def format_index(items) -> str:
    """An encoded index as numpy-style text: ``[:, 0, ::2, newaxis, ...]``."""
    parts = []
    for item in items:
        kind = item[0]
        if kind == "int":
            parts.append(str(item[1]))
        elif kind == "slice":
            start, stop, step = ("" if v is None else str(v) for v in item[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif kind == "newaxis":
            parts.append("newaxis")
        else:
            parts.append("...")
    return "[" + ", ".join(parts) + "]"


def format_graph_name(name: str) -> str:
    """A graph name as printed: bare when it is an identifier, else quoted."""
    return name if IDENT_RE.match(name or "") else json.dumps(name, ensure_ascii=False)


class Namer:
    """Unique, valid value names for one printed graph and its bodies.

    Inputs and parameters are named after themselves (``named``), every other
    value is numbered (``numbered``); a name is never given twice.
    """

    def __init__(self):
        self.names: dict = {}
        self.used: set = set()
        self.suffix: dict = {}  # base name -> the next suffix to try
        self.counter = 0

    def _unique(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base or "") or "v"
        name, i = base, self.suffix.get(base, 1)
        if name in self.used or name.isdigit():
            name = f"{base}_{i}"
            while name in self.used:
                i += 1
                name = f"{base}_{i}"
            self.suffix[base] = i + 1
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


def param_base_name(variable_name: str) -> str:
    """``'simple_rnn/kernel:0'`` -> ``'kernel'``: the short printed name of a parameter."""
    return variable_name.rsplit("/", 1)[-1].split(":")[0]


def print_order(graph) -> list:
    """The nodes of ``graph`` in printed order: parameters first, then the rest."""
    params = [n for n in graph.nodes if n.op == "param"]
    return params + [n for n in graph.nodes if n.op != "param"]


def graph_attrs(node) -> list:
    """``[(key, graph)]``: the graph-valued attributes of ``node``, sorted by key."""
    return [(k, v) for k, v in sorted(node.attrs.items()) if isinstance(v, Body)]


def _name_results(node, namer) -> list:
    if node.op == "param":
        base = param_base_name(node.attrs["variable"].name)
        return [namer.named(node.outputs[0], base)]
    if node.op == "input":
        return [namer.named(node.outputs[0], node.name or "input")]
    return [namer.numbered(t) for t in node.outputs]


def name_values(graph) -> Namer:
    """The names ``print(graph)`` gives every value (bodies included), without printing."""
    namer = Namer()
    _name_graph(graph, namer, "input")
    return namer


def _name_graph(graph, namer, default):
    for t in graph.inputs:
        namer.named(t, t.node.name or default)
    for node in print_order(graph):
        _name_results(node, namer)
        for _, body in graph_attrs(node):
            _name_graph(body, namer, "arg")


def attr_items(node, *, full: bool = False) -> list:
    """``['key=value', ...]`` for the non-graph attributes of ``node``, sorted."""
    attrs = node.attrs
    opdef = REGISTRY.get(node.op)
    if opdef is not None and opdef.print_attrs is not None:
        attrs = opdef.print_attrs(attrs)  # a param shows its Variable's name
    return [f"{k}={format_index(v)}" if (node.op, k) in INDEX_ATTRS
            else f"{k}={format_value(v, full=full)}"
            for k, v in sorted(attrs.items()) if not isinstance(v, Body)]


def format_node(node, names, *, full: bool = False, compact: bool = False) -> str:
    """One node as a single line, without its bodies (for comments in generated code).

    Args:
        node: the node.
        names: a :class:`Namer` from :func:`name_values` (or any mapping
            tensor -> printed name).
        full: print large arrays in full.
        compact: show a fused node as ``fused{op, op}`` instead of its attributes.
    """
    lhs = ", ".join(f"{names[r]}: {t}" for r, t in zip(node.outputs, node.out_types))
    if compact and "ops" in node.attrs and graph_attrs(node):
        head = f"fused{{{', '.join(node.attrs['ops'])}}}"
    else:
        items = attr_items(node, full=full)
        head = node.op + (f"[{', '.join(items)}]" if items else "")
    operands = ", ".join(names[t] for t in node.inputs)
    return f"{lhs} = {head}" + (f" {operands}" if operands else "")


def format_layer(layer: str) -> str:
    """A layer name as a trailing comment shows it: bare, or JSON-quoted when it has
    line breaks, surrounding spaces or a leading quote (so it reads back exactly)."""
    if layer != layer.strip() or has_controls(layer) or layer.startswith('"'):
        return json.dumps(layer, ensure_ascii=False)
    return layer


def _with_comment(line: str, comment: str | None) -> str:
    if comment is None or comment == "":
        return line
    return f"{line.ljust(_COMMENT_COL)}  # {format_layer(comment)}"


def _node_lines(pad: str, lhs: str, op: str, items: list, tail: str) -> list:
    """The node's text, its attribute list wrapped when the line is too long."""
    one = f"{pad}{lhs} = {op}" + (f"[{', '.join(items)}]" if items else "") + tail
    if len(one) <= _WRAP_OVER or len(items) < 2:
        return [one]
    lines, current = [], f"{pad}{lhs} = {op}[{items[0]}"
    for item in items[1:]:
        if len(current) + 2 + len(item) <= _WRAP_AT:
            current += f", {item}"
        else:
            lines.append(current + ",")
            current = f"{pad}    {item}"
    lines.append(current + "]" + tail)
    return lines


def _wrap_list(head: str, items: list, tail: str) -> list:
    """``head + items + tail`` on one line, or wrapped with the items aligned after ``head``."""
    one = head + ", ".join(items) + tail
    if len(one) <= _WRAP_OVER or len(items) < 2:
        return [one]
    indent = " " * len(head)
    lines, current = [], head + items[0]
    for item in items[1:]:
        if len(current) + 2 + len(item) <= _WRAP_AT:
            current += f", {item}"
        else:
            lines.append(current + ",")
            current = indent + item
    lines.append(current + tail)
    return lines


class _Printer:
    def __init__(self, full: bool):
        self.full = full
        self.namer = Namer()
        self.lines: list = []

    def graph(self, graph) -> str:
        ins = [f"{self.namer.named(t, t.node.name or 'input')}: {t.type}" for t in graph.inputs]
        outs = ", ".join(str(t.type) for t in graph.outputs)
        self.lines.extend(_wrap_list(f"graph {format_graph_name(graph.name)}(", ins,
                                     f") -> ({outs}) {{"))
        self.nodes(graph, 1)
        self.lines.append(f"  return {', '.join(self.namer[t] for t in graph.outputs)}".rstrip())
        self.lines.append("}")
        return "\n".join(self.lines)

    def body(self, key, graph, indent):
        pad = "  " * indent
        params = [f"{self.namer.named(t, t.node.name or 'arg')}: {t.type}" for t in graph.inputs]
        label = key if graph.name == key else f"{key} {format_graph_name(graph.name)}"
        self.lines.extend(_wrap_list(f"{pad}{label}(", params, ") {"))
        self.nodes(graph, indent + 1)
        self.lines.append(f"{pad}  return {', '.join(self.namer[t] for t in graph.outputs)}"
                          .rstrip())
        self.lines.append(f"{pad}}}")

    def nodes(self, graph, indent):
        pad = "  " * indent
        for node in print_order(graph):
            results = _name_results(node, self.namer)
            lhs = ", ".join(f"{r}: {t}" for r, t in zip(results, node.out_types))
            operands = ", ".join(self.namer[t] for t in node.inputs)
            bodies = graph_attrs(node)
            tail = (f" {operands}" if operands else "") + (" {" if bodies else "")
            lines = _node_lines(pad, lhs, node.op, attr_items(node, full=self.full), tail)
            if not bodies:
                lines[-1] = _with_comment(lines[-1], node.layer)
                self.lines.extend(lines)
                continue
            self.lines.extend(lines)
            for key, body in bodies:
                self.body(key, body, indent + 1)
            self.lines.append(_with_comment(f"{pad}}}", node.layer))


def format_graph(graph, *, full: bool = False) -> str:
    """The text form of ``graph`` (see the module docstring).

    Control characters in names and strings are printed as ``\\uXXXX``
    escapes (:mod:`symkb.ir.safe_text`), so no terminal control sequence from
    a file reaches the terminal.

    Args:
        graph: the graph to print.
        full: print every element of large constant arrays, so that
            :func:`symkb.ir.parse` can read the text back exactly.
    """
    return escape_controls(_Printer(full).graph(graph))
