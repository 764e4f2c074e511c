"""Differential tests of the cuda target's kernels: cuda == interpreter, on tiny shapes.

``CASES`` holds one graph per registered op (compiled without the pass
pipeline, so each op gets its own plain kernel); ``test_every_op_has_a_case``
fails when an op is registered without a case here, and
``test_every_op_has_a_kernel`` lists every op the cuda target cannot compile.
"""
import numpy as np
import pytest

from cuda_harness import assert_same
from symkb import backend as K
from symkb.ir import REGISTRY, Graph, call, placeholder_node

RNG = np.random.default_rng(0)


def _f(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _x(shape=(None, 3), dtype="float32", name="x"):
    return placeholder_node(shape, dtype, name)


def unary(op, positive=False, **attrs):
    def build():
        x = _x()
        v = _f(2, 3)
        v[0, 0] = np.nan
        if positive:
            v = np.abs(v) + np.float32(0.1)
        return Graph([x], [call(op, x, **attrs)]), [v]
    return build


def binary(op, **attrs):
    def build():
        x, y = _x(name="x"), _x((3,), name="y")
        a, b = _f(2, 3), _f(3)
        a[0, 1] = b[1]      # an equal pair for the comparisons
        return Graph([x, y], [call(op, x, y, **attrs)]), [a, b]
    return build


def int_binary(op):
    def build():
        x, y = _x((None, 3), "int32", "x"), _x((None, 3), "int32", "y")
        a = np.array([[7, -7, 5], [0, 9, -3]], np.int32)
        b = np.array([[2, 2, -3], [1, -4, 2]], np.int32)
        return Graph([x, y], [call(op, x, y)]), [a, b]
    return build


def single(builder):
    def build():
        graph_outputs, feeds = builder()
        return graph_outputs, feeds
    return build


def _reduction(op, axis, keepdims=False, dtype="float32", shape=(2, 3, 4)):
    def build():
        x = _x((None,) + shape[1:], dtype)
        v = RNG.standard_normal(shape)
        v = (v > 0) if dtype == "bool" else v.astype(dtype)
        if op in ("argmax", "argmin"):
            return Graph([x], [call(op, x, axis=axis)]), [v]
        return Graph([x], [call(op, x, axis=axis, keepdims=keepdims)]), [v]
    return build


def _movement(op, in_shape=(2, 3, 4), **attrs):
    def build():
        x = _x((None,) + in_shape[1:])
        return Graph([x], [call(op, x, **attrs)]), [_f(*in_shape)]
    return build


def _dot_3d():
    x, y = _x((None, 3)), _x((2, 3, 4), name="y")
    return Graph([x, y], [call("dot", x, y), call("dot", x, K.constant(np.ones(3, "float32")))]), \
        [_f(2, 3), _f(2, 3, 4)]


def _dense_epilogue():
    x = _x((None, 5))
    w = K.variable(_f(5, 6))
    b = K.variable(_f(6))
    return Graph([x], [call("relu", call("bias_add", call("dot", x, w), b))]), [_f(3, 5)]


def _matmul():
    a, b = _x((None, 2, 3), name="a"), _x((3, 4), name="b")
    v = _x((3,), name="v")
    return Graph([a, b, v], [call("matmul", a, b), call("matmul", v, b)]), \
        [_f(2, 2, 3), _f(3, 4), _f(3)]


def _batch_dot():
    a, b = _x((None, 3, 4), name="a"), _x((None, 4, 2), name="b")
    return Graph([a, b], [call("batch_dot", a, b, axes=(2, 1)),
                          call("batch_dot", a, a, axes=(1, 1))]), [_f(2, 3, 4), _f(2, 4, 2)]


def _concatenate():
    a, b = _x((None, 3), name="a"), _x((None, 2), name="b")
    return Graph([a, b], [call("concatenate", a, b, axis=1)]), [_f(2, 3), _f(2, 2)]


def _stack():
    a, b = _x((None, 3), name="a"), _x((None, 3), name="b")
    return Graph([a, b], [call("stack", a, b, axis=1), call("stack", a, b, axis=0)]), \
        [_f(2, 3), _f(2, 3)]


def _gather():
    ref, idx = _x((5, 3), name="ref"), _x((None,), "int32", "idx")
    return Graph([ref, idx], [call("gather", ref, idx)]), [_f(5, 3), np.array([4, 0, 2], "int32")]


def _one_hot():
    idx = _x((None,), "int32", "idx")
    return Graph([idx], [call("one_hot", idx, num_classes=4)]), [np.array([3, 0, 5], "int32")]


def _where():
    c, a, b = _x((None, 3), "bool", "c"), _x((None, 3), name="a"), _x((3,), name="b")
    return Graph([c, a, b], [call("where", c, a, b)]), [RNG.random((2, 3)) > 0.5, _f(2, 3), _f(3)]


def _cast():
    x = _x()
    v = _f(2, 3) * 3
    return Graph([x], [call("cast", x, dtype="int32"), call("cast", x, dtype="bool"),
                       call("cast", call("cast", x, dtype="bool"), dtype="float32")]), [v]


def _logical():
    a, b = _x((None, 3), "bool", "a"), _x((None, 3), "bool", "b")
    return Graph([a, b], [call("logical_and", a, b), call("logical_or", a, b),
                          call("logical_not", a)]), [RNG.random((2, 3)) > 0.5,
                                                     RNG.random((2, 3)) > 0.5]


def _shape():
    x = _x((None, 3))
    return Graph([x], [call("shape", x)]), [_f(2, 3)]


def _const_param():
    x = _x((None, 3))
    w = K.variable(_f(3))
    return Graph([x], [call("add", call("multiply", x, w), K.constant(_f(2, 3)))]), [_f(2, 3)]


def _fused():
    """The pass pipeline's fused_elementwise and fused_dot nodes."""
    x = _x((None, 4))
    w = K.variable(_f(4, 3))
    b = K.variable(_f(3))
    h = call("tanh", call("bias_add", call("dot", x, w), b))
    y = call("sigmoid", call("multiply", h, 2.0)) + call("exp", call("negative", h))
    return Graph([x], [y]), [_f(3, 4)]


CASES = {
    "identity": unary("identity"), "stop_gradient": unary("stop_gradient"),
    "erf": unary("erf"), "negative": unary("negative"), "abs": unary("abs"), "square": unary("square"),
    "sign": unary("sign"), "sqrt": unary("sqrt", True), "exp": unary("exp"),
    "log": unary("log", True), "log1p": unary("log1p", True), "expm1": unary("expm1"),
    "round": unary("round"), "floor": unary("floor"), "ceil": unary("ceil"), "sin": unary("sin"),
    "cos": unary("cos"), "tanh": unary("tanh"), "sigmoid": unary("sigmoid"),
    "hard_sigmoid": unary("hard_sigmoid"), "softplus": unary("softplus"),
    "softsign": unary("softsign"), "relu": unary("relu", alpha=0.1, max_value=0.8, threshold=0.1),
    "elu": unary("elu", alpha=0.5), "selu": unary("selu"),
    "clip": unary("clip", min_value=-0.3, max_value=0.4), "zeros_like": unary("zeros_like"),
    "ones_like": unary("ones_like"), "cast": _cast, "logical_not": _logical,
    "logical_and": _logical, "logical_or": _logical,
    "add": binary("add"), "subtract": binary("subtract"), "multiply": binary("multiply"),
    "divide": binary("divide"), "bias_add": binary("bias_add"), "maximum": binary("maximum"),
    "minimum": binary("minimum"), "equal": binary("equal"), "not_equal": binary("not_equal"),
    "greater": binary("greater"), "greater_equal": binary("greater_equal"),
    "less": binary("less"), "less_equal": binary("less_equal"), "pow": binary("pow"),
    "floordiv": int_binary("floordiv"), "mod": int_binary("mod"), "where": _where,
    "dot": _dot_3d, "matmul": _matmul, "batch_dot": _batch_dot,
    "sum": _reduction("sum", (1,)), "prod": _reduction("prod", (0, 2), keepdims=True),
    "mean": _reduction("mean", None), "max": _reduction("max", (2,)),
    "min": _reduction("min", (1, 2)), "any": _reduction("any", (1,), dtype="bool"),
    "all": _reduction("all", None, dtype="bool"), "argmax": _reduction("argmax", 1),
    "argmin": _reduction("argmin", 2),
    "softmax": _movement("softmax", axis=2), "cumsum": _movement("cumsum", axis=1),
    "cumprod": _movement("cumprod", axis=2),
    "reshape": _movement("reshape", shape=(None, 12)),
    "transpose": _movement("transpose", perm=(2, 0, 1)),
    "expand_dims": _movement("expand_dims", axis=1),
    "squeeze": _movement("squeeze", in_shape=(2, 1, 4), axis=1),
    "reverse": _movement("reverse", axes=(0, 2)),
    "getitem": _movement("getitem", index=(("slice", None, None, -1), ("int", 1),
                                           ("newaxis",), ("slice", 1, None, 2))),
    "tile": _movement("tile", reps=(2, 1, 2)),
    "repeat_elements": _movement("repeat_elements", rep=2, axis=1),
    "pad": _movement("pad", pads=((0, 1), (2, 0), (1, 1))),
    "concatenate": _concatenate, "stack": _stack, "gather": _gather, "one_hot": _one_hot,
    "shape": _shape, "const": _const_param, "param": _const_param, "input": _shape,
    "dense_epilogue": _dense_epilogue,
}

# covered elsewhere: the loop and the scan in test_loop.py; the fused nodes through the pipeline below
COVERED_ELSEWHERE = {"loop", "scan", "fused_elementwise", "fused_dot", "fused_conv",
                     # the convolution and pooling ops in test_windows.py
                     "conv", "conv_transpose", "conv_filter_grad", "pool", "pool_grad",
                     "pool_select",
                     # writes to Variables: test_updates_cuda.py
                     "assign"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op(name):
    graph, feeds = CASES[name]()
    assert_same(graph, feeds, passes=False)


def test_integer_and_bool_paths_of_the_shared_scalar_rules():
    # the rules' integer/bool branches (the per-op cases above are float32):
    # clip with a bound beyond the dtype clamps nothing, bool add is or
    x, y = _x((None, 3), "int32", "x"), _x((None, 3), "bool", "y")
    outs = [call("clip", x, min_value=-np.inf, max_value=2.0), call("sign", x),
            call("maximum", x, call("negative", x)), call("add", y, y),
            call("cast", y, dtype="float32"), call("where", y, x, call("square", x))]
    feeds = [np.array([[-40000, -1, 5], [0, 2, 3]], np.int32),
             np.array([[True, False, True], [False, False, True]])]
    assert_same(Graph([x, y], outs), feeds, passes=False)


def test_gather_out_of_range_gives_zeros_as_tf_on_a_gpu():
    from symkb.lower.cuda import compile_cuda
    graph, (ref, _) = _gather()
    exe = compile_cuda(graph, passes=False)
    out = np.asarray(exe(ref, np.array([-1, 1, 5], "int32"))[0])
    np.testing.assert_array_equal(out, np.stack([np.zeros(3, "float32"), ref[1],
                                                 np.zeros(3, "float32")]))


def test_fused_pipeline():
    graph, feeds = _fused()
    exe = assert_same(graph, feeds)
    ops = {n.op for n in exe.lowered_graph.nodes}
    assert "fused_dot" in ops or "fused_elementwise" in ops, ops
    assert exe.source.count("\ndef k_") <= 3, exe.source


def test_dense_epilogue_is_one_kernel():
    graph, feeds = _dense_epilogue()
    exe = assert_same(graph, feeds, passes=False)
    kernels = [line for line in exe.source.splitlines() if line.startswith("def k_")]
    assert len(kernels) == 1, kernels
    assert "cuda.shared.array" in exe.source and "cuda.syncthreads()" in exe.source


def test_reduction_two_passes():
    """Rows longer than one block's share take the partial + final kernels."""
    from symkb.lower.cuda import adapter
    g = adapter.geometry()
    length = g.reduce_threads * 2 + 3
    for op in ("sum", "max", "argmin", "mean"):
        x = _x((None, length))
        kw = {"axis": 1} if op.startswith("arg") else {"axis": (1,)}
        v = _f(2, length)
        v[1, 5] = np.nan if op == "max" else v[1, 5]
        assert_same(Graph([x], [call(op, x, **kw)]), [v], passes=False)


def test_broadcast_rank4():
    x, y = _x((None, 1, 3, 1), name="x"), _x((2, 1, 4), name="y")
    z = call("add", call("multiply", x, y), 1.5)
    assert_same(Graph([x, y], [z]), [_f(2, 1, 3, 1), _f(2, 1, 4)], passes=False)


def test_every_op_has_a_case():
    from symkb.lower.cuda.program import UNSUPPORTED
    missing = sorted(set(REGISTRY) - set(CASES) - COVERED_ELSEWHERE - set(UNSUPPORTED))
    assert not missing, f"ops without a cuda test case: {missing}"


def test_every_op_has_a_kernel():
    """Every registered op has a cuda kernel or a decomposition, except the listed ones."""
    from symkb.lower.cuda.executable import supported_ops
    from symkb.lower.cuda.program import UNSUPPORTED
    missing = sorted(set(REGISTRY) - supported_ops() - set(UNSUPPORTED))
    assert not missing, f"ops with no cuda kernel or decomposition: {missing}"
    assert set(UNSUPPORTED) == {"dropout", "random_uniform", "random_normal", "truncated_normal",
                                "random_bernoulli", "print_tensor", "round_float16"}, UNSUPPORTED


def test_unsupported_op_raises():
    from symkb.lower.cuda import compile_cuda
    x = _x()
    g = Graph([x], [call("dropout", x, rate=0.5, seed=1)])
    with pytest.raises(NotImplementedError, match="dropout"):
        compile_cuda(g, passes=False)


def test_float64_and_int64():
    x = _x((None, 3), "float64", "x")
    w = K.variable(RNG.standard_normal((3, 2)), dtype="float64")
    y = call("softmax", call("tanh", call("dot", x, w)), axis=1)
    i = _x((None, 3), "int64", "i")
    s = call("sum", call("multiply", i, i), axis=(1,))
    assert_same(Graph([x, i], [y, s, call("argmax", i, axis=1)]),
                [RNG.standard_normal((2, 3)), np.array([[1, -5, 3], [4, 4, -2]], "int64")])


def test_random_graphs():
    """The property suite's random graphs (elementwise, reductions, dot, reshape)."""
    from hypothesis import given, settings

    from tests.test_property import CI, graphs

    @settings(CI, max_examples=12)
    @given(graphs())
    def check(case):
        graph, inputs = case
        assert_same(graph, inputs)

    check()
