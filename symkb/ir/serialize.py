"""Graphs as JSON: :func:`to_json` / :func:`from_json`, a versioned, data-only schema.

The document::

    {"format": "symkb-graph", "version": 1,
     "graph": GRAPH,
     "variables": [{"name": "dense/kernel", "dtype": "float32", "shape": [4, 3],
                    "trainable": true, "value": ARRAY}, ...]}   # "value" optional

    GRAPH := {"name": "mlp",
              "nodes": [{"op": "input", "name": "x", "type": ["f32[?,4]"]}, ...
                        {"op": "dot", "inputs": [[0, 0], [1, 0]], "attrs": {...},
                         "type": ["f32[?,3]"], "layer": "dense"}, ...],
              "inputs": [[0, 0]], "outputs": [[2, 0]]}

A value is ``[node index, result index]`` into the graph's own ``nodes``; the
graph's inputs come first as ``input`` nodes. ``name`` and ``layer`` are
left out when ``None``. Attribute values use JSON where that is exact
(``null``, bools, ints, strings, finite floats; JSON arrays are tuples) and a
one-key tagged object otherwise: ``{"list": [...]}``, ``{"dict": [[k, v],
...]}``, ``{"float": "nan"}``, ``{"scalar": {"dtype", "value"}}`` for numpy
scalars, ``{"array": ARRAY}``, ``{"variable": index}`` into ``variables`` and
``{"graph": GRAPH}`` for bodies. ``ARRAY`` is ``{"dtype", "shape", "base64"}``
(little-endian bytes, bit exact) or ``{"dtype", "shape", "data"}`` (a flat
list; non-finite floats as strings).

Loading (:mod:`symkb.ir.json_read`) reads JSON with the standard library and
builds nodes, arrays and Variables only: nothing named in the document is
imported or executed, and arrays are never unpickled. Every declared type is
checked against what it holds (a ``param``'s Variable, a ``const``'s array),
sizes are checked against :mod:`symkb.ir.limits` before arrays are made, and
the graph is verified.
"""
from __future__ import annotations

import base64
import functools
import json
import math

import numpy as np

from .errors import FileFormatError
from .graph import Graph
from .types import TensorType
from .variable import Variable

FORMAT = "symkb-graph"
VERSION = 1


@functools.lru_cache(maxsize=4096)
def _parse_type(text: str) -> TensorType:
    return TensorType.parse(text)


def parse_type(text, field: str = "type") -> TensorType:
    """``TensorType.parse`` with a cache (types repeat a lot in a graph).

    Raises:
        GraphFormatError: ``text`` is not a type such as ``'f32[?,4]'``.
    """
    if not isinstance(text, str) or len(text) > 1000:
        raise GraphFormatError(f"{field}: expected a type such as 'f32[?,4]'. "
                               f"Received: {str(text)[:60]!r}", field=field)
    try:
        return _parse_type(text)
    except (KeyError, ValueError, TypeError):
        raise GraphFormatError(f"{field}: expected a type such as 'f32[?,4]'. "
                               f"Received: {text[:60]!r}", field=field) from None


class GraphFormatError(FileFormatError):
    """A JSON document is not a symkb graph this version can read."""


# -- arrays -------------------------------------------------------------------

def encode_array(array, encoding: str = "base64") -> dict:
    """An array as JSON data: base64 of its little-endian bytes, or a flat list."""
    array = np.asarray(array)
    head = {"dtype": array.dtype.name, "shape": list(array.shape)}
    if encoding == "base64":
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        return {**head, "base64": base64.b64encode(data).decode("ascii")}
    if encoding == "list":
        return {**head, "data": [_plain_scalar(v) for v in array.reshape(-1).tolist()]}
    raise ValueError(f"array encoding must be 'base64' or 'list', received {encoding!r}")


def _plain_scalar(v):
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # 'nan', 'inf', '-inf'
    return v

# -- writing ------------------------------------------------------------------

