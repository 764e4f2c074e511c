"""Argument checks and size arithmetic shared by the convolution, pooling and
reshaping layers.

tf_keras stores ``kernel_size``, ``strides`` and the like as tuples of the
layer's rank whatever the user gave (an int or a sequence); these helpers
normalise them the same way and refuse bad values with a message naming the
layer and the argument.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..backend._util import _lift
from ..ir import KerasTensor


def normalize_tuple(value, n, name, layer, allow_zero=False) -> tuple:
    """``value`` (an int or ``n`` ints) as a tuple of ``n`` ints.

    Args:
        value: an int or a sequence of ``n`` ints.
        n: the rank.
        name: the argument's name, for the error.
        layer: the layer's class name, for the error.
        allow_zero: whether 0 is allowed (paddings, croppings); else values must be > 0.

    Raises:
        ValueError: for a wrong length, a non-integer or an out-of-range value.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            raise ValueError(f"{layer}: the `{name}` argument must be an int or a tuple of {n} "
                             f"ints. Received: {name}={value!r}")
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        relation = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{layer}: the `{name}` argument must be {relation}. "
                         f"Received: {name}={value!r}")
    return values


def normalize_padding(value, layer, allowed=("valid", "same")) -> str:
    """``value`` lower-cased and checked against ``allowed``."""
    padding = str(value).lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{layer}: the `padding` argument must be one of {list(allowed)}. "
                         f"Received: padding={value!r}")
    return padding


def data_format_at_construction(value) -> str:
    """``None`` becomes :func:`K.image_data_format` now, as tf_keras does."""
    return K.normalize_data_format(value)


def conv_output_length(length, kernel, padding, stride, dilation=1):
    """The output size of a convolution or pooling along one axis (None stays None)."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - span + 1
    else:  # full
        out = length + span - 1
    return (out + stride - 1) // stride


def deconv_output_length(length, kernel, padding, output_padding=None, stride=1, dilation=1):
    """The output size of a transposed convolution along one axis (None stays None)."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(span - stride, 0)
        return length * stride
    pad = span // 2 if padding == "same" else 0
    return (length - 1) * stride + span - 2 * pad + output_padding


def spatial_axes(data_format, rank) -> tuple:
    """The spatial axes of a ``rank``-D image batch in ``data_format``."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def channel_axis(data_format) -> int:
    return 1 if data_format == "channels_first" else -1


def check_rank(input_shape, rank, layer) -> tuple:
    """``input_shape`` as a tuple, refused unless it has ``rank + 2`` dimensions."""
    shape = tuple(input_shape)
    if len(shape) != rank + 2:
        raise ValueError(f"Input 0 of layer {layer.name!r} is incompatible with the layer: "
                         f"expected ndim={rank + 2}, found ndim={len(shape)}. Full shape "
                         f"received: {shape}")
    return shape


def read_weight(weight, like):
    """``weight`` as a graph reads it when ``like`` is symbolic (its graph
    tensor, so a later ``set_weights`` reaches the graph), else as it is.

    A backend op whose operands are only Variables runs eagerly: a layer that
    reshapes or slices a weight before combining it with its input reads it
    through this first.
    """
    return _lift(weight) if isinstance(like, KerasTensor) else weight
