"""The ONNX nodes of a graph being written (the main graph or a Scan body).

:class:`Writer` names values, makes constants and initializers, and writes a
symkb graph's nodes through a table of per-op writers
(:data:`symkb.onnx.export_ops.WRITERS`, handed in by the caller), so that op
writers holding bodies (fused ops, loops) write them through the same table.
"""
from __future__ import annotations

import numpy as np


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

    def __init__(self, onnx, opset: int, parent=None, writers=None):
        self.onnx = onnx
        self.writers = writers if writers is not None else parent.writers
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

    def write_nodes(self, graph) -> None:
        """Write every node of ``graph`` whose values are not bound yet."""
        for node in graph.nodes:
            if (id(node), 0) in self.names:
                continue
            ins = [self.name_of(t) for t in node.inputs]
            names = self.writers[node.op](self, node, ins)
            if len(names) != len(node.out_types):
                raise ValueError(f"symkb.onnx.export: the writer of {node.op!r} made "
                                 f"{len(names)} values for {len(node.out_types)} results")
            self.bind(node, names)


def onnx_dtype(onnx, dtype) -> int:
    """The ONNX element type of a symkb dtype name."""
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def value_info(onnx, name: str, ttype, batch_axis: int = 0):
    """A ``ValueInfoProto`` of a symkb TensorType, unknown dims symbolic."""
    dims = [d if d is not None else ("batch" if i == batch_axis else f"d{i}")
            for i, d in enumerate(ttype.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx_dtype(onnx, ttype.dtype), dims)
