"""Scalar code for elementwise ops: the cuda target's table ``op -> emitter``.

An emitter receives the operand expressions (already-named scalar locals),
the node's attributes and dtypes, and returns one expression; the kernel
generator binds it to a typed local (``v3 = np.float32(...)``) so every
intermediate keeps its IR dtype on the device as in numpy (Numba would
otherwise promote float32 arithmetic with literals to float64). Helpers that
need statements (NaN-propagating max, round-half-even, ...) live in
:data:`PRELUDE` as device functions.

NaN, inf and -0.0 behave as in tf's CPU kernels (``tests/goldens/nonfinite.*``):
``maximum``/``minimum``/``clip``/``relu`` pass NaN through and answer the
second operand on ties (``maximum(0.0, -0.0)`` is ``-0.0``), ``sign(NaN)``
is NaN and ``sign(-0.0)`` is ``+0.0``; relu and elu are composed as
tf_keras composes them (see :mod:`symkb.ir.ops.elementwise`).
"""
from __future__ import annotations

from ...ir.types import is_float

PRELUDE = '''\
@cuda.jit(device=True)
def _maxnan(a, b):
    return a if a > b or a != a else b


@cuda.jit(device=True)
def _minnan(a, b):
    return a if a < b or a != a else b


@cuda.jit(device=True)
def _sign(a):
    if a > 0:
        return 1
    if a < 0:
        return -1
    return a * 0 + 0  # NaN stays NaN, -0.0 becomes +0.0 (tf)


@cuda.jit(device=True)
def _floor(a):
    # a float result for every float (math.floor gives an int), NaN and inf kept
    if a != a or abs(a) >= 4503599627370496.0:
        return a
    r = a - math.fmod(a, 1.0)
    if r > a:
        r -= 1.0
    return r


@cuda.jit(device=True)
def _ceil(a):
    return -_floor(-a)


@cuda.jit(device=True)
def _round_half_even(a):
    r = _floor(a + 0.5)
    if r - a == 0.5 and math.fmod(r, 2.0) != 0.0:
        r -= 1.0
    return math.copysign(r, a)  # round(-0.4) is -0.0, as in tf and numpy


@cuda.jit(device=True)
def _fmod_floor(a, b):
    r = math.fmod(a, b)
    if r != 0 and ((r < 0) != (b < 0)):
        r += b
    return r


@cuda.jit(device=True)
def _arg_better(v, i, best, bi, sign):
    # does (v, i) replace (best, bi)? sign 1: argmax, -1: argmin. NaN never
    # gets here (the first pass skips it, as tf's scan does); ties: first index
    if i < 0:
        return False
    if bi < 0:
        return True
    if v == best:
        return i < bi
    if sign > 0:
        return v > best
    return v < best


@cuda.jit(device=True)
def _softplus(a):
    return (a if a > 0.0 else 0.0) + math.log1p(math.exp(-abs(a)))
'''


