"""Gradient rules of the elementwise ops (``elementwise.py``, ``bias_add``).

Each rule ``grad(node, cotangents) -> [cotangent per operand]`` is written with
registered ops (so its result can be differentiated again) and follows
TensorFlow's gradient of the tf_keras composition the op's reference
reproduces, kinks included: ``maximum``/``minimum``/``clip`` pass the gradient
to the first operand on ties, ``relu`` passes none at 0. Broadcasting is left
to the transform (``symkb/ir/gradients.py`` sums a cotangent back to its
operand's shape). Ops TensorFlow gives no gradient (``None``) are declared
:class:`NoGradient`; ``sign`` has TensorFlow's zeros.
"""
from __future__ import annotations

import math

from ..build import call
from ..registry import NoGradient, declare
from ..types import is_float


def _mul(a, b):
    return call("multiply", a, b)


def _mask(cond, g):
    """``g`` where ``cond`` holds, else 0."""
    return call("where", cond, g, 0.0)


def _unary(fn):
    """A rule ``[g * fn(x, y)]`` of a one-operand op."""
    def rule(node, cts):
        return [_mul(cts[0], fn(node.inputs[0], node.outputs[0], node.attrs))]
    return rule


_UNARY = {
    "abs": lambda x, y, a: call("sign", x),
    "square": lambda x, y, a: _mul(x, 2.0),
    "sqrt": lambda x, y, a: call("divide", 0.5, y),
    "exp": lambda x, y, a: y,
    "log": lambda x, y, a: call("divide", 1.0, x),
    "log1p": lambda x, y, a: call("divide", 1.0, call("add", x, 1.0)),
    "expm1": lambda x, y, a: call("exp", x),
    "sin": lambda x, y, a: call("cos", x),
    "cos": lambda x, y, a: call("negative", call("sin", x)),
    "tanh": lambda x, y, a: call("subtract", 1.0, call("square", y)),
    "sigmoid": lambda x, y, a: _mul(y, call("subtract", 1.0, y)),
    "softplus": lambda x, y, a: call("sigmoid", x),
    "softsign": lambda x, y, a: call("divide", 1.0, call("square", call("add", call("abs", x),
                                                                         1.0))),
    "erf": lambda x, y, a: _mul(2.0 / math.sqrt(math.pi),
                                call("exp", call("negative", call("square", x)))),
    "elu": lambda x, y, a: call("where", call("greater", x, 0.0), 1.0,
                                _mul(float(a.get("alpha", 1.0)), call("exp", x))),
    "selu": lambda x, y, a: call("where", call("less", x, 0.0),
                                 _mul(1.7580993408473768, call("exp", x)), 1.0507009873554805),
}


def _hard_sigmoid(node, cts):
    """tf_keras's ``clip(0.2 x + 0.5, 0, 1)``: 0.2 inside the bounds, ends included."""
    t = call("add", _mul(node.inputs[0], 0.2), 0.5)
    inside = call("logical_and", call("greater_equal", t, 0.0), call("less_equal", t, 1.0))
    return [_mask(inside, _mul(cts[0], 0.2))]


def _relu(node, cts):
    """The gradient of tf_keras's relu composition (see ``elementwise.relu``)."""
    x, g = node.inputs[0], cts[0]
    alpha, max_value = node.attrs.get("alpha", 0.0), node.attrs.get("max_value")
    threshold = node.attrs.get("threshold", 0.0)
    if alpha and max_value is None and not threshold:
        return [call("where", call("greater", x, 0.0), g, _mul(g, float(alpha)))]
    positive = call("greater", x, float(threshold))
    slope = call("cast", positive, dtype=x.dtype)
    if max_value is not None:
        part = _mul(x, slope) if threshold else call("relu", x)
        slope = call("where", call("less_equal", part, float(max_value)), slope, 0.0)
    if alpha:
        below = call("greater", call("subtract", float(threshold), x), 0.0)
        slope = call("add", slope, _mul(call("cast", below, dtype=x.dtype), float(alpha)))
    return [_mul(g, slope)]


