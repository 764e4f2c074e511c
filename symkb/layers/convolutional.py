"""Convolution layers: Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose,
Conv3DTranspose (and tf_keras's aliases Convolution1D, ...).

Weights are tf_keras's: ``kernel`` of shape ``kernel_size + (in_channels //
groups, filters)`` (transposed convolutions: ``kernel_size + (filters,
in_channels)``) then ``bias`` of shape ``(filters,)``, whatever the
``data_format``, so weights move between the two layouts unchanged. The
layers compute with the backend's ``K.conv*`` functions; ``data_format=None``
is resolved to :func:`K.image_data_format` when the layer is made.
"""
from __future__ import annotations

from .. import backend as K
from .. import ir
from . import activations, initializers
from .base import Layer
from .conv_utils import (channel_axis, read_weight, check_rank, conv_output_length,
                         data_format_at_construction, deconv_output_length, normalize_padding,
                         normalize_tuple, spatial_axes)

_CONV = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}


def positive_int(value, name, layer) -> int:
    """``value`` as a positive int (tf_keras accepts 2.0 for 2)."""
    try:
        ok = float(value) == int(value) and int(value) > 0 and not isinstance(value, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{layer}: `{name}` must be a positive integer. "
                         f"Received: {name}={value!r}")
    return int(value)


class _Conv(Layer):
    """The N-d convolution layer behind Conv1D/2D/3D (see the module docstring)."""

    rank = 2
    _takes_filters = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        # DepthwiseConv2D has no filters (its outputs follow the input's channels)
        self.filters = None if filters is None and not self._takes_filters else \
            positive_int(filters, "filters", cls)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size", cls)
        self.strides = normalize_tuple(strides, n, "strides", cls)
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, cls, allowed)
        self.data_format = data_format_at_construction(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate", cls)
        self.groups = positive_int(groups, "groups", cls)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(f"{cls}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={self.groups}, "
                             f"filters={self.filters}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._keep_specs(kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def _input_channels(self, input_shape) -> int:
        shape = check_rank(input_shape, self.rank, self)
        channels = shape[channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"{type(self).__name__}: the channel dimension of the inputs "
                             f"should be defined. Found None in shape {shape}")
        return channels

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__}: the number of input channels must be "
                             f"evenly divisible by the number of groups. Received groups="
                             f"{self.groups}, but the input has {channels} channels (full "
                             f"input shape is {tuple(input_shape)})")
        self._channels = channels
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, initializer=self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer) \
            if self.use_bias else None
        super().build(input_shape)

    def _convolve(self, x, kernel):
        padding = self.padding
        if padding == "causal":
            span = (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1
            pads = ((0, 0), (0, 0), (span - 1, 0)) if self.data_format == "channels_first" \
                else ((0, 0), (span - 1, 0), (0, 0))
            x, padding = ir.call("pad", x, pads=pads), "valid"
        return _CONV[self.rank](x, kernel, strides=self.strides, padding=padding,
                                data_format=self.data_format, dilation_rate=self.dilation_rate)

    def call(self, inputs):
        if self.groups == 1:
            outputs = self._convolve(inputs, self.kernel)
        else:
            outputs = K.concatenate([self._convolve(x, k) for x, k in self._group_slices(inputs)],
                                    axis=channel_axis(self.data_format))
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        return self.activation(outputs)

    def _group_slices(self, inputs):
        """``(input channels, kernel)`` of each group."""
        cin, cout = self._channels // self.groups, self.filters // self.groups
        nd, axis = self.rank + 2, channel_axis(self.data_format) % (self.rank + 2)
        for g in range(self.groups):
            start = [0] * nd
            size = [-1] * nd
            start[axis], size[axis] = g * cin, cin
            kstart = [0] * nd
            ksize = [-1] * nd
            kstart[-1], ksize[-1] = g * cout, cout
            yield (K.slice(inputs, start, size),
                   K.slice(read_weight(self.kernel, inputs), kstart, ksize))

    def compute_output_shape(self, input_shape):
        shape = check_rank(input_shape, self.rank, self)
        sizes = [conv_output_length(shape[a], k, self.padding, s, d) for a, k, s, d in zip(
            spatial_axes(self.data_format, self.rank), self.kernel_size, self.strides,
            self.dilation_rate)]
        if self.data_format == "channels_first":
            return (shape[0], self.filters) + tuple(sizes)
        return (shape[0],) + tuple(sizes) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": self.dilation_rate, "groups": self.groups,
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        config.update(self._specs)
        return config


class Conv1D(_Conv):
    """1D convolution over ``(batch, steps, channels)`` (``padding='causal'`` too)."""

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         **kwargs)


