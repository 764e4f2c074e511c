"""Every gradient rule against central finite differences, in float64.

Hypothesis draws the shapes, the broadcasting, the axes and the attributes;
the values are drawn away from the ops' kinks (``abs`` at 0, ``relu`` at its
threshold) and outside their domains' edges. Everything runs on the numpy
references (``ir.evaluate``), so an example costs milliseconds. Set
``SYMKB_GRAD_EXAMPLES`` for a longer run (default 5 examples per op).
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symkb import ir
from symkb.ir import call
from symkb.ir.node import encode_index
from tests.grad_check import check_vjp

EXAMPLES = int(os.environ.get("SYMKB_GRAD_EXAMPLES", "5"))
PROFILE = settings(max_examples=EXAMPLES, derandomize=EXAMPLES <= 20, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


def _shape(draw, lo=0, hi=3, dim=3):
    return tuple(draw(st.lists(st.integers(1, dim), min_size=lo, max_size=hi)))


def _values(rng, shape, low=-2.0, high=2.0, away=0.05):
    """Uniform values, at least ``away`` from 0 (the kinks of abs, sign, relu)."""
    v = rng.uniform(low, high, size=shape)
    return np.where(np.abs(v) < away, v + np.sign(v + 1e-9) * away, v)


def _pair(draw):
    """Two shapes that broadcast together (either side may be the smaller)."""
    big = _shape(draw, 0, 3)
    small = list(big[len(big) - draw(st.integers(0, len(big))):])
    small = tuple(1 if draw(st.booleans()) else d for d in small)
    return (big, small) if draw(st.booleans()) else (small, big)


def _axes(draw, ndim):
    if ndim == 0 or draw(st.booleans()):
        return None
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(sorted(picked))


UNARY = {
    "negative": {}, "abs": {}, "square": {}, "exp": {}, "expm1": {}, "sin": {}, "cos": {},
    "tanh": {}, "sigmoid": {}, "softplus": {}, "softsign": {}, "erf": {}, "identity": {},
    "print_tensor": {}, "hard_sigmoid": {"low": -3.0, "high": 3.0}, "selu": {},
    "sqrt": {"low": 0.2}, "log": {"low": 0.2}, "log1p": {"low": -0.5},
    "sign": {},
}
RELU_ATTRS = [{}, {"alpha": 0.1}, {"max_value": 0.8}, {"threshold": 0.3},
              {"alpha": 0.2, "max_value": 1.2, "threshold": 0.1}, {"alpha": 0.3, "max_value": 1.0}]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "mod", "pow"]


@pytest.mark.parametrize("op", sorted(UNARY) + ["relu", "elu", "clip"])
@PROFILE
@given(data=st.data())
def test_unary_rules_match_finite_differences(op, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    opts = UNARY.get(op, {})
    x = _values(rng, _shape(draw), opts.get("low", -2.0), opts.get("high", 2.0))
    attrs = {}
    if op == "relu":
        attrs = draw(st.sampled_from(RELU_ATTRS))
    elif op == "elu":
        attrs = {"alpha": draw(st.sampled_from([1.0, 0.5]))}
    elif op == "clip":
        attrs = {"min_value": -0.5, "max_value": 0.7}
    check_vjp(lambda t: call(op, t, **attrs), [x])


@pytest.mark.parametrize("op", BINARY + ["where", "bias_add"])
@PROFILE
@given(data=st.data())
def test_binary_rules_sum_the_broadcast_back(op, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    sx, sy = _pair(draw)
    if op == "bias_add":
        sx = _shape(draw, 1, 3)
        sy = sx[-1:]
    x, y = _values(rng, sx), _values(rng, sy, away=0.3)
    if op == "pow":
        x = rng.uniform(0.2, 2.0, size=sx)
    if op == "where":
        full = np.broadcast_shapes(sx, sy)
        cond = rng.random(tuple(1 if draw(st.booleans()) else d for d in full)) < 0.5
        check_vjp(lambda c, a, b: call("where", c, a, b), [cond, x, y])
        return
    check_vjp(lambda a, b: call(op, a, b), [x, y])


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod"])
@PROFILE
@given(data=st.data())
def test_reduction_rules_over_any_axes(op, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    x = _values(rng, _shape(draw, 1, 3))
    if op == "prod" and x.size > 1 and draw(st.booleans()):
        x.flat[draw(st.integers(0, x.size - 1))] = 0.0   # the exclusive products handle a zero
    axis, keep = _axes(draw, x.ndim), draw(st.booleans())
    check_vjp(lambda t: call(op, t, axis=axis, keepdims=keep), [x])


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "softmax"])
@PROFILE
@given(data=st.data())
def test_scan_and_softmax_rules(op, data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    x = _values(rng, _shape(draw, 1, 3), away=0.3)
    axis = draw(st.integers(0, x.ndim - 1))
    check_vjp(lambda t: call(op, t, axis=axis), [x])


@PROFILE
@given(data=st.data())
def test_dot_rule_for_every_rank(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    k = draw(st.integers(1, 3))
    sx = _shape(draw, 0, 2) + (k,)
    y_rank = draw(st.integers(1, 3))
    sy = (k,) if y_rank == 1 else _shape(draw, y_rank - 2, y_rank - 2) + (k, draw(st.integers(1, 3)))
    check_vjp(lambda a, b: call("dot", a, b), [_values(rng, sx), _values(rng, sy)])


@PROFILE
@given(data=st.data())
def test_matmul_rule_with_batch_broadcasting_and_vectors(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    bx, by = _pair(draw) if draw(st.booleans()) else ((), ())
    bx, by = bx[-2:], by[-2:]
    sx = (k,) if draw(st.booleans()) and not bx else bx + (m, k)
    sy = (k,) if draw(st.booleans()) and not by else by + (k, n)
    check_vjp(lambda a, b: call("matmul", a, b), [_values(rng, sx), _values(rng, sy)])


@PROFILE
@given(data=st.data())
def test_batch_dot_rule_for_any_axes(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    b, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sx, sy = [b] + list(_shape(draw, 1, 2)), [b] + list(_shape(draw, 1, 2))
    ax, ay = draw(st.integers(1, len(sx) - 1)), draw(st.integers(1, len(sy) - 1))
    sx[ax], sy[ay] = k, k
    check_vjp(lambda u, v: call("batch_dot", u, v, axes=(ax, ay)),
              [_values(rng, tuple(sx)), _values(rng, tuple(sy))])


def _index_items(draw, shape):
    """A random basic index of a tensor of ``shape`` (ints, slices, None, Ellipsis)."""
    items = []
    for d in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
        if kind == "int":
            items.append(draw(st.integers(-d, d - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            start = draw(st.one_of(st.none(), st.integers(-d, d)))
            stop = draw(st.one_of(st.none(), st.integers(-d, d)))
            items.append(slice(start, stop, step))
        else:
            items.append(slice(None))
        if draw(st.integers(0, 5)) == 0:
            items.append(None)
    if items and draw(st.booleans()):
        cut = draw(st.integers(0, len(items) - 1))
        items = items[:cut] + [Ellipsis]
    return tuple(items)


def _shape_case(draw, rng, op):
    """``(build, arrays)`` of one movement op with drawn attributes."""
    x = _values(rng, _shape(draw, 1, 3))
    if op == "reshape":
        return (lambda t: call("reshape", t, shape=(None,) if draw(st.booleans())
                               else (x.shape[0], None))), [x]
    if op == "transpose":
        perm = tuple(draw(st.permutations(range(x.ndim))))
        return (lambda t: call("transpose", t, perm=perm)), [x]
    if op == "expand_dims":
        axis = draw(st.integers(0, x.ndim))
        return (lambda t: call("expand_dims", t, axis=axis)), [x]
    if op == "squeeze":
        axis = draw(st.integers(0, x.ndim))
        return (lambda t: call("squeeze", t, axis=axis)), [np.expand_dims(x, axis)]
    if op in ("concatenate", "stack"):
        axis = draw(st.integers(0, x.ndim - (op == "concatenate")))
        parts = [x] + [_values(rng, x.shape[:axis] + (draw(st.integers(1, 3)),) + x.shape[axis + 1:]
                               if op == "concatenate" else x.shape)
                       for _ in range(draw(st.integers(1, 2)))]
        return (lambda *ts: call(op, *ts, axis=axis)), parts
    if op == "reverse":
        axes = _axes(draw, x.ndim) or (0,)
        return (lambda t: call("reverse", t, axes=axes)), [x]
    if op == "getitem":
        index = encode_index(_index_items(draw, x.shape), x.ndim)
        return (lambda t: call("getitem", t, index=index)), [x]
    if op == "tile":
        reps = tuple(draw(st.integers(1, 3)) for _ in x.shape)
        return (lambda t: call("tile", t, reps=reps)), [x]
    if op == "repeat_elements":
        rep, axis = draw(st.integers(1, 3)), draw(st.integers(0, x.ndim - 1))
        return (lambda t: call("repeat_elements", t, rep=rep, axis=axis)), [x]
    if op == "pad":
        pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in x.shape)
        return (lambda t: call("pad", t, pads=pads)), [x]
    assert op == "gather"
    idx = rng.integers(0, x.shape[0], size=_shape(draw, 0, 2)).astype(np.int32)
    return (lambda t, i: call("gather", t, i)), [x, idx]


SHAPE_OPS = ["reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack",
             "reverse", "getitem", "tile", "repeat_elements", "pad", "gather"]


@pytest.mark.parametrize("op", SHAPE_OPS)
@settings(PROFILE, max_examples=EXAMPLES * (4 if EXAMPLES <= 20 else 1))
@given(data=st.data())
def test_movement_rules(op, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    build, arrays = _shape_case(data.draw, rng, op)
    check_vjp(build, arrays)


def test_casts_between_floats_pass_the_gradient_in_the_operand_dtype():
    """float64 -> float32 -> float64 is linear: differences with a wide step."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3))
    check_vjp(lambda t: call("cast", call("cast", t, dtype="float32"), dtype="float64") * 2.0,
              [x], eps=1e-2, rtol=1e-4, atol=1e-5)


def test_round_float16_passes_the_gradient_unchanged():
    x = ir.placeholder_node((2, 2), "float32", "x")
    (g,) = ir.vjp([call("round_float16", x)], [x])
    assert g is not None
    np.testing.assert_array_equal(ir.evaluate(ir.Graph([x], [g]), [np.zeros((2, 2), "f4")])[0],
                                  np.ones((2, 2), "f4"))
