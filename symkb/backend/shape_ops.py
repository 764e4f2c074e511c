"""Reshaping, joining, slicing and padding (tf_keras names and signatures)."""
from __future__ import annotations

import builtins

from .. import ir
from ..ir.types import normalize_axes
from ._util import axis1, ndim_of, shape_of, reads_variables
from .config import normalize_data_format

call = ir.call


@reads_variables
def reshape(x, shape):
    """Reshape a tensor to the specified shape.

    Args:
        x: a tensor.
        shape: the target shape; one dimension may be -1 (or ``None``), inferred
            from the element count.

    Returns:
        A tensor with the same elements in row-major order.

    Raises:
        ValueError: if the element counts differ or more than one dim is -1.
    """
    return call("reshape", x, shape=_static_ints(shape, "reshape", "shape", none=-1))


@reads_variables
def permute_dimensions(x, pattern):
    """Permute the axes of a tensor.

    Args:
        x: a tensor.
        pattern: a permutation of ``range(ndim(x))``; result axis ``i`` is
            input axis ``pattern[i]``, e.g. ``(0, 2, 1)``.

    Returns:
        The permuted tensor.

    Raises:
        ValueError: if ``pattern`` is not a permutation of the axes.
    """
    return call("transpose", x, perm=_static_ints(pattern, "permute_dimensions", "pattern"))


@reads_variables
def expand_dims(x, axis=-1):
    """Add a size-1 dimension at index ``axis``.

    Args:
        x: a tensor.
        axis: where to insert it, in ``[-ndim(x) - 1, ndim(x)]``; -1 appends.

    Returns:
        A tensor of rank ``ndim(x) + 1``.
    """
    return call("expand_dims", x, axis=axis1(x, axis, "expand_dims", extra=1))


@reads_variables
def squeeze(x, axis):
    """Remove a size-1 dimension from a tensor at index ``axis``.

    Args:
        x: a tensor.
        axis: the axis to drop (negative counts from the end).

    Returns:
        A tensor of rank ``ndim(x) - 1``.

    Raises:
        ValueError: if that dimension is known and not 1.
    """
    return call("squeeze", x, axis=axis1(x, axis, "squeeze"))


