"""Reading graph JSON (:func:`from_json`): the inverse of :mod:`symkb.ir.serialize`.

The document is untrusted data. Loading reads JSON with the standard library
and builds nodes, arrays and Variables only: nothing named in the document is
imported or executed, and arrays are never unpickled. Every entry is checked
before use, every declared type against what it holds (a ``param``'s
Variable, a ``const``'s array), sizes against :mod:`symkb.ir.limits` before
arrays are made, and the graph is verified.
"""
from __future__ import annotations

import base64

import numpy as np

from . import limits
from .build import placeholder_node
from .graph import Graph
from .node import Node
from .restore import make_variable, variable_mapping
from .serialize import FORMAT, VERSION, GraphFormatError, parse_type
from .types import TensorType, canonical_dtype
from .variable import Variable
from .verify import verify as run_verify


def decode_array(data: dict, field: str = "array") -> np.ndarray:
    """Inverse of :func:`encode_array` (never unpickles).

    The element count is checked against :mod:`symkb.ir.limits` and against
    the stored data before an array is made.
    """
    if not isinstance(data, dict):
        raise GraphFormatError(f"{field}: expected an array entry {{\"dtype\", \"shape\", "
                               f"\"base64\" or \"data\"}}. Received: {str(data)[:80]}",
                               field=field)
    try:
        dtype = np.dtype(canonical_dtype(data["dtype"]))
        shape = data["shape"]
    except (KeyError, TypeError, ValueError) as exc:
        raise GraphFormatError(f"{field}: bad array entry {str(data)[:80]}: {exc}",
                               field=field) from None
    if not isinstance(shape, list):
        raise GraphFormatError(f"{field}: an array's shape must be a list of ints. "
                               f"Received: {str(shape)[:60]}", field=field)
    count = limits.element_count(shape, f"{field}.shape")
    shape = tuple(shape)
    if "base64" in data:
        text = data["base64"]
        if not isinstance(text, str) or len(text) != 4 * -(-count * dtype.itemsize // 3):
            size = len(text) if isinstance(text, str) else None
            raise GraphFormatError(f"{field}: an array of shape {shape} and dtype {dtype.name} "
                                   f"needs {count * dtype.itemsize} bytes (base64 of "
                                   f"{4 * -(-count * dtype.itemsize // 3)} characters); "
                                   f"found {size} characters", field=f"{field}.base64")
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise GraphFormatError(f"{field}.base64: not base64 ({exc})",
                                   field=f"{field}.base64") from None
        if len(raw) != count * dtype.itemsize:
            raise GraphFormatError(f"{field}: an array of shape {shape} needs "
                                   f"{count * dtype.itemsize} bytes, found {len(raw)}",
                                   field=f"{field}.base64")
        limits.check_array(shape, field)
        array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    elif "data" in data:
        flat = data["data"]
        if not isinstance(flat, list) or len(flat) != count:
            found = len(flat) if isinstance(flat, list) else type(flat).__name__
            raise GraphFormatError(f"{field}: array of shape {shape} needs {count} elements, "
                                   f"found {found}", field=f"{field}.data")
        limits.check_array(shape, field)
        array = _array_from_list(flat, dtype, field)
    else:
        raise GraphFormatError(f"{field}: array entry has neither 'base64' nor 'data': "
                               f"{str(data)[:80]}", field=field)
    return array.reshape(shape)


def _array_from_list(flat: list, dtype: np.dtype, field: str) -> np.ndarray:
    """The elements of a ``"data"`` list as an array of ``dtype``: numbers only
    (non-finite floats as the strings ``'nan'``, ``'inf'``, ``'-inf'``)."""
    for v in flat:
        ok = (isinstance(v, (int, float)) and (dtype.kind in "fc" or not isinstance(v, float))
              or dtype.kind == "f" and v in ("nan", "inf", "-inf"))
        if not ok or (dtype.kind == "b" and v not in (0, 1)):
            raise GraphFormatError(f"{field}.data: expected {dtype.name} numbers. "
                                   f"Received: {str(v)[:40]!r}", field=f"{field}.data")
    if dtype.kind == "f":
        flat = [float(v) for v in flat]
    try:
        with np.errstate(over="ignore"):
            return np.array(flat, dtype=dtype)
    except OverflowError:
        raise GraphFormatError(f"{field}.data: a value does not fit {dtype.name}",
                               field=f"{field}.data") from None


class _Reader:
    """Builds a graph from a document; every entry is checked before use."""

    def __init__(self, doc: dict, variables):
        given = variable_mapping(variables)
        self.variables = []
        self.seen: set = set()
        entries = doc.get("variables", [])
        if not isinstance(entries, list):
            raise GraphFormatError("'variables' must be a list", field="variables")
        for i, e in enumerate(entries):
            field = f"variables[{i}]"
            if not isinstance(e, dict) or not isinstance(e.get("name"), str) \
                    or not isinstance(e.get("shape"), list):
                raise GraphFormatError(f"{field}: expected {{\"name\": str, \"dtype\", "
                                       f"\"shape\": [ints], ...}}. Received: {str(e)[:80]}",
                                       field=field)
            limits.element_count(e["shape"], f"{field}.shape")
            try:
                name, t = e["name"], TensorType(tuple(e["shape"]), e["dtype"])
            except (KeyError, TypeError, ValueError) as exc:
                raise GraphFormatError(f"{field}: bad entry ({exc})", field=field) from None
            value = given.get(name)
            if value is None and "value" in e:
                value = decode_array(e["value"], f"{field}.value")
                if value.shape != t.shape:
                    raise GraphFormatError(f"{field}: the value has shape {value.shape}; the "
                                           f"entry declares {t.shape}", field=f"{field}.value")
            if value is None or not isinstance(value, Variable):
                limits.check_array(t.shape, field)
            var = make_variable(name, t, value, bool(e.get("trainable", True)))
            if var.type != t:
                raise ValueError(f"from_json: the variable given for {name!r} has type "
                                 f"{var.type}; the document says {t}")
            self.variables.append(var)

    def graph(self, data: dict, depth: int = 0, field: str = "graph") -> Graph:
        limits.check_depth(depth, field)
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) \
                or not isinstance(data.get("name"), str):
            raise GraphFormatError(f"{field}: a graph needs 'name' (a string) and 'nodes' "
                                   "(a list)", field=field)
        entries, name = data["nodes"], data["name"]
        limits.check_nodes(len(entries), f"{field}.nodes")
        built: list = []

        def ref(r, where):
            if isinstance(r, list) and len(r) == 2 and all(
                    isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in r):
                i, j = r
                if i < len(built) and j < len(built[i].outputs):
                    return built[i].outputs[j]
            raise GraphFormatError(f"graph {name!r}: {where}: bad value reference "
                                   f"{str(r)[:40]} (expected [node index, result index] of "
                                   f"an earlier node; {len(built)} built)", field=where)

        for k, e in enumerate(entries):
            where = f"{field}.nodes[{k}]"
            if not isinstance(e, dict) or not isinstance(e.get("op"), str) \
                    or not isinstance(e.get("type"), list) or not e["type"]:
                raise GraphFormatError(f"graph {name!r}: {where}: expected {{\"op\": str, "
                                       f"\"type\": [types], ...}}. Received: {str(e)[:80]}",
                                       field=where)
            op = e["op"]
            types = tuple(parse_type(s, f"{where}.type") for s in e["type"])
            node_name, layer = e.get("name"), e.get("layer")
            for key, v in (("name", node_name), ("layer", layer)):
                if v is not None and not isinstance(v, str):
                    raise GraphFormatError(f"{where}.{key}: expected a string. Received: "
                                           f"{str(v)[:40]}", field=f"{where}.{key}")
            if op == "input" and "inputs" not in e and "attrs" not in e:
                if len(types) != 1:
                    raise GraphFormatError(f"{where}: an input has one type. Received: "
                                           f"{len(types)}", field=f"{where}.type")
                (t,) = types
                built.append(placeholder_node(t.shape, t.dtype, node_name).node)
                continue
            raw_attrs, raw_inputs = e.get("attrs", {}), e.get("inputs", [])
            if not isinstance(raw_attrs, dict) or not isinstance(raw_inputs, list):
                raise GraphFormatError(f"{where}: 'attrs' must be an object and 'inputs' a "
                                       "list", field=where)
            attrs = {key: self.value(v, depth + 1, f"{where}.attrs.{key}")
                     for key, v in raw_attrs.items()}
            inputs = tuple(ref(r, f"{where}.inputs[{i}]") for i, r in enumerate(raw_inputs))
            if op == "param":
                built.append(self.param(attrs, types, layer, node_name, where))
                continue
            if op == "const":
                check_const(attrs, types, where)
            built.append(Node(op, inputs, attrs, types, node_name, layer))
        ins, outs = data.get("inputs", []), data.get("outputs", [])
        if not isinstance(ins, list) or not isinstance(outs, list):
            raise GraphFormatError(f"{field}: 'inputs' and 'outputs' must be lists", field=field)
        inputs = [ref(r, f"{field}.inputs[{i}]") for i, r in enumerate(ins)]
        outputs = [ref(r, f"{field}.outputs[{i}]") for i, r in enumerate(outs)]
        return Graph(inputs, outputs, name=name)

    def param(self, attrs, types, layer, name, where) -> Node:
        var = attrs.get("variable")
        if not isinstance(var, Variable) or set(attrs) != {"variable"}:
            raise GraphFormatError(f"{where}: a param node needs attrs {{'variable': "
                                   "{'variable': index}} and nothing else", field=where)
        check_param(var, types, where)
        if id(var) not in self.seen:
            self.seen.add(id(var))
            node = var.tensor.node
            if node.layer == layer and node.name == name and node.out_types == types:
                return node
        return Node("param", (), {"variable": var}, types, name, layer)

    def value(self, v, depth: int, field: str):
        limits.check_depth(depth, field)
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return tuple(self.value(x, depth + 1, field) for x in v)
        if isinstance(v, dict) and len(v) == 1:
            (tag, data), = v.items()
            if tag == "list" and isinstance(data, list):
                return [self.value(x, depth + 1, field) for x in data]
            if tag == "dict" and isinstance(data, list) and all(
                    isinstance(p, list) and len(p) == 2 for p in data):
                out = {}
                for k, x in data:
                    key = self.value(k, depth + 1, field)
                    try:
                        out[key] = self.value(x, depth + 1, field)
                    except TypeError:  # an unhashable key
                        raise GraphFormatError(f"{field}: a dict key must be a string, number "
                                               f"or tuple. Received: {str(k)[:40]}",
                                               field=field) from None
                return out
            if tag == "float" and data in ("nan", "inf", "-inf"):
                return float(data)
            if tag == "scalar":
                return _scalar(data, field)
            if tag == "array":
                return decode_array(data, field)
            if tag == "variable":
                if isinstance(data, int) and not isinstance(data, bool) \
                        and 0 <= data < len(self.variables):
                    return self.variables[data]
                raise GraphFormatError(f"{field}: no variable number {str(data)[:20]} "
                                       f"({len(self.variables)} in the document)", field=field)
            if tag == "graph":
                return self.graph(data, depth + 1, field)
        raise GraphFormatError(f"{field}: unknown attribute value {str(v)[:80]}", field=field)


