"""Normalisation layers: BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization.

BatchNormalization's weights are tf_keras's: ``gamma`` (with ``scale``),
``beta`` (with ``center``), then the non-trainable ``moving_mean`` and
``moving_variance``. In inference it normalises with the moving statistics;
in training (``training=True``, or ``K.learning_phase()`` 1 at call time) with
the batch's, and moves the moving statistics towards them by ``1 -
momentum``: at once when called on arrays, and as ``(variable, value)`` pairs
in :attr:`Layer.updates` when called on symbolic tensors, for a training step
to run. Like tf_keras, a 4-D input normalised along axis 1 or 3 takes
TensorFlow's fused kernel's rules: ``epsilon`` at least 1.001e-5 and the
moving variance moved towards the unbiased batch variance.
"""
from __future__ import annotations

import builtins

from .. import backend as K
from ..ir import KerasTensor
from . import initializers
from .base import Layer
from .conv_utils import read_weight


def _axes(axis, ndim, layer) -> list:
    """``axis`` (an int or ints) as sorted non-negative axes of an ``ndim``-D input."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < ndim or a % ndim == 0:
            raise ValueError(f"{type(layer).__name__} {layer.name!r}: invalid axis {axis!r} for "
                             f"an input of rank {ndim} (the batch axis 0 cannot be one)")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: duplicate axis in {axis!r}")
    return sorted(out)


def _broadcast(param, axes, inputs):
    """A weight over ``axes`` reshaped to broadcast against ``inputs``."""
    shape = K.int_shape(inputs)
    ndim = len(shape)
    if param is None or axes == [ndim - 1]:
        return param
    param = read_weight(param, inputs)  # read by the graph, not folded to its value
    target = [shape[a] if a in axes else 1 for a in range(ndim)]
    return K.reshape(param, target)


class _Normalization(Layer):
    """Shared arguments of the three normalisation layers."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self._keep_specs(beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                         beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def _add_scale_offset(self, shape):
        self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer) \
            if self.scale else None
        self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer) \
            if self.center else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
        })
        config.update(self._specs)
        config.pop("activity_regularizer", None)  # not in tf_keras's config of these layers
        return config


