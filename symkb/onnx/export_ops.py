"""One ONNX writer per symkb op: ``WRITERS[op](writer, node, inputs) -> [names]``.

Each writer emits the ONNX nodes computing the op's results from the ONNX
names of its operands, with the op's exact semantics (tf_keras's): ``dot``
is ``MatMul`` (2-D weights), ``bias_add`` an ``Add`` on the last axis,
``relu`` with ``alpha``/``max_value``/``threshold`` its parts, ``getitem``
``Slice``/``Gather``/``Unsqueeze``, reductions with their axes as inputs
(opset 18). Fused nodes are written as their parts (their bodies inlined),
``loop`` as a ``Scan`` (:mod:`symkb.onnx.export_loop`).
"""
from __future__ import annotations

import numpy as np

from ..ir.node import expand_index
from .export_loop import write_loop
from .writer import onnx_dtype

_UNARY = {"abs": "Abs", "ceil": "Ceil", "cos": "Cos", "erf": "Erf", "exp": "Exp",
          "floor": "Floor", "log": "Log", "negative": "Neg", "sigmoid": "Sigmoid",
          "sign": "Sign", "sin": "Sin", "softsign": "Softsign", "sqrt": "Sqrt", "tanh": "Tanh",
          "identity": "Identity", "stop_gradient": "Identity", "logical_not": "Not",
          "round": "Round", "softplus": "Softplus"}
_BINARY = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div",
           "maximum": "Max", "minimum": "Min", "pow": "Pow", "equal": "Equal",
           "greater": "Greater", "greater_equal": "GreaterOrEqual", "less": "Less",
           "less_equal": "LessOrEqual", "logical_and": "And", "logical_or": "Or",
           "bias_add": "Add", "matmul": "MatMul", "mod": "Mod"}
_REDUCE = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin",
           "prod": "ReduceProd"}


def _ints(w, values) -> str:
    return w.const(np.asarray(values, dtype=np.int64).reshape(-1))


def _scalar(w, value, dtype) -> str:
    return w.const(np.asarray(value, dtype=dtype))


def _dtype(node, i=0):
    return node.inputs[i].type.dtype


def _unary(op_type):
    return lambda w, node, ins: [w.one(op_type, ins)]


def _binary(op_type):
    def write(w, node, ins):
        if op_type == "Mod" and np.dtype(_dtype(node)).kind == "f":
            return [_float_mod(w, ins)]
        return [w.one(op_type, ins)]
    return write


def _float_mod(w, ins):
    # numpy.remainder: x - floor(x / y) * y
    x, y = ins
    return w.one("Sub", [x, w.one("Mul", [w.one("Floor", [w.one("Div", [x, y])]), y])])


def _not_equal(w, node, ins):
    return [w.one("Not", [w.one("Equal", ins)])]


def _cast(w, node, ins):
    return [w.one("Cast", ins, to=onnx_dtype(w.onnx, node.attrs["dtype"]))]


def _dot(w, node, ins):
    if len(node.inputs[1].shape) > 2:
        raise ValueError(f"symkb.onnx.export: dot of a rank-{len(node.inputs[1].shape)} "
                         "right operand (tensordot) has no ONNX form in symkb yet")
    return [w.one("MatMul", ins)]


def _relu(w, node, ins):
    alpha, max_value, threshold = (node.attrs.get("alpha", 0.0), node.attrs.get("max_value"),
                                   node.attrs.get("threshold", 0.0))
    dtype = _dtype(node)
    x = ins[0]
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return [w.one("Relu", [x])]
    # tf_keras: where(x >= max, max, where(x > threshold, x, alpha * (x - threshold)))
    below = w.one("Mul", [_scalar(w, alpha, dtype),
                          w.one("Sub", [x, _scalar(w, threshold, dtype)])])
    out = w.one("Where", [w.one("Greater", [x, _scalar(w, threshold, dtype)]), x, below])
    if max_value is not None:
        top = _scalar(w, max_value, dtype)
        out = w.one("Where", [w.one("GreaterOrEqual", [x, top]), top, out])
    return [out]


def _elu(w, node, ins):
    alpha = node.attrs.get("alpha", 1.0)
    return [w.one("Elu", ins, alpha=float(alpha))]


def _selu(w, node, ins):
    return [w.one("Selu", ins, alpha=1.6732632423543772, gamma=1.0507009873554805)]


