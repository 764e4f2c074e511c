"""ONNX model -> symkb graph.

Each ONNX node becomes symkb ops recorded through :func:`symkb.ir.build.call`
(:mod:`symkb.onnx.import_ops`; ``LSTM``, ``GRU``, ``RNN`` and ``Scan`` through
``K.rnn``, :mod:`symkb.onnx.import_rnn`). Values are of three kinds:

* numpy arrays: initializers, ``Constant`` nodes and everything computed from
  them alone (folded at import, so shapes and axes given as tensors become the
  static attributes symkb's ops take);
* :class:`ShapeVec`: a shape vector with some entries known only at run time
  (``Shape`` of a tensor with an unknown batch), as exporters build initial
  states from the batch size;
* KerasTensors: everything else.

Graph inputs become placeholders (symbolic dims unknown); initializers
become ``param`` nodes only where a symkb op needs them as tensors. Every op
of the model is checked first: unsupported ones are listed by name in one
error, before anything is built.
"""
from __future__ import annotations

import os

from ..ir import limits
from ..ir.errors import FileFormatError
from .import_ops import IMPORTERS, import_node
from .values import Scope, as_tensor, run_graph
from .writer import onnx_module


def _all_ops(graph, onnx, out: set) -> set:
    for node in graph.node:
        out.add(node.op_type if node.domain in ("", "ai.onnx") else
                f"{node.domain}.{node.op_type}")
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _all_ops(attr.g, onnx, out)
    return out


def check_supported(model, onnx) -> None:
    """One error listing every op of ``model`` symkb cannot import."""
    missing = sorted(op for op in _all_ops(model.graph, onnx, set()) if op not in IMPORTERS)
    if missing:
        raise FileFormatError(f"symkb.onnx.load: the model uses ONNX ops symkb does not "
                              f"import: {missing}", field="ops")


def _dims(value_info):
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else None)
    return tuple(dims)


def from_onnx(model, name: str | None = None):
    """A :class:`~symkb.ir.Graph` computing an ONNX ``ModelProto``'s outputs."""
    from .. import backend as K
    from ..ir.graph import Graph
    onnx = onnx_module("symkb.onnx.load")
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 7:
            raise FileFormatError(f"symkb.onnx.load: opset {opset.version} is older than "
                                  "symkb reads (7 or later)", field="opset_import")
    check_supported(model, onnx)
    scope = Scope(import_node=import_node)
    initialized = {i.name for i in model.graph.initializer}
    inputs = []
    for vi in model.graph.input:
        if vi.name in initialized:
            continue
        elem = vi.type.tensor_type.elem_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(elem).name
        inputs.append(K.placeholder(shape=_dims(vi), dtype=dtype, name=vi.name))
        scope[vi.name] = inputs[-1]
    outputs = [as_tensor(v) for v in run_graph(model.graph, scope, onnx)]
    return Graph(inputs, outputs, name=name or model.graph.name or "onnx")


def load(path):
    """The symkb graph of the ONNX file at ``path`` (see the module docstring).

    Args:
        path: an ``.onnx`` file.

    Returns:
        An :class:`~symkb.ir.Graph` that prints, compiles (``symkb.compile``)
        and runs.

    Raises:
        FileFormatError: (a ``ValueError``) for a file that is not an ONNX
            model, or uses ops symkb does not import (all listed);
            ImportError when ``onnx`` (``symkb[onnx]``) is missing.
    """
    from ..utils import safe_io
    onnx = onnx_module("symkb.onnx.load")
    path = os.fspath(path)
    with limits.reading(path, "ONNX model"):
        data = safe_io.read_bytes(path)
        try:
            model = onnx.load_from_string(data)
        except Exception as exc:  # noqa: BLE001 (protobuf's DecodeError and kin)
            raise FileFormatError(f"{path}: not an ONNX model ({type(exc).__name__})",
                                  field="file") from None
        if model.graph.ByteSize() == 0:
            raise FileFormatError(f"{path}: not an ONNX model (no graph)", field="graph")
        return from_onnx(model, os.path.splitext(os.path.basename(path))[0])
