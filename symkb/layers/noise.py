"""Regularisation layers active in training only: SpatialDropout1D/2D,
GaussianNoise, GaussianDropout.

In inference (``training`` false, the default under ``K.learning_phase()``
0) each returns its input. In training: SpatialDropout drops whole channels
(one keep/drop draw per sample and channel, kept ones scaled by ``1 / (1 -
rate)``); GaussianNoise adds zero-mean noise of ``stddev``; GaussianDropout
multiplies by one-mean noise of standard deviation ``sqrt(rate / (1 -
rate))``. As in tf_keras, SpatialDropout2D's config has no ``data_format``.
"""
from __future__ import annotations

import math

from .. import backend as K
from .base import Layer
from .conv_utils import data_format_at_construction
from .core import Dropout


class SpatialDropout1D(Dropout):
    """Drops entire channels of ``(batch, steps, channels)``."""

    def __init__(self, rate, **kwargs):
        super().__init__(rate, **kwargs)

    def _spatial_noise_shape(self, inputs):
        return (None, 1, None)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        return K.dropout(inputs, self.rate, noise_shape=self._spatial_noise_shape(inputs),
                         seed=self.seed)


class SpatialDropout2D(SpatialDropout1D):
    """Drops entire channels of images (``data_format`` says where they are)."""

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        self.data_format = data_format_at_construction(data_format)

    def _spatial_noise_shape(self, inputs):
        if K.ndim(inputs) != 4:
            raise ValueError(f"SpatialDropout2D {self.name!r}: expected a 4-D input; received "
                             f"shape {K.int_shape(inputs)}")
        if self.data_format == "channels_first":
            return (None, None, 1, 1)
        return (None, 1, 1, None)


class _Noise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_Noise):
    """Adds ``N(0, stddev)`` noise in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        return inputs + K.random_normal(K.shape(inputs), 0.0, self.stddev,
                                        dtype=K.dtype(inputs), seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies by ``N(1, sqrt(rate / (1 - rate)))`` noise in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        if not 0 <= rate < 1:
            raise ValueError("GaussianDropout: `rate` must be in [0, 1). "
                             f"Received: rate={rate}")
        self.rate = float(rate)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * K.random_normal(K.shape(inputs), 1.0, stddev, dtype=K.dtype(inputs),
                                        seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