def _hard_sigmoid(w, node, ins):
    return [w.one("HardSigmoid", ins, alpha=0.2, beta=0.5)]


def _square(w, node, ins):
    return [w.one("Mul", [ins[0], ins[0]])]


def _where(w, node, ins):
    return [w.one("Where", ins)]


def _like(value):
    def write(w, node, ins):
        dtype = node.out_types[0].dtype
        tensor = w.onnx.numpy_helper.from_array(np.asarray([value], dtype=dtype))
        return [w.one("ConstantOfShape", [w.one("Shape", ins)], value=tensor)]
    return write


def _clip(w, node, ins):
    dtype = _dtype(node)
    lo, hi = node.attrs.get("min_value"), node.attrs.get("max_value")
    x = ins[0]
    if hi is not None:
        x = w.one("Min", [x, _scalar(w, hi, dtype)])
    if lo is not None:
        x = w.one("Max", [x, _scalar(w, lo, dtype)])
    return [x]


def _axes(node, rank):
    axis = node.attrs.get("axis")
    if axis is None:
        return list(range(rank))
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return [a % rank if rank else 0 for a in axes]


def _reduction(w, op_type, x, axes, keep):
    """A reduction node: axes as an input from opset 18 (ReduceSum: 13), else an
    attribute."""
    if op_type == "ReduceSum" or w.opset >= 18:
        return w.one(op_type, [x, _ints(w, axes)], keepdims=keep)
    return w.one(op_type, [x], axes=list(axes), keepdims=keep)


def _reduce(op_type):
    def write(w, node, ins):
        rank = len(node.inputs[0].shape)
        keep = int(bool(node.attrs.get("keepdims", False)))
        return [_reduction(w, op_type, ins[0], _axes(node, rank), keep)]
    return write


def _any_all(op_type):
    def write(w, node, ins):
        rank = len(node.inputs[0].shape)
        keep = int(bool(node.attrs.get("keepdims", False)))
        as_int = w.one("Cast", ins, to=w.onnx.TensorProto.INT32)
        reduced = _reduction(w, op_type, as_int, _axes(node, rank), keep)
        return [w.one("Cast", [reduced], to=w.onnx.TensorProto.BOOL)]
    return write


def _arg(op_type):
    def write(w, node, ins):
        rank = len(node.inputs[0].shape)
        axis = _axes(node, rank)[0]
        out = w.one(op_type, ins, axis=axis, keepdims=0, select_last_index=0)
        return [w.one("Cast", [out], to=onnx_dtype(w.onnx, node.out_types[0].dtype))]
    return write


def _softmax(w, node, ins):
    rank = len(node.inputs[0].shape)
    return [w.one("Softmax", ins, axis=_axes(node, rank)[0])]


def _concatenate(w, node, ins):
    rank = len(node.out_types[0].shape)
    return [w.one("Concat", ins, axis=node.attrs["axis"] % rank)]


def _stack(w, node, ins):
    rank = len(node.out_types[0].shape)
    axis = node.attrs.get("axis", 0) % rank
    parts = [w.one("Unsqueeze", [x, _ints(w, [axis])]) for x in ins]
    return [w.one("Concat", parts, axis=axis)]


def _expand_dims(w, node, ins):
    rank = len(node.out_types[0].shape)
    return [w.one("Unsqueeze", [ins[0], _ints(w, [node.attrs["axis"] % rank])])]


def _squeeze(w, node, ins):
    rank = len(node.inputs[0].shape)
    return [w.one("Squeeze", [ins[0], _ints(w, [node.attrs["axis"] % rank])])]


def _reshape(w, node, ins):
    return [w.one("Reshape", [ins[0], _ints(w, node.attrs["shape"])])]


def _transpose(w, node, ins):
    return [w.one("Transpose", ins, perm=list(node.attrs["perm"]))]


def _tile(w, node, ins):
    return [w.one("Tile", [ins[0], _ints(w, node.attrs["reps"])])]


def _reverse(w, node, ins):
    rank = len(node.inputs[0].shape)
    axes = [a % rank for a in node.attrs["axes"]]
    big = np.iinfo(np.int64).max
    return [w.one("Slice", [ins[0], _ints(w, [-1] * len(axes)), _ints(w, [-big] * len(axes)),
                            _ints(w, axes), _ints(w, [-1] * len(axes))])]


def _gather(w, node, ins):
    return [w.one("Gather", ins, axis=0)]