def ctor(dtype: str) -> str:
    """The constructor that types a scalar as ``dtype`` inside a kernel."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def lit(value, dtype: str) -> str:
    """A typed literal."""
    if dtype == "bool":
        return "True" if value else "False"
    if is_float(dtype):
        v = float(value)
        if v != v:
            return f"{ctor(dtype)}(np.nan)"
        if v in (float("inf"), float("-inf")):
            return f"{ctor(dtype)}({'' if v > 0 else '-'}np.inf)"
        return f"{ctor(dtype)}({v!r})"
    return f"{ctor(dtype)}({int(value)})"


def _truthy(expr, dtype):
    return expr if dtype == "bool" else f"({expr} != 0)"


def _unary_math(fn):
    return lambda a, attrs, ins, out: f"math.{fn}({a[0]})"


def _relu(a, attrs, ins, out):
    # composed as tf_keras composes it (see symkb.ir.ops.elementwise.relu)
    x = a[0]
    alpha = attrs.get("alpha", 0.0) or 0.0
    max_value = attrs.get("max_value")
    threshold = attrs.get("threshold", 0.0) or 0.0
    zero = lit(0, out)
    if alpha and max_value is None and not threshold:
        return f"({x} if {x} > {zero} else {x} * {lit(alpha, out)})"
    if threshold:
        y = f"({x} * ({lit(1, out)} if {x} > {lit(threshold, out)} else {zero}))"
    else:
        y = f"_maxnan({x}, {zero})"
    if max_value is not None:
        y = f"_maxnan(_minnan({y}, {lit(max_value, out)}), {zero})"
    if alpha:
        neg = f"(-{x} + {lit(threshold, out)})" if threshold else f"(-{x})"
        y = f"({y} - {lit(alpha, out)} * _maxnan({ctor(out)}({neg}), {zero}))"
    return y


def _elu(a, attrs, ins, out):
    x = a[0]
    res = f"({ctor(out)}(math.exp({x}) - {lit(1, out)}) if {x} < 0 else {x})"
    alpha = attrs.get("alpha", 1.0)
    if alpha == 1.0:
        return res
    return f"({res} if {x} > 0 else {lit(alpha, out)} * {res})"


def _selu(a, attrs, ins, out):
    x = a[0]
    scale_alpha, scale = lit(1.7580993408473768, out), lit(1.0507009873554805, out)
    return (f"({scale_alpha} * {ctor(out)}(math.exp({x}) - {lit(1, out)}) if {x} < 0 "
            f"else {scale} * {x})")


def _cast(a, attrs, ins, out):
    x, src = a[0], ins[0]
    if out == "bool":
        return _truthy(x, src)
    if src == "bool":
        return f"({lit(1, out)} if {x} else {lit(0, out)})"
    return f"{ctor(out)}({x})"


def _floordiv(a, attrs, ins, out):
    if is_float(out):
        return f"_floor({a[0]} / {a[1]})"
    return f"({a[0]} // {a[1]})"


def _mod(a, attrs, ins, out):
    if is_float(out):
        return f"_fmod_floor({a[0]}, {a[1]})"
    return f"({a[0]} % {a[1]})"


def _divide(a, attrs, ins, out):
    return f"({ctor(out)}({a[0]}) / {ctor(out)}({a[1]}))"


def _clip(a, attrs, ins, out):
    # tf.clip_by_value: the minimum with the upper bound first, then the maximum
    return (f"_maxnan(_minnan({a[0]}, {lit(attrs['max_value'], out)}), "
            f"{lit(attrs['min_value'], out)})")


def _hard_sigmoid(a, attrs, ins, out):
    return (f"_maxnan(_minnan({a[0]} * {lit(0.2, out)} + {lit(0.5, out)}, {lit(1, out)}), "
            f"{lit(0, out)})")


def _binary(fmt):
    return lambda a, attrs, ins, out: fmt.format(*a)


def _logical(op):
    return lambda a, attrs, ins, out: f"({_truthy(a[0], ins[0])} {op} {_truthy(a[1], ins[1])})"


EMITTERS = {
    "identity": _binary("{0}"),
    "negative": _binary("(-{0})"),
    "abs": _binary("abs({0})"),
    "square": _binary("({0} * {0})"),
    "sign": _binary("_sign({0})"),
    "sqrt": _unary_math("sqrt"),
    "exp": _unary_math("exp"),
    "erf": _unary_math("erf"),
    "log": _unary_math("log"),
    "log1p": _unary_math("log1p"),
    "expm1": _unary_math("expm1"),
    "round": lambda a, attrs, ins, out: (f"_round_half_even({a[0]})" if is_float(out) else a[0]),
    "floor": lambda a, attrs, ins, out: (f"_floor({a[0]})" if is_float(out) else a[0]),
    "ceil": lambda a, attrs, ins, out: (f"_ceil({a[0]})" if is_float(out) else a[0]),
    "sin": _unary_math("sin"),
    "cos": _unary_math("cos"),
    "tanh": _unary_math("tanh"),
    "sigmoid": lambda a, attrs, ins, out: f"({lit(1, out)} / ({lit(1, out)} + math.exp(-{a[0]})))",
    "hard_sigmoid": _hard_sigmoid,
    "softplus": _binary("_softplus({0})"),
    "softsign": lambda a, attrs, ins, out: f"({a[0]} / ({lit(1, out)} + abs({a[0]})))",
    "logical_not": lambda a, attrs, ins, out: f"(not {_truthy(a[0], ins[0])})",
    "relu": _relu,
    "elu": _elu,
    "selu": _selu,
    "cast": _cast,
    "clip": _clip,
    "zeros_like": lambda a, attrs, ins, out: lit(0, out),
    "ones_like": lambda a, attrs, ins, out: lit(1, out),
    "add": _binary("({0} + {1})"),
    "bias_add": _binary("({0} + {1})"),
    "subtract": _binary("({0} - {1})"),
    "multiply": _binary("({0} * {1})"),
    "floordiv": _floordiv,
    "mod": _mod,
    "maximum": _binary("_maxnan({0}, {1})"),
    "minimum": _binary("_minnan({0}, {1})"),
    "equal": _binary("({0} == {1})"),
    "not_equal": _binary("({0} != {1})"),
    "greater": _binary("({0} > {1})"),
    "greater_equal": _binary("({0} >= {1})"),
    "less": _binary("({0} < {1})"),
    "less_equal": _binary("({0} <= {1})"),
    "logical_and": _logical("and"),
    "logical_or": _logical("or"),
    "divide": _divide,
    "pow": _binary("({0} ** {1})"),
    "where": lambda a, attrs, ins, out: f"({a[1]} if {_truthy(a[0], ins[0])} else {a[2]})",
}


def emit(op: str, args, attrs, in_dtypes, out_dtype) -> str:
    """The typed scalar expression for one elementwise node."""
    expr = EMITTERS[op](list(args), attrs, list(in_dtypes), out_dtype)
    return expr if out_dtype == "bool" else f"{ctor(out_dtype)}({expr})"


def supported(op: str) -> bool:
    return op in EMITTERS