class BatchNormalization(_Normalization):
    """Normalises each channel with batch or moving statistics (see the module docstring)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 renorm=False, virtual_batch_size=None, adjustment=None, fused=None,
                 synchronized=False, **kwargs):
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise ValueError("BatchNormalization: renorm, virtual_batch_size and adjustment are "
                             f"not supported. Received: renorm={renorm}, virtual_batch_size="
                             f"{virtual_batch_size}, adjustment={adjustment}")
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.axis = _axes(self.axis, len(shape), self)
        if len(self.axis) != 1:
            raise ValueError(f"BatchNormalization {self.name!r}: one channel axis is "
                             f"supported; received axis={self.axis}")
        channels = shape[self.axis[0]]
        if channels is None:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis[0]} of the "
                             f"input should have a defined dimension; received {shape}")
        self._add_scale_offset((channels,))
        self.moving_mean = self.add_weight("moving_mean", (channels,), trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight("moving_variance", (channels,), trainable=False,
                                               initializer=self.moving_variance_initializer)
        super().build(input_shape)

    def _fused(self, ndim) -> bool:
        return ndim == 4 and self.axis[0] in (1, 3)

    def call(self, inputs, training=None):
        ndim, axis = K.ndim(inputs), self.axis[0]
        if not training:
            return K.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                         self.beta, self.gamma, axis=axis,
                                         epsilon=self.epsilon)
        return self._train(inputs, ndim, axis)

    def _train(self, inputs, ndim, axis):
        """Normalise with the batch statistics and update the moving ones."""
        reduce = [a for a in range(ndim) if a != axis]
        epsilon = builtins.max(self.epsilon, 1.001e-5) if self._fused(ndim) else self.epsilon
        mean = K.mean(inputs, axis=reduce, keepdims=True)
        variance = K.mean(K.square(inputs - mean), axis=reduce, keepdims=True)
        inv = 1.0 / K.sqrt(variance + epsilon)
        if self.gamma is not None:
            inv = inv * _broadcast(self.gamma, [axis], inputs)
        out = (inputs - mean) * inv
        if self.beta is not None:
            out = out + _broadcast(self.beta, [axis], inputs)
        mean, variance = K.reshape(mean, (-1,)), K.reshape(variance, (-1,))
        if self._fused(ndim):  # the moving variance follows the unbiased estimate
            count = K.sum(K.ones_like(inputs), axis=reduce) / 1.0
            count = K.reshape(count, (-1,))
            variance = variance * count / K.maximum(count - 1.0, 1.0)
        self._move(mean, variance)
        return out

    def _move(self, mean, variance) -> None:
        pairs = []
        for var, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
            current = read_weight(var, value)  # the graph reads the variable when it runs
            pairs.append((var, current * self.momentum + value * (1.0 - self.momentum)))
        if isinstance(mean, KerasTensor):
            self.add_update(pairs)
        else:
            for var, value in pairs:
                var.assign(value)

    def get_config(self):
        config = super().get_config()
        config.update({
            "momentum": self.momentum,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
        })
        return config


class LayerNormalization(_Normalization):
    """Normalises each sample over ``axis`` (by default the last), then scales and shifts."""

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.axis = _axes(self.axis, len(shape), self)
        params = tuple(shape[a] for a in self.axis)
        if any(d is None for d in params):
            raise ValueError(f"LayerNormalization {self.name!r}: the normalised axes "
                             f"{self.axis} must have known sizes; received {shape}")
        self._add_scale_offset(params)
        super().build(input_shape)

    def call(self, inputs):
        mean = K.mean(inputs, axis=self.axis, keepdims=True)
        variance = K.mean(K.square(inputs - mean), axis=self.axis, keepdims=True)
        inv = 1.0 / K.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * _broadcast(self.gamma, self.axis, inputs)
        out = (inputs - mean) * inv
        if self.beta is not None:
            out = out + _broadcast(self.beta, self.axis, inputs)
        return out


class GroupNormalization(_Normalization):
    """Normalises each sample over groups of channels (``groups=-1``: one per channel)."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, **kwargs):
        super().__init__(axis, epsilon, **kwargs)
        self.groups = int(groups)

    def build(self, input_shape):
        shape = tuple(input_shape)
        axis = _axes(self.axis, len(shape), self)[0]
        channels = shape[axis]
        if channels is None:
            raise ValueError(f"GroupNormalization {self.name!r}: axis {self.axis} of the "
                             f"input should have a defined dimension; received {shape}")
        if self.groups == -1:
            self.groups = channels
        if self.groups > channels or channels % self.groups:
            raise ValueError(f"GroupNormalization {self.name!r}: the number of channels "
                             f"({channels}) must be a multiple of the number of groups "
                             f"({self.groups}) and not smaller")
        self._add_scale_offset((channels,))
        super().build(input_shape)

    def call(self, inputs):
        shape = K.int_shape(inputs)
        ndim = len(shape)
        axis = self.axis % ndim
        if any(d is None for d in shape[1:]):
            raise ValueError(f"GroupNormalization {self.name!r}: the non-batch dimensions "
                             f"must be known; received {shape}")
        channels = shape[axis]
        grouped = (-1,) + shape[1:axis] + (self.groups, channels // self.groups) + \
            shape[axis + 1:]
        x = K.reshape(inputs, grouped)
        reduce = [a for a in range(1, ndim + 1) if a != axis]
        mean = K.mean(x, axis=reduce, keepdims=True)
        variance = K.mean(K.square(x - mean), axis=reduce, keepdims=True)
        out = K.reshape((x - mean) / K.sqrt(variance + self.epsilon), (-1,) + shape[1:])
        if self.gamma is not None:
            out = out * _broadcast(self.gamma, [axis], inputs)
        if self.beta is not None:
            out = out + _broadcast(self.beta, [axis], inputs)
        return out

    def get_config(self):
        config = super().get_config()
        config["groups"] = self.groups
        return config


class UnitNormalization(Layer):
    """Each sample scaled to unit L2 norm along ``axis`` (an int or a list):
    ``x / sqrt(max(sum(x ** 2), 1e-12))``, as tf_keras's ``l2_normalize``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("UnitNormalization: invalid value for `axis` argument: expected an "
                            f"int or a list/tuple of ints. Received: axis={axis}")
        self.supports_masking = True

    def call(self, inputs):
        squares = K.sum(K.square(inputs), axis=self.axis, keepdims=True)
        return inputs * (1.0 / K.sqrt(K.maximum(squares, 1e-12)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
