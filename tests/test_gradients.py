"""Reverse mode: the transform, ``K.gradients`` and ``K.stop_gradient``.

The rules of each op are checked in ``tests/test_gradient_rules.py``; here:
every op declares a rule or why it has none, gradients of gradients, the
tf_keras semantics of ``K.gradients`` (order, ``None``, ``stop_gradient``,
Variables, ``K.function``), unknown sizes, fused graphs, the printed and
parsed backward graph, and one compiled cpu gradient graph against the
interpreter (one compile).
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.ir import NoGradient, call
from symkb.ir.registry import REGISTRY
from tests.grad_check import check_vjp, numeric_vjp
from tests.harness import assert_same

# differentiable ops whose rule is not written yet: reverse mode through them raises
PENDING = {"dropout"}


def test_every_op_has_a_rule_or_declares_why_not():
    """Fails when an op is registered without ``grad`` (a rule or a NoGradient)."""
    missing = sorted(name for name, op in REGISTRY.items()
                     if not (callable(op.grad) or isinstance(op.grad, NoGradient)))
    assert missing == [], f"ops without a gradient rule or a NoGradient declaration: {missing}"
    pending = {name for name, op in REGISTRY.items()
               if isinstance(op.grad, NoGradient) and op.grad.pending}
    assert pending == PENDING
    none = {name for name, op in REGISTRY.items()
            if isinstance(op.grad, NoGradient) and not op.grad.pending}
    assert {"equal", "less", "argmax", "argmin", "round", "floor", "ceil", "one_hot",
            "random_uniform", "random_normal", "truncated_normal", "random_bernoulli",
            "shape", "stop_gradient", "zeros_like", "ones_like", "floordiv"} <= none
    assert callable(REGISTRY["sign"].grad)  # tf's gradient of sign is zeros, not None


def test_a_registration_refuses_a_grad_that_is_neither_rule_nor_declaration():
    with pytest.raises(TypeError, match=r"register\('add'\): grad is a rule"):
        ir.registry.declare("add", grad="none")


# -- gradients of gradients (Hessian-vector products) vs finite differences --

def _elementwise(x):
    return K.sum(K.tanh(x) * K.square(x) + K.exp(-x) / (1.0 + K.sigmoid(x)) + K.log(x * x + 1.0))


def _products(x, w):
    return K.sum(K.square(K.dot(x, w))) + K.sum(K.batch_dot(x, x, axes=(1, 1)))


def _reductions(x):
    return (K.sum(K.softmax(x) * x) + K.mean(K.square(K.max(x, axis=1)))
            + K.sum(K.prod(x, axis=0)) + K.sum(K.cumsum(x, axis=1) ** 2))


@pytest.mark.parametrize("build,shapes", [(_elementwise, [(2, 3)]),
                                          (_products, [(3, 2), (2, 4)]),
                                          (_reductions, [(2, 3)])],
                         ids=["elementwise", "dot", "reductions"])
def test_gradients_of_gradients_match_finite_differences(build, shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(0.3, 1.5, size=s) for s in shapes]

    def first_order(*ts):
        return [g for g in ir.vjp([build(*ts)], list(ts))]
    check_vjp(first_order, arrays, eps=1e-5, rtol=1e-5, atol=1e-7)


# -- K.gradients: tf_keras semantics --

def _dense_mse():
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.linspace(-1, 1, 6).reshape(3, 2), name="dense/kernel")
    b = K.variable(np.array([0.1, -0.2]), name="dense/bias")
    y = K.tanh(K.bias_add(K.dot(x, w), b))
    return x, w, b, y, K.mean(K.square(y))


def _dense_mse_grads(xv, w, b):
    """The closed form: d mean((tanh(xw + b))^2)."""
    y = np.tanh(xv @ w + b)
    dz = 2 * y * (1 - y * y) / y.size
    return dz @ w.T, xv.T @ dz, dz.sum(0)


def test_k_gradients_lists_the_gradients_in_order_with_none_where_unrelated():
    x, w, b, _, loss = _dense_mse()
    unrelated = K.variable(np.ones(2), name="u")
    idx = K.placeholder(shape=(None,), dtype="int32", name="idx")
    grads = K.gradients(loss, [b, unrelated, x, w, idx])
    assert grads[1] is None and grads[4] is None
    assert [g.shape for g in (grads[0], grads[2], grads[3])] == [(2,), (None, 3), (3, 2)]
    f = K.function([x], [grads[2], grads[3], grads[0]], target="interpreter")
    xv = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    for got, want in zip(f([xv]), _dense_mse_grads(xv, K.get_value(w), K.get_value(b))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert K.gradients(loss, w)[0].shape == (3, 2)   # one variable: a list of one


def test_variables_are_read_when_the_gradient_runs():
    x, w, b, _, loss = _dense_mse()
    (gw,) = K.gradients(loss, [w])
    f = K.function([x], gw, target="interpreter")
    xv = np.ones((2, 3), "float32")
    K.set_value(w, np.zeros((3, 2)))
    np.testing.assert_allclose(f([xv]), _dense_mse_grads(xv, np.zeros((3, 2)), K.get_value(b))[1],
                               rtol=1e-5, atol=1e-7)


def test_stop_gradient_blocks_the_gradient():
    x = K.placeholder(shape=(None, 2), name="x")
    stopped = K.stop_gradient(x)
    assert stopped.node.op == "stop_gradient" and stopped.node.inputs == (x,)
    (g,) = K.gradients(K.sum(x * stopped), [x])          # d/dx of x * c, c = x: c
    xv = np.array([[1.0, -2.0], [3.0, 0.5]], "float32")
    np.testing.assert_array_equal(K.function([x], g, target="interpreter")([xv]), xv)
    assert K.gradients(K.sum(K.square(stopped)), [x]) == [None]
    a, c = K.stop_gradient([x, x + 1.0])
    assert a.node.op == c.node.op == "stop_gradient"
    assert K.stop_gradient(xv) is xv                   # eager: nothing to block
    w = K.variable(np.ones(2), name="w")
    assert K.gradients(K.sum(x * K.stop_gradient(w)), [w]) == [None]


def test_a_non_scalar_loss_and_a_list_of_losses_are_summed():
    x = K.placeholder(shape=(2,), name="x")
    g1, = K.gradients([x * 3.0, K.sum(x * x)], [x])
    xv = np.array([1.0, 2.0], "float32")
    np.testing.assert_allclose(K.function([x], g1, target="interpreter")([xv]), 3.0 + 2 * xv)


def test_k_gradients_of_an_eager_loss_is_an_error():
    with pytest.raises(TypeError, match="loss is a ndarray, an eager value"):
        K.gradients(K.sum(np.ones(3)), [K.variable(np.ones(3))])
    x = K.placeholder(shape=(2,), name="x")
    with pytest.raises(TypeError, match=r"variables\[0\] is a list"):
        K.gradients(K.sum(x), [[x]])
    with pytest.raises(ValueError, match="1 cotangents for 2 outputs"):
        ir.vjp([x, x], [x], [x])
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(3,\); expected output 0's"):
        ir.vjp([x], [x], [K.placeholder(shape=(3,))])


def test_ops_whose_rule_is_pending_name_themselves():
    x = K.placeholder(shape=(None, 3), name="x")
    dropped = K.dropout(x, 0.5)
    with pytest.raises(NotImplementedError,
                       match="gradient of op 'dropout' is not implemented yet"):
        K.gradients(K.sum(dropped), [x])
    y = K.placeholder(shape=(None, 3), name="y")
    assert K.gradients(K.sum(dropped * y) + K.sum(x), [y])[0] is not None  # not crossing it


# -- the graph-level transform --

def test_grad_returns_a_printable_parseable_graph_of_the_vjp():
    x, w, b, y, _ = _dense_mse()
    forward = ir.Graph([x], [y], name="dense")
    back = ir.grad(forward, [w, b, x], cotangents=True, with_outputs=True)
    assert [t.name for t in back.inputs] == ["x", "ct0"] and len(back.outputs) == 4
    ir.verify(back)
    assert str(ir.parse(str(back))) == str(back)
    xv = np.random.default_rng(1).normal(size=(3, 3)).astype("float32")
    ct = np.random.default_rng(2).normal(size=(3, 2)).astype("float32")
    out, gw, gb, gx = ir.evaluate(back, [xv, ct])
    z = xv @ K.get_value(w) + K.get_value(b)
    dz = ct * (1 - np.tanh(z) ** 2)
    np.testing.assert_allclose(out, np.tanh(z), rtol=1e-6)
    for got, want in ((gw, xv.T @ dz), (gb, dz.sum(0)), (gx, dz @ K.get_value(w).T)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_grad_gives_zeros_for_what_the_outputs_do_not_read_and_defaults_to_inputs_and_params():
    x = K.placeholder(shape=(None, 2), name="x")
    z = K.placeholder(shape=(2,), name="z")
    w = K.variable(np.full(2, 3.0), name="w")
    g = ir.grad(ir.Graph([x, z], [K.sum(x * w)], name="g"))
    assert len(g.outputs) == 3          # x, z, then the param w
    gx, gz, gw = ir.evaluate(g, [np.ones((2, 2), "f4"), np.ones(2, "f4")])
    np.testing.assert_array_equal(gx, np.full((2, 2), 3.0))
    np.testing.assert_array_equal(gz, np.zeros(2))
    np.testing.assert_array_equal(gw, np.full(2, 2.0))


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = K.placeholder(shape=(3,), name="x")
    h = K.exp(x)
    gh, gx = K.gradients(K.sum(K.square(h)) + K.sum(h * x), [h, x])
    xv = np.array([0.1, -0.3, 0.7], "float32")
    got_h, got_x = K.function([x], [gh, gx], target="interpreter")([xv])
    np.testing.assert_allclose(got_h, 2 * np.exp(xv) + xv, rtol=1e-6)
    np.testing.assert_allclose(got_x, (2 * np.exp(xv) + xv) * np.exp(xv) + np.exp(xv), rtol=1e-6)


def test_unknown_sizes_slices_joins_and_means():
    """Gradients of a graph whose batch and time sizes are unknown at build time."""
    x = ir.placeholder_node((None, None, 3), "float64", "x")
    y = ir.placeholder_node((None, 2), "float64", "y")
    loss = (K.sum(x[:, -1] * 2.0) + K.mean(K.square(x[:, 1:])) + K.sum(x[:, :-1, ::2])
            + K.sum(K.concatenate([x[:, 0], y], axis=-1) ** 2)
            + K.mean(K.square(x), axis=1)[0, 0])
    graph = ir.Graph([x, y], [loss], name="unknown")
    back = ir.grad(graph, [x, y])
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 2))]
    grads = ir.evaluate(back, arrays)
    for i in range(2):
        np.testing.assert_allclose(grads[i], numeric_vjp(graph, arrays, [np.ones(())], i, 1e-6),
                                   rtol=1e-6, atol=1e-8)


def test_a_gradient_needing_an_unknown_size_says_which_op_and_shape():
    y = K.placeholder(shape=(None, 2), name="y")
    with pytest.raises(ir.ShapeError, match=r"gradient of gather needs the table's shape, "
                                            r"received \(2, None\)"):
        K.gradients(K.sum(K.gather(K.transpose(y), [1, 1])), [y])
    x = K.placeholder(shape=(None, None, 4), name="x")
    with pytest.raises(ir.ShapeError, match=r"gradient of reshape .* at most one unknown"):
        K.gradients(K.sum(K.reshape(x, (-1, 2, 2))), [x])


def test_an_optimised_graph_differentiates_through_its_fused_nodes():
    from symkb.lower.passes import run_pipeline
    x = ir.placeholder_node((None, 3), "float64", "x")
    w = ir.placeholder_node((3, 2), "float64", "w")
    b = ir.placeholder_node((2,), "float64", "b")
    y = K.sigmoid(K.bias_add(K.dot(x, w), b)) * 2.0 + K.exp(-K.dot(x, w))
    graph = ir.Graph([x, w, b], [K.tanh(y) * y], name="dense")
    fused, _ = run_pipeline(graph)
    assert {"fused_dot", "fused_elementwise"} & {n.op for n in fused.nodes}
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)]
    ct = rng.normal(size=(2, 2))
    plain = ir.evaluate(ir.grad(graph, cotangents=True), arrays + [ct])
    for got, want in zip(ir.evaluate(ir.grad(fused, cotangents=True), arrays + [ct]), plain):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_compiled_cpu_gradients_equal_the_interpreters():
    """One compile: a Dense/tanh/softmax loss (and slices, joins, scans, gathers)
    and its gradients, the forward shared."""
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.linspace(-1, 1, 12).reshape(3, 4), name="kernel")
    b = K.variable(np.linspace(0, 0.3, 4), name="bias")
    p = K.softmax(K.tanh(K.bias_add(K.dot(x, w), b)))
    loss = (-K.mean(K.log(K.max(p, axis=-1))) + K.sum(K.square(x[:, 1:]))
            + K.sum(K.cumsum(x, axis=1) * K.concatenate([x, x[:, :1]], axis=1)[:, 1:])
            + K.sum(K.gather(w, [0, 2, 2]) ** 2) + K.sum(K.maximum(x, 0.1) * K.reverse(x, 1)))
    graph = ir.Graph([x], [loss, *K.gradients(loss, [w, b, x])], name="dense_grad")
    xv = np.random.default_rng(6).normal(size=(5, 3)).astype("float32")
    assert_same(graph, [xv], targets=("cpu",))


def test_the_backward_graph_printed_in_the_docs_is_what_symkb_prints():
    import contextlib
    import io
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "gradients.md").read_text()
    namespace, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)[:2]:
            exec(block, namespace)
    shown = re.search(r"prints\n\n```\n(.*?)```", text, re.S).group(1)
    assert out.getvalue().strip() == shown.strip()


_RNG = np.random.default_rng(7)
COMPOSITES = {
    "conv1d": (lambda x, k: K.conv1d(x, k, padding="same"),
               [_RNG.normal(size=(2, 4, 2)), _RNG.normal(size=(3, 2, 2))]),
    "conv2d": (lambda x, k: K.conv2d(x, k, strides=(2, 1)),
               [_RNG.normal(size=(1, 4, 3, 2)), _RNG.normal(size=(2, 2, 2, 2))]),
    "pool2d_max": (lambda x: K.pool2d(x, (2, 2), strides=(2, 2), pool_mode="max"),
                   [_RNG.normal(size=(1, 4, 4, 1))]),
    "pool2d_avg": (lambda x: K.pool2d(x, (2, 2), padding="same", pool_mode="avg"),
                   [_RNG.normal(size=(1, 3, 3, 1))]),
    "batch_normalization": (lambda x, m, v, b, g: K.batch_normalization(x, m, v, b, g),
                            [_RNG.normal(size=(3, 2)), _RNG.normal(size=2),
                             _RNG.uniform(0.5, 1, size=2), _RNG.normal(size=2),
                             _RNG.normal(size=2)]),
    "sparse_categorical_crossentropy": (
        lambda t, p: K.sparse_categorical_crossentropy(t, K.softmax(p)),
        [np.array([0, 2, 1], np.int32), _RNG.normal(size=(3, 3))]),
    "binary_crossentropy": (lambda t, p: K.binary_crossentropy(t, K.sigmoid(p)),
                            [np.eye(3)[[0, 2, 1]], _RNG.normal(size=(3, 3))]),
    "logsumexp_var": (lambda x: K.logsumexp(x, axis=1) + K.var(x, axis=1),
                      [_RNG.normal(size=(3, 4))]),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_backend_compositions_differentiate(name):
    """Convolutions, pooling, normalisation and losses are compositions of ops
    with rules: their gradients match finite differences with no rule of their own."""
    build, arrays = COMPOSITES[name]
    check_vjp(build, arrays, rtol=1e-5, atol=1e-7)
