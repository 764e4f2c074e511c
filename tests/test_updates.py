"""``K.function(..., updates=...)``: a graph's writes to Variables (``assign``).

Every call computes its outputs from the values before the writes, then
stores the new values in the Variables' own arrays; checked against
hand-written numpy updates on the interpreter and the cpu target.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.ir.errors import VerifyError

X = np.array([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0], [2.0, 0.0, 1.0], [-0.5, 1.0, 3.0]],
             dtype="float32")
W0 = np.array([[0.5, -0.25], [1.0, 0.75], [-1.5, 0.25]], dtype="float32")


def _sgd_step(target):
    """One SGD step of a linear least-squares model, plus a call counter."""
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(W0, name="w")
    count = K.variable(0.0, name="count")
    loss = K.mean(K.square(K.dot(x, w)))
    (g,) = K.gradients(loss, [w])
    f = K.function([x], [loss, K.reshape(w.tensor, (6,))],
                   updates=[K.update_sub(w, 0.1 * g), (count, count.tensor + 1.0)],
                   target=target)
    return f, w, count


def _numpy_step(w):
    y = X @ w
    loss = np.mean(y * y)
    grad = X.T @ (2.0 * y / y.size)
    return loss, w - np.float32(0.1) * grad


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_updates_match_a_numpy_step_and_see_set_value(target):
    f, w, count = _sgd_step(target)
    expected_w = W0
    for _ in range(2):
        loss, w_flat = f([X])
        want_loss, new_w = _numpy_step(expected_w)
        np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
        np.testing.assert_array_equal(w_flat, expected_w.ravel())  # the value before the call
        np.testing.assert_allclose(w.numpy(), new_w, rtol=1e-5)
        expected_w = w.numpy()
    assert float(K.get_value(count)) == 2.0
    K.set_value(w, np.ones((3, 2)))  # seen by the next call, without recompiling
    loss, w_flat = f([X])
    np.testing.assert_array_equal(w_flat, np.ones(6, "float32"))
    np.testing.assert_allclose(w.numpy(), _numpy_step(np.ones((3, 2), "float32"))[1],
                               rtol=1e-5)
    assert float(K.get_value(count)) == 3.0
    assert f.calls == {"kernel": 3, "interpreter": 0} if target == "cpu" else True


def test_cpu_kernel_stores_into_the_variables_own_array():
    f, w, _ = _sgd_step("cpu")
    storage = w.value()
    f([X])
    assert w.value() is storage  # written in place, not replaced
    assert "w[i0, i1] = " in f.source  # a store loop over the Variable's shape


def test_symbolic_update_ops_and_swaps_read_the_old_values():
    a = K.variable(np.array([1.0, 2.0], "float32"), name="a")
    b = K.variable(np.array([10.0, 20.0], "float32"), name="b")
    m = K.variable(np.array([4.0, 8.0], "float32"), name="m")
    x = K.placeholder(shape=(2,), name="x")
    f = K.function([x], [a.tensor + b.tensor],
                   updates=[K.update(a, b.tensor), K.update(b, a.tensor),
                            K.moving_average_update(m, x, 0.75)], target="cpu")
    (out,) = f([np.array([0.0, 4.0], "float32")])
    np.testing.assert_array_equal(out, [11.0, 22.0])
    np.testing.assert_array_equal(a.numpy(), [10.0, 20.0])
    np.testing.assert_array_equal(b.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(m.numpy(), [3.0, 7.0])
    assert K.update_add(a, 1.0) is a  # eager values still update at once
    np.testing.assert_array_equal(a.numpy(), [11.0, 21.0])


def test_the_ir_shows_the_writes_and_round_trips():
    x = K.placeholder(shape=(None, 2), name="x")
    v = K.variable(np.zeros(2, "float32"), name="acc")
    graph = ir.Graph([x], [K.update_add(v, K.sum(x, axis=0))], name="accumulate")
    text = str(graph)
    assert "assign %acc" in text
    ir.verify(graph)
    parsed = ir.parse(text, variables={"acc": v})
    assert str(parsed) == text and parsed.outputs[0].node.op == "assign"
    restored = ir.from_json(ir.to_json(graph), variables={"acc": v})
    assert str(restored) == text
    assert json.loads(ir.to_json(graph))["graph"]
    f = K.function([x], [], updates=[graph.outputs[0]], target="interpreter")
    assert f([np.ones((3, 2), "float32")]) == []
    np.testing.assert_array_equal(v.numpy(), [3.0, 3.0])


def test_verifier_refuses_a_read_of_an_assign_and_bad_updates_are_named():
    v = K.variable(np.zeros(2, "float32"), name="v")
    x = K.placeholder(shape=(2,), name="x")
    written = K.update(v, x)
    with pytest.raises(VerifyError, match="assign"):
        ir.verify(ir.Graph([x], [written * 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        K.update(v, K.placeholder(shape=(3,)))
    with pytest.raises(TypeError, match="updates\\[0\\]"):
        K.function([x], [x], updates=["v"])
    with pytest.raises(TypeError, match="ran already"):
        K.function([x], [x], updates=[K.update(v, np.ones(2))])
