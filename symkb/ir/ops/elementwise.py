"""Elementwise ops: numpy broadcasting of the operands, one result per element.

Each op maps scalars to a scalar, so code generators may fuse chains of them
into one loop nest. Their references follow tf_keras.backend's definitions.
"""
from __future__ import annotations

import numpy as np

from ..errors import DTypeError
from ..registry import register
from ..types import TensorType, broadcast_shapes, canonical_dtype, is_float, result_dtype


def _same(types, **attrs):
    (t,) = types
    return t


def _float_only(name):
    def rule(types, **attrs):
        (t,) = types
        if not is_float(t.dtype):
            raise DTypeError(f"{name}: expected a floating-point tensor, received dtype "
                             f"{t.dtype} (cast it first with K.cast(x, 'float32'))")
        return t
    return rule


def _broadcast(name, out_dtype=None):
    def rule(types, **attrs):
        shape = broadcast_shapes(*(t.shape for t in types), op=name)
        dtype = out_dtype or result_dtype(*(t.dtype for t in types))
        return TensorType(shape, dtype)
    return rule


def _unary(name, fn, floats=False):
    register(name, type_rule=_float_only(name) if floats else _same, kind="elementwise")(fn)


def _sigmoid(x):
    """1 / (1 + exp(-x))."""
    return 1 / (1 + np.exp(-x))


def _hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1), tf_keras's piecewise-linear sigmoid."""
    one = x.dtype.type(1)
    return np.clip(x * x.dtype.type(0.2) + x.dtype.type(0.5), x.dtype.type(0), one)


def _softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    return np.logaddexp(x.dtype.type(0), x)


def _erf(x):
    """The error function, computed in float64 and rounded to ``x``'s dtype."""
    from scipy.special import erf
    return erf(x.astype(np.float64)).astype(x.dtype)


def _round(x):
    """Round to the nearest integer, halves to even (``numpy.round``)."""
    return np.round(x)


def _identity(x):
    """A copy of ``x``: a node of its own with the operand's value (tf.identity)."""
    return np.array(x, copy=True)


def _softsign(x):
    """x / (1 + |x|)."""
    return x / (1 + np.abs(x))


for _name, _fn, _floats in [
    ("negative", np.negative, False), ("abs", np.abs, False), ("square", np.square, False),
    ("sign", np.sign, False), ("sqrt", np.sqrt, True), ("exp", np.exp, True),
    ("log", np.log, True), ("log1p", np.log1p, True), ("expm1", np.expm1, True),
    ("round", _round, False), ("floor", np.floor, False), ("ceil", np.ceil, False),
    ("sin", np.sin, True), ("cos", np.cos, True), ("tanh", np.tanh, True),
    ("sigmoid", _sigmoid, True), ("hard_sigmoid", _hard_sigmoid, True),
    ("softplus", _softplus, True), ("softsign", _softsign, True),
    ("identity", _identity, False), ("erf", _erf, True),
]:
    _unary(_name, _fn, _floats)


def _bool_rule(types, **attrs):
    (t,) = types
    return TensorType(t.shape, "bool")


@register("logical_not", type_rule=_bool_rule, kind="elementwise")
def logical_not(x):
    """Elementwise not (operands are read as booleans)."""
    return np.logical_not(x)


@register("relu", type_rule=_float_only("relu"), kind="elementwise")
def relu(x, *, alpha=0.0, max_value=None, threshold=0.0):
    """tf_keras's relu: ``x`` above ``threshold`` (clipped at ``max_value``),
    ``alpha * (x - threshold)`` below it."""
    dt = x.dtype.type
    above = x > dt(threshold) if threshold else x > 0
    y = np.where(above | np.isnan(x), x, dt(0))
    if max_value is not None:
        y = np.minimum(y, dt(max_value))
    if alpha:
        y = y + np.where(above, dt(0), dt(alpha) * (x - dt(threshold)))
    return y


