"""Property tests: random graphs of elementwise, reduction, dot and reshape ops.

* every pass preserves the interpreter's results and leaves a verified graph;
* the compiled cpu target equals the interpreter.

A derandomised ``ci`` profile keeps CI stable; the compiled property uses a
small fixed example count, since each example is one Numba compile.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symkb import backend as K
from symkb import ir
from symkb.lower import PIPELINE
from tests.harness import assert_same

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
CI = settings.get_profile("ci")

UNARY = ["tanh", "sigmoid", "abs", "negative", "relu", "softsign", "sin"]
BINARY = ["add", "subtract", "multiply", "maximum", "minimum"]
REDUCE = ["sum", "mean", "max", "min"]


@st.composite
def graphs(draw):
    """``(graph, inputs)``: a random graph over x: f32[?,a,b] and its input values."""
    a, b = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    batch = draw(st.integers(1, 3))
    x = K.placeholder(shape=(None, a, b), name="x")
    values = [x]
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "dot", "reshape"]))
        v = draw(st.sampled_from(values))
        if kind == "unary":
            values.append(ir.call(draw(st.sampled_from(UNARY)), v))
        elif kind == "binary":
            others = [o for o in values if _fits(o, v)]
            other = draw(st.one_of(st.sampled_from(others),
                                   st.floats(-2, 2, width=32).map(np.float32)))
            values.append(ir.call(draw(st.sampled_from(BINARY)), v, other))
        elif kind == "reduce" and v.ndim >= 2:
            axis = draw(st.integers(1, v.ndim - 1))
            keep = draw(st.booleans())
            values.append(ir.call(draw(st.sampled_from(REDUCE)), v, axis=(axis,),
                                  keepdims=keep))
        elif kind == "dot" and v.ndim >= 1 and v.shape[-1] is not None:
            m = draw(st.integers(1, 4))
            w = K.variable(rng.standard_normal((v.shape[-1], m)).astype(np.float32) * 0.5)
            values.append(K.dot(v, w))
        elif kind == "reshape" and v.ndim >= 2 and all(d is not None for d in v.shape[1:]):
            if draw(st.booleans()) or v.ndim < 3:
                values.append(K.reshape(v, (-1,) + (int(np.prod(v.shape[1:])),)))
            else:
                values.append(K.permute_dimensions(v, (0,) + tuple(range(v.ndim - 1, 0, -1))))
    outs = values[-draw(st.integers(1, min(2, len(values) - 1))):]
    data = rng.standard_normal((batch, a, b)).astype(np.float32)
    return ir.Graph([x], outs, name="random"), [data]


def _fits(o, v):
    try:
        ir.broadcast_shapes(o.shape, v.shape)
        return True
    except ValueError:
        return False


def _close(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


@settings(CI, max_examples=40)
@given(graphs())
def test_every_pass_preserves_results_and_verifies(case):
    graph, inputs = case
    want = ir.evaluate(graph, inputs)
    g = graph
    for p in PIPELINE:
        g = p(g)
        ir.verify(g)
        _close(ir.evaluate(g, inputs), want)


@settings(CI, max_examples=6)
@given(graphs())
def test_compiled_cpu_equals_interpreter(case):
    graph, inputs = case
    assert_same(graph, inputs, verify_each=True)
