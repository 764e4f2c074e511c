"""The convolution and pooling ops: references, gradients, text forms, cpu kernels.

The references are checked against plain loops written here from the
definitions; every gradient rule against central finite differences in
float64 on the interpreter; the cpu kernels against the interpreter in one
compiled graph holding every op (one compile, tiny shapes).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.ir import call
from tests.grad_check import check_vjp

RNG = np.random.default_rng(3)


def _naive_conv(x, w, strides, dilation, pads, groups):
    """The convolution by its definition, one output element at a time."""
    rank = x.ndim - 2
    xp = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),))
    taps, cg, f = w.shape[:rank], w.shape[-2], w.shape[-1]
    outs = [(n - ((k - 1) * d + 1)) // s + 1
            for n, k, s, d in zip(xp.shape[1:-1], taps, strides, dilation)]
    out = np.zeros([x.shape[0]] + outs + [f])
    fg = f // groups
    for b, o, j in itertools.product(range(x.shape[0]), itertools.product(*map(range, outs)),
                                     range(f)):
        g = j // fg
        for t in itertools.product(*map(range, taps)):
            at = tuple(oi * s + ti * d for oi, ti, s, d in zip(o, t, strides, dilation))
            for c in range(cg):
                out[(b,) + o + (j,)] += xp[(b,) + at + (g * cg + c,)] * w[t + (c, j)]
    return out


CONVS = [  # (x shape, w shape, strides, dilation, pads, groups)
    ((2, 7, 3), (3, 3, 4), (2,), (1,), ((1, 1),), 1),
    ((1, 6, 5, 4), (2, 3, 2, 6), (2, 1), (1, 2), ((1, 0), (2, 1)), 2),
    ((2, 5, 5, 3), (3, 3, 1, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 3),
    ((1, 4, 3, 5, 2), (2, 2, 3, 2, 3), (1, 2, 1), (1, 1, 2), ((0, 1), (0, 0), (1, 1)), 1),
]


def _attrs(strides, dilation, pads, groups):
    return dict(strides=strides, dilation=dilation, pads=pads, groups=groups)


@pytest.mark.parametrize("xs, ws, strides, dilation, pads, groups", CONVS)
def test_conv_reference_is_the_definition(xs, ws, strides, dilation, pads, groups):
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    got = call("conv", x, w, **_attrs(strides, dilation, pads, groups))
    np.testing.assert_allclose(got, _naive_conv(x, w, strides, dilation, pads, groups),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs, ws, strides, dilation, pads, groups", CONVS[:3])
def test_the_three_conv_ops_are_adjoint(xs, ws, strides, dilation, pads, groups):
    """<conv(x, w), g> == <x, conv_transpose(g, w)> == <w, conv_filter_grad(x, g)>."""
    a = _attrs(strides, dilation, pads, groups)
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    y = call("conv", x, w, **a)
    g = RNG.normal(size=y.shape)
    gx = call("conv_transpose", g, w, sizes=xs[1:-1], **a)
    gw = call("conv_filter_grad", x, g, kernel_size=ws[:-2], **a)
    inner = np.sum(y * g)
    assert np.isclose(np.sum(x * gx), inner) and np.isclose(np.sum(w * gw), inner)


@pytest.mark.parametrize("xs, ws, strides, dilation, pads, groups", CONVS[1:3])
def test_conv_family_gradients_match_finite_differences(xs, ws, strides, dilation, pads,
                                                         groups):
    a = _attrs(strides, dilation, pads, groups)
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    y = call("conv", x, w, **a)
    kw = dict(rtol=1e-5, atol=1e-7)
    check_vjp(lambda u, v: call("conv", u, v, **a), [x, w], parse=True, **kw)
    check_vjp(lambda u, v: call("conv_transpose", u, v, sizes=xs[1:-1], **a), [y, w], **kw)
    check_vjp(lambda u, v: call("conv_filter_grad", u, v, kernel_size=ws[:-2], **a), [x, y],
              **kw)


def _naive_pool(x, mode, window, strides, pads):
    rank = x.ndim - 2
    outs = [(n + p[0] + p[1] - k) // s + 1
            for n, k, s, p in zip(x.shape[1:-1], window, strides, pads)]
    out = np.zeros([x.shape[0]] + outs + [x.shape[-1]])
    for b, o, c in itertools.product(range(x.shape[0]), itertools.product(*map(range, outs)),
                                     range(x.shape[-1])):
        vals = [x[(b,) + i + (c,)] for i in itertools.product(*[
            [oi * s + t - p[0] for t in range(k) if 0 <= oi * s + t - p[0] < n]
            for oi, s, k, p, n in zip(o, strides, window, pads, x.shape[1:rank + 1])])]
        out[(b,) + o + (c,)] = max(vals) if mode == "max" else np.mean(vals)
    return out


POOLS = [  # (x shape, window, strides, pads)
    ((2, 7, 2), (3,), (2,), ((1, 1),)),
    ((1, 5, 4, 2), (2, 3), (2, 1), ((1, 0), (1, 1))),
    ((1, 3, 4, 3, 1), (2, 2, 2), (1, 2, 2), ((0, 1), (0, 0), (1, 0))),
]


@pytest.mark.parametrize("xs, window, strides, pads", POOLS)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_reference_is_the_definition(xs, window, strides, pads, mode):
    x = RNG.normal(size=xs)
    got = call("pool", x, mode=mode, window=window, strides=strides, pads=pads)
    np.testing.assert_allclose(got, _naive_pool(x, mode, window, strides, pads), rtol=1e-12)


@pytest.mark.parametrize("xs, window, strides, pads", POOLS[1:])
def test_pool_family_gradients_match_finite_differences(xs, window, strides, pads):
    a = dict(window=window, strides=strides, pads=pads)
    x = RNG.permutation(np.arange(np.prod(xs), dtype=np.float64)).reshape(xs) / 7  # no ties
    kw = dict(rtol=1e-5, atol=1e-7)
    for mode in ("max", "avg"):
        y = call("pool", x, mode=mode, **a)
        check_vjp(lambda u, m=mode: call("pool", u, mode=m, **a), [x], parse=True, **kw)
        check_vjp(lambda u, v, m=mode: call("pool_grad", u, v, mode=m, **a), [x, y], **kw)
    check_vjp(lambda u, v: call("pool_select", u, v, **a), [x, RNG.normal(size=xs)], **kw)


def test_second_order_through_a_convolution():
    """The gradient of a gradient stays in the op family (and matches differences)."""
    x, w = RNG.normal(size=(1, 4, 4, 2)), RNG.normal(size=(2, 2, 2, 2))
    a = _attrs((1, 1), (1, 1), ((0, 1), (1, 0)), 1)

    def grad_norm(u, v):
        y = call("conv", u, v, **a)
        (gx,) = ir.vjp([call("sum", call("square", y), axis=None, keepdims=False)], [u])
        return call("pool", gx, mode="max", window=(2, 2), strides=(1, 1),
                    pads=((0, 0), (0, 0)))

    check_vjp(grad_norm, [x, w], rtol=1e-5, atol=1e-7)


def test_graphs_with_the_ops_round_trip_through_text_and_json():
    x = K.placeholder(shape=(None, 6, 5, 2), name="img")
    w = K.variable(RNG.normal(size=(3, 3, 2, 4)).astype("float32"), name="k")
    y = K.pool2d(K.conv2d(x, w, strides=(2, 1), padding="same"), (2, 2), padding="same",
                 pool_mode="avg")
    g = ir.Graph([x], [y], name="cnn")
    text = str(g)
    assert "= conv[" in text and "= pool[" in text and "getitem" not in text
    assert str(ir.parse(text, variables=[w])) == text
    assert str(ir.from_json(ir.to_json(g))) == text


def test_bad_attributes_name_the_op_and_what_was_expected():
    x = ir.placeholder_node((None, 5, 5, 4), "float32", "x")
    w = ir.placeholder_node((3, 3, 2, 6), "float32", "w")
    good = dict(strides=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)))
    with pytest.raises(ValueError, match=r"conv: the input has 4 channels but the kernel "
                                         r"expects 2 \* groups \(1\) = 2"):
        call("conv", x, w, groups=1, **good)
    with pytest.raises(ValueError, match=r"conv: groups \(4\) must be >= 1 and divide the "
                                         r"filters \(6\)"):
        call("conv", x, w, groups=4, **good)
    with pytest.raises(ValueError, match=r"conv: strides must be 2 positive ints, "
                                         r"received \(1,\)"):
        call("conv", x, w, groups=2, strides=(1,), dilation=(1, 1), pads=((0, 0), (0, 0)))
    with pytest.raises(ValueError, match=r"pool: mode must be 'max' or 'avg', received 'sum'"):
        call("pool", x, mode="sum", window=(2, 2), strides=(1, 1), pads=((0, 0), (0, 0)))
    with pytest.raises(ValueError, match=r"conv2d_transpose: output_shape \(1, 9, 9, 2\) does "
                                         r"not fit an input of spatial sizes \(3, 3\)"):
        K.conv2d_transpose(np.zeros((1, 3, 3, 6), "f4"), np.zeros((3, 3, 2, 6), "f4"),
                           (1, 9, 9, 2), strides=(2, 2), padding="same")


def _compiled_case():
    """One graph holding every op and kernel path (float32 gemm, groups, float64
    direct loops, 1-D and 3-D, the gradient ops), its feeds."""
    f32 = lambda *s: RNG.normal(size=s).astype("float32")  # noqa: E731
    x = K.placeholder(shape=(None, 6, 5, 3), name="x")
    s = K.placeholder(shape=(None, 7, 2), name="s", dtype="float64")
    v = K.placeholder(shape=(None, 3, 4, 3, 2), name="v")
    k = K.variable(f32(3, 2, 3, 5), name="k")
    y = K.relu(K.conv2d(x, k, strides=(2, 1), padding="same", dilation_rate=(1, 2)))
    dw = K.depthwise_conv2d(x, K.variable(f32(2, 2, 3, 2)), padding="same")
    outs = [y, dw,
            K.pool2d(y, (2, 2), strides=(2, 1), padding="same", pool_mode="max"),
            K.pool2d(y, (3, 2), strides=(1, 2), padding="same", pool_mode="avg"),
            K.conv1d(s, K.variable(RNG.normal(size=(3, 2, 3))), padding="causal",
                     dilation_rate=2),
            K.pool3d(K.conv3d(v, K.variable(f32(2, 2, 2, 2, 16)), padding="same"), (2, 2, 2),
                     padding="same", pool_mode="avg"),
            K.conv2d_transpose(dw, K.variable(f32(3, 3, 2, 6)), (2, 11, 10, 2),
                               strides=(2, 2), padding="same")]
    # the gradient ops, called directly (a whole gradient graph costs a long compile)
    conv = dict(strides=(2, 1), dilation=(1, 2), pads=((0, 1), (1, 1)), groups=1)  # y's
    pool = dict(window=(2, 2), strides=(2, 1), pads=((0, 1), (0, 1)))
    outs += [ir.call("conv_transpose", y, k, sizes=(6, 5), **conv),
             ir.call("conv_filter_grad", x, y, kernel_size=(3, 2), **conv),
             ir.call("pool_grad", y, outs[2], mode="max", **pool),
             ir.call("pool_grad", y, outs[2], mode="avg", **pool),
             ir.call("pool_select", x, K.exp(x), window=(2, 2), strides=(2, 2),
                     pads=((0, 0), (0, 0)))]
    feeds = [f32(2, 6, 5, 3), RNG.normal(size=(2, 7, 2)), f32(2, 3, 4, 3, 2)]
    return [x, s, v], outs, feeds


def test_cpu_kernels_match_the_interpreter():
    inputs, outs, feeds = _compiled_case()
    ops = {n.op for _, n in ir.Graph(inputs, outs).walk()}
    assert {"conv", "conv_transpose", "conv_filter_grad", "pool", "pool_grad",
            "pool_select"} <= ops
    compiled = K.function(inputs, outs, target="cpu")
    want = K.function(inputs, outs, target="interpreter")(feeds)
    got = compiled(feeds)
    for i, (g, e) in enumerate(zip(got, want)):
        assert g.shape == e.shape and g.dtype == e.dtype, i
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5, err_msg=f"result {i}")


def test_channels_first_layout_transposes_cancel():
    """``sink_transposes`` moves the transposes around conv and pool through the
    bias and the activation until they cancel: one at the input, one at the
    output, the values unchanged bit for bit."""
    from symkb.lower import run_pipeline
    x = K.placeholder(shape=(None, 2, 6, 5), name="x")
    k = K.variable(RNG.normal(size=(3, 3, 2, 4)).astype("float32"))
    b = K.variable(RNG.normal(size=4).astype("float32"))
    h = K.relu(K.bias_add(K.conv2d(x, k, data_format="channels_first"), b,
                          data_format="channels_first"))
    y = K.pool2d(h * 2.0, (2, 2), data_format="channels_first")
    graph = ir.Graph([x], [y])
    lowered = run_pipeline(graph)[0]
    big = [n for n in lowered.nodes if n.op == "transpose" and n.inputs[0].ndim == 4
           and n.inputs[0].node.op not in ("param", "reshape")]
    assert len(big) == 2, str(lowered)
    v = RNG.normal(size=(2, 2, 6, 5)).astype("float32")
    np.testing.assert_array_equal(ir.evaluate(lowered, [v])[0], ir.evaluate(graph, [v])[0])
