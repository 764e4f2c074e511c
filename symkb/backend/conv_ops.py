"""Convolutions: ``conv`` and ``conv_transpose`` nodes (``symkb/ir/ops/conv.py``).

Each function turns its tf_keras arguments into the op's explicit
attributes: channels-last operands (a channels_first input is transposed
around the op), pads in elements, ``groups`` for the depthwise forms. The
compiler sees one ``conv`` node it lowers on its matrix kernel, and the
gradient is the op's rule. The batch dimension may be unknown; the spatial
dimensions must be known. The locally connected forms (unshared weights)
still gather their windows with one static slice per kernel offset.

Padding follows TensorFlow: ``'valid'`` keeps only full windows; ``'same'``
gives ``ceil(size / stride)`` outputs, padding ``total // 2`` before and the
rest after; ``'causal'`` (``conv1d`` only) pads ``(kernel - 1) * dilation``
on the left. Average pooling with ``'same'`` averages over the real
(unpadded) elements only, as TensorFlow does.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import ir
from ._util import ndim_of, shape_of, reads_variables
from .config import normalize_data_format

call = ir.call


def _static_shape(t, what, op):
    shape = tuple(shape_of(t))
    if any(d is None for d in shape):
        raise ValueError(f"{op}: the {what} must have a known shape; received {shape}")
    return shape


def _tuple(value, n, what, op):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{op}: `{what}` must be an int or {n} ints, received {value}")
    return value


def _to_channels_last(x, data_format, rank, op):
    if ndim_of(x) != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D input (batch, {rank} spatial dims, "
                         f"channels), received shape {shape_of(x)}")
    if data_format == "channels_first":
        x = call("transpose", x, perm=(0,) + tuple(range(2, rank + 2)) + (1,))
    return x


def _from_channels_last(x, data_format, rank):
    if data_format == "channels_first":
        x = call("transpose", x, perm=(0, rank + 1) + tuple(range(1, rank + 1)))
    return x


def _padding_amounts(sizes, kernel, strides, dilation, padding, op):
    """``(before, after)`` per spatial dim and the output sizes, TensorFlow's rules."""
    padding = str(padding).lower()
    if padding not in ("valid", "same", "causal"):
        raise ValueError(f"{op}: unknown padding {padding!r}; expected 'valid' or 'same'")
    pads, outs = [], []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
        elif padding == "causal":
            pads.append((span - 1, 0))
            out = (n + span - 1 - span) // s + 1
        else:
            if n < span:
                raise ValueError(f"{op}: the window ({span}) is larger than the input size "
                                 f"{n} with padding='valid'")
            pads.append((0, 0))
            out = (n - span) // s + 1
        outs.append(out)
    return pads, outs


def _patches(x, kernel, strides, dilation, padding, op, fill=None):
    """Windows of a channels-last ``x``: ``(batch, *out, prod(kernel), channels)``.

    ``fill`` (a scalar array of ``x``'s dtype) pads with that value instead of zeros.
    """
    sizes = shape_of(x)[1:-1]
    if any(n is None for n in sizes):
        raise ValueError(f"{op}: the spatial dimensions must be known; received shape "
                         f"{shape_of(x)}")
    pads, outs = _padding_amounts(sizes, kernel, strides, dilation, padding, op)
    if any(p != (0, 0) for p in pads):
        full = ((0, 0),) + tuple(pads) + ((0, 0),)
        padded = call("pad", x, pads=full)
        if fill is not None:
            # the padding holds `fill`: mark the real elements with a padded mask of ones
            real = call("pad", call("ones_like", x, dtype="bool"), pads=full)
            padded = call("where", real, padded, fill)
        x = padded
    windows = []
    for offsets in itertools.product(*(range(k) for k in kernel)):
        index = (slice(None),) + tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s)
            for o, d, n, s in zip(offsets, dilation, outs, strides)) + (slice(None),)
        windows.append(call("getitem", x, index=ir.node.encode_index(index, ndim_of(x))))
    return call("stack", *windows, axis=len(outs) + 1), outs


