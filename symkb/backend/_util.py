"""Small helpers shared by the backend's op modules."""
from __future__ import annotations

import numpy as np

from ..ir import KerasTensor, Variable
from ..ir.types import normalize_axes, normalize_axis


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
        from .config import floatx
        return floatx()
    return np.asarray(x).dtype.name


def axes(x, axis, op):
    """Canonical reduction axes of ``x`` for ``axis`` (None, int or sequence)."""
    return normalize_axes(axis, ndim_of(x), op)


def axis1(x, axis, op, extra: int = 0):
    """One canonical axis of ``x`` (``extra=1`` for ops that add an axis)."""
    return normalize_axis(axis, ndim_of(x) + extra, op)
