"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum."""
from __future__ import annotations

from functools import reduce

from .. import backend as K
from .base import Layer


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, list) or not input_shape:
            got = "an empty list" if isinstance(input_shape, list) else \
                f"a single input of shape {tuple(input_shape)}"
            raise ValueError(f"A merge layer ({type(self).__name__} {self.name!r}) should be "
                             f"called on a list of inputs (at least 1). Received {got}.")
        super().build(input_shape)

    def call(self, inputs):
        return reduce(self._merge, inputs[1:], inputs[0]) if self._pairwise else \
            self._merge_all(inputs)

    _pairwise = True

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        return reduce(lambda a, b: K.cast(K.minimum(K.cast(a, "int32"), K.cast(b, "int32")),
                                          "bool"), masks)


class Add(_Merge):
    """Elementwise sum of the inputs."""

    def _merge(self, a, b):
        return a + b


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A Subtract layer should be called on exactly 2 inputs. Got "
                             f"{len(input_shape)} inputs.")

    def _merge(self, a, b):
        return a - b


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def _merge(self, a, b):
        return a * b


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def _merge(self, a, b):
        return K.maximum(a, b)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def _merge(self, a, b):
        return K.minimum(a, b)


class Average(_Merge):
    """Elementwise mean of the inputs."""

    _pairwise = False

    def _merge_all(self, inputs):
        return reduce(lambda a, b: a + b, inputs[1:], inputs[0]) / float(len(inputs))


class Concatenate(_Merge):
    """Concatenate the inputs along ``axis``."""

    _pairwise = False

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _merge_all(self, inputs):
        return K.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        """As tf_keras: the masks (all-true for unmasked inputs, widened to the
        input's rank) concatenated along ``axis``, then ``all`` over the last
        axis."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = K.ones_like(x, dtype="bool")
            elif K.ndim(m) < K.ndim(x):
                m = K.expand_dims(m, axis=-1)
            full.append(m)
        return K.all(K.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