def _cast(node, cts):
    x = node.inputs[0]
    if not (is_float(x.dtype) and is_float(node.outputs[0].dtype)):
        return [None]
    return [call("cast", cts[0], dtype=x.dtype)]


def _clip(node, cts):
    """``minimum(x, hi)`` then ``maximum(., lo)``: passes where ``lo <= x <= hi``."""
    x, a = node.inputs[0], node.attrs
    inside = call("logical_and", call("greater_equal", x, float(a["min_value"])),
                  call("less_equal", x, float(a["max_value"])))
    return [_mask(inside, cts[0])]


def _pass(node, cts):
    return [cts[0]]


def _add(node, cts):
    return [cts[0], cts[0]]


def _subtract(node, cts):
    return [cts[0], call("negative", cts[0])]


def _multiply(node, cts):
    x, y = node.inputs
    return [_mul(cts[0], y), _mul(cts[0], x)]


def _divide(node, cts):
    """TensorFlow's ``g / y`` and ``g * ((-x / y) / y)``."""
    x, y = node.inputs
    g = cts[0]
    return [call("divide", g, y),
            _mul(g, call("divide", call("divide", call("negative", x), y), y))]


def _mod(node, cts):
    """floor-mod: ``g`` and ``-g * floordiv(x, y)``."""
    x, y = node.inputs
    return [cts[0], _mul(cts[0], call("negative", call("floordiv", x, y)))]


def _select(pick_first):
    """``maximum`` / ``minimum``: the first operand takes the gradient where it
    is selected, ties included (TensorFlow's ``greater_equal`` / ``less_equal``)."""
    def rule(node, cts):
        x, y = node.inputs
        first = call(pick_first, x, y)
        return [_mask(first, cts[0]), call("where", first, 0.0, cts[0])]
    return rule


def _pow(node, cts):
    """``g * y * x**(y-1)``; ``g * x**y * log(x)`` where ``x > 0``, else 0."""
    x, y = node.inputs
    z, g = node.outputs[0], cts[0]
    gx = _mul(g, _mul(y, call("pow", x, call("subtract", y, 1.0))))
    if not is_float(y.dtype):
        return [gx, None]
    positive = call("greater", x, 0.0)
    log_x = call("where", positive, call("log", call("where", positive, x, 1.0)), 0.0)
    return [gx, _mul(g, _mul(z, log_x))]


def _where(node, cts):
    c, g = node.inputs[0], cts[0]
    return [None, _mask(c, g), call("where", c, 0.0, g)]


def _sign(node, cts):
    """TensorFlow's gradient of ``sign`` is zeros (not ``None``)."""
    return [call("zeros_like", node.inputs[0])]


_NONE = {
    "round": "piecewise constant (tf: None)", "floor": "piecewise constant (tf: None)",
    "ceil": "piecewise constant (tf: None)", "floordiv": "piecewise constant (tf: None)",
    "zeros_like": "its value does not depend on the operand's (tf: None)",
    "ones_like": "its value does not depend on the operand's (tf: None)",
    "stop_gradient": "it blocks gradients (K.stop_gradient)",
    "logical_not": "a bool result", "logical_and": "a bool result",
    "logical_or": "a bool result",
}
for _name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    _NONE[_name] = "a comparison: a bool result (tf: None)"

RULES = {
    "negative": lambda node, cts: [call("negative", cts[0])],
    "hard_sigmoid": _hard_sigmoid, "relu": _relu, "cast": _cast, "clip": _clip,
    "identity": _pass, "round_float16": _pass,
    "add": _add, "bias_add": _add, "subtract": _subtract, "multiply": _multiply,
    "divide": _divide, "mod": _mod, "maximum": _select("greater_equal"),
    "minimum": _select("less_equal"), "pow": _pow, "where": _where, "sign": _sign,
}
RULES.update({name: _unary(fn) for name, fn in _UNARY.items()})

for _name, _rule in RULES.items():
    declare(_name, grad=_rule)
for _name, _why in _NONE.items():
    declare(_name, grad=NoGradient(_why))
