"""Ops that move data without arithmetic: reshape, transpose, slicing, joins."""
from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..node import decode_index, expand_index
from ..registry import register
from ..types import TensorType, result_dtype


def _known_product(dims):
    p = 1
    for d in dims:
        p *= d
    return p


def _reshape_rule(types, *, shape):
    (t,) = types
    target = [(-1 if d is None else d) for d in shape]
    if sum(1 for d in target if d == -1) > 1:
        raise ShapeError(f"reshape: at most one unknown (-1) dimension is allowed in the target "
                         f"shape, received {tuple(shape)}")
    if any(d < -1 for d in target):
        raise ShapeError(f"reshape: invalid target shape {tuple(shape)}")
    known = _known_product(d for d in target if d != -1)
    if t.is_static:
        size = _known_product(t.shape)
        if -1 in target:
            if known == 0 or size % known:
                raise ShapeError(f"reshape: cannot reshape a tensor of shape {t.shape} "
                                 f"({size} elements) into {tuple(shape)}")
            target[target.index(-1)] = size // known
        elif size != known:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {t.shape} ({size} "
                             f"elements) into shape {tuple(shape)} ({known} elements)")
    return TensorType(tuple(None if d == -1 else d for d in target), t.dtype)


@register("reshape", type_rule=_reshape_rule, kind="shape", rows="reshape", noop_same_type="static")
def reshape(x, *, shape):
    """The same elements in a new shape (one dimension may be -1)."""
    return np.reshape(x, tuple(-1 if d is None else d for d in shape))


def _transpose_rule(types, *, perm):
    (t,) = types
    if sorted(perm) != list(range(t.ndim)):
        raise ShapeError(f"transpose: pattern {tuple(perm)} is not a permutation of the "
                         f"{t.ndim} axes of a tensor of shape {t.shape}")
    return TensorType(tuple(t.shape[p] for p in perm), t.dtype)


@register("transpose", type_rule=_transpose_rule, kind="shape", rows="transpose")
def transpose(x, *, perm):
    """Permute axes: result axis i is input axis ``perm[i]``."""
    return np.transpose(x, perm)


def _expand_rule(types, *, axis):
    (t,) = types
    if not 0 <= axis <= t.ndim:
        raise ShapeError(f"expand_dims: axis {axis} out of range for shape {t.shape}")
    return TensorType(t.shape[:axis] + (1,) + t.shape[axis:], t.dtype)


@register("expand_dims", type_rule=_expand_rule, kind="shape", rows="expand_dims")
def expand_dims(x, *, axis):
    """Insert a dimension of size 1 at ``axis``."""
    return np.expand_dims(x, axis)


def _squeeze_rule(types, *, axis):
    (t,) = types
    if t.shape[axis] not in (1, None):
        raise ShapeError(f"squeeze: cannot squeeze axis {axis} of size {t.shape[axis]} "
                         f"(shape {t.shape}); expected size 1")
    return TensorType(t.shape[:axis] + t.shape[axis + 1:], t.dtype)


@register("squeeze", type_rule=_squeeze_rule, kind="shape", rows="axis")
def squeeze(x, *, axis):
    """Remove the size-1 dimension at ``axis``."""
    return np.squeeze(x, axis)


def _join_dims(name, dims, what):
    known = {d for d in dims if d is not None}
    if len(known) > 1:
        raise ShapeError(f"{name}: {what} differ: {list(dims)}")
    return known.pop() if known else None


def _concat_rule(types, *, axis):
    if not types:
        raise ShapeError("concatenate: expected at least one tensor")
    ndim = types[0].ndim
    if any(t.ndim != ndim for t in types):
        raise ShapeError(f"concatenate: all tensors must have the same rank, received shapes "
                         f"{[t.shape for t in types]}")
    if not 0 <= axis < ndim:
        raise ShapeError(f"concatenate: axis {axis} out of range for rank {ndim}")
    shape = []
    for i in range(ndim):
        dims = [t.shape[i] for t in types]
        if i == axis:
            shape.append(None if None in dims else sum(dims))
        else:
            shape.append(_join_dims("concatenate", dims,
                                    f"dimensions at axis {i} (shapes {[t.shape for t in types]})"))
    return TensorType(tuple(shape), result_dtype(*(t.dtype for t in types)))


@register("concatenate", type_rule=_concat_rule, kind="shape", rows="join")
def concatenate(*xs, axis):
    """Join tensors along an existing ``axis``."""
    return np.concatenate(xs, axis=axis)


def _stack_rule(types, *, axis):
    if not types:
        raise ShapeError("stack: expected at least one tensor")
    ndim = types[0].ndim
    if any(t.ndim != ndim for t in types):
        raise ShapeError(f"stack: all tensors must have the same shape, received "
                         f"{[t.shape for t in types]}")
    if not 0 <= axis <= ndim:
        raise ShapeError(f"stack: axis {axis} out of range for rank {ndim + 1}")
    shape = tuple(_join_dims("stack", [t.shape[i] for t in types],
                             f"shapes {[t.shape for t in types]}") for i in range(ndim))
    return TensorType(shape[:axis] + (len(types),) + shape[axis:],
                      result_dtype(*(t.dtype for t in types)))


@register("stack", type_rule=_stack_rule, kind="shape", rows="join")
def stack(*xs, axis):
    """Join tensors of equal shape along a new ``axis``."""
    return np.stack(xs, axis=axis)


def _reverse_rule(types, *, axes):
    (t,) = types
    return t


