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
    noop = "always" if name == "identity" else None  # simplify drops an identity node
    register(name, type_rule=_float_only(name) if floats else _same, kind="elementwise",
             noop_same_type=noop)(fn)


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


@register("stop_gradient", type_rule=_same, kind="elementwise", noop_same_type="always")
def stop_gradient(x):
    """``x`` unchanged. Reverse mode (``symkb/ir/gradients.py``) sends no
    gradient through it (``K.stop_gradient``); the compiler drops it as it
    drops ``identity``."""
    return np.array(x, copy=True)


def _bool_rule(types, **attrs):
    (t,) = types
    return TensorType(t.shape, "bool")


@register("logical_not", type_rule=_bool_rule, kind="elementwise")
def logical_not(x):
    """Elementwise not (operands are read as booleans)."""
    return np.logical_not(x)


def _max_nan(x, y):
    """tf's ``maximum``: NaN wins, and of two equal values (``0.0``, ``-0.0``) the second."""
    return np.where((x > y) | np.isnan(x), x, y)


def _min_nan(x, y):
    """tf's ``minimum``: NaN wins, and of two equal values the second."""
    return np.where((x < y) | np.isnan(x), x, y)


@register("relu", type_rule=_float_only("relu"), kind="elementwise")
def relu(x, *, alpha=0.0, max_value=None, threshold=0.0):
    """tf_keras's relu, composed as tf_keras composes it (so NaN, inf and -0.0
    come out as there): ``leaky_relu`` when only ``alpha`` is given; else
    ``x * (x > threshold)`` (or ``relu(x)``), clipped to ``[0, max_value]``,
    minus ``alpha * relu(threshold - x)``."""
    dt = x.dtype.type
    zero = dt(0)
    if alpha and max_value is None and not threshold:
        return np.where(x > zero, x, x * dt(alpha))
    if threshold:
        y = x * (x > dt(threshold)).astype(x.dtype)
    else:
        y = _max_nan(x, zero)
    if max_value is not None:
        y = _max_nan(_min_nan(y, dt(max_value)), zero)
    if alpha:
        negative = _max_nan(-x + dt(threshold) if threshold else -x, zero)
        y = y - dt(alpha) * negative
    return y


@register("elu", type_rule=_float_only("elu"), kind="elementwise")
def elu(x, *, alpha=1.0):
    """``exp(x) - 1`` below zero, ``x`` elsewhere (tf's kernel: ``-0.0`` stays
    ``-0.0``); another ``alpha`` scales the part at or below zero, as tf_keras."""
    dt = x.dtype.type
    res = np.where(x < 0, np.exp(x) - dt(1), x)
    if alpha == 1.0:
        return res
    return np.where(x > 0, res, dt(alpha) * res)


@register("selu", type_rule=_float_only("selu"), kind="elementwise")
def selu(x):
    """Scaled elu with the self-normalising constants (tf's kernel:
    ``scale * alpha * (exp(x) - 1)`` below zero, ``scale * x`` elsewhere)."""
    dt = x.dtype.type
    scale_alpha, scale = dt(1.7580993408473768), dt(1.0507009873554805)
    return np.where(x < 0, scale_alpha * (np.exp(x) - dt(1)), scale * x)


def _cast_rule(types, *, dtype):
    (t,) = types
    return TensorType(t.shape, canonical_dtype(dtype))


@register("cast", type_rule=_cast_rule, kind="elementwise", noop_same_type="always")
def cast(x, *, dtype):
    """Convert to ``dtype`` (float to int truncates toward zero)."""
    return x.astype(dtype)


@register("clip", type_rule=_same, kind="elementwise")
def clip(x, *, min_value, max_value):
    """Clamp into [min_value, max_value] as ``tf.clip_by_value``: the minimum
    with ``max_value`` first, then the maximum with ``min_value`` (NaN stays
    NaN; infinite bounds clamp nothing, ints too)."""
    dt = x.dtype.type
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        lo = info.min if min_value < info.min else min_value
        hi = info.max if max_value > info.max else max_value
        return np.maximum(np.minimum(x, dt(hi)), dt(lo))
    return _max_nan(_min_nan(x, dt(max_value)), dt(min_value))


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
# units for simplify: x + 0 == 0 + x == x, x * 1 == 1 * x == x (x - 0, x / 1 below)
_UNITS = {"add": {"right_identity": 0, "commutative": True},
          "subtract": {"right_identity": 0},
          "multiply": {"right_identity": 1, "commutative": True}}
for _name, _fn, _dtype in _BINARY:
    register(_name, type_rule=_broadcast(_name, _dtype), kind="elementwise",
             **_UNITS.get(_name, {}))(_fn)


def _divide_rule(types, **attrs):
    t = _broadcast("divide")(types)
    return t if is_float(t.dtype) else TensorType(t.shape, "float64")


@register("divide", type_rule=_divide_rule, kind="elementwise", right_identity=1)
def divide(x, y):
    """True division (integers divide to float64, as in TensorFlow)."""
    return np.true_divide(x, y)


NEGATIVE_INT_POWER = "pow: Integers to negative integer powers are not allowed"


@register("pow", type_rule=_broadcast("pow"), kind="elementwise")
def pow_(x, y):
    """x ** y elementwise. Integer operands with a negative exponent raise
    ``ValueError`` (as ``tf.math.pow``: "Integers to negative integer powers
    are not allowed"); every compiled target raises the same."""
    x, y = np.asarray(x), np.asarray(y)
    if y.dtype.kind == "i" and x.dtype.kind in "iu" and (y < 0).any():
        raise ValueError(NEGATIVE_INT_POWER)
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
