"""The values of an ONNX graph being imported (see :mod:`symkb.onnx.importer`).

A value is a numpy array (known at import), a :class:`ShapeVec` (a shape
vector with run-time entries) or a KerasTensor. :class:`Scope` maps ONNX
names to values (a Scan body's scope sees its parent's) and carries the
function importing one node, so that bodies are imported by the same table.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..ir import limits
from ..ir.errors import FileFormatError
from ..ir.node import KerasTensor


@dataclasses.dataclass(frozen=True)
class ShapeVec:
    """A 1-D int64 shape vector: entries are ints or ``(tensor, axis)`` pairs
    (a dimension known when the graph runs)."""

    entries: tuple
    scalar: bool = False


class Scope:
    """The values of one ONNX graph (a Scan body sees its parent's)."""

    def __init__(self, parent=None, import_node=None):
        self.values: dict = {}
        self.parent = parent
        self.import_node = import_node if import_node is not None else parent.import_node

    def __getitem__(self, name):
        scope = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        raise FileFormatError(f"symkb.onnx.load: value {name!r} is used before it is made",
                              field=name)

    def __setitem__(self, name, value):
        self.values[name] = value


def run_graph(graph, scope: Scope, onnx) -> list:
    """Import every node of ``graph`` into ``scope``; the graph outputs' values."""
    for init in graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise FileFormatError(f"symkb.onnx.load: initializer {init.name!r} keeps its "
                                  "values in an external file, which symkb never reads",
                                  field=init.name)
        limits.check_array(tuple(init.dims), f"initializer {init.name!r}")
        scope[init.name] = onnx.numpy_helper.to_array(init)
    for node in graph.node:
        scope.import_node(node, scope, onnx)
    return [scope[o.name] for o in graph.output]


def as_tensor(value):
    """A KerasTensor (or numpy array) for a value; a ShapeVec only when static."""
    if isinstance(value, ShapeVec):
        if any(not isinstance(e, (int, np.integer)) for e in value.entries):
            raise FileFormatError("symkb.onnx.load: a shape known only at run time is used "
                                  "as a tensor, which symkb does not import", field="Shape")
        return np.asarray(value.entries[0] if value.scalar else value.entries, np.int64)
    return value


def static(value, what: str):
    """A value that must be known at import (an axis list, a shape)."""
    if isinstance(value, ShapeVec):
        value = as_tensor(value)
    if isinstance(value, KerasTensor):
        raise FileFormatError(f"symkb.onnx.load: {what} must be a constant (an "
                              "initializer or computed from constants)", field=what)
    return np.asarray(value)


def index(x, key):
    """``x[key]`` (numpy basic indexing; a ``getitem`` node for a KerasTensor)."""
    return as_tensor(x)[key]
