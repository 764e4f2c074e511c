"""The convolution and pooling kernels on the device: cuda == interpreter.

One graph holds every op and path (groups, dilation, strides, pads, 1-D to
3-D, max and average pooling, the gradient ops) on tiny shapes, so the
simulator runs it in a few seconds; compiled without the pass pipeline, each
op gets its own kernel.
"""
import numpy as np

from cuda_harness import assert_same
from symkb.ir import Graph, call, placeholder_node

RNG = np.random.default_rng(5)


def _f(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_convolution_and_pooling_kernels():
    x = placeholder_node((None, 5, 4, 4), "float32", "x")
    s = placeholder_node((None, 6, 2), "float32", "s")
    v = placeholder_node((None, 3, 2, 3, 1), "float32", "v")
    w = _f(3, 2, 2, 6)
    conv = dict(strides=(2, 1), dilation=(1, 2), pads=((1, 1), (1, 1)), groups=2)
    y = call("conv", x, w, **conv)                                     # (b, 3, 3, 6)
    pool = dict(window=(2, 3), strides=(2, 1), pads=((1, 0), (1, 1)))
    p_max = call("pool", x, mode="max", **pool)                        # (b, 3, 4, 4)
    outs = [
        y,
        call("conv_transpose", y, w, sizes=(5, 4), **conv),
        call("conv_filter_grad", x, y, kernel_size=(3, 2), **conv),
        p_max,
        call("pool", x, mode="avg", **pool),
        call("pool_grad", x, p_max, mode="max", **pool),
        call("pool_grad", x, p_max, mode="avg", **pool),
        call("pool_select", x, call("exp", x), **pool),
        call("conv", s, _f(3, 2, 3), strides=(1,), dilation=(2,), pads=((4, 0),), groups=1),
        call("pool", v, mode="avg", window=(2, 2, 2), strides=(1, 2, 2),
             pads=((0, 1), (0, 0), (1, 0))),
    ]
    feeds = [_f(2, 5, 4, 4), _f(2, 6, 2), _f(2, 3, 2, 3, 1)]
    assert_same(Graph([x, s, v], outs), feeds, passes=False)


def test_a_fused_convolution_runs_as_a_convolution_and_its_epilogue():
    """The pass pipeline folds the bias and the activation into ``fused_conv``;
    the device runs it as the convolution's kernel, then the epilogue's."""
    x = placeholder_node((None, 4, 3, 2), "float32", "x")
    b = placeholder_node((3,), "float32", "b")
    y = call("relu", call("add", call("conv", x, _f(2, 2, 2, 3), strides=(1, 1),
                                      dilation=(1, 1), pads=((1, 0), (0, 1)), groups=1), b))
    exe = assert_same(Graph([x, b], [y]), [_f(2, 4, 3, 2), _f(3)])
    assert "fused_conv" in {n.op for n in exe.lowered_graph.nodes}


def test_a_fused_convolution_with_its_pooling():
    x = placeholder_node((None, 5, 5, 2), "float32", "x")
    y = call("pool", call("relu", call("conv", x, _f(2, 2, 2, 3), strides=(1, 1),
                                       dilation=(1, 1), pads=((0, 0), (0, 0)), groups=1)),
             mode="max", window=(2, 2), strides=(2, 2), pads=((0, 0), (0, 0)))
    exe = assert_same(Graph([x], [y]), [_f(2, 5, 5, 2)])
    (node,) = [n for n in exe.lowered_graph.nodes if n.op == "fused_conv"]
    assert node.attrs["pool"] == (2, 2)
