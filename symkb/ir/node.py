"""Nodes and the values they produce.

A :class:`Node` is one operation: an op name, its operand values, its
attributes and the types of its results. Nodes are frozen and compared by
identity; a pass that changes a node builds a new one. Each result of a node
is a :class:`KerasTensor` (``node.outputs[i]``), created once with the node so
that ``node.outputs[0] is node.outputs[0]``.

A node's ``name`` is a hint for printers and code generators (a placeholder's
or a parameter's name, say); ``layer`` is the name of the layer whose call
built it, shown as a trailing comment in the printed graph.

Constructing a node registers it with the active trace frame, if any
(``symkb/ir/frames.py``): that is how ``K.rnn`` knows which values its step
function built and which it closed over. Nodes carry no global sequence
number; nothing depends on the order in which threads build them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import SymbolicValueError
from .frames import note_built
from .types import TensorType


class Body:
    """A graph held in a node's attributes (a loop body).

    :class:`~symkb.ir.graph.Graph` derives from it, so that nodes and the
    printer recognise a nested graph without importing the graph module, which
    imports this one.
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Node:
    """One operation of a graph."""

    op: str
    inputs: tuple
    attrs: Mapping[str, Any]
    out_types: tuple
    name: str | None = None
    layer: str | None = None
    outputs: tuple = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "out_types", tuple(self.out_types))
        object.__setattr__(self, "attrs", dict(self.attrs))
        object.__setattr__(self, "outputs",
                           tuple(KerasTensor(self, i) for i in range(len(self.out_types))))
        note_built(self)  # an active trace frame records what its trace built

    def __repr__(self) -> str:
        types = ", ".join(str(t) for t in self.out_types)
        return f"<Node {self.op} -> {types}{' ' + self.name if self.name else ''}>"

    def with_inputs(self, inputs) -> "Node":
        """A copy of this node reading ``inputs`` instead (types re-checked by the caller)."""
        return Node(self.op, tuple(inputs), self.attrs, self.out_types, self.name, self.layer)

    def bodies(self):
        """The graphs nested in this node's attributes (loop bodies), in attribute order."""
        return [v for _, v in sorted(self.attrs.items()) if isinstance(v, Body)]