def _scalar(data, field: str):
    """A ``{"scalar": {"dtype", "value"}}`` entry as a numpy scalar."""
    try:
        dtype = np.dtype(canonical_dtype(data["dtype"]))
        value = data["value"]
    except (KeyError, TypeError, ValueError) as exc:
        raise GraphFormatError(f"{field}: bad scalar entry {str(data)[:60]} ({exc})",
                               field=field) from None
    return _array_from_list([value], dtype, field)[0]


def check_param(var, types, where: str) -> None:
    """A ``param`` node declares the type of the Variable it holds, exactly.

    A kernel is generated for the declared type: a smaller Variable would be
    read past its end.

    Raises:
        GraphFormatError: the declared type differs from the Variable's.
    """
    if len(types) != 1 or types[0] != var.type:
        raise GraphFormatError(
            f"{where}: param {var.name!r} declares type "
            f"{', '.join(str(t) for t in types)} but its Variable holds {var.type}",
            field=f"{where}.type")


def check_const(attrs, types, where: str) -> None:
    """A ``const`` node holds one array of exactly its declared type (made read-only).

    Raises:
        GraphFormatError: no array, or an array of another shape or dtype.
    """
    value = attrs.get("value")
    if not isinstance(value, np.ndarray) or set(attrs) != {"value"} or len(types) != 1:
        raise GraphFormatError(f"{where}: a const node needs attrs {{'value': ARRAY}} and "
                               "one type", field=f"{where}.attrs")
    if TensorType.of(value) != types[0]:
        raise GraphFormatError(f"{where}: const declares type {types[0]} but its value is "
                               f"{TensorType.of(value)}", field=f"{where}.type")
    value.flags.writeable = False


