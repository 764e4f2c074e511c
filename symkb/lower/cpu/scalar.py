"""Scalar code of each elementwise op, for the CPU target's fused loops.

``SCALAR[op](s, node, args)`` returns a Python expression computing one
element, where ``args`` are the names of the operands' elements (already
bound) and ``s`` is a :class:`Scalars` helper: ``s.tmp(expr)`` binds a
temporary and returns its name, ``s.lit(value, dtype)`` writes a typed
literal (``np.float32(0.5)``: a bare ``0.5`` would promote float32 code to
float64), ``s.conv(arg, from, to)`` converts between dtypes. Every
expression reproduces numpy's result, NaN and Inf included.
"""
from __future__ import annotations

import math

from ...ir.ops.elementwise import NEGATIVE_INT_POWER
from ...ir.types import is_float, is_int, result_dtype
from ..errors import Unsupported

NP_TYPES = {
    "float32": "np.float32", "float64": "np.float64",
    "int8": "np.int8", "int16": "np.int16", "int32": "np.int32", "int64": "np.int64",
    "uint8": "np.uint8", "uint16": "np.uint16", "uint32": "np.uint32", "uint64": "np.uint64",
    "bool": "np.bool_",
}


def np_type(dtype: str) -> str:
    """The numpy scalar type of ``dtype`` as source text."""
    try:
        return NP_TYPES[dtype]
    except KeyError:
        raise Unsupported(f"dtype {dtype} is not supported by the cpu target") from None


def lit(value, dtype: str) -> str:
    """A typed literal of ``value`` in ``dtype``."""
    if dtype == "bool":
        return "True" if bool(value) else "False"
    if is_float(dtype):
        v = float(value)
        text = "np.nan" if math.isnan(v) else ("np.inf" if v == math.inf else
                                              "-np.inf" if v == -math.inf else repr(v))
        return f"{np_type(dtype)}({text})"
    return f"{np_type(dtype)}({int(value)})"


class Scalars:
    """Helpers handed to scalar emitters (see the module docstring)."""

    def __init__(self, writer, new_name):
        self.w = writer
        self._new_name = new_name

    def tmp(self, expr: str) -> str:
        name = self._new_name("t")
        self.w.line(f"{name} = {expr}")
        return name

    lit = staticmethod(lit)

    @staticmethod
    def conv(arg: str, src: str, dst: str) -> str:
        if src == dst:
            return arg
        if dst == "bool":
            return f"({arg} != 0)"
        return f"{np_type(dst)}({arg})"


SCALAR: dict = {}


def scalar(*names):
    def deco(fn):
        for n in names:
            SCALAR[n] = fn
        return fn
    return deco


def _in(node, i):
    return node.inputs[i].dtype


def _out(node):
    return node.out_types[0].dtype


def _args_as(s, node, args, dtype):
    return [s.conv(a, _in(node, i), dtype) for i, a in enumerate(args)]


_INFIX = {"add": "+", "bias_add": "+", "subtract": "-", "multiply": "*"}