class _Operators:
    """Python operators that build graph nodes (KerasTensor) or compute eagerly."""

    __slots__ = ()
    __array_priority__ = 100  # numpy defers to our reflected operators

    def _call(self, op, *args, **attrs):
        from .build import call
        return call(op, *args, **attrs)

    def __add__(self, o): return self._call("add", self, o)
    def __radd__(self, o): return self._call("add", o, self)
    def __sub__(self, o): return self._call("subtract", self, o)
    def __rsub__(self, o): return self._call("subtract", o, self)
    def __mul__(self, o): return self._call("multiply", self, o)
    def __rmul__(self, o): return self._call("multiply", o, self)
    def __truediv__(self, o): return self._call("divide", self, o)
    def __rtruediv__(self, o): return self._call("divide", o, self)
    def __floordiv__(self, o): return self._call("floordiv", self, o)
    def __rfloordiv__(self, o): return self._call("floordiv", o, self)
    def __mod__(self, o): return self._call("mod", self, o)
    def __rmod__(self, o): return self._call("mod", o, self)
    def __pow__(self, o): return self._call("pow", self, o)
    def __rpow__(self, o): return self._call("pow", o, self)
    def __matmul__(self, o): return self._call("matmul", self, o)
    def __rmatmul__(self, o): return self._call("matmul", o, self)
    def __neg__(self): return self._call("negative", self)
    def __pos__(self): return self
    def __abs__(self): return self._call("abs", self)
    def __lt__(self, o): return self._call("less", self, o)
    def __le__(self, o): return self._call("less_equal", self, o)
    def __gt__(self, o): return self._call("greater", self, o)
    def __ge__(self, o): return self._call("greater_equal", self, o)
    def __invert__(self): return self._call("logical_not", self)
    def __and__(self, o): return self._call("logical_and", self, o)
    def __rand__(self, o): return self._call("logical_and", o, self)
    def __or__(self, o): return self._call("logical_or", self, o)
    def __ror__(self, o): return self._call("logical_or", o, self)


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class KerasTensor(_Operators):
    """A symbolic value: result ``index`` of ``node``.

    Its shape and dtype come from the node's inferred types. Building ops on it
    (``x + 1``, ``K.dot(x, w)``, ``Dense(3)(x)``) records new nodes; asking it
    for a concrete value raises :class:`TypeError` — compile the graph with
    ``K.function`` or ``symkb.compile`` and call that instead.
    """

    node: Node
    index: int

    @property
    def type(self) -> TensorType:
        return self.node.out_types[self.index]

    @property
    def shape(self) -> tuple:
        return self.type.shape

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def name(self) -> str:
        node = self.node
        if node.op in ("input", "param"):
            return node.name
        base = f"{node.layer}/{node.op}" if node.layer else (node.name or node.op)
        return f"{base}:{self.index}"

    def __repr__(self) -> str:
        return (f"<KerasTensor: shape={self.shape} dtype={self.dtype} "
                f"name={self.name!r}>")

    def __getitem__(self, index):
        return self._call("getitem", self, index=encode_index(index, self.ndim))

    def __iter__(self):
        raise TypeError("Cannot iterate over a KerasTensor with a symbolic shape; "
                        "index it (x[i]) or use K.unstack")

    def _no_value(self, what):
        raise SymbolicValueError(
            f"{what} a symbolic KerasTensor ({self.name}, shape={self.shape}) has no value "
            "yet. Compile the graph that computes it with K.function(inputs, outputs) "
            "(or symkb.compile) and call that with concrete arrays.")

    def __array__(self, dtype=None, copy=None):
        self._no_value("np.asarray of")

    def __bool__(self):
        self._no_value("bool() of")

    def __float__(self):
        self._no_value("float() of")

    def __int__(self):
        self._no_value("int() of")

    def __index__(self):
        self._no_value("Using as an index")

    def __len__(self):
        if self.ndim and self.shape[0] is not None:
            return self.shape[0]
        raise TypeError(f"len() of KerasTensor {self.name} with unknown first dimension "
                        f"(shape={self.shape}); use K.shape(x)[0]")

    def numpy(self):
        self._no_value("numpy() of")


def encode_index(index, ndim):
    """Turn a Python index into a hashable, printable tuple of items.

    Items: ``("int", i)``, ``("slice", start, stop, step)``, ``("newaxis",)``,
    ``("ellipsis",)``.
    """
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for item in index:
        if item is None:
            items.append(("newaxis",))
        elif item is Ellipsis:
            items.append(("ellipsis",))
        elif isinstance(item, slice):
            for part in (item.start, item.stop, item.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise TypeError(f"getitem: slice bounds must be Python ints, received {part!r}")
            items.append(("slice", _opt_int(item.start), _opt_int(item.stop), _opt_int(item.step)))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            items.append(("int", int(item)))
        else:
            raise TypeError(f"getitem: unsupported index {item!r} (type {type(item).__name__}); "
                            "expected ints, slices, None or Ellipsis (use K.gather for tensor indices)")
    return tuple(items)


def _opt_int(v):
    return None if v is None else int(v)


def expand_index(items, ndim):
    """Encoded index ``items`` with the ellipsis spelled out for a tensor of rank ``ndim``.

    The result has one ``int`` or ``slice`` item per axis of the tensor, in
    order (a missing ellipsis is implied at the end), plus the ``newaxis``
    items where they stand: the one walk the ``getitem`` type rule and every
    target's lowering make, so they cannot disagree on which axis an item
    indexes. The caller checks that there are not more real items than axes.
    """
    n_real = sum(1 for it in items if it[0] in ("int", "slice"))
    fill = [("slice", None, None, None)] * max(ndim - n_real, 0)
    out = []
    for it in items:
        out.extend(fill if it[0] == "ellipsis" else [it])
    if not any(it[0] == "ellipsis" for it in items):
        out.extend(fill)
    return out


def decode_index(items):
    """Inverse of :func:`encode_index`: a tuple usable to index a numpy array."""
    out = []
    for item in items:
        kind = item[0]
        if kind == "int":
            out.append(item[1])
        elif kind == "slice":
            out.append(slice(item[1], item[2], item[3]))
        elif kind == "newaxis":
            out.append(None)
        else:
            out.append(Ellipsis)
    return tuple(out)
