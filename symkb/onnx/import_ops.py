"""One importer per ONNX op: ``IMPORTERS[op_type](node, ins, attrs) -> [values]``.

``ins`` are the operand values (numpy arrays, :class:`ShapeVec` or
KerasTensors; ``None`` for an omitted optional input), ``attrs`` the node's
attributes as Python values. Operations on numpy values alone are folded
(``build.call`` runs the op's numpy reference), so a shape computed from
constants arrives as the static attribute symkb's op needs.
"""
from __future__ import annotations

import numpy as np

from ..ir import build
from ..ir.errors import FileFormatError
from ..ir.node import KerasTensor
from . import import_shape as shape_ops
from .import_rnn import import_recurrent, import_scan
from .values import ShapeVec, as_tensor, static
from .writer import onnx_module

_UNARY = {"Abs": "abs", "Ceil": "ceil", "Cos": "cos", "Erf": "erf", "Exp": "exp",
          "Floor": "floor", "Log": "log", "Neg": "negative", "Sigmoid": "sigmoid",
          "Sign": "sign", "Sin": "sin", "Softsign": "softsign", "Sqrt": "sqrt",
          "Tanh": "tanh", "Not": "logical_not", "Softplus": "softplus", "Round": "round"}
_BINARY = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide",
           "Pow": "pow", "Equal": "equal", "Greater": "greater",
           "GreaterOrEqual": "greater_equal", "Less": "less", "LessOrEqual": "less_equal",
           "And": "logical_and", "Or": "logical_or", "MatMul": "matmul"}
_VARIADIC = {"Max": "maximum", "Min": "minimum", "Sum": "add"}
_REDUCE = {"ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min",
           "ReduceProd": "prod"}


def _rank(x) -> int:
    if isinstance(x, ShapeVec):
        return 0 if x.scalar else 1
    return len(x.shape) if isinstance(x, KerasTensor) else np.ndim(x)


def _call(op, *args, **attrs):
    return build.call(op, *[as_tensor(a) for a in args], **attrs)


def _unary(op):
    return lambda node, ins, attrs: [_call(op, ins[0])]


def _binary(op):
    return lambda node, ins, attrs: [_call(op, ins[0], ins[1])]


def _variadic(op):
    def imp(node, ins, attrs):
        out = ins[0]
        for x in ins[1:]:
            out = _call(op, out, x)
        return [out]
    return imp


def _axes_of(ins, attrs, rank):
    if len(ins) > 1 and ins[1] is not None:
        axes = static(ins[1], "axes").reshape(-1).tolist()
    else:
        axes = attrs.get("axes")
    if axes is None or (len(axes) == 0):
        return None
    return tuple(int(a) % rank for a in axes)


def _reduce(op):
    def imp(node, ins, attrs):
        rank = _rank(ins[0])
        axes = _axes_of(ins, attrs, rank)
        if axes is None and attrs.get("noop_with_empty_axes", 0):
            return [ins[0]]
        axes = axes if axes is not None else tuple(range(rank))
        return [_call(op, ins[0], axis=axes, keepdims=bool(attrs.get("keepdims", 1)))]
    return imp


def _constant(node, ins, attrs):
    for key in ("value", "value_float", "value_int", "value_floats", "value_ints"):
        if key in attrs:
            return [np.asarray(attrs[key])]
    raise FileFormatError(f"symkb.onnx.load: Constant {node.name!r} has no value symkb "
                          "reads", field="Constant")


def _cast(node, ins, attrs):
    onnx = onnx_module("symkb.onnx.load")
    dtype = onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]).name
    if isinstance(ins[0], ShapeVec):
        return [ins[0]]
    return [_call("cast", ins[0], dtype=dtype)]


def _gemm(node, ins, attrs):
    a, b = ins[0], ins[1]
    if attrs.get("transA", 0):
        a = _call("transpose", a, perm=(1, 0))
    if attrs.get("transB", 0):
        b = _call("transpose", b, perm=(1, 0))
    out = _call("matmul", a, b)
    if attrs.get("alpha", 1.0) != 1.0:
        out = _call("multiply", out, np.float32(attrs["alpha"]))
    if len(ins) > 2 and ins[2] is not None:
        c = ins[2]
        if attrs.get("beta", 1.0) != 1.0:
            c = _call("multiply", c, np.float32(attrs["beta"]))
        out = _call("add", out, c)
    return [out]


def _relu(node, ins, attrs):
    return [_call("relu", ins[0], alpha=0.0, max_value=None, threshold=0.0)]


