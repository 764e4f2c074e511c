"""ONNX interchange: ``export`` a symkb model or graph, ``load`` an ONNX model.

``onnx`` (and ``onnxruntime`` for checking) is the optional extra
``symkb[onnx]``; it is imported when these functions run, never by
``import symkb``.
"""
from .export import DEFAULT_OPSET, export, to_onnx  # noqa: F401
from .importer import load, from_onnx  # noqa: F401