@reads_variables
def concatenate(tensors, axis=-1):
    """Concatenate a list of tensors alongside the specified axis.

    Args:
        tensors: a non-empty list of tensors of equal rank, whose shapes agree
            except along ``axis``.
        axis: the concatenation axis (default: the last).

    Returns:
        The joined tensor (operand dtypes are promoted).

    Raises:
        ValueError: for an empty list, mismatched ranks or shapes, or an axis
            out of range.
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected a non-empty list of tensors")
    rank = ndim_of(tensors[0])
    ax = axis % rank if rank else 0
    if axis < -rank or axis >= max(rank, 1):
        raise ValueError(f"concatenate: axis {axis} is out of range for tensors of rank {rank}")
    return call("concatenate", *tensors, axis=ax)


@reads_variables
def stack(x, axis=0):
    """Stack a list of rank ``R`` tensors into a rank ``R + 1`` tensor.

    Args:
        x: a non-empty list of tensors of equal shape.
        axis: where the new axis goes (default 0; negative counts from the end
            of the result).

    Returns:
        The stacked tensor.
    """
    x = list(x)
    if not x:
        raise ValueError("stack: expected a non-empty list of tensors")
    return call("stack", *x, axis=axis1(x[0], axis, "stack", extra=1))


@reads_variables
def reverse(x, axes):
    """Reverse a tensor along the specified axes.

    Args:
        x: a tensor.
        axes: an int or a list of ints (negative counts from the end).

    Returns:
        A tensor of ``x``'s shape.
    """
    axes = [axes] if isinstance(axes, int) else list(axes)
    return call("reverse", x, axes=normalize_axes(axes, ndim_of(x), "reverse"))


@reads_variables
def tile(x, n):
    """Create a tensor by tiling ``x`` by ``n``.

    Args:
        x: a tensor.
        n: an int (for a 1-D ``x``) or a list with one repetition count per axis.

    Returns:
        A tensor whose axis ``i`` is ``n[i]`` times as long.
    """
    n = [n] if isinstance(n, int) else list(n)
    return call("tile", x, reps=_static_ints(n, "tile", "n"))


@reads_variables
def repeat_elements(x, rep, axis):
    """Repeat the elements of a tensor along an axis, like ``np.repeat``.

    ``repeat_elements([[1, 2]], 2, axis=1)`` is ``[[1, 1, 2, 2]]``.

    Args:
        x: a tensor.
        rep: how many times each element is repeated.
        axis: the axis (negative counts from the end).

    Returns:
        A tensor whose ``axis`` is ``rep`` times as long.
    """
    return call("repeat_elements", x, rep=int(rep), axis=axis1(x, axis, "repeat_elements"))


@reads_variables
def repeat(x, n):
    """Repeat a 2-D tensor: ``(batch, dim)`` becomes ``(batch, n, dim)``.

    Args:
        x: a 2-D tensor.
        n: the number of repetitions.

    Returns:
        A 3-D tensor.

    Raises:
        ValueError: if ``x`` is not 2-D.
    """
    if ndim_of(x) != 2:
        raise ValueError(f"repeat: expected a 2-D tensor, received shape {shape_of(x)}")
    return call("tile", call("expand_dims", x, axis=1), reps=(1, int(n), 1))


@reads_variables
def flatten(x):
    """Flatten a tensor into one dimension.

    Args:
        x: a tensor.

    Returns:
        A 1-D tensor of all elements in row-major order.
    """
    return call("reshape", x, shape=(-1,))


@reads_variables
def batch_flatten(x):
    """Turn an nD tensor into a 2-D one with the same first (batch) dimension.

    Args:
        x: a tensor of rank >= 1 whose non-batch dimensions are known.

    Returns:
        A tensor of shape ``(batch, prod(x.shape[1:]))``.

    Raises:
        ValueError: if a non-batch dimension is unknown.
    """
    rest = shape_of(x)[1:]
    if any(d is None for d in rest):
        raise ValueError(f"batch_flatten: the non-batch dimensions must be known, received "
                         f"shape {shape_of(x)}")
    size = 1
    for d in rest:
        size *= d
    return call("reshape", x, shape=(-1, size))


@reads_variables
def one_hot(indices, num_classes):
    """Compute the one-hot representation of an integer tensor.

    Args:
        indices: an integer tensor of shape ``(d1, ..., dn)``.
        num_classes: the number of classes.

    Returns:
        A float32 tensor of shape ``(d1, ..., dn, num_classes)``; indices out of
        ``[0, num_classes)`` give all-zero rows.

    Raises:
        TypeError: if ``indices`` is not of an integer dtype.
    """
    return call("one_hot", indices, num_classes=int(num_classes))


@reads_variables
def slice(x, start, size):  # noqa: A001
    """Extract a slice from a tensor: ``x[start[i] : start[i] + size[i]]`` per axis.

    Args:
        x: a tensor.
        start: the start index per axis.
        size: the length per axis; -1 takes everything to the end.

    Returns:
        The slice.
    """
    index = tuple(builtins.slice(int(s), None if int(n) == -1 else int(s) + int(n))
                  for s, n in zip(start, size))
    return call("getitem", x, index=ir.node.encode_index(index, ndim_of(x)))


@reads_variables
def temporal_padding(x, padding=(1, 1)):
    """Pad the middle (time) dimension of a 3-D tensor with zeros.

    Args:
        x: a 3-D tensor ``(batch, time, features)``.
        padding: a pair ``(before, after)``.

    Returns:
        A 3-D tensor with ``before + after`` more steps.

    Raises:
        ValueError: if ``x`` is not 3-D.
    """
    if ndim_of(x) != 3:
        raise ValueError(f"temporal_padding: expected a 3-D tensor, received shape {shape_of(x)}")
    padding = _pair(padding, "temporal_padding")
    return call("pad", x, pads=((0, 0), padding, (0, 0)))


@reads_variables
def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Pad the 2nd and 3rd (spatial) dimensions of a 4-D tensor with zeros.

    Args:
        x: a 4-D tensor.
        padding: ``((top, bottom), (left, right))``.
        data_format: ``'channels_last'`` (spatial axes 1, 2) or
            ``'channels_first'`` (axes 2, 3); ``None``: :func:`image_data_format`.

    Returns:
        The padded 4-D tensor.

    Raises:
        ValueError: for a bad ``padding`` or ``data_format``.
    """
    data_format = normalize_data_format(data_format)
    if ndim_of(x) != 4:
        raise ValueError(f"spatial_2d_padding: expected a 4-D tensor, received shape {shape_of(x)}")
    if not isinstance(padding, (tuple, list)) or len(padding) != 2:
        raise ValueError(f"spatial_2d_padding: expected 2 (before, after) pairs, "
                         f"((top, bottom), (left, right)), received {padding!r}")
    spatial = tuple(_pair(p, "spatial_2d_padding") for p in padding)
    if data_format == "channels_first":
        pads = ((0, 0), (0, 0)) + spatial
    else:
        pads = ((0, 0),) + spatial + ((0, 0),)
    return call("pad", x, pads=pads)


@reads_variables
def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Pad the three spatial dimensions of a 5-D tensor with zeros.

    Args:
        x: a 5-D tensor.
        padding: three ``(before, after)`` pairs.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.

    Returns:
        The padded 5-D tensor.

    Raises:
        ValueError: for a bad ``padding`` or ``data_format``.
    """
    data_format = normalize_data_format(data_format)
    if ndim_of(x) != 5:
        raise ValueError(f"spatial_3d_padding: expected a 5-D tensor, received shape {shape_of(x)}")
    if len(padding) != 3:
        raise ValueError(f"spatial_3d_padding: expected 3 (before, after) pairs, received {padding!r}")
    spatial = tuple(_pair(p, "spatial_3d_padding") for p in padding)
    if data_format == "channels_first":
        pads = ((0, 0), (0, 0)) + spatial
    else:
        pads = ((0, 0),) + spatial + ((0, 0),)
    return call("pad", x, pads=pads)


def _pair(padding, op):
    if not isinstance(padding, (tuple, list)) or len(padding) != 2:
        raise ValueError(f"{op}: expected a (before, after) pair of ints, received {padding!r}")
    return (int(padding[0]), int(padding[1]))


def _static_ints(values, op, what, none=None):
    """``values`` as a tuple of Python ints (``None`` entries become ``none``)."""
    if ir.is_symbolic(values):
        values = [values]
    out = []
    for v in values:
        if v is None and none is not None:
            out.append(none)
        elif ir.is_symbolic(v) or isinstance(v, (float, bool)) or v is None:
            raise TypeError(f"{op}: `{what}` must hold Python ints (symkb shapes are static, "
                            f"with at most one -1 in a reshape); received {v!r} in "
                            f"{values!r}")
        else:
            out.append(int(v))
    return tuple(out)
