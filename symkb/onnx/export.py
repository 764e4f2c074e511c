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

from .export_ops import WRITERS
from .writer import Writer, onnx_module, value_info

DEFAULT_OPSET = 18
MIN_OPSET = 17


def unsupported_ops(graph) -> list:
    """The ops of ``graph`` (bodies included) with no ONNX writer, sorted."""
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
    writer = Writer(onnx, opset, writers=WRITERS)
    inputs = []
    for i, t in enumerate(graph.inputs):
        label = writer.fresh(t.node.name or f"input_{i}")
        writer.names[(id(t.node), t.index)] = label
        inputs.append(value_info(onnx, label, t.type))
    writer.write_nodes(graph)
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
