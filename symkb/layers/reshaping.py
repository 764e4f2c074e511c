"""Spatial reshaping layers: ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D.

The 1D layers act on axis 1 of ``(batch, steps, features)`` (they take no
``data_format``, as in tf_keras); the 2D layers on the two spatial axes of
``data_format``, ``None`` resolved to :func:`K.image_data_format` when the
layer is made.
"""
from __future__ import annotations

from .. import backend as K
from .base import Layer
from .conv_utils import check_rank, data_format_at_construction, normalize_tuple, spatial_axes


def _pairs(value, name, layer) -> tuple:
    """An int, two ints or two pairs as ``((before, after), (before, after))``."""
    if isinstance(value, int):
        return ((value, value), (value, value))
    if hasattr(value, "__len__") and len(value) == 2:
        if all(isinstance(v, int) for v in value):
            return tuple((v, v) for v in normalize_tuple(value, 2, name, layer, True))
        return tuple(normalize_tuple(v, 2, f"{name}[{i}]", layer, True)
                     for i, v in enumerate(value))
    raise ValueError(f"{layer}: `{name}` should have two elements (an int, two ints or two "
                     f"pairs of ints). Received: {name}={value!r}")


def _crop(x, spans):
    """``x`` sliced to ``spans`` (``axis: (before, after)``), other axes whole."""
    shape = K.int_shape(x)
    start, size = [0] * len(shape), [-1] * len(shape)
    for axis, (before, after) in spans.items():
        if shape[axis] is None:
            raise ValueError(f"Cropping: axis {axis} of the input must have a known size; "
                             f"received shape {shape}")
        start[axis], size[axis] = before, shape[axis] - before - after
    return K.slice(x, start, size)


class ZeroPadding1D(Layer):
    """Zeros before and after the steps: ``padding`` is an int or ``(before, after)``."""

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = normalize_tuple(padding, 2, "padding", "ZeroPadding1D", True)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 1, self)
        return K.temporal_padding(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        b, n, c = check_rank(input_shape, 1, self)
        return (b, None if n is None else n + sum(self.padding), c)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class ZeroPadding2D(Layer):
    """Zeros around the rows and columns."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding", "ZeroPadding2D")
        self.data_format = data_format_at_construction(data_format)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 2, self)
        return K.spatial_2d_padding(inputs, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, 2, self))
        for a, p in zip(spatial_axes(self.data_format, 2), self.padding):
            shape[a] = None if shape[a] is None else shape[a] + sum(p)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class Cropping1D(Layer):
    """Drops ``cropping = (before, after)`` steps."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", "Cropping1D", True)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 1, self)
        return _crop(inputs, {1: self.cropping})

    def compute_output_shape(self, input_shape):
        b, n, c = check_rank(input_shape, 1, self)
        return (b, None if n is None else n - sum(self.cropping), c)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping2D(Layer):
    """Drops rows and columns at the edges."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping", "Cropping2D")
        self.data_format = data_format_at_construction(data_format)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 2, self)
        return _crop(inputs, dict(zip(spatial_axes(self.data_format, 2), self.cropping)))

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, 2, self))
        for a, p in zip(spatial_axes(self.data_format, 2), self.cropping):
            shape[a] = None if shape[a] is None else shape[a] - sum(p)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class UpSampling1D(Layer):
    """Each step repeated ``size`` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 1, "size", "UpSampling1D")[0]

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 1, self)
        return K.repeat_elements(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        b, n, c = check_rank(input_shape, 1, self)
        return (b, None if n is None else n * self.size, c)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling2D(Layer):
    """Rows and columns repeated (``'nearest'``) or interpolated (``'bilinear'``)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = data_format_at_construction(data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError("UpSampling2D: `interpolation` must be 'nearest' or 'bilinear'. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 2, self)
        return K.resize_images(inputs, self.size[0], self.size[1], self.data_format,
                               interpolation=self.interpolation)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, 2, self))
        for a, s in zip(spatial_axes(self.data_format, 2), self.size):
            shape[a] = None if shape[a] is None else shape[a] * s
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config
