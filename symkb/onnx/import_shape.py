"""ONNX shape ops: importers of :data:`symkb.onnx.import_ops.IMPORTERS`.

``Shape``, ``Gather``, ``Slice``, ``Concat``, ``Unsqueeze`` follow a shape
vector through its run-time entries (:class:`~symkb.onnx.values.ShapeVec`);
``Reshape``, ``ConstantOfShape`` and ``Expand`` turn it back into the static
attributes symkb's ops take (one run-time dimension becomes ``-1``, or a
tensor built from the tensor it came from).
"""
from __future__ import annotations

import numpy as np

from ..ir import build
from ..ir.errors import FileFormatError
from ..ir.node import KerasTensor
from .values import ShapeVec, as_tensor, index as _index, static


def _call(op, *args, **attrs):
    return build.call(op, *[as_tensor(a) for a in args], **attrs)


def _rank(x) -> int:
    if isinstance(x, ShapeVec):
        return 0 if x.scalar else 1
    return len(x.shape) if isinstance(x, KerasTensor) else np.ndim(x)


def reshape(node, ins, attrs):
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


def flatten(node, ins, attrs):
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


def unsqueeze(node, ins, attrs):
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


def squeeze(node, ins, attrs):
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


def concat(node, ins, attrs):
    if any(isinstance(x, ShapeVec) for x in ins):
        entries = []
        for x in ins:
            entries.extend(x.entries if isinstance(x, ShapeVec) else
                           static(x, "shape").reshape(-1).tolist())
        return [ShapeVec(tuple(entries))]
    rank = _rank(ins[0])
    return [_call("concatenate", *ins, axis=int(attrs["axis"]) % rank)]


def shape_of(node, ins, attrs):
    x = ins[0]
    if not isinstance(x, KerasTensor):
        return [np.asarray(np.shape(x), np.int64)]
    entries = tuple(d if d is not None else (x, i) for i, d in enumerate(x.shape))
    if all(isinstance(e, int) for e in entries):
        return [np.asarray(entries, np.int64)]
    return [ShapeVec(entries)]


def gather(node, ins, attrs):
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


def slice_op(node, ins, attrs):
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


def constant_of_shape(node, ins, attrs):
    value = attrs.get("value")
    value = np.zeros([1], np.float32) if value is None else np.asarray(value)
    return [_like_shape(ins[0], value.reshape(-1)[0].item(), value.dtype.name)]


def expand(node, ins, attrs):
    x, shape = ins
    ones = _like_shape(shape, 1, (x.dtype if isinstance(x, KerasTensor)
                                  else np.asarray(x).dtype.name))
    return [_call("multiply", x, ones)]


def tile(node, ins, attrs):
    reps = static(ins[1], "repeats").astype(int).tolist()
    return [_call("tile", ins[0], reps=tuple(reps))]
