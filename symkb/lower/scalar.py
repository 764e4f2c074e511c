"""Scalar code of each elementwise op, written once for every compiled target.

``RULES[op](d, node, args)`` returns the expression computing one element of
``node``'s result, where ``args`` are the operands' elements (already bound to
locals) and ``d`` is the target's :class:`~symkb.lower.dialect.ScalarDialect`
(literals, casts, math calls, selects, temporaries). The cpu and cuda
generators call the same rule; they differ only inside their dialect.

Every rule reproduces the interpreter's (numpy's) result, NaN, inf and -0.0
included, as tf's CPU kernels behave (``tests/goldens/nonfinite.*``):
``maximum``/``minimum``/``clip``/``relu`` pass NaN through and answer the
second operand on ties, ``sign(NaN)`` is NaN and ``sign(-0.0)`` is ``+0.0``;
relu and elu are composed as tf_keras composes them (see
:mod:`symkb.ir.ops.elementwise`). Operands are first converted to the
dtype numpy computes in (the result's, or the common one of a comparison),
so integer arithmetic wraps around in its dtype on every target.
"""
from __future__ import annotations

import numpy as np

from ..ir.ops.elementwise import NEGATIVE_INT_POWER
from ..ir.types import is_float, is_int, result_dtype
from .emitters import registrar

RULES: dict = {}
rule = registrar(RULES)  # @rule("add", ...) registers the scalar rule of those ops


def _in(node, i):
    return node.inputs[i].dtype


def _out(node):
    return node.out_types[0].dtype


def _args_as(d, node, args, dtype):
    return [d.cast(a, _in(node, i), dtype) for i, a in enumerate(args)]


_INFIX = {"add": "+", "bias_add": "+", "subtract": "-", "multiply": "*"}


@rule("add", "bias_add", "subtract", "multiply")
def _arith(d, node, args):
    a, b = _args_as(d, node, args, _out(node))
    if _out(node) == "bool":
        return d.arith("&" if node.op == "multiply" else "|", a, b)
    return d.wrap_int(d.arith(_INFIX[node.op], a, b), _out(node))


@rule("divide")
def _divide(d, node, args):
    a, b = _args_as(d, node, args, _out(node))
    return d.arith("/", a, b)


@rule("floordiv", "mod")
def _floordiv_mod(d, node, args):
    # float: floor(a / b) and the remainder with b's sign, NaN/inf as numpy
    a, b = _args_as(d, node, args, _out(node))
    if is_float(_out(node)):
        return d.math(node.op, [a, b], _out(node))
    return d.wrap_int(d.arith("//" if node.op == "floordiv" else "%", a, b), _out(node))


@rule("pow")
def _pow(d, node, args):
    a, b = _args_as(d, node, args, _out(node))
    if is_int(_out(node)) and not _out(node).startswith("u"):
        # as tf and the interpreter: a negative integer exponent is an error
        # (numba would give 0 or 1 silently)
        d.raise_if(d.compare("<", b, "0"), NEGATIVE_INT_POWER)
    return d.typed(d.arith("**", a, b), _out(node))


@rule("maximum", "minimum")
def _maxmin(d, node, args):
    a, b = _args_as(d, node, args, _out(node))
    if is_float(_out(node)):
        return (d.max_nan if node.op == "maximum" else d.min_nan)(a, b)
    return d.select(d.compare(">" if node.op == "maximum" else "<", a, b), a, b)


_CMP = {"equal": "==", "not_equal": "!=", "greater": ">", "greater_equal": ">=",
        "less": "<", "less_equal": "<="}


@rule(*_CMP)
def _compare(d, node, args):
    a, b = _args_as(d, node, args, result_dtype(_in(node, 0), _in(node, 1)))
    return d.compare(_CMP[node.op], a, b)


@rule("logical_and", "logical_or")
def _logical(d, node, args):
    a, b = _args_as(d, node, args, "bool")
    return d.arith("&" if node.op == "logical_and" else "|", a, b)


@rule("logical_not")
def _not(d, node, args):
    return d.not_(d.cast(args[0], _in(node, 0), "bool"))


@rule("where")
def _where(d, node, args):
    c = d.cast(args[0], _in(node, 0), "bool")
    a = d.cast(args[1], _in(node, 1), _out(node))
    b = d.cast(args[2], _in(node, 2), _out(node))
    return d.select(c, a, b)


@rule("identity", "stop_gradient")
def _identity(d, node, args):
    return args[0]


@rule("negative")
def _neg(d, node, args):
    return d.wrap_int(d.neg(args[0]), _out(node))


@rule("abs")
def _abs(d, node, args):
    return d.wrap_int(d.math("abs", args, _out(node)), _out(node))


@rule("square")
def _square(d, node, args):
    return d.wrap_int(d.arith("*", args[0], args[0]), _out(node))


@rule("sign")
def _sign(d, node, args):
    a, dt = args[0], _out(node)
    zero = d.lit(0, dt)
    # tf: sign(-0.0) is +0.0, sign(NaN) is NaN
    rest = d.select(d.compare("!=", a, a), a, zero) if is_float(dt) else zero
    return d.select(d.compare(">", a, zero), d.lit(1, dt),
                    d.select(d.compare("<", a, zero), d.lit(-1, dt), rest))


