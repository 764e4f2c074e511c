"""Depthwise and separable convolution layers: DepthwiseConv1D, DepthwiseConv2D,
SeparableConv1D, SeparableConv2D (and tf_keras's aliases SeparableConvolution1D/2D).

Weights in tf_keras's order and layout: ``depthwise_kernel`` ``kernel_size +
(in_channels, depth_multiplier)``, then (separable) ``pointwise_kernel``
``(1,) * rank + (in_channels * depth_multiplier, filters)``, then ``bias``.
"""
from __future__ import annotations

from .. import backend as K
from . import initializers
from .base import Layer
from .conv_utils import channel_axis, check_rank, conv_output_length, read_weight
from .convolutional import _Conv, positive_int


class _DepthwiseConv(_Conv):
    """Each input channel convolved with its own ``depth_multiplier`` filters."""

    rank = 2
    _takes_filters = False

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        kwargs.pop("groups", None)  # tf_keras's config carries groups=1
        super().__init__(None, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        if self.padding == "causal":
            raise ValueError(f"{type(self).__name__}: causal padding is only supported for "
                             "Conv1D and SeparableConv1D. Received: padding='causal'")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier",
                                             type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self._specs.pop("kernel_regularizer", None)
        self._specs.pop("kernel_constraint", None)
        self._keep_specs(depthwise_regularizer=depthwise_regularizer,
                         depthwise_constraint=depthwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._channels = channels
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer)
        self.bias = self.add_weight("bias", (channels * self.depth_multiplier,),
                                    initializer=self.bias_initializer) if self.use_bias else None
        Layer.build(self, input_shape)

    def call(self, inputs):
        if self.rank == 2:
            outputs = K.depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides,
                                         padding=self.padding, data_format=self.data_format,
                                         dilation_rate=self.dilation_rate)
        else:  # as a 2D depthwise convolution over rows of one pixel, as tf_keras does
            axis = 2 if self.data_format == "channels_first" else 1
            x = K.expand_dims(inputs, axis)
            kernel = K.expand_dims(read_weight(self.depthwise_kernel, x), 0)
            outputs = K.squeeze(K.depthwise_conv2d(
                x, kernel, strides=(1,) + self.strides, padding=self.padding,
                data_format=self.data_format, dilation_rate=(1,) + self.dilation_rate), axis)
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        shape = check_rank(input_shape, self.rank, self)
        channels = shape[channel_axis(self.data_format)]
        filters = None if channels is None else channels * self.depth_multiplier
        first = self.data_format == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        sizes = tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))
        return (shape[0], filters) + sizes if first else (shape[0],) + sizes + (filters,)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key, None)
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = initializers.serialize(self.depthwise_initializer)
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """Each channel of ``(batch, steps, channels)`` convolved with its own filters."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Each image channel convolved with its own ``depth_multiplier`` filters."""

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)


class _SeparableConv(_Conv):
    """A depthwise convolution followed by a pointwise (1x1) one."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        kwargs.pop("groups", None)
        # tf_keras's config repeats kernel_* (unused by the layer); kept for the round trip
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier",
                                             type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self._keep_specs(depthwise_regularizer=depthwise_regularizer,
                         pointwise_regularizer=pointwise_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         pointwise_constraint=pointwise_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._channels = channels
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier,
                                                    self.filters),
            initializer=self.pointwise_initializer)
        self.bias = self.add_weight("bias", (self.filters,), initializer=self.bias_initializer) \
            if self.use_bias else None
        Layer.build(self, input_shape)

    def call(self, inputs):
        fn = K.separable_conv1d if self.rank == 1 else K.separable_conv2d
        outputs = fn(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=self.strides,
                     padding=self.padding, data_format=self.data_format,
                     dilation_rate=self.dilation_rate)
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        return self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = initializers.serialize(self.depthwise_initializer)
        config["pointwise_initializer"] = initializers.serialize(self.pointwise_initializer)
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1D convolution."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2D convolution."""

    rank = 2


# the other names tf_keras gives the same classes
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