def _conv(x, kernel, strides, padding, data_format, dilation_rate, rank, op, groups=1):
    """A ``conv`` node on the channels-last ``x``, transposed around it for channels_first."""
    data_format = normalize_data_format(data_format)
    ks = _static_shape(kernel, "kernel", op)
    if len(ks) != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D kernel (spatial dims, in_channels, "
                         f"out_channels), received shape {ks}")
    strides = _tuple(strides, rank, "strides", op)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", op)
    x = _to_channels_last(x, data_format, rank, op)
    channels = shape_of(x)[-1]
    if channels is not None and channels != ks[-2] * groups:
        raise ValueError(f"{op}: the input has {channels} channels but the kernel expects "
                         f"{ks[-2] * groups} (kernel shape {ks})")
    sizes = _known_sizes(x, op)
    pads, _ = _padding_amounts(sizes, ks[:rank], strides, dilation, padding, op)
    y = call("conv", x, kernel, strides=strides, dilation=dilation, pads=tuple(pads),
             groups=groups)
    return _from_channels_last(y, data_format, rank)


def _known_sizes(x, op):
    sizes = tuple(shape_of(x)[1:-1])
    if any(n is None for n in sizes):
        raise ValueError(f"{op}: the spatial dimensions must be known; received shape "
                         f"{shape_of(x)}")
    return sizes


