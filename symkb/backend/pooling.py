"""Pooling (``pool`` nodes, ``symkb/ir/ops/pool.py``) and image resizing.

Max pooling ignores the padding; average pooling with ``'same'`` divides by
the number of real (unpadded) elements in each window, as TensorFlow does.
"""
from __future__ import annotations

import math

import numpy as np

from .. import ir
from ._util import dtype_of, shape_of, reads_variables
from .config import normalize_data_format
from .conv_ops import (_from_channels_last, _known_sizes, _padding_amounts, _to_channels_last,
                       _tuple)

call = ir.call


def _pool(x, pool_size, strides, padding, data_format, pool_mode, rank, op):
    """A ``pool`` node on the channels-last ``x``, transposed around it for channels_first."""
    data_format = normalize_data_format(data_format)
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"{op}: invalid pool_mode {pool_mode!r}; expected 'max' or 'avg'")
    pool_size = _tuple(pool_size, rank, "pool_size", op)
    strides = _tuple(strides, rank, "strides", op)
    if str(padding).lower() == "causal":
        raise ValueError(f"{op}: unknown padding {padding!r}; expected 'valid' or 'same'")
    x = _to_channels_last(x, data_format, rank, op)
    sizes = _known_sizes(x, op)
    pads, _ = _padding_amounts(sizes, pool_size, strides, (1,) * rank, padding, op)
    y = call("pool", x, mode=pool_mode, window=pool_size, strides=strides, pads=tuple(pads))
    return _from_channels_last(y, data_format, rank)


@reads_variables
def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2D pooling.

    Args:
        x: a 4-D input.
        pool_size: an int or a pair.
        strides: an int or a pair.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        pool_mode: ``'max'`` or ``'avg'``.

    Returns:
        A 4-D tensor, the result of the pooling.

    Raises:
        ValueError: for a bad pool mode, padding or input rank.
    """
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 2, "pool2d")


@reads_variables
def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None,
           pool_mode="max"):
    """3D pooling.

    Args:
        x: a 5-D input.
        pool_size: an int or a triple.
        strides: an int or a triple.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        pool_mode: ``'max'`` or ``'avg'``.

    Returns:
        A 5-D tensor, the result of the pooling.
    """
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 3, "pool3d")


def _bilinear_matrix(n, factor, dtype):
    """``(n * factor, n)`` weights of TensorFlow's half-pixel bilinear resize."""
    out = n * factor
    m = np.zeros((out, n), dtype=np.float64)
    for i in range(out):
        src = (i + 0.5) / factor - 0.5
        lo = math.floor(src)
        frac = src - lo
        lo_c, hi_c = min(max(lo, 0), n - 1), min(max(lo + 1, 0), n - 1)
        m[i, lo_c] += 1 - frac
        m[i, hi_c] += frac
    return m.astype(dtype)


@reads_variables
def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Resize the images in a 4-D tensor by integer factors.

    Args:
        x: a 4-D tensor of images.
        height_factor: a positive int.
        width_factor: a positive int.
        data_format: ``'channels_last'`` or ``'channels_first'``.
        interpolation: ``'nearest'`` (each pixel repeated) or ``'bilinear'``
            (TensorFlow's half-pixel-centre bilinear resize).

    Returns:
        A 4-D tensor with ``height_factor`` times the rows and
        ``width_factor`` times the columns.

    Raises:
        ValueError: for a bad ``data_format`` or ``interpolation``.
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(x, data_format, 2, "resize_images")
    hf, wf = int(height_factor), int(width_factor)
    if interpolation == "nearest":
        y = call("repeat_elements", call("repeat_elements", x, rep=hf, axis=1), rep=wf, axis=2)
    elif interpolation == "bilinear":
        h, w = shape_of(x)[1:3]
        if h is None or w is None:
            raise ValueError(f"resize_images: the spatial dimensions must be known; received "
                             f"shape {shape_of(x)}")
        dtype = dtype_of(x)
        rows = _bilinear_matrix(h, hf, dtype)   # (H2, H)
        cols = _bilinear_matrix(w, wf, dtype)   # (W2, W)
        # rows: (B, H, W, C) -> (B, W, C, H) . (H, H2) -> (B, W, C, H2)
        y = call("dot", call("transpose", x, perm=(0, 2, 3, 1)), rows.T.copy())
        # cols: (B, W, C, H2) -> (B, H2, C, W) . (W, W2) -> (B, H2, C, W2) -> (B, H2, W2, C)
        y = call("dot", call("transpose", y, perm=(0, 3, 2, 1)), cols.T.copy())
        y = call("transpose", y, perm=(0, 1, 3, 2))
    else:
        raise ValueError(f"resize_images: interpolation should be 'nearest' or 'bilinear'; "
                         f"received {interpolation!r}")
    return _from_channels_last(y, data_format, 2)


@reads_variables
def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Resize the volumes in a 5-D tensor by repeating each voxel (nearest neighbour).

    Args:
        x: a 5-D tensor.
        depth_factor: a positive int.
        height_factor: a positive int.
        width_factor: a positive int.
        data_format: ``'channels_last'`` or ``'channels_first'``.

    Returns:
        A 5-D tensor with each spatial dimension multiplied by its factor.

    Raises:
        ValueError: for a bad ``data_format`` or input rank.
    """
    data_format = normalize_data_format(data_format)
    first = 2 if data_format == "channels_first" else 1
    if len(shape_of(x)) != 5:
        raise ValueError(f"resize_volumes: expected a 5-D input, received shape {shape_of(x)}")
    for axis, factor in zip(range(first, first + 3), (depth_factor, height_factor, width_factor)):
        x = call("repeat_elements", x, rep=int(factor), axis=axis)
    return x