def _leaky(node, ins, attrs):
    return [_call("relu", ins[0], alpha=float(attrs.get("alpha", 0.01)), max_value=None,
                  threshold=0.0)]


def _elu(node, ins, attrs):
    return [_call("elu", ins[0], alpha=float(attrs.get("alpha", 1.0)))]


def _hard_sigmoid(node, ins, attrs):
    alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
    x = _call("add", _call("multiply", ins[0], np.float32(alpha)), np.float32(beta))
    return [_call("clip", x, min_value=0.0, max_value=1.0)]


def _clip(node, ins, attrs):
    lo = static(ins[1], "min").item() if len(ins) > 1 and ins[1] is not None else None
    hi = static(ins[2], "max").item() if len(ins) > 2 and ins[2] is not None else None
    x = ins[0]
    if hi is not None:
        x = _call("minimum", x, np.asarray(hi, np.float32))
    if lo is not None:
        x = _call("maximum", x, np.asarray(lo, np.float32))
    return [x]


def _softmax(node, ins, attrs):
    rank = _rank(ins[0])
    return [_call("softmax", ins[0], axis=int(attrs.get("axis", -1)) % rank)]


def _transpose(node, ins, attrs):
    rank = _rank(ins[0])
    perm = attrs.get("perm") or list(range(rank))[::-1]
    return [_call("transpose", ins[0], perm=tuple(int(p) for p in perm))]


def _where(node, ins, attrs):
    return [_call("where", *ins)]


def _identity(node, ins, attrs):
    return [ins[0]]


def _dropout(node, ins, attrs):
    return [ins[0]] + ([None] if len(node.output) > 1 else [])


def _rnn(kind):
    def imp(node, ins, attrs):
        return import_recurrent(kind, node, ins, attrs)
    return imp


def _scan(node, ins, attrs):
    return import_scan(node, ins, attrs)


IMPORTERS = {**{op: _unary(o) for op, o in _UNARY.items()},
             **{op: _binary(o) for op, o in _BINARY.items()},
             **{op: _variadic(o) for op, o in _VARIADIC.items()},
             **{op: _reduce(o) for op, o in _REDUCE.items()},
             "Constant": _constant, "Cast": _cast, "Gemm": _gemm, "Relu": _relu,
             "LeakyRelu": _leaky, "Elu": _elu, "HardSigmoid": _hard_sigmoid, "Clip": _clip,
             "Softmax": _softmax, "Transpose": _transpose, "Where": _where,
             "Reshape": shape_ops.reshape, "Flatten": shape_ops.flatten,
             "Unsqueeze": shape_ops.unsqueeze, "Squeeze": shape_ops.squeeze,
             "Concat": shape_ops.concat, "Shape": shape_ops.shape_of,
             "Gather": shape_ops.gather, "Slice": shape_ops.slice_op,
             "ConstantOfShape": shape_ops.constant_of_shape, "Expand": shape_ops.expand,
             "Tile": shape_ops.tile,
             "Identity": _identity, "Dropout": _dropout,
             "LSTM": _rnn("LSTM"), "GRU": _rnn("GRU"), "RNN": _rnn("RNN"), "Scan": _scan}


def import_node(node, scope, onnx) -> None:
    """Import one ONNX node into ``scope``."""
    attrs = {}
    for a in node.attribute:
        if a.type == onnx.AttributeProto.TENSOR:
            if a.t.data_location == onnx.TensorProto.EXTERNAL:
                raise FileFormatError(f"symkb.onnx.load: node {node.name!r} keeps a tensor "
                                      "in an external file, which symkb never reads",
                                      field=a.name)
            attrs[a.name] = onnx.numpy_helper.to_array(a.t)
        elif a.type == onnx.AttributeProto.GRAPH:
            attrs[a.name] = a.g
        else:
            value = onnx.helper.get_attribute_value(a)
            attrs[a.name] = value.decode() if isinstance(value, bytes) else value
    ins = [scope[name] if name else None for name in node.input]
    attrs["_scope"] = scope
    try:
        outs = IMPORTERS[node.op_type](node, ins, attrs)
    except (TypeError, ValueError, IndexError, KeyError, ArithmeticError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"symkb.onnx.load: node {node.name!r} ({node.op_type}): "
                              f"{type(exc).__name__}: {exc}", field=node.op_type) from exc
    for name, value in zip(node.output, outs):
        if name:
            scope[name] = value