@register("elu", type_rule=_float_only("elu"), kind="elementwise")
def elu(x, *, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    dt = x.dtype.type
    return np.where(x > 0, x, dt(alpha) * np.expm1(np.minimum(x, dt(0))))


@register("selu", type_rule=_float_only("selu"), kind="elementwise")
def selu(x):
    """Scaled elu with the self-normalising constants."""
    dt = x.dtype.type
    alpha, scale = dt(1.6732632423543772), dt(1.0507009873554805)
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, dt(0))))


def _cast_rule(types, *, dtype):
    (t,) = types
    return TensorType(t.shape, canonical_dtype(dtype))


@register("cast", type_rule=_cast_rule, kind="elementwise")
def cast(x, *, dtype):
    """Convert to ``dtype`` (float to int truncates toward zero)."""
    return x.astype(dtype)


@register("clip", type_rule=_same, kind="elementwise")
def clip(x, *, min_value, max_value):
    """Clamp into [min_value, max_value] (infinite bounds clamp nothing, ints too)."""
    dt = x.dtype.type
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        lo = info.min if min_value < info.min else min_value
        hi = info.max if max_value > info.max else max_value
        return np.minimum(np.maximum(x, dt(lo)), dt(hi))
    return np.minimum(np.maximum(x, dt(min_value)), dt(max_value))


def _like_rule(types, *, dtype=None):
    (t,) = types
    return TensorType(t.shape, canonical_dtype(dtype) if dtype else t.dtype)


@register("zeros_like", type_rule=_like_rule, kind="elementwise")
def zeros_like(x, *, dtype=None):
    """Zeros of ``x``'s shape."""
    return np.zeros(x.shape, dtype=dtype or x.dtype)


@register("ones_like", type_rule=_like_rule, kind="elementwise")
def ones_like(x, *, dtype=None):
    """Ones of ``x``'s shape."""
    return np.ones(x.shape, dtype=dtype or x.dtype)


_BINARY = [
    ("add", np.add, None), ("subtract", np.subtract, None), ("multiply", np.multiply, None),
    ("floordiv", np.floor_divide, None), ("mod", np.mod, None),
    ("maximum", np.maximum, None), ("minimum", np.minimum, None),
    ("equal", np.equal, "bool"), ("not_equal", np.not_equal, "bool"),
    ("greater", np.greater, "bool"), ("greater_equal", np.greater_equal, "bool"),
    ("less", np.less, "bool"), ("less_equal", np.less_equal, "bool"),
    ("logical_and", np.logical_and, "bool"), ("logical_or", np.logical_or, "bool"),
]
for _name, _fn, _dtype in _BINARY:
    register(_name, type_rule=_broadcast(_name, _dtype), kind="elementwise")(_fn)


def _divide_rule(types, **attrs):
    t = _broadcast("divide")(types)
    return t if is_float(t.dtype) else TensorType(t.shape, "float64")


@register("divide", type_rule=_divide_rule, kind="elementwise")
def divide(x, y):
    """True division (integers divide to float64, as in TensorFlow)."""
    return np.true_divide(x, y)


@register("pow", type_rule=_broadcast("pow"), kind="elementwise")
def pow_(x, y):
    """x ** y elementwise."""
    return np.power(x, y)


def _where_rule(types, **attrs):
    c, a, b = types
    shape = broadcast_shapes(c.shape, a.shape, b.shape, op="switch")
    return TensorType(shape, result_dtype(a.dtype, b.dtype))


@register("where", type_rule=_where_rule, kind="elementwise")
def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``."""
    return np.where(condition.astype(bool), x, y)


def _round_float16_rule(types, **attrs):
    (t,) = types
    if t.dtype != "float32":
        raise DTypeError(f"round_float16: expected a float32 tensor, received dtype {t.dtype}")
    return t


@register("round_float16", type_rule=_round_float16_rule, kind="elementwise")
def round_float16(x):
    """``x`` rounded to the nearest float16 value (ties to even; beyond the
    float16 range, +-inf), kept in float32. Targets without float16 arithmetic
    compute a float16 graph in float32 with this op after every result."""
    return x.astype(np.float16).astype(np.float32)
