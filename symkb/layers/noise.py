"""Regularisation layers active in training only: SpatialDropout1D/2D/3D,
GaussianNoise, GaussianDropout, AlphaDropout.

In inference (``training`` false, the default under ``K.learning_phase()``
0) each returns its input. In training: SpatialDropout drops whole channels
(one keep/drop draw per sample and channel, kept ones scaled by ``1 / (1 -
rate)``); GaussianNoise adds zero-mean noise of ``stddev``; GaussianDropout
multiplies by one-mean noise of standard deviation ``sqrt(rate / (1 -
rate))``; AlphaDropout keeps a SELU network's mean and variance (dropped
values set to SELU's negative saturation, then an affine correction). As in
tf_keras, SpatialDropout2D's and SpatialDropout3D's configs have no
``data_format``.
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


class SpatialDropout3D(SpatialDropout2D):
    """Drops entire channels of volumes (``data_format`` says where they are)."""

    def _spatial_noise_shape(self, inputs):
        if K.ndim(inputs) != 5:
            raise ValueError(f"SpatialDropout3D {self.name!r}: expected a 5-D input; received "
                             f"shape {K.int_shape(inputs)}")
        if self.data_format == "channels_first":
            return (None, None, 1, 1, 1)
        return (None, 1, 1, 1, None)


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


class AlphaDropout(_Noise):
    """Dropout for self-normalising (SELU) networks: in training each value is
    dropped with probability ``rate`` to SELU's negative saturation
    ``-alpha * scale``, then ``a * x + b`` restores the mean and variance."""

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = float(rate)
        self.noise_shape = noise_shape

    def call(self, inputs, training=None):
        if not training or not 0.0 < self.rate < 1.0:
            return inputs
        alpha_p = -self._ALPHA * self._SCALE
        shape = K.shape(inputs) if self.noise_shape is None else self.noise_shape
        keep = K.cast(K.greater_equal(K.random_uniform(shape, dtype=K.dtype(inputs),
                                                       seed=self.seed), self.rate),
                      K.dtype(inputs))
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1.0 - keep)) + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})  # tf_keras's: no noise_shape
        return config