@reads_variables
def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1D convolution.

    Args:
        x: a 3-D input, ``(batch, steps, channels)`` (channels_last).
        kernel: a ``(kernel_size, in_channels, out_channels)`` kernel.
        strides: the stride.
        padding: ``'valid'``, ``'same'`` or ``'causal'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: the dilation rate.

    Returns:
        A 3-D tensor, the result of the convolution.

    Raises:
        ValueError: for bad ranks, channel counts, padding or unknown spatial dims.
    """
    if str(padding).lower() == "causal" and normalize_data_format(data_format) != \
            "channels_last":
        raise ValueError("conv1d: causal padding needs data_format='channels_last'")
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 1, "conv1d")


@reads_variables
def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1)):
    """2D convolution.

    Args:
        x: a 4-D input, ``(batch, rows, cols, channels)`` (channels_last).
        kernel: a ``(rows, cols, in_channels, out_channels)`` kernel.
        strides: an int or a pair.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: an int or a pair.

    Returns:
        A 4-D tensor, the result of the convolution.

    Raises:
        ValueError: for bad ranks, channel counts, padding or unknown spatial dims.
    """
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 2, "conv2d")


@reads_variables
def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1, 1)):
    """3D convolution.

    Args:
        x: a 5-D input, ``(batch, d1, d2, d3, channels)`` (channels_last).
        kernel: a ``(k1, k2, k3, in_channels, out_channels)`` kernel.
        strides: an int or a triple.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: an int or a triple.

    Returns:
        A 5-D tensor, the result of the convolution.
    """
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 3, "conv3d")


@reads_variables
def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """2D transposed convolution (the gradient of :func:`conv2d` with respect to its input).

    Args:
        x: a 4-D input.
        kernel: a ``(rows, cols, out_channels, in_channels)`` kernel.
        output_shape: the output shape ``(batch, rows, cols, out_channels)``
            (in ``data_format`` order); its spatial sizes pick the result.
        strides: an int or a pair.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: an int or a pair.

    Returns:
        A 4-D tensor whose spatial size is that of ``output_shape``.

    Raises:
        ValueError: for bad ranks or channel counts.
    """
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format,
                           dilation_rate, 2, "conv2d_transpose")


@reads_variables
def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid",
                     data_format=None):
    """3D transposed convolution (the gradient of :func:`conv3d` with respect to its input).

    Args:
        x: a 5-D input.
        kernel: a ``(k1, k2, k3, out_channels, in_channels)`` kernel.
        output_shape: the output shape ``(batch, d1, d2, d3, out_channels)``
            (in ``data_format`` order); its spatial sizes pick the result.
        strides: an int or a triple.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.

    Returns:
        A 5-D tensor whose spatial size is that of ``output_shape``.

    Raises:
        ValueError: for bad ranks or channel counts.
    """
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, 1, 3,
                           "conv3d_transpose")


def _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate,
                    rank, op):
    """A ``conv_transpose`` node whose result has the spatial sizes of ``output_shape``."""
    data_format = normalize_data_format(data_format)
    ks = _static_shape(kernel, "kernel", op)
    if len(ks) != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D kernel, received shape {ks}")
    strides = _tuple(strides, rank, "strides", op)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", op)
    output_shape = tuple(output_shape)
    out_sizes = output_shape[2:] if data_format == "channels_first" else output_shape[1:-1]
    x = _to_channels_last(x, data_format, rank, op)
    sizes = _known_sizes(x, op)
    if shape_of(x)[-1] not in (None, ks[-1]):
        raise ValueError(f"{op}: the input has {shape_of(x)[-1]} channels but the kernel "
                         f"expects {ks[-1]} (kernel shape {ks})")
    out_sizes = tuple(int(n) for n in out_sizes)
    # the pads of the convolution whose input gradient this is (an input of out_sizes)
    pads, outs = _padding_amounts(out_sizes, ks[:rank], strides, dilation, padding, op)
    if tuple(outs) != tuple(sizes):
        raise ValueError(f"{op}: output_shape {output_shape} does not fit an input of spatial "
                         f"sizes {sizes}: a {padding!r} convolution of {out_sizes} gives "
                         f"{tuple(outs)}")
    y = call("conv_transpose", x, kernel, strides=strides, dilation=dilation,
             pads=tuple(pads), groups=1, sizes=out_sizes)
    return _from_channels_last(y, data_format, rank)


def _depthwise(x, depthwise_kernel, strides, padding, dilation_rate, rank, op):
    """A grouped ``conv`` with one group per channel: the ``(*k, C, M)`` kernel
    is ``(*k, 1, C * M)``, filter ``c * M + m`` reading channel ``c``."""
    ks = _static_shape(depthwise_kernel, "depthwise kernel", op)
    if len(ks) != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D depthwise kernel (spatial dims, "
                         f"channels, depth_multiplier), received shape {ks}")
    channels, multiplier = ks[-2], ks[-1]
    if shape_of(x)[-1] not in (None, channels):
        raise ValueError(f"{op}: the input has {shape_of(x)[-1]} channels but the depthwise "
                         f"kernel expects {channels} (kernel shape {ks})")
    k = call("reshape", depthwise_kernel, shape=tuple(ks[:rank]) + (1, channels * multiplier))
    return _conv(x, k, strides, padding, "channels_last", dilation_rate, rank, op,
                 groups=channels)


def _pointwise(y, pointwise_kernel, rank, op):
    """The 1x1 ``conv`` of a separable convolution."""
    ps = _static_shape(pointwise_kernel, "pointwise kernel", op)
    if len(ps) != rank + 2 or any(k != 1 for k in ps[:rank]):
        raise ValueError(f"{op}: expected a pointwise kernel of shape "
                         f"{(1,) * rank + ('channels * depth_multiplier', 'filters')}, "
                         f"received {ps}")
    return _conv(y, pointwise_kernel, 1, "valid", "channels_last", 1, rank, op)


@reads_variables
def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2D depthwise convolution: each input channel is convolved on its own.

    Args:
        x: a 4-D input.
        depthwise_kernel: a ``(rows, cols, channels, depth_multiplier)`` kernel.
        strides: an int or a pair.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: an int or a pair.

    Returns:
        A 4-D tensor with ``channels * depth_multiplier`` channels (channel
        ``c * depth_multiplier + m`` is input channel ``c`` with filter ``m``).
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(x, data_format, 2, "depthwise_conv2d")
    y = _depthwise(x, depthwise_kernel, strides, padding, dilation_rate, 2, "depthwise_conv2d")
    return _from_channels_last(y, data_format, 2)


@reads_variables
def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                     data_format=None, dilation_rate=1):
    """1D convolution with separable filters.

    Args:
        x: a 3-D input.
        depthwise_kernel: a ``(kernel_size, channels, depth_multiplier)`` kernel.
        pointwise_kernel: a ``(1, channels * depth_multiplier, filters)`` kernel.
        strides: the stride.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: the dilation rate.

    Returns:
        A 3-D tensor with ``filters`` channels.
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(x, data_format, 1, "separable_conv1d")
    y = _depthwise(x, depthwise_kernel, strides, padding, dilation_rate, 1, "separable_conv1d")
    y = _pointwise(y, pointwise_kernel, 1, "separable_conv1d")
    return _from_channels_last(y, data_format, 1)