def from_dict(doc: dict, variables=None, *, verify: bool = True) -> Graph:
    """Inverse of :func:`to_dict` (see :func:`from_json`)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise GraphFormatError(f"not a symkb graph document: expected "
                               f'{{"format": "{FORMAT}", ...}}, received '
                               f"{str(doc)[:60]!r}", field="format")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1 or version > VERSION:
        raise GraphFormatError(f"symkb graph document version {version!r} is not supported; "
                               f"this symkb reads versions 1 to {VERSION} (upgrade symkb to "
                               "read newer files)", field="version")
    reader = _Reader(doc, variables)
    graph = reader.graph(doc.get("graph"))
    if verify:
        run_verify(graph)
    return graph


def from_json(text: str, variables=None, *, verify: bool = True,
              source: str = "<text>") -> Graph:
    """Read a graph written by :func:`to_json`.

    The document is untrusted data: sizes are checked against
    :mod:`symkb.ir.limits` before anything is allocated, every declared type
    against what it holds, and the graph is verified.

    Args:
        text: the JSON document (``str`` or ``bytes``).
        variables: optional mapping ``name -> Variable`` (used as is) or
            ``name -> array`` (a new Variable's value), or a list of Variables;
            they take precedence over stored values. Variables with neither a
            stored nor a given value start as zeros.
        verify: run the verifier on the result (the default; ``False`` skips
            it, for documents of a trusted origin only).
        source: what ``text`` came from (a file name), named in errors.

    Raises:
        GraphFormatError: (a ``ValueError``; one of the
            :class:`~symkb.ir.errors.FileFormatError` family) for a document of
            another format or a newer version, or a malformed one; its subclass
            :class:`~symkb.ir.errors.LimitError` when it is over a limit.
    """
    with limits.reading(source, "symkb graph JSON", GraphFormatError):
        doc = limits.load_json(text)
        return from_dict(doc, variables, verify=verify)
