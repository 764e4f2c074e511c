"""Neural-network ops that are not plain elementwise maps."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..types import TensorType, broadcast_shapes, is_float, result_dtype


def _softmax_rule(types, *, axis):
    (t,) = types
    if not 0 <= axis < t.ndim:
        raise ShapeError(f"softmax: axis {axis} out of range for shape {t.shape}")
    if not is_float(t.dtype):
        raise ShapeError(f"softmax: expected a floating-point tensor, received {t.dtype}")
    return t


@register("softmax", type_rule=_softmax_rule, kind="reduction")
def softmax(x, *, axis):
    """exp(x - max) / sum(exp(x - max)) along ``axis`` (an empty axis gives an
    empty result, as in tf)."""
    x = np.asarray(x)
    if x.size == 0:
        return np.empty_like(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _bias_add_rule(types):
    x, b = types
    if b.ndim != 1:
        raise ShapeError(f"bias_add: expected a 1-D bias, received shape {b.shape}")
    if x.ndim < 1:
        raise ShapeError("bias_add: expected an input of rank >= 1")
    if x.shape[-1] is not None and b.shape[0] is not None and x.shape[-1] != b.shape[0]:
        raise ShapeError(f"bias_add: bias of shape {b.shape} does not match the last dimension "
                         f"of x ({x.shape}); expected a bias of shape ({x.shape[-1]},)")
    return TensorType(broadcast_shapes(x.shape, b.shape, op="bias_add"),
                      result_dtype(x.dtype, b.dtype))


@register("bias_add", type_rule=lambda types: _bias_add_rule(types), kind="elementwise")
def bias_add(x, bias):
    """x + bias along the last axis."""
    return x + bias


@register("dropout", type_rule=lambda types, **attrs: types[0], kind="random", random=True)
def dropout(x, *, rate, seed=None, noise_shape=None):
    """Zero each element with probability ``rate`` and scale the rest by 1/(1-rate)."""
    rng = np.random.default_rng(seed)
    shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = rng.random(shape) >= rate
    return np.where(keep, x / x.dtype.type(1 - rate), x.dtype.type(0))
