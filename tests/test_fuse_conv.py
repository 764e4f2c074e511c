"""The pass ``fuse_conv`` and its ``fused_conv`` node: a convolution with its
bias, activation and inference-mode batch normalisation as one node.

The pass is checked on the interpreter (the fused graph computes what the
plain one does, in both data formats, with and without a bias, with several
activations and a folded BatchNormalization); the cpu kernel once, in one
compiled graph holding every emitter path (blocks of whole output rows with a
last partial block, 1-D and 3-D, a full-shape epilogue operand, folded
pooling, groups on the direct loops).
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.lower import run_pipeline

RNG = np.random.default_rng(18)


def f32(*shape):
    return RNG.normal(size=shape).astype("float32")


def _ops(graph):
    return [n.op for _, n in graph.walk()]


def _naive(x, k, b):
    """float64 numpy, channels_last, 'valid', strides 1: the convolution plus bias."""
    from numpy.lib.stride_tricks import sliding_window_view as windows
    kh, kw = k.shape[:2]
    patches = windows(x.astype(np.float64), (kh, kw), axis=(1, 2))
    return np.einsum("bhwcij,ijcf->bhwf", patches, k.astype(np.float64)) + b


def _layer(x, k, b, fmt, act, bn):
    h = K.conv2d(x, k, data_format=fmt)
    if b is not None:
        h = K.bias_add(h, b, data_format=fmt)
    if bn is not None:
        h = K.batch_normalization(h, *bn, axis=1 if fmt == "channels_first" else -1,
                                  epsilon=1e-3)
    return act(h)


ACTS = {"relu": K.relu, "tanh": K.tanh, "linear": lambda h: h}


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
@pytest.mark.parametrize("act, bias, bn", [("relu", True, False), ("tanh", False, False),
                                           ("linear", True, False), ("relu", True, True)])
def test_the_pass_folds_the_epilogue_into_the_convolution(fmt, act, bias, bn):
    xs = (None, 7, 6, 3) if fmt == "channels_last" else (None, 3, 7, 6)
    x = K.placeholder(shape=xs, name="x")
    k, b = f32(3, 2, 3, 4), f32(4)
    stats = (np.abs(f32(4)) + 0.5, f32(4), f32(4), np.abs(f32(4)) + 0.1)  # var, mean, ...
    bn_args = None
    if bn:
        var, mean, beta, gamma = (K.variable(a) for a in stats)
        bn_args = (mean, var, beta, gamma)
    y = _layer(x, K.variable(k), K.variable(b) if bias else None, fmt, ACTS[act], bn_args)
    graph = ir.Graph([x], [y])
    fused, report = run_pipeline(graph)
    ops = _ops(fused)
    assert "fused_conv" in ops and "conv" not in ops, str(fused)
    assert any(r.name == "fuse_conv" and r.changed for r in report)
    v = f32(2, 7, 6, 3)
    want = _naive(v, k, b if bias else 0.0)
    if bn:
        var, mean, beta, gamma = stats
        want = (want - mean) / np.sqrt(var + 1e-3) * gamma + beta
    want = {"relu": lambda a: np.maximum(a, 0), "tanh": np.tanh, "linear": lambda a: a}[act](want)
    if fmt == "channels_first":
        v, want = v.transpose(0, 3, 1, 2), want.transpose(0, 3, 1, 2)
    got = ir.evaluate(fused, [np.ascontiguousarray(v)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(got, ir.evaluate(graph, [np.ascontiguousarray(v)])[0])


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_a_max_pooling_that_tiles_the_result_is_folded_too(fmt):
    xs = (None, 8, 7, 3) if fmt == "channels_last" else (None, 3, 8, 7)
    x = K.placeholder(shape=xs, name="x")
    k, b = f32(3, 3, 3, 4), f32(4)
    h = _layer(x, K.variable(k), K.variable(b), fmt, K.relu, None)           # 6 x 5
    # 3 x 2: a column dropped
    graph = ir.Graph([x], [K.pool2d(h, (2, 2), strides=(2, 2), data_format=fmt)])
    fused, _ = run_pipeline(graph)
    pooled = [n for n in fused.nodes if n.op == "fused_conv" and n.attrs.get("pool")]
    assert len(pooled) == 1 and pooled[0].attrs["pool"] == (2, 2), str(fused)
    assert "pool" not in _ops(fused)
    overlapping = run_pipeline(ir.Graph([x], [K.pool2d(h, (2, 2), data_format=fmt)]))[0]
    assert "pool" in _ops(overlapping)  # strides (1, 1): not folded
    v = f32(2, 8, 7, 3)
    want = np.maximum(_naive(v, k, b), 0)[:, :6, :4].reshape(2, 3, 2, 2, 2, 4).max(axis=(2, 4))
    if fmt == "channels_first":
        v, want = v.transpose(0, 3, 1, 2), want.transpose(0, 3, 1, 2)
    got = ir.evaluate(fused, [np.ascontiguousarray(v)])
    np.testing.assert_allclose(got[0], want, rtol=1e-4, atol=1e-4)
    for g, e in zip(got, ir.evaluate(graph, [np.ascontiguousarray(v)])):
        np.testing.assert_array_equal(g, e)


def test_a_convolution_read_elsewhere_too_is_left_alone():
    x = K.placeholder(shape=(None, 5, 5, 2), name="x")
    h = K.conv2d(x, K.variable(f32(3, 3, 2, 3)))
    fused, _ = run_pipeline(ir.Graph([x], [K.relu(h), K.conv2d(h, K.variable(f32(1, 1, 3, 2)))]))
    ops = _ops(fused)
    assert ops.count("conv") == 2 and ops.count("fused_conv") == 0, str(fused)


@pytest.mark.parametrize("pooled", [False, True])
def test_the_fused_node_differentiates_through_its_body(pooled):
    x = ir.placeholder_node((2, 5, 4, 2), "float64", "x")
    w = ir.placeholder_node((2, 3, 2, 3), "float64", "w")
    b = ir.placeholder_node((3,), "float64", "b")
    y = K.tanh(K.bias_add(K.conv2d(x, w, padding="same"), b))
    if pooled:
        y = K.pool2d(y, (2, 2), strides=(2, 2))
    graph = ir.Graph([x, w, b], [y])
    fused, _ = run_pipeline(graph)
    (node,) = [n for n in fused.nodes if n.op == "fused_conv"]
    assert bool(node.attrs.get("pool")) == pooled
    arrays = [RNG.normal(size=(2, 5, 4, 2)), RNG.normal(size=(2, 3, 2, 3)), RNG.normal(size=3)]
    ct = RNG.normal(size=(2, 2, 2, 3) if pooled else (2, 5, 4, 3))
    plain = ir.evaluate(ir.grad(graph, cotangents=True), arrays + [ct])
    for got, want in zip(ir.evaluate(ir.grad(fused, cotangents=True), arrays + [ct]), plain):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _compiled_case():
    """Every emitter path of ``fused_conv`` in one graph, and its feeds."""
    x = K.placeholder(shape=(None, 22, 21, 16), name="x")
    c = K.placeholder(shape=(None, 3, 7, 6), name="c")
    s = K.placeholder(shape=(None, 9, 3), name="s")
    v = K.placeholder(shape=(None, 4, 3, 5, 2), name="v")
    bn = [K.variable(a) for a in (f32(5), np.abs(f32(5)) + 0.5, f32(5), f32(5))]
    outs = [
        # blocks of 11 of the 20 output rows: a partial last block
        K.relu(K.bias_add(K.conv2d(x, K.variable(f32(3, 2, 16, 20))), K.variable(f32(20)))),
        # channels_first, strides, 'same', bias + BatchNormalization + relu
        K.relu(K.batch_normalization(
            K.bias_add(K.conv2d(c, K.variable(f32(3, 3, 3, 5)), strides=(2, 1),
                                padding="same", data_format="channels_first"),
                       K.variable(f32(5)), data_format="channels_first"), *bn, axis=1)),
        # 1-D with a dilation and an epilogue operand of the result's full shape
        K.sigmoid(K.conv1d(s, K.variable(f32(3, 3, 4)), padding="causal", dilation_rate=2)
                  + K.conv1d(s, K.variable(f32(1, 3, 4)))),
        K.elu(K.conv3d(v, K.variable(f32(2, 2, 2, 2, 3)), padding="same")),
        # a folded pooling: 20 x 19 -> 10 x 9 (a column dropped), and channels_first
        K.pool2d(K.relu(K.bias_add(K.conv2d(x, K.variable(f32(3, 3, 16, 8))),
                                   K.variable(f32(8)))), (2, 2), strides=(2, 2)),
        K.pool2d(K.tanh(K.conv2d(c, K.variable(f32(2, 3, 3, 4)), padding="same",
                                 data_format="channels_first")), (2, 3), strides=(2, 3),
                 data_format="channels_first"),
        # groups (depthwise): the direct loops, then the epilogue
        K.relu(K.depthwise_conv2d(x[:, :5, :5, :], K.variable(f32(2, 2, 16, 1)))),
    ]
    feeds = [f32(3, 22, 21, 16), f32(3, 3, 7, 6), f32(3, 9, 3), f32(3, 4, 3, 5, 2)]
    return [x, c, s, v], outs, feeds


def test_compiled_fused_convolutions_match_the_interpreter():
    inputs, outs, feeds = _compiled_case()
    fn = K.function(inputs, outs, target="cpu")
    fused = [n for n in fn.graph.nodes if n.op == "fused_conv"]
    assert len(fused) == 7, [n.op for n in fn.graph.nodes]
    assert sum(bool(n.attrs.get("pool")) for n in fused) == 2
    assert "conv_block(" in fn.source
    want = K.function(inputs, outs, target="interpreter")(feeds)
    got = fn(feeds)
    for i, (g, e) in enumerate(zip(got, want)):
        assert g.shape == e.shape and g.dtype == e.dtype, i
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5, err_msg=f"result {i}")