@register("reverse", type_rule=_reverse_rule, kind="shape", rows="axes")
def reverse(x, *, axes):
    """Reverse the order of elements along ``axes``."""
    return np.flip(x, axis=tuple(axes))


def _index_shape(shape, items):
    n_real = sum(1 for it in items if it[0] in ("int", "slice"))
    if n_real > len(shape):
        raise ShapeError(f"getitem: too many indices ({n_real}) for a tensor of rank {len(shape)}")
    out, dim = [], 0
    for it in expand_index(items, len(shape)):
        if it[0] == "newaxis":
            out.append(1)
            continue
        d = shape[dim]
        dim += 1
        if it[0] == "int":
            if d is not None and not -d <= it[1] < d:
                raise ShapeError(f"getitem: index {it[1]} is out of bounds for axis {dim - 1} "
                                 f"with size {d} (shape {shape})")
        elif d is not None:
            out.append(len(range(*slice(it[1], it[2], it[3]).indices(d))))
        else:
            out.append(None)
    return tuple(out)


def _getitem_rule(types, *, index):
    (t,) = types
    try:
        return TensorType(_index_shape(t.shape, index), t.dtype)
    except OverflowError:
        raise ShapeError(f"getitem: an index of {str(index)[:60]} is too large") from None


@register("getitem", type_rule=_getitem_rule, kind="shape", rows="getitem")
def getitem(x, *, index):
    """Basic numpy indexing: ints, slices, None (new axis) and Ellipsis. An
    int index out of bounds raises the shape rule's ``ShapeError`` (a
    ``ValueError``), as the compiled targets' shape guard does."""
    x = np.asarray(x)
    try:
        return np.array(x[decode_index(index)])
    except IndexError:
        _index_shape(x.shape, index)   # raises the ShapeError naming the axis and size
        raise


def _tile_rule(types, *, reps):
    (t,) = types
    if len(reps) != t.ndim:
        raise ShapeError(f"tile: expected {t.ndim} repetition counts for shape {t.shape}, "
                         f"received {tuple(reps)}")
    return TensorType(tuple(None if d is None else d * r for d, r in zip(t.shape, reps)), t.dtype)


@register("tile", type_rule=_tile_rule, kind="shape", rows="tile")
def tile(x, *, reps):
    """Repeat the whole tensor ``reps[i]`` times along axis i."""
    return np.tile(x, reps)


def _repeat_rule(types, *, rep, axis):
    (t,) = types
    if not 0 <= axis < t.ndim:
        raise ShapeError(f"repeat_elements: axis {axis} out of range for shape {t.shape}")
    d = t.shape[axis]
    return TensorType(t.shape[:axis] + (None if d is None else d * rep,) + t.shape[axis + 1:],
                      t.dtype)


@register("repeat_elements", type_rule=_repeat_rule, kind="shape", rows="axis")
def repeat_elements(x, *, rep, axis):
    """Repeat each element ``rep`` times along ``axis``."""
    return np.repeat(x, rep, axis=axis)


def _pad_rule(types, *, pads):
    (t,) = types
    if len(pads) != t.ndim:
        raise ShapeError(f"pad: expected {t.ndim} (before, after) pairs for shape {t.shape}, "
                         f"received {pads}")
    return TensorType(tuple(None if d is None else d + a + b for d, (a, b) in zip(t.shape, pads)),
                      t.dtype)


@register("pad", type_rule=_pad_rule, kind="shape", rows="pad")
def pad(x, *, pads):
    """Zero padding: ``pads[i] = (before, after)`` for axis i."""
    return np.pad(x, [tuple(p) for p in pads])


def _one_hot_rule(types, *, num_classes):
    (t,) = types
    if t.dtype not in ("int8", "int16", "int32", "int64", "uint8"):
        raise DTypeError(f"one_hot: expected integer indices, received dtype {t.dtype} "
                         "(cast them with K.cast(indices, 'int32'))")
    return TensorType(t.shape + (num_classes,), "float32")


@register("one_hot", type_rule=_one_hot_rule, kind="other", rows="per_row")
def one_hot(indices, *, num_classes):
    """1.0 at each index along a new last axis (out-of-range indices give zeros)."""
    return (indices[..., None] == np.arange(num_classes)).astype(np.float32)


def _gather_rule(types):
    ref, idx = types
    if idx.dtype not in ("int8", "int16", "int32", "int64", "uint8"):
        raise DTypeError(f"gather: expected integer indices, received dtype {idx.dtype} "
                         "(cast them with K.cast(indices, 'int32'))")
    if ref.ndim < 1:
        raise ShapeError("gather: the reference tensor must have rank >= 1")
    return TensorType(idx.shape + ref.shape[1:], ref.dtype)


@register("gather", type_rule=lambda types: _gather_rule(types), kind="other",
          rows="gather")
def gather(reference, indices):
    """Rows of ``reference`` picked by ``indices``: ``reference[indices]``. As
    tf.gather on the CPU, an index outside ``[0, rows)`` (negative included)
    is an error."""
    rows = reference.shape[0]
    bad = (indices < 0) | (indices >= rows)
    if np.any(bad):
        # the first index out of range (row-major), as every target reports it
        first = int(np.asarray(indices)[bad].ravel()[0])
        raise IndexError(f"gather: indices must be in [0, {rows}), received {first}")
    return reference[indices]


@register("shape", type_rule=lambda types: TensorType((types[0].ndim,), "int32"), kind="shape")
def shape(x):
    """The runtime shape of ``x`` as an int32 vector."""
    return np.array(x.shape, dtype=np.int32)
