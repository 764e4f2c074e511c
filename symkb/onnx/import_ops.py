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
from .import_rnn import import_recurrent, import_scan
from .values import ShapeVec, as_tensor, index as _index, static
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


def _reshape(node, ins, attrs):
    x, shape = ins
    if isinstance(shape, ShapeVec):
        dynamic = [i for i, e in enumerate(shape.entries) if not isinstance(e, (int, np.integer))]
        if len(dynamic) > 1:
            raise FileFormatError("symkb.onnx.load: Reshape to a shape with more than one "
                                  "run-time dimension", field="Reshape")
        target = [(-1 if i in dynamic else int(e)) for i, e in enumerate(shape.entries)]
    else:
        target = static(shape, "Reshape shape").astype(int).tolist()
    if not attrs.get("allowzero", 0):
        target = _copy_zero_dims(x, target)
    return [_call("reshape", x, shape=tuple(int(d) for d in target))]


def _copy_zero_dims(x, target) -> list:
    """ONNX Reshape's 0 entries (copy the input's dim) resolved against the
    input's static shape; an unknown copied dim becomes the one -1 (the
    explicit -1, if any, is then computed from the known dims)."""
    shape = x.shape if isinstance(x, KerasTensor) else np.shape(x)
    copied = [i for i, d in enumerate(target) if d == 0]
    unknown = [i for i in copied if shape[i] is None]
    out = [shape[i] if i in copied and shape[i] is not None else d
           for i, d in enumerate(target)]
    if not unknown:
        return out
    if len(unknown) > 1:
        raise FileFormatError("symkb.onnx.load: Reshape copies two unknown dims",
                              field="Reshape")
    if -1 in target:
        rest = [shape[i] for i in range(len(shape)) if i not in copied]
        if any(d is None for d in rest):
            raise FileFormatError("symkb.onnx.load: Reshape with an unknown copied dim and "
                                  "an unknown -1", field="Reshape")
        known = int(np.prod([d for i, d in enumerate(out) if i not in copied and d != -1],
                            dtype=np.int64))
        out[target.index(-1)] = int(np.prod(rest, dtype=np.int64)) // max(known, 1)
    out[unknown[0]] = -1
    return out


def _flatten(node, ins, attrs):
    x = ins[0]
    axis = int(attrs.get("axis", 1)) % max(_rank(x), 1)
    shape = x.shape if isinstance(x, KerasTensor) else np.shape(x)
    lead = shape[:axis]
    rest = shape[axis:]
    first = -1 if any(d is None for d in lead) else int(np.prod(lead, dtype=np.int64))
    second = -1 if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
    if first == -1 and second == -1:
        raise FileFormatError("symkb.onnx.load: Flatten with unknown dims on both sides",
                              field="Flatten")
    return [_call("reshape", x, shape=(first, second))]


def _unsqueeze(node, ins, attrs):
    axes = static(ins[1], "axes").reshape(-1).tolist() if len(ins) > 1 and ins[1] is not None \
        else attrs["axes"]
    x = ins[0]
    if isinstance(x, ShapeVec):
        if x.scalar and list(axes) == [0]:
            return [ShapeVec(x.entries, False)]
        raise FileFormatError("symkb.onnx.load: Unsqueeze of a run-time shape",
                              field="Unsqueeze")
    rank = _rank(x) + len(axes)
    for axis in sorted(int(a) % rank for a in axes):
        x = _call("expand_dims", x, axis=axis)
    return [x]


def _squeeze(node, ins, attrs):
    x = ins[0]
    if len(ins) > 1 and ins[1] is not None:
        axes = static(ins[1], "axes").reshape(-1).tolist()
    else:
        axes = attrs.get("axes")
    shape = x.shape if isinstance(x, KerasTensor) else np.shape(x)
    rank = len(shape)
    axes = [i for i, d in enumerate(shape) if d == 1] if axes is None else \
        [int(a) % rank for a in axes]
    for axis in sorted(axes, reverse=True):
        x = _call("squeeze", x, axis=axis)
    return [x]


def _concat(node, ins, attrs):
    if any(isinstance(x, ShapeVec) for x in ins):
        entries = []
        for x in ins:
            entries.extend(x.entries if isinstance(x, ShapeVec) else
                           static(x, "shape").reshape(-1).tolist())
        return [ShapeVec(tuple(entries))]
    rank = _rank(ins[0])
    return [_call("concatenate", *ins, axis=int(attrs["axis"]) % rank)]


