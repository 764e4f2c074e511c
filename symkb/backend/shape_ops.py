"""Reshaping, joining, slicing and padding (tf_keras names and signatures)."""
from __future__ import annotations

import builtins

from .. import ir
from ._util import axis1, ndim_of, shape_of
from .config import normalize_data_format

call = ir.call


def reshape(x, shape):
    """``x`` with a new ``shape`` (one dimension may be -1)."""
    return call("reshape", x, shape=tuple(int(d) if d is not None else -1 for d in shape))


def permute_dimensions(x, pattern):
    """Reorder axes: result axis i is input axis ``pattern[i]``."""
    return call("transpose", x, perm=tuple(int(p) for p in pattern))


def expand_dims(x, axis=-1):
    """Insert a size-1 axis at ``axis`` (-1 appends)."""
    return call("expand_dims", x, axis=axis1(x, axis, "expand_dims", extra=1))


def squeeze(x, axis):
    """Remove the size-1 axis ``axis``."""
    return call("squeeze", x, axis=axis1(x, axis, "squeeze"))


def concatenate(tensors, axis=-1):
    """Join ``tensors`` along ``axis``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected a non-empty list of tensors")
    rank = ndim_of(tensors[0])
    ax = axis % rank if rank else 0
    if axis < -rank or axis >= max(rank, 1):
        raise ValueError(f"concatenate: axis {axis} is out of range for tensors of rank {rank}")
    return call("concatenate", *tensors, axis=ax)


def stack(x, axis=0):
    """Join equally shaped tensors along a new ``axis``."""
    x = list(x)
    if not x:
        raise ValueError("stack: expected a non-empty list of tensors")
    return call("stack", *x, axis=axis1(x[0], axis, "stack", extra=1))


def reverse(x, axes):
    """Reverse ``x`` along ``axes`` (an int or a list)."""
    axes = [axes] if isinstance(axes, int) else list(axes)
    return call("reverse", x, axes=tuple(sorted(axis1(x, a, "reverse") for a in axes)))


def tile(x, n):
    """Repeat ``x`` ``n[i]`` times along axis i."""
    n = [n] if isinstance(n, int) else [int(r) for r in n]
    return call("tile", x, reps=tuple(n))


def repeat_elements(x, rep, axis):
    """Repeat each element ``rep`` times along ``axis`` (like np.repeat)."""
    return call("repeat_elements", x, rep=int(rep), axis=axis1(x, axis, "repeat_elements"))


def repeat(x, n):
    """A 2-D ``(batch, dim)`` tensor repeated into ``(batch, n, dim)``."""
    if ndim_of(x) != 2:
        raise ValueError(f"repeat: expected a 2-D tensor, received shape {shape_of(x)}")
    return call("tile", call("expand_dims", x, axis=1), reps=(1, int(n), 1))


def flatten(x):
    """All elements in one dimension."""
    return call("reshape", x, shape=(-1,))


def batch_flatten(x):
    """``(batch, ...)`` to ``(batch, prod(...))``."""
    rest = shape_of(x)[1:]
    if any(d is None for d in rest):
        raise ValueError(f"batch_flatten: the non-batch dimensions must be known, received "
                         f"shape {shape_of(x)}")
    size = 1
    for d in rest:
        size *= d
    return call("reshape", x, shape=(-1, size))


def one_hot(indices, num_classes):
    """One-hot float32 encoding of integer ``indices`` along a new last axis."""
    return call("one_hot", indices, num_classes=int(num_classes))


def slice(x, start, size):  # noqa: A001
    """``x[start[i] : start[i] + size[i]]`` per axis (size -1: to the end)."""
    index = tuple(builtins.slice(int(s), None if int(n) == -1 else int(s) + int(n))
                  for s, n in zip(start, size))
    return call("getitem", x, index=ir.node.encode_index(index, ndim_of(x)))


def temporal_padding(x, padding=(1, 1)):
    """Zero padding of the time axis (axis 1) of a 3-D tensor."""
    if ndim_of(x) != 3:
        raise ValueError(f"temporal_padding: expected a 3-D tensor, received shape {shape_of(x)}")
    return call("pad", x, pads=((0, 0), tuple(padding), (0, 0)))


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero padding of the two spatial axes of a 4-D tensor."""
    data_format = normalize_data_format(data_format)
    spatial = tuple(tuple(int(v) for v in p) for p in padding)
    if data_format == "channels_first":
        pads = ((0, 0), (0, 0)) + spatial
    else:
        pads = ((0, 0),) + spatial + ((0, 0),)
    return call("pad", x, pads=pads)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero padding of the three spatial axes of a 5-D tensor."""
    data_format = normalize_data_format(data_format)
    spatial = tuple(tuple(int(v) for v in p) for p in padding)
    if data_format == "channels_first":
        pads = ((0, 0), (0, 0)) + spatial
    else:
        pads = ((0, 0),) + spatial + ((0, 0),)
    return call("pad", x, pads=pads)