@scalar("add", "bias_add", "subtract", "multiply")
def _arith(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    if _out(node) == "bool":
        return f"({a} | {b})" if node.op != "multiply" else f"({a} & {b})"
    return _wrap_int(f"{a} {_INFIX[node.op]} {b}", _out(node))


def _wrap_int(expr, dtype):
    # numba computes small ints in int64; numpy wraps around in the dtype.
    return f"{np_type(dtype)}({expr})" if is_int(dtype) else expr


@scalar("divide")
def _divide(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    return f"{a} / {b}"


@scalar("floordiv")
def _floordiv(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    if is_float(_out(node)):
        return f"{np_type(_out(node))}(floordiv_float({a}, {b}))"
    return _wrap_int(f"{a} // {b}", _out(node))


@scalar("mod")
def _mod(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    if is_float(_out(node)):
        return f"{np_type(_out(node))}(mod_float({a}, {b}))"
    return _wrap_int(f"{a} % {b}", _out(node))


@scalar("pow")
def _pow(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    if is_int(_out(node)) and not _out(node).startswith("u"):
        # as tf and the interpreter: a negative integer exponent is an error
        # (numba would give 0 or 1 silently)
        with s.w.block(f"if {b} < 0:"):
            s.w.line(f"raise ValueError({NEGATIVE_INT_POWER!r})")
    return f"{np_type(_out(node))}({a} ** {b})"


@scalar("maximum", "minimum")
def _maxmin(s, node, args):
    a, b = _args_as(s, node, args, _out(node))
    cmp = ">" if node.op == "maximum" else "<"
    if is_float(_out(node)):
        return f"{a} if ({a} {cmp} {b} or {a} != {a}) else {b}"
    return f"{a} if {a} {cmp} {b} else {b}"


_CMP = {"equal": "==", "not_equal": "!=", "greater": ">", "greater_equal": ">=",
        "less": "<", "less_equal": "<="}


@scalar(*_CMP)
def _compare(s, node, args):
    common = result_dtype(_in(node, 0), _in(node, 1))
    a, b = _args_as(s, node, args, common)
    return f"{a} {_CMP[node.op]} {b}"


@scalar("logical_and", "logical_or")
def _logical(s, node, args):
    a, b = _args_as(s, node, args, "bool")
    return f"{a} {'&' if node.op == 'logical_and' else '|'} {b}"


@scalar("logical_not")
def _not(s, node, args):
    return f"not {s.conv(args[0], _in(node, 0), 'bool')}"


@scalar("where")
def _where(s, node, args):
    c = s.conv(args[0], _in(node, 0), "bool")
    a = s.conv(args[1], _in(node, 1), _out(node))
    b = s.conv(args[2], _in(node, 2), _out(node))
    return f"{a} if {c} else {b}"


@scalar("identity")
def _identity(s, node, args):
    return args[0]


@scalar("negative")
def _neg(s, node, args):
    return _wrap_int(f"-{args[0]}", _out(node))


@scalar("abs")
def _abs(s, node, args):
    return _wrap_int(f"abs({args[0]})", _out(node))


@scalar("square")
def _square(s, node, args):
    return _wrap_int(f"{args[0]} * {args[0]}", _out(node))


@scalar("sign")
def _sign(s, node, args):
    a, dt = args[0], _out(node)
    zero = lit(0, dt)
    # tf: sign(-0.0) is +0.0, sign(NaN) is NaN
    rest = f"({a} if {a} != {a} else {zero})" if is_float(dt) else zero
    return f"{lit(1, dt)} if {a} > {zero} else ({lit(-1, dt)} if {a} < {zero} else {rest})"


_LIBM = {"sqrt": "np.sqrt", "exp": "np.exp", "log": "np.log", "log1p": "np.log1p",
         "expm1": "np.expm1", "sin": "np.sin", "cos": "np.cos"}


@scalar(*_LIBM)
def _libm(s, node, args):
    return f"{_LIBM[node.op]}({args[0]})"


@scalar("round", "floor", "ceil")
def _rounding(s, node, args):
    if not is_float(_out(node)):
        return args[0]
    fn = {"round": "np.rint", "floor": "np.floor", "ceil": "np.ceil"}[node.op]
    return f"{fn}({args[0]})"


@scalar("round_float16")
def _round_float16(s, node, args):
    return f"round_f16({args[0]})"


@scalar("erf")
def _erf(s, node, args):
    return f"erf_f32({args[0]})" if _out(node) == "float32" else f"erf_f64({args[0]})"


@scalar("tanh")
def _tanh(s, node, args):
    return f"tanh_f32({args[0]})" if _out(node) == "float32" else f"np.tanh({args[0]})"


@scalar("sigmoid")
def _sigmoid(s, node, args):
    if _out(node) == "float32":
        return f"sigmoid_f32({args[0]})"
    one = lit(1, _out(node))
    return f"{one} / ({one} + np.exp(-{args[0]}))"


@scalar("hard_sigmoid")
def _hard_sigmoid(s, node, args):
    dt = _out(node)
    v = s.tmp(f"{args[0]} * {lit(0.2, dt)} + {lit(0.5, dt)}")
    return f"{lit(0, dt)} if {v} < {lit(0, dt)} else ({lit(1, dt)} if {v} > {lit(1, dt)} else {v})"


@scalar("softplus")
def _softplus(s, node, args):
    a, dt = args[0], _out(node)
    zero = lit(0, dt)
    return (f"({a} + np.log1p(np.exp(-{a}))) if {a} > {zero} else "
            f"(np.log1p(np.exp({a})) if {a} <= {zero} else {a} + {a})")


@scalar("softsign")
def _softsign(s, node, args):
    return f"{args[0]} / ({lit(1, _out(node))} + abs({args[0]}))"


def _max_nan(a, b):
    """tf's maximum: NaN wins; of equal values (0.0, -0.0) the second."""
    return f"({a} if ({a} > {b} or {a} != {a}) else {b})"


def _min_nan(a, b):
    """tf's minimum: NaN wins; of equal values the second."""
    return f"({a} if ({a} < {b} or {a} != {a}) else {b})"


@scalar("relu")
def _relu(s, node, args):
    # composed as tf_keras composes it (see symkb.ir.ops.elementwise.relu)
    a, dt = args[0], _out(node)
    alpha, max_value = node.attrs.get("alpha", 0.0), node.attrs.get("max_value")
    threshold = node.attrs.get("threshold", 0.0)
    zero = lit(0, dt)
    if alpha and max_value is None and not threshold:
        return f"{a} if {a} > {zero} else {a} * {lit(alpha, dt)}"
    if not alpha and max_value is None and not threshold:
        return f"{a} if ({a} > {zero} or {a} != {a}) else {zero}"
    if threshold:
        th = lit(threshold, dt)
        y = f"{a} * ({lit(1, dt)} if {a} > {th} else {zero})"
    else:
        y = _max_nan(a, zero)
    if max_value is not None:
        y = _max_nan(_min_nan(s.tmp(y), lit(max_value, dt)), zero)
    if not alpha:
        return y
    y = s.tmp(y)
    neg = s.tmp(f"-{a} + {lit(threshold, dt)}" if threshold else f"-{a}")
    return f"{y} - {lit(alpha, dt)} * {_max_nan(neg, zero)}"


@scalar("elu")
def _elu(s, node, args):
    a, dt = args[0], _out(node)
    res = f"(np.exp({a}) - {lit(1, dt)}) if {a} < {lit(0, dt)} else {a}"
    alpha = node.attrs.get("alpha", 1.0)
    if alpha == 1.0:
        return res
    res = s.tmp(res)
    return f"{res} if {a} > {lit(0, dt)} else {lit(alpha, dt)} * {res}"


@scalar("selu")
def _selu(s, node, args):
    a, dt = args[0], _out(node)
    scale_alpha, scale = lit(1.7580993408473768, dt), lit(1.0507009873554805, dt)
    return f"{scale_alpha} * (np.exp({a}) - {lit(1, dt)}) if {a} < {lit(0, dt)} else {scale} * {a}"


@scalar("cast")
def _cast(s, node, args):
    return s.conv(args[0], _in(node, 0), _out(node))


@scalar("clip")
def _clip(s, node, args):
    # tf.clip_by_value: the minimum with the upper bound first, then the maximum
    a, dt = args[0], _out(node)
    lo, hi = lit(node.attrs["min_value"], dt), lit(node.attrs["max_value"], dt)
    return _max_nan(s.tmp(_min_nan(a, hi)), lo)


@scalar("zeros_like", "ones_like")
def _fill(s, node, args):
    return lit(0 if node.op == "zeros_like" else 1, _out(node))
