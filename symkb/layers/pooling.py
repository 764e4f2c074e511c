"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global
poolings GlobalMax/GlobalAveragePooling1D/2D/3D.

The windowed poolings run on ``K.pool2d``/``K.pool3d`` (1D as 2D over rows of
one pixel, as tf_keras does); ``strides=None`` means ``pool_size``.
The 1D layers default to ``data_format='channels_last'`` (as tf_keras's do),
the others to ``None``, resolved to :func:`K.image_data_format` when the
layer is made. GlobalAveragePooling1D averages over the unmasked steps only.
tf_keras's shorter names (``MaxPool2D``, ``GlobalAvgPool1D``, ...) are the
same classes.
"""
from __future__ import annotations

from .. import backend as K
from .base import Layer
from .conv_utils import (check_rank, conv_output_length, data_format_at_construction,
                         normalize_padding, normalize_tuple, spatial_axes)


class _Pooling(Layer):
    """Windowed max or average pooling of rank 1, 2 or 3."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        self.pool_size = normalize_tuple(pool_size, n, "pool_size", cls)
        self.strides = self.pool_size if strides is None else \
            normalize_tuple(strides, n, "strides", cls)
        self.padding = normalize_padding(padding, cls)
        self.data_format = data_format_at_construction(data_format)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), self.rank, self)
        if self.rank == 3:
            return K.pool3d(inputs, self.pool_size, self.strides, self.padding,
                            self.data_format, pool_mode=self.mode)
        if self.rank == 2:
            return K.pool2d(inputs, self.pool_size, self.strides, self.padding,
                            self.data_format, pool_mode=self.mode)
        axis = 2 if self.data_format == "channels_first" else 1
        pooled = K.pool2d(K.expand_dims(inputs, axis), (1,) + self.pool_size,
                          (1,) + self.strides, self.padding, self.data_format,
                          pool_mode=self.mode)
        return K.squeeze(pooled, axis)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, self.rank, self))
        for a, k, s in zip(spatial_axes(self.data_format, self.rank), self.pool_size,
                           self.strides):
            shape[a] = conv_output_length(shape[a], k, self.padding, s)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


class _Pooling1D(_Pooling):
    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """Max over windows of steps."""

    mode = "max"


class AveragePooling1D(_Pooling1D):
    """Mean over windows of steps (``'same'``: over the real elements only)."""

    mode = "avg"


class MaxPooling2D(_Pooling):
    """Max over 2D windows."""

    rank, mode = 2, "max"


class AveragePooling2D(_Pooling):
    """Mean over 2D windows."""

    rank, mode = 2, "avg"


class MaxPooling3D(_Pooling):
    """Max over 3D windows."""

    rank, mode = 3, "max"


class AveragePooling3D(_Pooling):
    """Mean over 3D windows."""

    rank, mode = 3, "avg"


class _GlobalPooling(Layer):
    """Max or mean over every spatial axis (``keepdims`` keeps them as size 1)."""

    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_at_construction(data_format)
        self.keepdims = bool(keepdims)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), self.rank, self)
        axes = list(spatial_axes(self.data_format, self.rank))
        reduce = K.max if self.mode == "max" else K.mean
        return reduce(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        shape = check_rank(input_shape, self.rank, self)
        axes = spatial_axes(self.data_format, self.rank)
        if self.keepdims:
            return tuple(1 if a in axes else d for a, d in enumerate(shape))
        return tuple(d for a, d in enumerate(shape) if a not in axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class _GlobalPooling1D(_GlobalPooling):
    rank = 1

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps."""

    mode = "max"


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps; with a mask, over the unmasked steps only."""

    mode = "avg"

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = 2 if self.data_format == "channels_first" else 1
        weights = K.expand_dims(K.cast(mask, K.dtype(inputs)), 3 - steps)
        total = K.sum(inputs * weights, axis=steps, keepdims=self.keepdims)
        return total / K.sum(weights, axis=steps, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over rows and columns."""

    rank, mode = 2, "max"


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over rows and columns."""

    rank, mode = 2, "avg"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes."""

    rank, mode = 3, "max"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""

    rank, mode = 3, "avg"


# the other names tf_keras gives the same classes
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
