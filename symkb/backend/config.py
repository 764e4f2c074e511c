"""Configuration: default float type, fuzz factor, image data format.

The values live in :data:`symkb.backend.session.STATE`; these functions read
and validate them with tf_keras's semantics.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from .session import STATE

_FLOATX = ("float16", "float32", "float64")
_FORMATS = ("channels_first", "channels_last")


def backend() -> str:
    """The name of the backend: ``"symkb"`` (tf_keras answers ``"tensorflow"``;
    the function exists for code written for multi-backend Keras).

    Returns:
        The string ``"symkb"``.
    """
    return "symkb"


def floatx() -> str:
    """Return the default float type, as a string.

    Returns:
        ``'float16'``, ``'float32'`` (the default) or ``'float64'``.

    Example:
        >>> floatx()
        'float32'
    """
    return STATE.floatx


def set_floatx(value) -> None:
    """Set the default float type.

    Args:
        value: ``'float16'``, ``'float32'`` or ``'float64'`` (a numpy type such
            as ``np.float64`` is read by its name).

    Raises:
        ValueError: for any other value; the message lists the allowed ones.

    Example:
        >>> set_floatx('float64')
        >>> floatx()
        'float64'
        >>> set_floatx('float32')
    """
    if not isinstance(value, str) and hasattr(value, "__name__"):
        value = value.__name__
    value = str(value)
    if value not in _FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of "
                         "{'float16', 'float32', 'float64'}")
    STATE.floatx = value


def epsilon() -> float:
    """Return the value of the fuzz factor used in numeric expressions.

    Returns:
        A float (``1e-07`` by default).

    Example:
        >>> epsilon()
        1e-07
    """
    return STATE.epsilon


def set_epsilon(value) -> None:
    """Set the value of the fuzz factor used in numeric expressions.

    Args:
        value: a float.

    Example:
        >>> set_epsilon(1e-5)
        >>> epsilon()
        1e-05
        >>> set_epsilon(1e-7)
    """
    STATE.epsilon = float(value)


def image_data_format() -> str:
    """Return the default image data format convention.

    Returns:
        ``'channels_last'`` (the default) or ``'channels_first'``.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return STATE.image_data_format


def set_image_data_format(data_format) -> None:
    """Set the value of the image data format convention.

    Args:
        data_format: ``'channels_first'`` or ``'channels_last'``.

    Raises:
        ValueError: for any other value.

    Example:
        >>> set_image_data_format('channels_first')
        >>> image_data_format()
        'channels_first'
        >>> set_image_data_format('channels_last')
    """
    if data_format not in _FORMATS:
        raise ValueError(f"Unknown `data_format`: {data_format}. Expected one of "
                         "{'channels_first', 'channels_last'}")
    STATE.image_data_format = str(data_format)


def normalize_data_format(value) -> str:
    """Validate a ``data_format`` argument, defaulting to :func:`image_data_format`.

    Args:
        value: ``None``, ``'channels_first'`` or ``'channels_last'`` (any case).

    Returns:
        The canonical data format string.

    Raises:
        ValueError: for an unknown data format.
    """
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
    if ir.is_symbolic(x):
        return ir.call("cast", x, dtype=STATE.floatx)
    return np.asarray(x, dtype=STATE.floatx)
