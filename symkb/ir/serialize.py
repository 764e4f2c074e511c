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

Loading reads JSON with the standard library and builds nodes, arrays and
Variables only: nothing named in the document is imported or executed, and
arrays are never unpickled.
"""
from __future__ import annotations

import base64
import functools
import json
import math

import numpy as np

from .graph import Graph
from .node import Node
from .types import TensorType
from .variable import Variable

FORMAT = "symkb-graph"
VERSION = 1


@functools.lru_cache(maxsize=4096)
def parse_type(text: str) -> TensorType:
    """``TensorType.parse`` with a cache (types repeat a lot in a graph)."""
    return TensorType.parse(text)


class GraphFormatError(ValueError):
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


def decode_array(data: dict) -> np.ndarray:
    """Inverse of :func:`encode_array` (never unpickles)."""
    from .types import canonical_dtype
    try:
        dtype = np.dtype(canonical_dtype(data["dtype"]))
        shape = tuple(int(d) for d in data["shape"])
    except (KeyError, TypeError) as exc:
        raise GraphFormatError(f"bad array entry {str(data)[:80]}: {exc}") from None
    if "base64" in data:
        raw = base64.b64decode(data["base64"], validate=True)
        array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    elif "data" in data:
        flat = data["data"]
        if dtype.kind == "f":
            flat = [float(v) for v in flat]
        array = np.array(flat, dtype=dtype)
    else:
        raise GraphFormatError(f"array entry has neither 'base64' nor 'data': {str(data)[:80]}")
    count = int(np.prod(shape, dtype=np.int64))
    if array.size != count:
        raise GraphFormatError(f"array of shape {shape} needs {count} elements, found "
                               f"{array.size}")
    return array.reshape(shape)


# -- writing ------------------------------------------------------------------

class _Writer:
    def __init__(self, include_values: bool, encoding: str):
        self.include_values = include_values
        self.encoding = encoding
        self.variables: list = []
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
        return self.var_index[id(v)]


def to_dict(graph: Graph, *, include_values: bool = True, encoding: str = "base64") -> dict:
    """The JSON document of :func:`to_json` as Python data."""
    writer = _Writer(include_values, encoding)
    body = writer.graph(graph)
    return {"format": FORMAT, "version": VERSION, "graph": body, "variables": writer.variables}


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


# -- reading ------------------------------------------------------------------

class _Reader:
    def __init__(self, doc: dict, variables):
        from .restore import make_variable, variable_mapping
        given = variable_mapping(variables)
        self.variables = []
        self.seen: set = set()
        entries = doc.get("variables", [])
        if not isinstance(entries, list):
            raise GraphFormatError("'variables' must be a list")
        for i, e in enumerate(entries):
            try:
                name, t = e["name"], TensorType(tuple(e["shape"]), e["dtype"])
            except (KeyError, TypeError) as exc:
                raise GraphFormatError(f"variable {i}: bad entry ({exc})") from None
            value = given.get(name)
            if value is None and "value" in e:
                value = decode_array(e["value"])
            var = make_variable(name, t, value, bool(e.get("trainable", True)))
            if var.type != t:
                raise ValueError(f"from_json: the variable given for {name!r} has type "
                                 f"{var.type}; the document says {t}")
            self.variables.append(var)

    def graph(self, data: dict) -> Graph:
        from .build import placeholder_node
        try:
            entries, name = data["nodes"], data["name"]
        except (KeyError, TypeError):
            raise GraphFormatError("a graph needs 'name' and 'nodes'") from None
        built: list = []

        def ref(r):
            try:
                i, j = r
                return built[i].outputs[j]
            except (TypeError, ValueError, IndexError):
                raise GraphFormatError(f"graph {name!r}: bad value reference {r!r} (node "
                                       f"{len(built)})") from None

        for k, e in enumerate(entries):
            try:
                op = e["op"]
                types = tuple(parse_type(s) for s in e["type"])
            except (KeyError, TypeError, ValueError) as exc:
                raise GraphFormatError(f"graph {name!r}: node {k}: bad entry ({exc})") from None
            if op == "input" and "inputs" not in e and "attrs" not in e:
                (t,) = types
                built.append(placeholder_node(t.shape, t.dtype, e.get("name")).node)
                continue
            attrs = {key: self.value(v) for key, v in e.get("attrs", {}).items()}
            inputs = tuple(ref(r) for r in e.get("inputs", []))
            layer = e.get("layer")
            if op == "param":
                built.append(self.param(attrs, types, layer, e.get("name")))
                continue
            if op == "const" and isinstance(attrs.get("value"), np.ndarray):
                attrs["value"].flags.writeable = False
            built.append(Node(op, inputs, attrs, types, e.get("name"), layer))
        inputs = [ref(r) for r in data.get("inputs", [])]
        outputs = [ref(r) for r in data.get("outputs", [])]
        return Graph(inputs, outputs, name=name)

    def param(self, attrs, types, layer, name) -> Node:
        var = attrs.get("variable")
        if not isinstance(var, Variable):
            raise GraphFormatError("a param node needs attrs {'variable': {'variable': index}}")
        if id(var) not in self.seen:
            self.seen.add(id(var))
            node = var.tensor.node
            if node.layer == layer and node.name == name and node.out_types == types:
                return node
        return Node("param", (), {"variable": var}, types, name, layer)

    def value(self, v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return tuple(self.value(x) for x in v)
        if isinstance(v, dict) and len(v) == 1:
            (tag, data), = v.items()
            if tag == "list":
                return [self.value(x) for x in data]
            if tag == "dict":
                return {self.value(k): self.value(x) for k, x in data}
            if tag == "float":
                return float(data)
            if tag == "scalar":
                return np.dtype(data["dtype"]).type(data["value"])
            if tag == "array":
                return decode_array(data)
            if tag == "variable":
                try:
                    return self.variables[data]
                except (IndexError, TypeError):
                    raise GraphFormatError(f"no variable number {data!r}") from None
            if tag == "graph":
                return self.graph(data)
        raise GraphFormatError(f"unknown attribute value {str(v)[:80]}")


def from_dict(doc: dict, variables=None) -> Graph:
    """Inverse of :func:`to_dict`."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GraphFormatError(f"not a symkb graph document: expected "
                               f'{{"format": "{FORMAT}", ...}}, received '
                               f"{str(doc)[:60]!r}")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1 or version > VERSION:
        raise GraphFormatError(f"symkb graph document version {version!r} is not supported; "
                               f"this symkb reads versions 1 to {VERSION} (upgrade symkb to "
                               "read newer files)")
    reader = _Reader(doc, variables)
    return reader.graph(doc["graph"])


def from_json(text: str, variables=None) -> Graph:
    """Read a graph written by :func:`to_json`.

    Args:
        text: the JSON document (``str`` or ``bytes``).
        variables: optional mapping ``name -> Variable`` (used as is) or
            ``name -> array`` (a new Variable's value), or a list of Variables;
            they take precedence over stored values. Variables with neither a
            stored nor a given value start as zeros.

    Raises:
        GraphFormatError: (a ``ValueError``) for a document of another format
            or a newer version, or a malformed one.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphFormatError(f"from_json: not valid JSON: {exc}") from None
    return from_dict(doc, variables)
