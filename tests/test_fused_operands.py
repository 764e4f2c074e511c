"""Fused elementwise chains whose operands mix every kind a user passes.

A chain over a placeholder reads placeholders, Variables, numpy constants and
Python scalars of every rank up to the input's and every broadcast pattern
(a suffix of the input's shape with some axes of size 1). The cpu target
must compute what the interpreter computes, before and after ``set_value``
changes the Variables. The generated function declares its Variables and
constants in the order the code reads them, interleaved; each call must bind
each value to its own argument.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symkb import backend as K
from symkb import ir
from tests.harness import assert_same
from tests.test_property import CI

OPS = {"add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
       "multiply": lambda a, b: a * b, "maximum": K.maximum, "minimum": K.minimum}
KINDS = ["placeholder", "variable", "constant", "scalar"]


def _operand_shape(draw, full):
    """A shape ``full`` broadcasts with: a suffix of it, some axes set to 1."""
    rank = draw(st.integers(0, len(full)))
    tail = full[len(full) - rank:]
    return tuple(1 if draw(st.booleans()) else d for d in tail)


@st.composite
def chains(draw):
    """``(graph, feeds, variables, rng)``: a chain of binary ops on ``x``."""
    rank = draw(st.integers(1, 4))
    dims = tuple(draw(st.integers(2, 4)) for _ in range(rank - 1))
    batch = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    x = K.placeholder(shape=(None,) + dims, name="x")
    inputs, feeds, variables = [x], [rng.standard_normal((batch,) + dims).astype("float32")], []
    y = x
    for k in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(KINDS))
        shape = _operand_shape(draw, (batch,) + dims) if kind == "placeholder" else \
            _operand_shape(draw, dims)
        value = rng.standard_normal(shape).astype("float32") * (k + 2)
        if kind == "placeholder":
            # a second input of a broadcastable shape (rank at most the input's)
            pshape = (None,) + shape[1:] if len(shape) == rank else shape
            p = K.placeholder(shape=pshape, name=f"p{k}")
            if len(shape) == rank:
                value = rng.standard_normal((batch,) + shape[1:]).astype("float32")
            inputs.append(p)
            feeds.append(value)
            operand = p
        elif kind == "variable":
            operand = K.variable(value, name=f"v{k}")
            variables.append(operand)
        elif kind == "constant":
            operand = value
        else:
            operand = float(value.reshape(-1)[0]) if value.size else 1.5
        op = draw(st.sampled_from(sorted(OPS)))
        y = OPS[op](y, operand) if draw(st.booleans()) else OPS[op](operand, y)
    graph = ir.Graph(inputs, [y], name="chain")
    return graph, feeds, variables, rng


@settings(CI, max_examples=12)
@given(chains())
def test_fused_chain_of_mixed_operands_matches_interpreter(case):
    graph, feeds, variables, rng = case
    assert_same(graph, feeds)
    # Variables are read at call time: new values reach the compiled kernel
    for v in variables:
        K.set_value(v, rng.standard_normal(v.shape).astype("float32") * 7)
    assert_same(graph, feeds)


@pytest.mark.parametrize("first", ["constant", "variable"])
def test_constant_and_variable_of_one_shape_bind_to_their_own_arguments(first):
    """``x * c + v``: a numpy constant and a Variable of the same shape."""
    rng = np.random.default_rng(4)
    x = K.placeholder((None, 4, 3))
    c = rng.standard_normal(3).astype("float32")
    v = K.variable(rng.standard_normal(3).astype("float32") * 5)
    y = x * c + v if first == "constant" else x * v + c
    f = K.function([x], [y])
    xv = rng.standard_normal((2, 4, 3)).astype("float32")
    want = xv * c + v.numpy() if first == "constant" else xv * v.numpy() + c
    np.testing.assert_allclose(f([xv])[0], want, rtol=1e-6, atol=1e-6)
    K.set_value(v, np.array([1.0, -2.0, 3.0], "float32"))
    want = xv * c + v.numpy() if first == "constant" else xv * v.numpy() + c
    np.testing.assert_allclose(f([xv])[0], want, rtol=1e-6, atol=1e-6)
