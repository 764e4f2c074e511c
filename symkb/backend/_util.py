"""Small helpers shared by the backend's op modules."""
from __future__ import annotations

import functools

import numpy as np

from ..ir import KerasTensor, Variable, as_tensor
from ..ir.types import normalize_axes, normalize_axis
from .config import floatx


def ndim_of(x) -> int:
    if isinstance(x, (KerasTensor, Variable)):
        return x.ndim
    return np.ndim(x)


def shape_of(x) -> tuple:
    if isinstance(x, (KerasTensor, Variable)):
        return tuple(x.shape)
    return np.shape(x)


def dtype_of(x) -> str:
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int32"
    if isinstance(x, float):
        return floatx()
    return np.asarray(x).dtype.name


def axes(x, axis, op):
    """Canonical reduction axes of ``x`` for ``axis`` (None, int or sequence)."""
    return normalize_axes(axis, ndim_of(x), op)


def axis1(x, axis, op, extra: int = 0):
    """One canonical axis of ``x`` (``extra=1`` for ops that add an axis)."""
    return normalize_axis(axis, ndim_of(x) + extra, op)


def _has_tensor(value) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(_has_tensor(v) for v in value.values())
    return False


def _lift(value):
    if isinstance(value, Variable):
        # as a graph reads it: its param tensor, cast where a mixed-precision
        # layer reads its weights in the compute dtype (``autocast_variables``)
        return as_tensor(value)
    if isinstance(value, list):
        return [_lift(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_lift(v) for v in value)
    if isinstance(value, dict):
        return {k: _lift(v) for k, v in value.items()}
    return value


def reads_variables(fn):
    """Make a backend function that composes several ops read Variables at call time.

    An op whose operands are only Variables and numbers runs eagerly (numpy),
    so a composite function that first combines its Variable arguments (say
    ``sqrt(var + epsilon)``) would fold their values into a constant when the
    graph is built, and a later ``set_value`` would not reach it. When any
    argument is a KerasTensor, the wrapper hands the function each Variable's
    graph tensor instead (its ``param``, cast where layers autocast) (nested lists and tuples included), so every
    intermediate is a graph node. Eager calls are unchanged.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _has_tensor(args) or _has_tensor(kwargs):
            args = tuple(_lift(a) for a in args)
            kwargs = {k: _lift(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)
    return wrapper
