"""Spatial reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
UpSampling1D/2D/3D.

The 1D layers act on axis 1 of ``(batch, steps, features)`` (they take no
``data_format``, as in tf_keras); the 2D and 3D layers on the spatial axes of
``data_format``, ``None`` resolved to :func:`K.image_data_format` when the
layer is made.
"""
from __future__ import annotations

from .. import backend as K
from .base import Layer
from .conv_utils import check_rank, data_format_at_construction, normalize_tuple, spatial_axes


_ORDINALS = ("1st", "2nd", "3rd")


def _pairs(value, name, layer, n=2) -> tuple:
    """An int, ``n`` ints or ``n`` pairs as ``n`` ``(before, after)`` pairs
    (tf_keras: an int entry ``v`` stands for ``(v, v)``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ((value, value),) * n
    if hasattr(value, "__len__") and len(value) == n:
        return tuple(normalize_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", layer, True)
                     for i, v in enumerate(value))
    raise ValueError(f"{layer}: `{name}` should have {n} elements (an int, {n} ints or {n} "
                     f"pairs of ints). Received: {name}={value!r}")


def _crop(x, spans, layer):
    """``x`` sliced to ``spans`` (``axis: (before, after)``), other axes whole.

    Cropping a whole axis away is refused, as tf_keras's Cropping1D/2D do
    (its Cropping3D would give an empty tensor).
    """
    shape = K.int_shape(x)
    start, size = [0] * len(shape), [-1] * len(shape)
    for axis, (before, after) in spans.items():
        if shape[axis] is None:
            raise ValueError(f"{layer}: axis {axis} of the input must have a known size; "
                             f"received shape {shape}")
        if before + after >= shape[axis]:
            raise ValueError(f"{layer}: the cropping must leave part of the input: axis "
                             f"{axis} has {shape[axis]} elements and the cropping takes "
                             f"{(before, after)}. Received: inputs.shape={shape}")
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


class _ZeroPadding(Layer):
    """Zeros around the ``rank`` spatial axes of ``data_format``."""

    rank = 2

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding", type(self).__name__, self.rank)
        self.data_format = data_format_at_construction(data_format)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), self.rank, self)
        pad = K.spatial_2d_padding if self.rank == 2 else K.spatial_3d_padding
        return pad(inputs, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, self.rank, self))
        for a, p in zip(spatial_axes(self.data_format, self.rank), self.padding):
            shape[a] = None if shape[a] is None else shape[a] + sum(p)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding2D(_ZeroPadding):
    """Zeros around the rows and columns."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zeros around the three spatial axes."""

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(Layer):
    """Drops ``cropping = (before, after)`` steps."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", "Cropping1D", True)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 1, self)
        return _crop(inputs, {1: self.cropping}, type(self).__name__)

    def compute_output_shape(self, input_shape):
        b, n, c = check_rank(input_shape, 1, self)
        return (b, None if n is None else n - sum(self.cropping), c)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class _Cropping(Layer):
    """Drops elements at the edges of the ``rank`` spatial axes."""

    rank = 2

    def __init__(self, cropping=0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping", type(self).__name__, self.rank)
        self.data_format = data_format_at_construction(data_format)

    def call(self, inputs):
        check_rank(K.int_shape(inputs), self.rank, self)
        return _crop(inputs, dict(zip(spatial_axes(self.data_format, self.rank),
                                      self.cropping)), type(self).__name__)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, self.rank, self))
        for a, p in zip(spatial_axes(self.data_format, self.rank), self.cropping):
            shape[a] = None if shape[a] is None else shape[a] - sum(p)
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping2D(_Cropping):
    """Drops rows and columns at the edges."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Drops elements at the edges of the three spatial axes."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


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


class UpSampling3D(Layer):
    """Each element repeated ``size[i]`` times along spatial axis ``i`` (nearest)."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_at_construction(data_format)
        self.size = normalize_tuple(size, 3, "size", "UpSampling3D")

    def call(self, inputs):
        check_rank(K.int_shape(inputs), 3, self)
        return K.resize_volumes(inputs, *self.size, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(check_rank(input_shape, 3, self))
        for a, s in zip(spatial_axes(self.data_format, 3), self.size):
            shape[a] = None if shape[a] is None else shape[a] * s
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config
