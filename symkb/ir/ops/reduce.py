"""Reductions over axes (sum, mean, max, ...), arg-reductions and scans.

Attributes are canonical: ``axis`` is ``None`` (all axes) or a sorted tuple
of non-negative ints; the backend normalises negative and single axes before
recording a node, so equal reductions have equal attributes.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..types import TensorType


def _reduced_shape(shape, axis, keepdims):
    axes = range(len(shape)) if axis is None else axis
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _check_axes(name, t, axis):
    if axis is not None:
        for a in axis:
            if not 0 <= a < t.ndim:
                raise ShapeError(f"{name}: axis {a} is out of range for a tensor of shape {t.shape}")


def _reduce_rule(name, dtype_of):
    def rule(types, *, axis=None, keepdims=False):
        (t,) = types
        _check_axes(name, t, axis)
        return TensorType(_reduced_shape(t.shape, axis, keepdims), dtype_of(t.dtype))
    return rule


def _keep(dtype):
    return dtype


def _mean_dtype(dtype):
    return "float32" if dtype == "bool" else dtype


def _bool(dtype):
    return "bool"


def _ax(axis):
    return None if axis is None else tuple(axis)


def _accumulator(dtype):
    """float16 sums accumulate in float32 (as TensorFlow's reductions do)."""
    return np.float32 if dtype == np.float16 else dtype


@register("sum", type_rule=_reduce_rule("sum", _keep), kind="reduction")
def sum_(x, *, axis=None, keepdims=False):
    """Sum over ``axis`` (float16 accumulates in float32)."""
    return np.sum(x, axis=_ax(axis), keepdims=keepdims, dtype=_accumulator(x.dtype))


@register("prod", type_rule=_reduce_rule("prod", _keep), kind="reduction")
def prod(x, *, axis=None, keepdims=False):
    """Product over ``axis``."""
    return np.prod(x, axis=_ax(axis), keepdims=keepdims, dtype=x.dtype)


@register("mean", type_rule=_reduce_rule("mean", _mean_dtype), kind="reduction")
def mean(x, *, axis=None, keepdims=False):
    """Mean over ``axis`` (integers: the sum divided with truncation, as TensorFlow;
    float16 accumulates in float32)."""
    if x.dtype == bool:
        x = x.astype(np.float32)
    if x.dtype.kind in "iu":
        total = np.sum(x, axis=_ax(axis), keepdims=keepdims, dtype=np.int64)
        count = x.size // max(total.size, 1) if x.size else 1
        return np.trunc(total / count).astype(x.dtype)
    return np.mean(x, axis=_ax(axis), keepdims=keepdims, dtype=_accumulator(x.dtype))


# Whether the op looks for the largest value (else the smallest).
_UPWARD = {"max": True, "argmax": True, "min": False, "argmin": False}


def reduce_identity(op: str, dtype):
    """``max`` or ``min`` of no elements, as tf answers: -inf / +inf for
    floats, the dtype's lowest / highest value for integers."""
    dtype, up = np.dtype(dtype), _UPWARD[op]
    if dtype.kind == "f":
        return -np.inf if up else np.inf
    if dtype.kind == "b":
        return not up
    info = np.iinfo(dtype)
    return int(info.min if up else info.max)


@register("max", type_rule=_reduce_rule("max", _keep), kind="reduction")
def max_(x, *, axis=None, keepdims=False):
    """Maximum over ``axis`` (NaN wins, as in numpy; -inf over no elements, as in tf)."""
    empty = {"initial": reduce_identity("max", x.dtype)} if x.size == 0 else {}
    return np.max(x, axis=_ax(axis), keepdims=keepdims, **empty)


@register("min", type_rule=_reduce_rule("min", _keep), kind="reduction")
def min_(x, *, axis=None, keepdims=False):
    """Minimum over ``axis`` (+inf over no elements, as in tf)."""
    empty = {"initial": reduce_identity("min", x.dtype)} if x.size == 0 else {}
    return np.min(x, axis=_ax(axis), keepdims=keepdims, **empty)


@register("any", type_rule=_reduce_rule("any", _bool), kind="reduction")
def any_(x, *, axis=None, keepdims=False):
    """Logical or over ``axis``."""
    return np.any(x.astype(bool), axis=_ax(axis), keepdims=keepdims)


@register("all", type_rule=_reduce_rule("all", _bool), kind="reduction")
def all_(x, *, axis=None, keepdims=False):
    """Logical and over ``axis``."""
    return np.all(x.astype(bool), axis=_ax(axis), keepdims=keepdims)


def _arg_rule(name):
    def rule(types, *, axis):
        (t,) = types
        _check_axes(name, t, (axis,))
        return TensorType(_reduced_shape(t.shape, (axis,), False), "int64")
    return rule


def arg_bound(op: str, dtype):
    """The starting best value of tf's ``argmax`` / ``argmin`` scan: the dtype's
    lowest / highest finite value. Only values strictly beyond it can win."""
    dtype, up = np.dtype(dtype), _UPWARD[op]
    if dtype.kind == "f":
        info = np.finfo(dtype)
        return info.min if up else info.max
    if dtype.kind == "b":
        return not up
    info = np.iinfo(dtype)
    return info.min if up else info.max


def _arg_reduce(op, x, axis):
    """tf's CPU arg-reduction: a scan from (index 0, :func:`arg_bound`) that moves
    to a later element only when it is strictly better, so NaN never wins,
    ties go to the first index, and a row with no value beyond the bound (all
    NaN, or -inf for argmax) answers 0."""
    up = _UPWARD[op]
    if x.dtype.kind != "f":
        return (np.argmax if up else np.argmin)(x, axis=axis)
    bound = arg_bound(op, x.dtype)
    if up:
        return np.argmax(np.where(x > bound, x, -np.inf), axis=axis)
    return np.argmin(np.where(x < bound, x, np.inf), axis=axis)


def empty_axis_message(op: str, axis: int) -> str:
    """The error of ``argmax``/``argmin`` over an empty axis (tf's words); every
    target raises it as a ``ValueError``."""
    return f"{op}: Reduction axis {axis} is empty: there is no value to take the index of"


@register("argmax", type_rule=_arg_rule("argmax"), kind="reduction")
def argmax(x, *, axis):
    """Index of the largest value along ``axis``, as tf: the first one on ties,
    NaN skipped (``argmax([1, nan, 3]) == 2``), 0 when nothing is above the
    dtype's lowest value (a row of NaN or -inf). An empty ``axis`` raises
    ``ValueError``, as ``tf.math.argmax`` does."""
    x = np.asarray(x)
    if x.shape[axis] == 0:
        raise ValueError(empty_axis_message("argmax", axis))
    return _arg_reduce("argmax", x, axis)


@register("argmin", type_rule=_arg_rule("argmin"), kind="reduction")
def argmin(x, *, axis):
    """Index of the smallest value along ``axis``, as tf: the first one on ties,
    NaN skipped, 0 when nothing is below the dtype's highest value. An empty
    ``axis`` raises ``ValueError``, as ``tf.math.argmin`` does."""
    x = np.asarray(x)
    if x.shape[axis] == 0:
        raise ValueError(empty_axis_message("argmin", axis))
    return _arg_reduce("argmin", x, axis)


def _scan_rule(name):
    def rule(types, *, axis):
        (t,) = types
        _check_axes(name, t, (axis,))
        return t
    return rule


@register("cumsum", type_rule=_scan_rule("cumsum"), kind="other", rows="axis")
def cumsum(x, *, axis):
    """Running sum along ``axis``; as tf, the sum starts from +0.0, so it is never -0.0."""
    out = np.cumsum(x, axis=axis, dtype=x.dtype)
    return out + x.dtype.type(0) if x.dtype.kind == "f" else out


@register("cumprod", type_rule=_scan_rule("cumprod"), kind="other", rows="axis")
def cumprod(x, *, axis):
    """Running product along ``axis``."""
    return np.cumprod(x, axis=axis, dtype=x.dtype)
