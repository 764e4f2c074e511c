"""Matrix products: ``dot`` (tf_keras.backend.dot), ``matmul`` (``@``) and ``batch_dot``."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..registry import register
from ..types import TensorType, broadcast_shapes, result_dtype


def _match(name, a, b, what):
    if a is not None and b is not None and a != b:
        raise ShapeError(f"{name}: {what} do not match ({a} vs {b})")


def _dot_rule(types):
    x, y = types
    if x.ndim < 1 or y.ndim < 1:
        raise ShapeError(f"dot: expected tensors of rank >= 1, received shapes {x.shape} and {y.shape}")
    k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if x.shape[-1] is not None and k_y is not None and x.shape[-1] != k_y:
        raise ShapeError(
            f"dot: cannot contract x of shape {x.shape} with y of shape {y.shape}: the last "
            f"dimension of x ({x.shape[-1]}) must equal "
            f"{'the first' if y.ndim == 1 else 'the second-to-last'} dimension of y ({k_y})")
    if y.ndim == 1:
        shape = x.shape[:-1]
    else:
        shape = x.shape[:-1] + y.shape[:-2] + y.shape[-1:]
    return TensorType(shape, result_dtype(x.dtype, y.dtype))


@register("dot", type_rule=lambda types: _dot_rule(types), kind="linalg", rows="dot",
          step="dot")
def dot(x, y):
    """tf_keras.backend.dot: contracts the last axis of ``x`` with the
    second-to-last of ``y`` (its only axis when 1-D); result
    ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``."""
    if y.ndim <= 2:
        return np.dot(x, y)
    return np.tensordot(x, y, axes=([x.ndim - 1], [y.ndim - 2]))


def _matmul_rule(types):
    x, y = types
    if x.ndim < 2 or y.ndim < 2:
        if x.ndim >= 1 and y.ndim >= 1:
            if y.ndim <= 2:
                return _dot_rule(types)
            _match("matmul", x.shape[0], y.shape[-2], "inner dimensions")  # a vector x
            return TensorType(y.shape[:-2] + y.shape[-1:], result_dtype(x.dtype, y.dtype))
        raise ShapeError(f"matmul: expected tensors of rank >= 1, received {x.shape} and {y.shape}")
    _match("matmul", x.shape[-1], y.shape[-2], "inner dimensions")
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2], op="matmul")
    return TensorType(batch + (x.shape[-2], y.shape[-1]), result_dtype(x.dtype, y.dtype))


@register("matmul", type_rule=lambda types: _matmul_rule(types), kind="linalg")
def matmul(x, y):
    """``x @ y`` with numpy's batched-matmul semantics."""
    return np.matmul(x, y)


def _batch_dot_shape(xs, ys, axes):
    ax, ay = axes
    shape = (xs[0],) + tuple(d for i, d in enumerate(xs) if i not in (0, ax)) + \
        tuple(d for i, d in enumerate(ys) if i not in (0, ay))
    if len(shape) == 1:
        shape = shape + (1,)
    return shape


def _batch_dot_rule(types, *, axes):
    x, y = types
    if x.ndim < 2 or y.ndim < 2:
        raise ShapeError(f"batch_dot: expected tensors of rank >= 2, received shapes "
                         f"{x.shape} and {y.shape}")
    ax, ay = axes
    if not (0 < ax < x.ndim and 0 < ay < y.ndim):
        raise ShapeError(f"batch_dot: axes {axes} are out of range (or name the batch axis 0) "
                         f"for shapes {x.shape} and {y.shape}")
    _match("batch_dot", x.shape[0], y.shape[0], "batch sizes")
    _match("batch_dot", x.shape[ax], y.shape[ay], f"contracted dimensions (axes {axes})")
    batch = x.shape[0] if x.shape[0] is not None else y.shape[0]
    shape = _batch_dot_shape((batch,) + x.shape[1:], y.shape, axes)
    return TensorType(shape, result_dtype(x.dtype, y.dtype))


@register("batch_dot", type_rule=_batch_dot_rule, kind="linalg", rows="batch")
def batch_dot(x, y, *, axes):
    """For each batch entry ``b``: contract ``x[b]``'s axis ``axes[0]`` with
    ``y[b]``'s axis ``axes[1]``; a 1-D result becomes ``(batch, 1)``."""
    ax, ay = axes
    xm = np.moveaxis(x, ax, -1)
    ym = np.moveaxis(y, ay, 1)
    # sizes spelt out: a -1 cannot be solved for an empty batch
    xr = xm.reshape(xm.shape[0], math.prod(xm.shape[1:-1]), xm.shape[-1])
    yr = ym.reshape(ym.shape[0], ym.shape[1], math.prod(ym.shape[2:]))
    out = np.matmul(xr, yr)
    return out.reshape(_batch_dot_shape(x.shape, y.shape, axes))
