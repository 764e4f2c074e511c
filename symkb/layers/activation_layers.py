"""Activation layers with tf_keras's arguments, checks and configs: ReLU,
LeakyReLU, ELU, ThresholdedReLU, PReLU (a learned slope), Softmax (with a
mask, over one axis or several); and Identity.

tf_keras keeps these layers' numbers as float32 (``cast_to_floatx``); their
configs give them as the floats that float32 holds (``0.3`` comes back as
``0.30000001192092896``), as tf_keras's own JSON does.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from . import initializers
from .base import Layer

# what a masked position is lowered by before a softmax (tf_keras, float32)
_MASKED = 1e9


def _float32(value, what: str, layer: str, low: float | None = 0.0) -> float:
    """``value`` as the float32 tf_keras keeps, refusing None and (with
    ``low``) values below it, naming the layer and the argument."""
    if value is None:
        raise ValueError(f"{layer}: `{what}` cannot be None; expected a float")
    try:
        value = float(np.float32(value))
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: `{what}` must be a float; received {value!r}") from None
    if low is not None and value < low:
        raise ValueError(f"{layer}: `{what}` cannot be negative; received {value}")
    return value


class ReLU(Layer):
    """``max_value`` for x >= max_value, x for threshold <= x < max_value,
    ``negative_slope * (x - threshold)`` below (tf_keras's ``ReLU``)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else \
            _float32(max_value, "max_value", "ReLU")
        self.negative_slope = _float32(negative_slope, "negative_slope", "ReLU")
        self.threshold = _float32(threshold, "threshold", "ReLU")
        self.supports_masking = True

    def call(self, inputs):
        return K.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                      threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(Layer):
    """``x`` where x >= 0, ``alpha * x`` below (tf_keras's default alpha 0.3)."""

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _float32(alpha, "alpha", "LeakyReLU", low=None)
        self.supports_masking = True

    def call(self, inputs):
        return K.relu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ELU(Layer):
    """``x`` where x > 0, ``alpha * (exp(x) - 1)`` below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _float32(alpha, "alpha", "ELU", low=None)
        self.supports_masking = True

    def call(self, inputs):
        return K.elu(inputs, self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(Layer):
    """``x`` where x > theta, 0 elsewhere."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = _float32(theta, "theta", "ThresholdedReLU")
        self.supports_masking = True

    def call(self, inputs):
        return inputs * K.cast(K.greater(inputs, self.theta), K.dtype(inputs))

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class PReLU(Layer):
    """``x`` where x >= 0, ``alpha * x`` below, with ``alpha`` a weight of the
    input's shape past the batch (size 1 along ``shared_axes``)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, (int, np.integer)) and a >= 1 for a in axes):
                raise ValueError(f"PReLU: `shared_axes` must be axes past the batch (1, 2, "
                                 f"...); received shared_axes={shared_axes!r}")
            self.shared_axes = [int(a) for a in axes]
        self._keep_specs(alpha_regularizer=alpha_regularizer, alpha_constraint=alpha_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"PReLU {self.name!r}: shared axis {axis} is past the input's "
                                 f"last axis; received input shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU {self.name!r}: the input's axes past the batch must be "
                             f"known (or shared); received input shape {tuple(input_shape)}")
        self.alpha = self.add_weight("alpha", shape, initializer=self.alpha_initializer)
        super().build(input_shape)

    def call(self, inputs):
        return K.relu(inputs) - self.alpha * K.relu(-inputs)

    def get_config(self):
        config = super().get_config()
        config.update({"alpha_initializer": initializers.serialize(self.alpha_initializer),
                       "alpha_regularizer": self._specs["alpha_regularizer"],
                       "alpha_constraint": self._specs["alpha_constraint"],
                       "shared_axes": self.shared_axes})
        return config


class Softmax(Layer):
    """Softmax over ``axis`` (an int, or a list: the axes normalised jointly);
    positions where the ``mask`` is False are lowered by 1e9 first."""

    def __init__(self, axis=-1, robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        if robust_masking:
            raise ValueError("Softmax: robust_masking=True is not supported")
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = inputs - _MASKED * (1.0 - K.cast(mask, K.dtype(inputs)))
        if isinstance(self.axis, (list, tuple)):
            if len(self.axis) > 1:
                return K.exp(inputs - K.logsumexp(inputs, axis=list(self.axis), keepdims=True))
            return K.softmax(inputs, axis=self.axis[0])
        return K.softmax(inputs, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Identity(Layer):
    """Returns its input."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs
