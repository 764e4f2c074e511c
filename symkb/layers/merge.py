"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot."""
from __future__ import annotations

from functools import reduce

import numpy as np

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


class Dot(_Merge):
    """The dot product of two inputs' samples along ``axes`` (an int for both, or
    one axis each), as ``K.batch_dot``; with ``normalize`` each input is first
    L2-normalised along its axis (the result is then the cosine proximity). A
    result of one axis gains a second of size 1, as tf_keras's."""

    _pairwise = False

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (int, np.integer)):
            self.axes = int(axes)
        elif (isinstance(axes, (list, tuple)) and len(axes) == 2
              and all(isinstance(a, (int, np.integer)) for a in axes)):
            self.axes = [int(a) for a in axes]
        else:
            raise TypeError(f"Dot: `axes` must be an int or a list/tuple of two ints; "
                            f"received axes={axes!r}")
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes(self, ranks):
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        return [a % r if a < 0 else a for a, r in zip(axes, ranks)]

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer ({self.name!r}) should be called on a list of 2 "
                             f"inputs. Received: input_shape={input_shape}")
        s1, s2 = (tuple(s) for s in input_shape)
        a1, a2 = self._axes((len(s1), len(s2)))
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(f"Dot {self.name!r}: incompatible input shapes: axis values "
                             f"{s1[a1]} (at axis {a1}) != {s2[a2]} (at axis {a2}). Full input "
                             f"shapes: {s1}, {s2}")
        super().build(input_shape)

    def _merge_all(self, inputs):
        x1, x2 = inputs
        a1, a2 = self._axes((K.ndim(x1), K.ndim(x2)))
        if self.normalize:
            x1, x2 = K.l2_normalize(x1, axis=a1), K.l2_normalize(x2, axis=a2)
        return K.batch_dot(x1, x2, axes=[a1, a2])

    def compute_output_shape(self, input_shape):
        s1, s2 = (list(s) for s in input_shape)
        a1, a2 = self._axes((len(s1), len(s2)))
        s1.pop(a1)
        s2.pop(a2)
        out = s1 + s2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config