@rule("sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "erf")
def _math(d, node, args):
    return d.math(node.op, args, _out(node))


@rule("round", "floor", "ceil")
def _rounding(d, node, args):
    if not is_float(_out(node)):
        return args[0]
    return d.math("rint" if node.op == "round" else node.op, args, _out(node))


@rule("round_float16")
def _round_float16(d, node, args):
    return d.math("round_f16", args, _out(node))


@rule("sigmoid")
def _sigmoid(d, node, args):
    fast = d.fast("sigmoid", args, _out(node))
    if fast is not None:
        return fast
    one = d.lit(1, _out(node))
    return d.arith("/", one, d.arith("+", one, d.math("exp", [d.neg(args[0])], _out(node))))


@rule("hard_sigmoid")
def _hard_sigmoid(d, node, args):
    dt = _out(node)
    v = d.tmp(d.arith("+", d.arith("*", args[0], d.lit(0.2, dt)), d.lit(0.5, dt)))
    zero, one = d.lit(0, dt), d.lit(1, dt)
    return d.select(d.compare("<", v, zero), zero,
                    d.select(d.compare(">", v, one), one, v))


@rule("softplus")
def _softplus(d, node, args):
    # log(1 + exp(a)) without overflow; NaN (neither test holds) stays NaN
    a, dt = args[0], _out(node)
    zero = d.lit(0, dt)
    log1p_exp = lambda x: d.math("log1p", [d.math("exp", [x], dt)], dt)  # noqa: E731
    return d.select(d.compare(">", a, zero), d.arith("+", a, log1p_exp(d.neg(a))),
                    d.select(d.compare("<=", a, zero), log1p_exp(a), d.arith("+", a, a)))


@rule("softsign")
def _softsign(d, node, args):
    one = d.lit(1, _out(node))
    return d.arith("/", args[0], d.arith("+", one, d.math("abs", args, _out(node))))


@rule("relu")
def _relu(d, node, args):
    # composed as tf_keras composes it (see symkb.ir.ops.elementwise.relu)
    a, dt = args[0], _out(node)
    alpha, max_value = node.attrs.get("alpha", 0.0), node.attrs.get("max_value")
    threshold = node.attrs.get("threshold", 0.0)
    zero = d.lit(0, dt)
    if alpha and max_value is None and not threshold:
        return d.select(d.compare(">", a, zero), a, d.arith("*", a, d.lit(alpha, dt)))
    if not alpha and max_value is None and not threshold:
        return d.max_nan(a, zero)
    if threshold:
        y = d.arith("*", a, d.select(d.compare(">", a, d.lit(threshold, dt)), d.lit(1, dt), zero))
    else:
        y = d.max_nan(a, zero)
    if max_value is not None:
        y = d.max_nan(d.min_nan(d.tmp(y), d.lit(max_value, dt)), zero)
    if not alpha:
        return y
    y = d.tmp(y)
    neg = d.tmp(d.arith("+", d.neg(a), d.lit(threshold, dt)) if threshold else d.neg(a))
    return d.arith("-", y, d.arith("*", d.lit(alpha, dt), d.max_nan(neg, zero)))


@rule("elu")
def _elu(d, node, args):
    a, dt = args[0], _out(node)
    zero = d.lit(0, dt)
    res = d.select(d.compare("<", a, zero),
                   d.arith("-", d.math("exp", [a], dt), d.lit(1, dt)), a)
    alpha = node.attrs.get("alpha", 1.0)
    if alpha == 1.0:
        return res
    res = d.tmp(res)
    return d.select(d.compare(">", a, zero), res, d.arith("*", d.lit(alpha, dt), res))


@rule("selu")
def _selu(d, node, args):
    a, dt = args[0], _out(node)
    scale_alpha, scale = d.lit(1.7580993408473768, dt), d.lit(1.0507009873554805, dt)
    expm1 = d.arith("-", d.math("exp", [a], dt), d.lit(1, dt))
    return d.select(d.compare("<", a, d.lit(0, dt)), d.arith("*", scale_alpha, expm1),
                    d.arith("*", scale, a))


@rule("cast")
def _cast(d, node, args):
    return d.cast(args[0], _in(node, 0), _out(node))


@rule("clip")
def _clip(d, node, args):
    # tf.clip_by_value: the minimum with the upper bound first, then the maximum;
    # an integer tensor's bounds beyond its range (+-inf too) clamp nothing
    a, dt = args[0], _out(node)
    lo, hi = node.attrs["min_value"], node.attrs["max_value"]
    if is_int(dt):
        info = np.iinfo(dt)
        y = a if hi >= info.max else d.min_nan(a, d.lit(hi, dt))
        return y if lo <= info.min else d.max_nan(d.tmp(y), d.lit(lo, dt))
    return d.max_nan(d.tmp(d.min_nan(a, d.lit(hi, dt))), d.lit(lo, dt))


@rule("zeros_like", "ones_like")
def _fill(d, node, args):
    return d.lit(0 if node.op == "zeros_like" else 1, _out(node))