@reads_variables
def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """2D convolution with separable filters: a depthwise then a 1x1 pointwise convolution.

    Args:
        x: a 4-D input.
        depthwise_kernel: a ``(rows, cols, channels, depth_multiplier)`` kernel.
        pointwise_kernel: a ``(1, 1, channels * depth_multiplier, filters)`` kernel.
        strides: an int or a pair.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.
        dilation_rate: an int or a pair.

    Returns:
        A 4-D tensor with ``filters`` channels.
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(x, data_format, 2, "separable_conv2d")
    y = _depthwise(x, depthwise_kernel, strides, padding, dilation_rate, 2, "separable_conv2d")
    y = _pointwise(y, pointwise_kernel, 2, "separable_conv2d")
    return _from_channels_last(y, data_format, 2)


def _local(x, kernel, kernel_size, strides, rank, op, channels_first=False):
    """``x`` is channels_last; with ``channels_first`` the kernel's patch axis
    lists the channels first (each channel's window, as tf_keras flattens a
    channels_first patch), and is reordered to the window-major order here."""
    ks = _static_shape(kernel, "kernel", op)
    patches, outs = _patches(x, kernel_size, strides, (1,) * rank, "valid", op)
    positions = math.prod(outs)
    channels = shape_of(x)[-1]
    window = math.prod(kernel_size)
    if len(ks) != 3 or ks[0] != positions or (channels is not None
                                              and ks[1] != window * channels):
        raise ValueError(f"{op}: expected a kernel of shape ({positions}, "
                         f"{window} * {channels} (kernel positions * channels), filters), "
                         f"received {ks}")
    if channels_first:
        kernel = call("reshape", kernel, shape=(positions, channels, window, ks[2]))
        kernel = call("transpose", kernel, perm=(0, 2, 1, 3))
        kernel = call("reshape", kernel, shape=(positions, window * channels, ks[2]))
    flat = call("reshape", patches, shape=(-1, positions, ks[1], 1))
    y = call("sum", flat * kernel, axis=(2,), keepdims=False)  # (batch, positions, filters)
    return call("reshape", y, shape=(-1,) + tuple(outs) + (ks[2],))


@reads_variables
def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """1D convolution with unshared weights (a different kernel at each position).

    Args:
        inputs: a 3-D input ``(batch, steps, channels)``.
        kernel: ``(output_length, kernel_size * channels, filters)``.
        kernel_size: a 1-tuple (or int).
        strides: a 1-tuple (or int).
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.

    Returns:
        A 3-D tensor ``(batch, output_length, filters)`` (channels_last).
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(inputs, data_format, 1, "local_conv1d")
    y = _local(x, kernel, _tuple(kernel_size, 1, "kernel_size", "local_conv1d"),
               _tuple(strides, 1, "strides", "local_conv1d"), 1, "local_conv1d",
               channels_first=data_format == "channels_first")
    return _from_channels_last(y, data_format, 1)


@reads_variables
def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """2D convolution with unshared weights (a different kernel at each position).

    Args:
        inputs: a 4-D input.
        kernel: ``(output_rows * output_cols, rows * cols * channels, filters)``.
        kernel_size: a pair.
        strides: a pair.
        output_shape: ``(output_rows, output_cols)`` (checked against the input).
        data_format: ``'channels_last'`` or ``'channels_first'``; ``None``:
            :func:`image_data_format`.

    Returns:
        A 4-D tensor with ``filters`` channels.
    """
    data_format = normalize_data_format(data_format)
    x = _to_channels_last(inputs, data_format, 2, "local_conv2d")
    y = _local(x, kernel, _tuple(kernel_size, 2, "kernel_size", "local_conv2d"),
               _tuple(strides, 2, "strides", "local_conv2d"), 2, "local_conv2d",
               channels_first=data_format == "channels_first")
    if tuple(shape_of(y)[1:3]) != tuple(output_shape):
        raise ValueError(f"local_conv2d: output_shape {tuple(output_shape)} does not match the "
                         f"computed output size {tuple(shape_of(y)[1:3])}")
    return _from_channels_last(y, data_format, 2)