class _Writer:
    def __init__(self, include_values: bool, encoding: str):
        self.include_values = include_values
        self.encoding = encoding
        self.variables: list = []
        self.objects: list = []     # the Variables of ``variables``, in the same order
        self.var_index: dict = {}

    def graph(self, graph: Graph) -> dict:
        ids, nodes = {}, []
        for t in graph.inputs:
            entry = {"op": "input", "name": t.node.name or "input", "type": [str(t.type)]}
            ids[t] = (len(nodes), 0)
            nodes.append(entry)
        for node in graph.nodes:
            entry = {"op": node.op}
            if node.name is not None:
                entry["name"] = node.name
            if node.inputs:
                entry["inputs"] = [list(ids[t]) for t in node.inputs]
            if node.attrs:
                entry["attrs"] = {k: self.value(v, node, k) for k, v in sorted(node.attrs.items())}
            entry["type"] = [str(t) for t in node.out_types]
            if node.layer is not None:
                entry["layer"] = node.layer
            for j, out in enumerate(node.outputs):
                ids.setdefault(out, (len(nodes), j))
            nodes.append(entry)
        return {"name": graph.name, "nodes": nodes,
                "inputs": [list(ids[t]) for t in graph.inputs],
                "outputs": [list(ids[t]) for t in graph.outputs]}

    def value(self, v, node, key):
        if isinstance(v, np.generic) and not isinstance(v, np.void):
            # before the Python types: np.float64 is a float subclass
            return {"scalar": {"dtype": v.dtype.name, "value": _plain_scalar(v.item())}}
        if v is None or isinstance(v, (bool, str, int)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"float": repr(float(v))}
        if isinstance(v, tuple):
            return [self.value(x, node, key) for x in v]
        if isinstance(v, list):
            return {"list": [self.value(x, node, key) for x in v]}
        if isinstance(v, dict):
            return {"dict": [[self.value(k, node, key), self.value(x, node, key)]
                             for k, x in v.items()]}
        if isinstance(v, np.ndarray):
            return {"array": encode_array(v, self.encoding)}
        if isinstance(v, Variable):
            return {"variable": self.variable(v)}
        if isinstance(v, Graph):
            return {"graph": self.graph(v)}
        raise TypeError(f"to_json: attribute {key!r} of node {node.op}"
                        f"{' (layer ' + node.layer + ')' if node.layer else ''} holds a "
                        f"{type(v).__name__}, which has no JSON form; expected None, bool, "
                        "int, float, str, tuple, list, dict, numpy array, Variable or Graph")

    def variable(self, v: Variable) -> int:
        if id(v) not in self.var_index:
            entry = {"name": v.name, "dtype": v.dtype, "shape": list(v.shape),
                     "trainable": v.trainable}
            if self.include_values:
                entry["value"] = encode_array(v.value(), self.encoding)
            self.var_index[id(v)] = len(self.variables)
            self.variables.append(entry)
            self.objects.append(v)
        return self.var_index[id(v)]


def to_dict(graph: Graph, *, include_values: bool = True, encoding: str = "base64") -> dict:
    """The JSON document of :func:`to_json` as Python data."""
    writer = _Writer(include_values, encoding)
    body = writer.graph(graph)
    return {"format": FORMAT, "version": VERSION, "graph": body, "variables": writer.variables}


def split_values(graph: Graph) -> tuple:
    """The document of :func:`to_dict` without values, and the Variables its
    ``variables`` entries stand for, in the same order (to send a graph's
    structure and its weights apart, as arrays)."""
    writer = _Writer(False, "base64")
    body = writer.graph(graph)
    doc = {"format": FORMAT, "version": VERSION, "graph": body, "variables": writer.variables}
    return doc, list(writer.objects)


def to_json(graph: Graph, *, include_values: bool = True, encoding: str = "base64",
            indent: int | None = None) -> str:
    """``graph`` as a JSON document (see the module docstring).

    Args:
        graph: the graph.
        include_values: store the variables' current values (else only their
            names, shapes and dtypes; :func:`from_json` then needs them given).
        encoding: ``'base64'`` (compact, bit exact) or ``'list'`` (readable,
            exact) for variable values and constant arrays.
        indent: passed to :func:`json.dumps`.
    """
    return json.dumps(to_dict(graph, include_values=include_values, encoding=encoding),
                      indent=indent, allow_nan=False, ensure_ascii=False)