def _getitem(w, node, ins):
    x = ins[0]
    items = expand_index(node.attrs["index"], len(node.inputs[0].shape))
    starts, ends, axes, steps, drop, new = [], [], [], [], [], []
    axis = out_axis = 0
    for item in items:
        kind = item[0]
        if kind == "newaxis":
            new.append(out_axis)
            out_axis += 1
            continue
        if kind == "int":
            index = item[1]
            starts.append(index)
            ends.append(index + 1 if index != -1 else np.iinfo(np.int64).max)
            axes.append(axis)
            steps.append(1)
            drop.append(axis)
        else:
            _, start, stop, step = item
            step = 1 if step is None else step
            big = np.iinfo(np.int64).max
            if start is not None or stop is not None or step != 1:
                starts.append(start if start is not None else (0 if step > 0 else -1))
                ends.append(stop if stop is not None else (big if step > 0 else -big))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        axis += 1
    if axes:
        x = w.one("Slice", [x, _ints(w, starts), _ints(w, ends), _ints(w, axes),
                            _ints(w, steps)])
    if drop:
        x = w.one("Squeeze", [x, _ints(w, drop)])
    if new:
        x = w.one("Unsqueeze", [x, _ints(w, new)])
    return [x]


def _repeat_elements(w, node, ins):
    rank = len(node.inputs[0].shape)
    axis, rep = node.attrs["axis"] % rank, node.attrs["rep"]
    expanded = w.one("Unsqueeze", [ins[0], _ints(w, [axis + 1])])
    reps = [1] * (rank + 1)
    reps[axis + 1] = rep
    tiled = w.one("Tile", [expanded, _ints(w, reps)])
    shape = [0] * rank
    shape[axis] = -1
    return [w.one("Reshape", [tiled, _ints(w, shape)])]


def _shape(w, node, ins):
    return [w.one("Cast", [w.one("Shape", ins)], to=w.onnx.TensorProto.INT32)]


def _const(w, node, ins):
    return [w.const(np.asarray(node.attrs["value"]))]


def _param(w, node, ins):
    variable = node.attrs["variable"]
    return [w.initializer(variable.numpy(), variable.name.split(":")[0])]


def _dropout(w, node, ins):
    if node.attrs.get("training", False):
        raise ValueError("symkb.onnx.export: a training-mode dropout has no exact ONNX "
                         "form (its random draws differ); export an inference graph")
    return [w.one("Identity", [ins[0]])]


def _inline(w, node, ins):
    """A fused node as its parts: its body written in place."""
    body = node.attrs["body"]
    for t, name in zip(body.inputs, ins):
        w.names[(id(t.node), t.index)] = name
    w.write_nodes(body)
    return [w.name_of(t) for t in body.outputs]


def _fused_dot(w, node, ins):
    body = node.attrs["body"]
    product = w.one("MatMul", ins[:2])
    for t, name in zip(body.inputs, [product] + list(ins[2:])):
        w.names[(id(t.node), t.index)] = name
    w.write_nodes(body)
    return [w.name_of(t) for t in body.outputs]


def _loop(w, node, ins):
    return write_loop(w, node, ins)


WRITERS = {**{op: _unary(t) for op, t in _UNARY.items()},
           **{op: _binary(t) for op, t in _BINARY.items()},
           **{op: _reduce(t) for op, t in _REDUCE.items()},
           "cast": _cast, "not_equal": _not_equal, "dot": _dot, "relu": _relu, "elu": _elu, "selu": _selu,
           "hard_sigmoid": _hard_sigmoid, "square": _square, "where": _where,
           "zeros_like": _like(0), "ones_like": _like(1), "clip": _clip,
           "any": _any_all("ReduceMax"), "all": _any_all("ReduceMin"),
           "argmax": _arg("ArgMax"), "argmin": _arg("ArgMin"), "softmax": _softmax,
           "concatenate": _concatenate, "stack": _stack, "expand_dims": _expand_dims,
           "squeeze": _squeeze, "reshape": _reshape, "transpose": _transpose, "tile": _tile,
           "reverse": _reverse, "gather": _gather, "getitem": _getitem,
           "repeat_elements": _repeat_elements, "shape": _shape, "const": _const,
           "param": _param, "dropout": _dropout, "fused_elementwise": _inline,
           "fused_dot": _fused_dot, "loop": _loop}
