"""symkb graph -> ONNX model.

The graph is written node by node (:mod:`symkb.onnx.export_ops` holds one
writer per op); ``param`` nodes become initializers holding the Variables'
values at export time, ``input`` nodes the graph inputs, with unknown
dimensions symbolic (``batch`` for axis 0, ``d<axis>`` for the others, so the
batch and time sizes stay free). The ``loop`` node becomes an ONNX ``Scan``
(:mod:`symkb.onnx.export_loop`); fused nodes are written as their parts (their
bodies inlined). An op without an ONNX writer is an error listing every such
op of the graph, before anything is written.
"""
from __future__ import annotations

import os

import numpy as np

DEFAULT_OPSET = 18
MIN_OPSET = 17


def onnx_module(action: str):
    """``onnx``, or an ImportError naming the extra that installs it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"{action}: ONNX support needs the onnx package, which is not "
                          "installed; install the optional extra: pip install 'symkb[onnx]'"
                          ) from None
    return onnx


class Writer:
    """The ONNX nodes of one graph (the main graph or a Scan body) being written.

    Attributes:
        nodes: the ``NodeProto`` list.
        initializers: ``TensorProto`` list (main graph only: bodies read outer
            values by name).
        names: ``{(id(node), index): onnx value name}`` of the symkb values
            written so far (a body's writer starts from its parent's).
        opset: the opset version written.
    """

    def __init__(self, onnx, opset: int, parent=None):
        self.onnx = onnx
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.parent = parent
        self.names: dict = dict(parent.names) if parent else {}
        self._counter = parent._counter if parent else [0]
        self._consts: dict = {}

    def fresh(self, hint: str = "v") -> str:
        """A value name not used anywhere in the model."""
        self._counter[0] += 1
        safe = "".join(c if c.isalnum() or c in "_" else "_" for c in str(hint))[:40]
        return f"{safe}_{self._counter[0]}"

    def add(self, op_type: str, inputs, outputs=1, **attrs) -> list:
        """Append a node; ``outputs`` is a count or a list of names. Returns the names."""
        if isinstance(outputs, int):
            outputs = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), list(outputs),
                                                     **attrs))
        return list(outputs)

    def one(self, op_type: str, inputs, **attrs) -> str:
        """:meth:`add` for a node with one output: its name."""
        return self.add(op_type, inputs, 1, **attrs)[0]

    def const(self, value, dtype=None) -> str:
        """A constant (a ``Constant`` node; small ints are shared per graph)."""
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 16 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        tensor = self.onnx.numpy_helper.from_array(array, self.fresh("const"))
        name = self.one("Constant", [], value=tensor)
        if key is not None:
            self._consts[key] = name
        return name

    def initializer(self, value, hint: str) -> str:
        """A named initializer (weights) of the main graph."""
        top = self
        while top.parent is not None:
            top = top.parent
        name = top.fresh(hint)
        top.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def name_of(self, tensor) -> str:
        return self.names[(id(tensor.node), tensor.index)]

    def bind(self, node, names) -> None:
        for i, name in enumerate(names):
            self.names[(id(node), i)] = name


def onnx_dtype(onnx, dtype) -> int:
    """The ONNX element type of a symkb dtype name."""
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def value_info(onnx, name: str, ttype, batch_axis: int = 0):
    """A ``ValueInfoProto`` of a symkb TensorType, unknown dims symbolic."""
    dims = [d if d is not None else ("batch" if i == batch_axis else f"d{i}")
            for i, d in enumerate(ttype.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx_dtype(onnx, ttype.dtype), dims)


def write_nodes(writer: Writer, graph) -> None:
    """Write every node of ``graph`` whose values are not bound yet."""
    from .export_ops import write_node
    for node in graph.nodes:
        if (id(node), 0) in writer.names:
            continue
        write_node(writer, node)


def unsupported_ops(graph) -> list:
    """The ops of ``graph`` (bodies included) with no ONNX writer, sorted."""
    from .export_ops import WRITERS
    missing = set()
    for _, node in graph.walk():
        if node.op not in WRITERS and node.op not in ("input",):
            missing.add(node.op)
    return sorted(missing)


def to_onnx(model_or_graph, opset: int = DEFAULT_OPSET, name: str | None = None):
    """The ``ModelProto`` of a model or graph (see the module docstring)."""
    onnx = onnx_module("symkb.onnx.export")
    graph = getattr(model_or_graph, "graph", model_or_graph)
    if not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f"symkb.onnx.export: opset must be an int >= {MIN_OPSET}. "
                         f"Received: opset={opset!r}")
    missing = unsupported_ops(graph)
    if missing:
        raise ValueError(f"symkb.onnx.export: graph {graph.name!r} uses ops with no ONNX "
                         f"form in symkb yet: {missing}")
    writer = Writer(onnx, opset)
    inputs = []
    for i, t in enumerate(graph.inputs):
        label = writer.fresh(t.node.name or f"input_{i}")
        writer.names[(id(t.node), t.index)] = label
        inputs.append(value_info(onnx, label, t.type))
    write_nodes(writer, graph)
    outputs, seen = [], set()
    for i, t in enumerate(graph.outputs):
        label = writer.name_of(t)
        if label in seen or label in {v.name for v in inputs}:
            label = writer.one("Identity", [label])
        seen.add(label)
        outputs.append(value_info(onnx, label, t.type))
    body = onnx.helper.make_graph(writer.nodes, name or graph.name, inputs, outputs,
                                  writer.initializers)
    model = onnx.helper.make_model(body, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="symkb")
    model.ir_version = min(model.ir_version, 10)
    onnx.checker.check_model(model)
    return model


def export(model_or_graph, path, opset: int = DEFAULT_OPSET) -> None:
    """Write a symkb model or graph as an ONNX file.

    Args:
        model_or_graph: a built Sequential/functional model, or an
            :class:`~symkb.ir.Graph`.
        path: the ``.onnx`` file to write.
        opset: the ONNX opset version (17 or later).

    Raises:
        ValueError: for an op with no ONNX form (all such ops listed), or an
            op used in a way ONNX cannot express (naming the op).
        ImportError: when the ``onnx`` package (``symkb[onnx]``) is missing.
    """
    model = to_onnx(model_or_graph, opset)
    from ..utils.atomic import write_atomic
    write_atomic(os.fspath(path), model.SerializeToString())
