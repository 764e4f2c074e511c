"""Variables: creating them, reading and assigning their values.

A :class:`~symkb.ir.Variable` holds a numpy array; graphs read it through a
``param`` node when they run, so assignments are seen without recompiling.
"""
from __future__ import annotations

import numpy as np

from ..ir import KerasTensor, Variable
from ..ir.ops.state import build_assign
from .config import floatx
from .session import unique_object_name


def variable(value, dtype=None, name=None, constraint=None):
    """Instantiate a variable: a named, mutable value that graphs read at call time.

    Args:
        value: a numpy array or Python data (the initial value, copied).
        dtype: the dtype (default: :func:`floatx`, for integer data too, as in
            tf_keras; booleans stay bool).
        name: the name (default: ``Variable``, ``Variable_1``, ...).
        constraint: unused (kept for tf_keras compatibility).

    Returns:
        A :class:`Variable` (not a KerasTensor: ``K.is_keras_tensor`` gives False).
    """
    if isinstance(value, Variable):
        value = value.numpy()
    if isinstance(value, KerasTensor):
        raise TypeError(f"variable: expected a concrete value, received the symbolic tensor "
                        f"{value.name}")
    if dtype is None:
        arr = np.asarray(value)
        dtype = floatx() if arr.dtype.kind in "fiub" and arr.dtype.kind != "b" else arr.dtype
        if arr.dtype.kind == "b":
            dtype = "bool"
    return Variable(value, dtype, name or unique_object_name("Variable"))


def get_value(x):
    """Return the value of a variable.

    Args:
        x: a Variable (numpy arrays and numbers are returned as arrays).

    Returns:
        An ``np.ndarray`` (a copy for a Variable).

    Raises:
        TypeError: for a KerasTensor, which has no value until its graph runs.
    """
    if isinstance(x, KerasTensor):
        x._no_value("get_value of")
    if isinstance(x, Variable):
        return x.numpy()
    return np.asarray(x)


def eval(x):  # noqa: A001  (tf_keras.backend.eval)
    """Evaluate the value of a variable (or array).

    Args:
        x: a Variable or array.

    Returns:
        An ``np.ndarray``.

    Raises:
        TypeError: for a KerasTensor: compile its graph with ``K.function``.
    """
    if isinstance(x, KerasTensor):
        x._no_value("eval of")
    return get_value(x)


def set_value(x, value) -> None:
    """Set the value of a variable from a numpy array.

    Graphs that read the variable see the new value on their next call,
    without recompiling.

    Args:
        x: a Variable.
        value: a value of ``x``'s shape (cast to ``x``'s dtype).

    Raises:
        TypeError: if ``x`` is not a Variable.
        ValueError: if the shapes differ.
    """
    if not isinstance(x, Variable):
        raise TypeError(f"set_value: expected a Variable, received {type(x).__name__}")
    x.assign(value)


def batch_get_value(tensors) -> list:
    """Return the values of several variables.

    Args:
        tensors: a list of Variables.

    Returns:
        A list of ``np.ndarray``.
    """
    return [get_value(x) for x in tensors]


def batch_set_value(tuples) -> None:
    """Set the values of many variables at once.

    Args:
        tuples: a list of ``(variable, value)`` pairs.
    """
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    """Assign ``new_x`` to the variable ``x``.

    Args:
        x: a Variable.
        new_x: a value of ``x``'s shape: concrete (assigned at once) or a
            KerasTensor (recorded: the write happens when a
            ``K.function(..., updates=[...])`` holding it runs).

    Returns:
        The updated Variable, or for a symbolic ``new_x`` the ``assign``
        KerasTensor to pass in ``updates``.
    """
    if isinstance(new_x, KerasTensor):
        return build_assign(_variable_arg(x, "update"), new_x, "update")
    return _variable_arg(x, "update").assign(new_x)


def update_add(x, increment):
    """Add ``increment`` to the variable ``x`` in place.

    Args:
        x: a Variable.
        increment: a value broadcastable to ``x``'s shape (a KerasTensor
            records the update, as in :func:`update`).

    Returns:
        The updated Variable, or the ``assign`` KerasTensor.
    """
    if isinstance(increment, KerasTensor):
        x = _variable_arg(x, "update_add")
        return build_assign(x, _same_shape(x, x.tensor + increment, "update_add"), "update_add")
    return _variable_arg(x, "update_add").assign_add(increment)


def update_sub(x, decrement):
    """Subtract ``decrement`` from the variable ``x`` in place.

    Args:
        x: a Variable.
        decrement: a value broadcastable to ``x``'s shape (a KerasTensor
            records the update, as in :func:`update`).

    Returns:
        The updated Variable, or the ``assign`` KerasTensor.
    """
    if isinstance(decrement, KerasTensor):
        x = _variable_arg(x, "update_sub")
        return build_assign(x, _same_shape(x, x.tensor - decrement, "update_sub"), "update_sub")
    return _variable_arg(x, "update_sub").assign_sub(decrement)


def _variable_arg(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Variable (made with K.variable), received "
                        f"{type(x).__name__}")
    return x


def _same_shape(x, value, op):
    """``value`` (computed from ``x`` and an operand) must keep ``x``'s shape."""
    if tuple(value.shape) != tuple(x.shape):
        raise ValueError(f"{op}: the operand does not broadcast to Variable {x.name!r}'s "
                         f"shape {tuple(x.shape)}; the result has shape {tuple(value.shape)}")
    return value


def moving_average_update(x, value, momentum):
    """Compute the exponential moving average of a value, in place.

    ``x = x * momentum + value * (1 - momentum)``.

    Args:
        x: a Variable.
        value: a value of ``x``'s shape (a KerasTensor records the update, as
            in :func:`update`).
        momentum: the moving average momentum.

    Returns:
        The updated Variable, or the ``assign`` KerasTensor.
    """
    if isinstance(value, KerasTensor):
        x = _variable_arg(x, "moving_average_update")
        new = x.tensor * momentum + value * (1 - momentum)
        return build_assign(x, _same_shape(x, new, "moving_average_update"),
                            "moving_average_update")
    return x.assign(x.numpy() * momentum + np.asarray(value) * (1 - momentum))


def _full_variable(fill, shape, dtype, name):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return variable(np.full(shape, fill, dtype=dtype or floatx()), dtype or floatx(), name)


def zeros(shape, dtype=None, name=None):
    """Instantiate an all-zeros variable.

    Args:
        shape: a tuple of ints (or an int).
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    return _full_variable(0, shape, dtype, name)


def ones(shape, dtype=None, name=None):
    """Instantiate an all-ones variable.

    Args:
        shape: a tuple of ints (or an int).
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    return _full_variable(1, shape, dtype, name)


def eye(size, dtype=None, name=None):
    """Instantiate an identity-matrix variable.

    Args:
        size: ``n`` (square) or a pair ``(rows, columns)``.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        n, m = int(size), int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size):
        n, m = (int(s) for s in size)
    else:
        raise TypeError(f"eye: `size` must be an int or a pair of ints (rows, columns), "
                        f"received {size!r}")
    return variable(np.eye(n, m, dtype=dtype or floatx()), dtype or floatx(), name)