def _shape(node, ins, attrs):
    x = ins[0]
    if not isinstance(x, KerasTensor):
        return [np.asarray(np.shape(x), np.int64)]
    entries = tuple(d if d is not None else (x, i) for i, d in enumerate(x.shape))
    if all(isinstance(e, int) for e in entries):
        return [np.asarray(entries, np.int64)]
    return [ShapeVec(entries)]


def _gather(node, ins, attrs):
    x, idx = ins
    axis = int(attrs.get("axis", 0))
    if isinstance(x, ShapeVec):
        i = static(idx, "index")
        picked = [x.entries[int(j)] for j in i.reshape(-1)]
        return [ShapeVec(tuple(picked), scalar=i.ndim == 0)]
    if axis != 0:
        rank = _rank(x)
        perm = [axis] + [a for a in range(rank) if a != axis]
        moved = _call("transpose", x, perm=tuple(perm))
        out = _call("gather", moved, idx)
        extra = _rank(idx)
        back = list(range(extra, extra + axis)) + list(range(extra)) + \
            list(range(extra + axis, rank - 1 + extra))
        return [_call("transpose", out, perm=tuple(back))]
    return [_call("gather", x, idx)]


def _slice(node, ins, attrs):
    x = ins[0]
    starts = static(ins[1], "starts").reshape(-1).tolist()
    ends = static(ins[2], "ends").reshape(-1).tolist()
    rank = _rank(x)
    axes = static(ins[3], "axes").reshape(-1).tolist() if len(ins) > 3 and ins[3] is not None \
        else list(range(len(starts)))
    steps = static(ins[4], "steps").reshape(-1).tolist() if len(ins) > 4 and ins[4] is not None \
        else [1] * len(starts)
    index = [slice(None)] * rank
    big = 2 ** 62
    for s, e, a, st in zip(starts, ends, axes, steps):
        e = None if abs(e) >= big else int(e)
        s = None if abs(s) >= big else int(s)
        index[int(a) % rank] = slice(s, e, int(st))
    if isinstance(x, ShapeVec):
        return [ShapeVec(tuple(x.entries[index[0]]))]
    return [_index(x, (tuple(index)))]


def _like_shape(shape_value, fill, dtype):
    """A tensor of ``shape_value`` (static or a ShapeVec with one run-time entry)
    filled with ``fill``."""
    if not isinstance(shape_value, ShapeVec):
        return np.full(static(shape_value, "shape").astype(int).tolist(), fill, dtype)
    dynamic = [(i, e) for i, e in enumerate(shape_value.entries)
               if not isinstance(e, (int, np.integer))]
    if len(dynamic) != 1:
        raise FileFormatError("symkb.onnx.load: a filled tensor whose shape has "
                              f"{len(dynamic)} run-time dimensions (symkb reads one)",
                              field="ConstantOfShape")
    pos, (src, axis) = dynamic[0]
    rank = len(src.shape)
    index = tuple(slice(None) if a == axis else slice(0, 1) for a in range(rank))
    column = _index(src, (index))
    vec = build.call("reshape", build.call("zeros_like", column, dtype=dtype), shape=(-1,))
    if fill != 0:
        vec = build.call("add", vec, np.asarray(fill, dtype))
    shape = [1] * len(shape_value.entries)
    shape[pos] = -1
    out = build.call("reshape", vec, shape=tuple(shape))
    reps = [1 if i == pos else int(e) for i, e in enumerate(shape_value.entries)]
    if any(r != 1 for r in reps):
        out = build.call("tile", out, reps=tuple(reps))
    return out


def _constant_of_shape(node, ins, attrs):
    value = attrs.get("value")
    value = np.zeros([1], np.float32) if value is None else np.asarray(value)
    return [_like_shape(ins[0], value.reshape(-1)[0].item(), value.dtype.name)]


def _expand(node, ins, attrs):
    x, shape = ins
    ones = _like_shape(shape, 1, (x.dtype if isinstance(x, KerasTensor)
                                  else np.asarray(x).dtype.name))
    return [_call("multiply", x, ones)]


def _tile(node, ins, attrs):
    reps = static(ins[1], "repeats").astype(int).tolist()
    return [_call("tile", ins[0], reps=tuple(reps))]


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
             "Softmax": _softmax, "Transpose": _transpose, "Reshape": _reshape,
             "Flatten": _flatten, "Unsqueeze": _unsqueeze, "Squeeze": _squeeze,
             "Concat": _concat, "Shape": _shape, "Gather": _gather, "Slice": _slice,
             "ConstantOfShape": _constant_of_shape, "Expand": _expand, "Tile": _tile,
             "Where": _where, "Identity": _identity, "Dropout": _dropout,
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