class Conv2D(_Conv):
    """2D convolution over images."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         **kwargs)


class Conv3D(_Conv):
    """3D convolution over volumes."""

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         **kwargs)


class _ConvTranspose(_Conv):
    """Transposed convolution: kernel ``kernel_size + (filters, in_channels)``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        cls = type(self).__name__
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", cls, allow_zero=True)
        for op, s in zip(self.output_padding or (), self.strides):
            if op >= s:
                raise ValueError(f"{cls}: strides {self.strides} must be greater than output "
                                 f"padding {self.output_padding}")

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._channels = channels
        shape = self.kernel_size + (self.filters, channels)
        self.kernel = self.add_weight("kernel", shape, initializer=self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer) \
            if self.use_bias else None
        Layer.build(self, input_shape)

    def _out_sizes(self, shape) -> list:
        pads = self.output_padding or (None,) * self.rank
        return [deconv_output_length(shape[a], k, self.padding, p, s, d) for a, k, p, s, d in zip(
            spatial_axes(self.data_format, self.rank), self.kernel_size, pads, self.strides,
            self.dilation_rate)]

    def compute_output_shape(self, input_shape):
        shape = check_rank(input_shape, self.rank, self)
        sizes = tuple(self._out_sizes(shape))
        if self.data_format == "channels_first":
            return (shape[0], self.filters) + sizes
        return (shape[0],) + sizes + (self.filters,)

    def call(self, inputs):
        shape = K.int_shape(inputs)
        sizes = self._out_sizes(shape)
        if any(n is None for n in sizes):
            raise ValueError(f"{type(self).__name__}: the spatial dimensions of the inputs "
                             f"must be known; received shape {shape}")
        x, kernel = inputs, self.kernel
        strides, dilation = self.strides, self.dilation_rate
        first = self.data_format == "channels_first"
        if self.rank == 1:  # as a 2D transposed convolution over rows of one pixel
            x = K.expand_dims(x, 2 if first else 1)
            kernel = K.expand_dims(read_weight(kernel, x), 0)
            sizes, strides, dilation = [1] + sizes, (1,) + strides, (1,) + dilation
        out_shape = (1, self.filters) + tuple(sizes) if first else \
            (1,) + tuple(sizes) + (self.filters,)
        if self.rank == 3:  # tf_keras's conv3d_transpose has no dilation
            outputs = K.conv3d_transpose(x, kernel, out_shape, strides=strides,
                                         padding=self.padding, data_format=self.data_format)
        else:
            outputs = K.conv2d_transpose(x, kernel, out_shape, strides=strides,
                                         padding=self.padding, data_format=self.data_format,
                                         dilation_rate=dilation)
        if self.rank == 1:
            outputs = K.squeeze(outputs, 2 if first else 1)
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        return self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(_ConvTranspose):
    """1D transposed convolution (the gradient of Conv1D with respect to its input)."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2D transposed convolution (the gradient of Conv2D with respect to its input)."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """3D transposed convolution (the gradient of Conv3D with respect to its input).

    As in tf_keras, it has no dilation: its config leaves ``dilation_rate``
    out, and a dilation other than 1 is refused (tf_keras would ignore it).
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)
        if self.dilation_rate != (1, 1, 1):
            raise ValueError("Conv3DTranspose: dilation is not supported (tf_keras's "
                             "Conv3DTranspose computes without it). Received: "
                             f"dilation_rate={dilation_rate!r}, expected 1")

    def get_config(self):
        config = super().get_config()
        config.pop("dilation_rate")
        return config


# the other names tf_keras gives the same classes
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
