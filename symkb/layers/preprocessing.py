"""Preprocessing layers with tf_keras's state and configs: Normalization
(``adapt`` computes its statistics) and Rescaling.

``Normalization`` computes ``(x - mean) / max(sqrt(variance), epsilon)`` (or,
with ``invert``, ``mean + x * max(sqrt(variance), epsilon)``), the statistics
kept per position of the ``axis`` axes (``axis=None``: one of each). They come
from the constructor (``mean``, ``variance``: constants, no weights) or from
``adapt(data, batch_size=32)``: as tf_keras does, the data is taken a batch at
a time and each batch's float32 moments are merged into the running ones
(weights ``mean``, ``variance`` and the int64 ``count``, not trainable), so
the statistics equal tf_keras's to float32 rounding. A model that calls the
layer reads its weights when it runs: adapting again changes what it computes.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..ir import Variable
from .base import Layer
from .conv_utils import read_weight


def _listify(value):
    """A constructor statistic as a config keeps it (tf_keras's ``listify_tensors``)."""
    if value is None:
        return None
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


class Normalization(Layer):
    """Feature-wise standardisation (see the module docstring)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        for what, value in (("mean", mean), ("variance", variance)):
            if isinstance(value, Variable):
                raise ValueError(f"Normalization does not support passing a Variable for the "
                                 f"`{what}` init arg.")
        if (mean is not None) != (variance is not None):
            raise ValueError("Normalization: when setting values directly, both `mean` and "
                             f"`variance` must be set. Got mean: {mean} and variance: {variance}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)

    def build(self, input_shape):
        shape = tuple(input_shape)
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization {self.name!r}: all `axis` values must be in the "
                             f"range [-ndim, ndim). Found ndim: `{ndim}`, axis: {self.axis}")
        self._keep_axis = sorted(a % ndim for a in self.axis)
        for d in self._keep_axis:
            if shape[d] is None:
                raise ValueError(f"Normalization {self.name!r}: all `axis` values to be kept "
                                 f"must have known shape. Got axis: {self.axis}, input shape: "
                                 f"{shape}, with unknown axis at index: {d}")
        self._reduce_axis = [d for d in range(ndim) if d not in self._keep_axis]
        self._broadcast_shape = [shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        stats_shape = tuple(shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", stats_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight("variance", stats_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), dtype="int64", initializer="zeros",
                                         trainable=False)
        else:
            ones = np.ones(stats_shape)
            self._mean = (np.asarray(self.input_mean) * ones).reshape(self._broadcast_shape)
            self._variance = (np.asarray(self.input_variance) * ones).reshape(
                self._broadcast_shape)
        super().build(input_shape)

    def _statistics(self, inputs):
        """The mean and variance, shaped to broadcast against ``inputs`` (a graph
        reads the adapted weights, so a later ``adapt`` reaches it)."""
        if self.input_mean is not None:
            return (K.constant(self._mean.astype(self.compute_dtype)),
                    K.constant(self._variance.astype(self.compute_dtype)))
        return (K.reshape(read_weight(self.adapt_mean, inputs), self._broadcast_shape),
                K.reshape(read_weight(self.adapt_variance, inputs), self._broadcast_shape))

    def call(self, inputs):
        if K.dtype(inputs) != self.compute_dtype:
            inputs = K.cast(inputs, self.compute_dtype)
        mean, variance = self._statistics(inputs)
        scale = K.maximum(K.sqrt(variance), K.epsilon())
        if self.invert:
            return mean + inputs * scale
        return (inputs - mean) / scale

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (an array, its first axis
        the samples) a batch of ``batch_size`` (default 32) at a time, as
        tf_keras does; ``steps`` batches at most."""
        if self.input_mean is not None:
            raise ValueError("Normalization: cannot `adapt` a Normalization layer that is "
                             "initialized with static `mean` and `variance`, you passed mean "
                             f"{self.input_mean} and variance {self.input_variance}.")
        data = np.asarray(data)
        if data.ndim == 0 or data.dtype.kind not in "biuf":
            raise ValueError(f"Normalization {self.name!r}: `adapt` takes an array of numbers "
                             f"with the samples along its first axis; received shape "
                             f"{data.shape}, dtype {data.dtype}")
        if not self.built:
            if self._batch_input_shape is None:
                self._batch_input_shape = (None,) * data.ndim
            self._maybe_build(K.placeholder(shape=(None,) + data.shape[1:]))
        batch_size = 32 if batch_size is None else int(batch_size)
        dtype = np.dtype(self.compute_dtype)
        mean = np.zeros(self.adapt_mean.shape, dtype)
        variance = np.ones(self.adapt_variance.shape, dtype)
        count = np.int64(0)
        reduce = tuple(self._reduce_axis)
        for k, start in enumerate(range(0, len(data), batch_size)):
            if steps is not None and k >= steps:
                break
            batch = data[start:start + batch_size].astype(dtype)
            batch_mean = batch.mean(axis=reduce, dtype=dtype)
            batch_variance = ((batch - batch.mean(axis=reduce, keepdims=True, dtype=dtype))
                              ** 2).mean(axis=reduce, dtype=dtype)
            batch_count = np.int64(np.prod([batch.shape[d] for d in reduce])) if reduce else 1
            total = batch_count + count
            weight = dtype.type(batch_count) / dtype.type(total)
            existing = dtype.type(1.0) - weight
            total_mean = mean * existing + batch_mean * weight
            variance = ((variance + (mean - total_mean) ** 2) * existing
                        + (batch_variance + (batch_mean - total_mean) ** 2) * weight)
            mean, count = total_mean, np.int64(total)
        self.adapt_mean.assign(mean.astype(dtype))
        self.adapt_variance.assign(np.asarray(variance, dtype))
        self.count.assign(np.int64(count))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert,
                       "mean": _listify(self.input_mean),
                       "variance": _listify(self.input_variance)})
        return config


class Rescaling(Layer):
    """``inputs * scale + offset``, in the layer's dtype (tf_keras casts the
    inputs first)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        x = K.cast(inputs, self.dtype) if K.dtype(inputs) != self.dtype else inputs
        scale = K.constant(np.asarray(self.scale, self.dtype))
        offset = K.constant(np.asarray(self.offset, self.dtype))
        return x * scale + offset

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config
