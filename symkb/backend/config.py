"""Configuration: default float type, fuzz factor, image data format.

The values live in :data:`symkb.backend.session.STATE`; these functions read
and validate them with tf_keras's semantics.
"""
from __future__ import annotations

from .session import STATE

_FLOATX = ("float16", "float32", "float64")
_FORMATS = ("channels_first", "channels_last")


def floatx() -> str:
    """The default float type, as a string (``'float32'`` unless changed).

    Example:
        >>> floatx()
        'float32'
    """
    return STATE.floatx


def set_floatx(value) -> None:
    """Set the default float type: ``'float16'``, ``'float32'`` or ``'float64'``."""
    if not isinstance(value, str) and hasattr(value, "__name__"):
        value = value.__name__
    value = str(value)
    if value not in _FLOATX:
        raise ValueError(f"Unknown floatx type: {value}. Expected one of {set(_FLOATX)}")
    STATE.floatx = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (``1e-07`` by default)."""
    return STATE.epsilon


def set_epsilon(value) -> None:
    """Set the fuzz factor."""
    STATE.epsilon = float(value)


def image_data_format() -> str:
    """``'channels_last'`` (default) or ``'channels_first'``."""
    return STATE.image_data_format


def set_image_data_format(data_format) -> None:
    """Set the image data format: ``'channels_first'`` or ``'channels_last'``."""
    if data_format not in _FORMATS:
        raise ValueError("The `data_format` argument must be one of "
                         f"{{'channels_first', 'channels_last'}}. Received: {data_format}")
    STATE.image_data_format = str(data_format)


def normalize_data_format(value) -> str:
    """``value`` or the default image data format, validated."""
    if value is None:
        return image_data_format()
    value = str(value).lower()
    if value not in _FORMATS:
        raise ValueError("The `data_format` argument must be one of "
                         f"{{'channels_first', 'channels_last'}}. Received: {value}")
    return value


def cast_to_floatx(x):
    """Cast ``x`` to the default float type (:func:`floatx`).

    Args:
        x: a numpy array, Python data, a Variable or a KerasTensor.

    Returns:
        An ``np.ndarray`` of dtype floatx, or a KerasTensor for a symbolic ``x``.
    """
    import numpy as np

    from .. import ir
    if ir.is_symbolic(x):
        return ir.call("cast", x, dtype=STATE.floatx)
    return np.asarray(x, dtype=STATE.floatx)
