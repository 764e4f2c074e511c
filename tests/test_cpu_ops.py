"""Differential tests: the compiled cpu target computes what the interpreter does,
for every registered op (a table of cases, several cases per compiled graph so
the suite compiles a handful of functions, not one per op)."""
from __future__ import annotations

import numpy as np
import pytest

from symkb import ir
from symkb.ir.node import encode_index
from symkb.lower.passes.canonicalize_loops import LEGALIZED_OPS
from tests.harness import assert_same, compiled

call = ir.call

# Ops reached through other tests: sources, the loop (tests/test_cpu_rnn.py) and
# its canonical scan (tests/test_cpu_scan.py), and the fused ops the passes
# build (every compiled case below uses them; fused_conv in tests/test_fuse_conv.py).
COVERED_ELSEWHERE = {"input", "param", "const", "loop", "scan", "fused_elementwise",
                     "fused_dot", "fused_conv"}

# name -> (group, builder(inputs) -> tensor). Groups share one compiled graph.
UNARY_FLOAT = ["negative", "abs", "square", "sign", "sqrt", "exp", "log", "log1p", "expm1",
               "round", "floor", "ceil", "sin", "cos", "tanh", "sigmoid", "hard_sigmoid",
               "softplus", "softsign", "elu", "selu", "erf"]
BINARY = ["add", "subtract", "multiply", "divide", "floordiv", "mod", "maximum", "minimum",
          "pow", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
          "logical_and", "logical_or"]


def _float_cases():
    cases = {}
    for op in UNARY_FLOAT:
        cases[op] = lambda x, y, v, op=op: call(op, x)
    for op in BINARY:
        cases[op] = lambda x, y, v, op=op: call(op, x, y)
    cases.update({
        "relu": lambda x, y, v: call("relu", x, alpha=0.1, max_value=2.0, threshold=0.5),
        "relu/plain": lambda x, y, v: call("relu", x),
        "cast": lambda x, y, v: call("cast", x, dtype="int32"),
        "cast/bool": lambda x, y, v: call("cast", x, dtype="bool"),
        "clip": lambda x, y, v: call("clip", x, min_value=-0.5, max_value=0.7),
        "zeros_like": lambda x, y, v: call("zeros_like", x),
        "ones_like": lambda x, y, v: call("ones_like", x),
        "logical_not": lambda x, y, v: call("logical_not", x),
        "where": lambda x, y, v: call("where", call("greater", x, y), x, y),
        "bias_add": lambda x, y, v: call("bias_add", x, v),
        "chain": lambda x, y, v: call("tanh", call("add", call("multiply", x, 2.0), y)),
    })
    return cases


def _special(rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype) * 2
    flat = a.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5]
    return a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_ops(dtype):
    x = ir.placeholder_node((None, 7), dtype, "x")
    y = ir.placeholder_node((None, 7), dtype, "y")
    v = ir.placeholder_node((7,), dtype, "v")
    cases = _float_cases()
    outs = [fn(x, y, v) for fn in cases.values()]
    graph = ir.Graph([x, y, v], outs, name=f"elementwise_{dtype}")
    rng = np.random.default_rng(1)
    xs = _special(rng, (4, 7), dtype)
    ys = rng.standard_normal((4, 7)).astype(dtype)
    ys[0, :3] = [0.0, 2.0, np.nan]
    vs = rng.standard_normal(7).astype(dtype)
    assert_same(graph, [xs, ys, vs], names=list(cases), verify_each=True)


def test_identity_is_simplified_away_and_compiles_when_kept():
    from symkb.lower import PIPELINE
    x = ir.placeholder_node((None, 3), "float32", "x")
    graph = ir.Graph([x], [call("multiply", call("identity", x), 2.0), call("identity", x)])
    v = np.array([[1.5, -2.0, np.nan]], "float32")
    exe = compiled(graph, "cpu")
    assert "identity" not in str(exe.graph)
    assert_same(graph, [v])
    kept = tuple(p for p in PIPELINE if p.__name__ != "simplify")
    exe = compiled(graph, "cpu", passes=kept)
    assert "identity" in str(exe.graph)
    assert_same(graph, [v], passes=kept)


INT_OPS = {
    "add": lambda a, b: call("add", a, b), "subtract": lambda a, b: call("subtract", a, b),
    "multiply": lambda a, b: call("multiply", a, b),
    "floordiv": lambda a, b: call("floordiv", a, b), "mod": lambda a, b: call("mod", a, b),
    "divide": lambda a, b: call("divide", a, b),
    "maximum": lambda a, b: call("maximum", a, b), "abs": lambda a, b: call("abs", a),
    "negative": lambda a, b: call("negative", a), "square": lambda a, b: call("square", a),
    "sign": lambda a, b: call("sign", a), "less": lambda a, b: call("less", a, b),
    "cast": lambda a, b: call("cast", a, dtype="float32"),
    "sum": lambda a, b: call("sum", a, axis=(1,)), "prod": lambda a, b: call("prod", a, axis=None),
    "mean": lambda a, b: call("mean", a, axis=(0,)), "max": lambda a, b: call("max", a, axis=(1,)),
    "dot": lambda a, b: call("dot", a, call("transpose", b, perm=(1, 0))),
}


def test_integer_ops():
    a = ir.placeholder_node((3, 4), "int32", "a")
    b = ir.placeholder_node((3, 4), "int32", "b")
    graph = ir.Graph([a, b], [fn(a, b) for fn in INT_OPS.values()], name="ints")
    rng = np.random.default_rng(2)
    av = rng.integers(-9, 9, (3, 4)).astype(np.int32)
    bv = rng.integers(1, 5, (3, 4)).astype(np.int32) * np.where(rng.random((3, 4)) > 0.5, 1, -1)
    assert_same(graph, [av, bv.astype(np.int32)], names=list(INT_OPS))


def _array_cases():
    def idx(*items):
        return encode_index(items, 3)
    return {
        "sum": lambda x: call("sum", x, axis=(1,), keepdims=True),
        "sum/all": lambda x: call("sum", x, axis=None),
        "prod": lambda x: call("prod", x, axis=(0, 2)),
        "mean": lambda x: call("mean", x, axis=(2,)),
        "max": lambda x: call("max", x, axis=(1,)),
        "min": lambda x: call("min", x, axis=(0,), keepdims=True),
        "any": lambda x: call("any", call("greater", x, 1.0), axis=(2,)),
        "all": lambda x: call("all", call("greater", x, -1.0), axis=(1,)),
        "argmax": lambda x: call("argmax", x, axis=1),
        "argmin": lambda x: call("argmin", x, axis=2),
        "softmax": lambda x: call("softmax", x, axis=1),
        "softmax/last": lambda x: call("softmax", x, axis=2),
        "cumsum": lambda x: call("cumsum", x, axis=1),
        "cumprod": lambda x: call("cumprod", x, axis=2),
        "reshape": lambda x: call("reshape", x, shape=(None, 12)),
        "transpose": lambda x: call("transpose", x, perm=(2, 0, 1)),
        "expand_dims": lambda x: call("expand_dims", x, axis=1),
        "squeeze": lambda x: call("squeeze", call("expand_dims", x, axis=3), axis=3),
        "concatenate": lambda x: call("concatenate", x, call("exp", x), axis=2),
        "stack": lambda x: call("stack", x, x, axis=1),
        "reverse": lambda x: call("reverse", x, axes=(1, 2)),
        "getitem": lambda x: call("getitem", x, index=idx(slice(None), 1, slice(None, None, -2))),
        "getitem/new": lambda x: call("getitem", x, index=idx(Ellipsis, None, slice(1, 3))),
        "tile": lambda x: call("tile", x, reps=(1, 2, 3)),
        "repeat_elements": lambda x: call("repeat_elements", x, rep=2, axis=1),
        "pad": lambda x: call("pad", x, pads=((0, 0), (1, 2), (0, 1))),
        "shape": lambda x: call("shape", x),
        "dot": lambda x: call("dot", x, call("transpose", call("getitem", x, index=idx(0)),
                                              perm=(1, 0))),
        "dot/vector": lambda x: call("dot", x, call("getitem", x, index=idx(0, 0))),
        "matmul": lambda x: call("matmul", x, call("transpose", x, perm=(0, 2, 1))),
        "batch_dot": lambda x: call("batch_dot", x, x, axes=(2, 2)),
        # a reverse read in place by a join's loops and by a fused loop, and a
        # contiguous slice bound as a view (none of them a result)
        "reverse/joined": lambda x: call("concatenate", call("reverse", x, axes=(1,)), x,
                                         axis=1),
        "reverse/stacked": lambda x: call("stack", x, call("exp", call("reverse", x, axes=(2,))),
                                          axis=0),
        "getitem/view": lambda x: call("sum", call("getitem", x, index=idx(1, slice(1, 3))),
                                       axis=(1,)),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_ops(dtype):
    x = ir.placeholder_node((None, 3, 4), dtype, "x")
    cases = _array_cases()
    graph = ir.Graph([x], [fn(x) for fn in cases.values()], name=f"arrays_{dtype}")
    data = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(dtype)
    data[1, 2, 3] = np.nan
    assert_same(graph, [data], names=list(cases), verify_each=True)


def test_index_ops_and_dropout():
    idx = ir.placeholder_node((None, 3), "int32", "idx")
    table = ir.placeholder_node((5, 2), "float32", "table")
    outs = [call("one_hot", idx, num_classes=5), call("gather", table, idx),
            call("dropout", table, rate=0.5, seed=7)]
    graph = ir.Graph([idx, table], outs, name="index_ops")
    rng = np.random.default_rng(4)
    assert_same(graph, [np.array([[0, 4, 3], [2, 3, 1]], np.int32),
                        rng.standard_normal((5, 2)).astype(np.float32)],
                names=["one_hot", "gather", "dropout"])
    # one_hot of an index outside [0, 5) is a row of zeros (tf)
    hot = ir.Graph([idx], [call("one_hot", idx, num_classes=5)], name="one_hot_outside")
    assert_same(hot, [np.array([[0, 5, -1]], np.int32)])


@pytest.mark.parametrize("bad", [-1, 5])
def test_gather_outside_the_rows_is_an_error_as_tf_on_a_cpu(bad):
    idx = ir.placeholder_node((None,), "int32", "idx")
    table = ir.placeholder_node((5, 2), "float32", "table")
    graph = ir.Graph([table, idx], [call("gather", table, idx)], name="gather_rows")
    rows = np.arange(10, dtype=np.float32).reshape(5, 2)
    for target in ("cpu", "interpreter"):
        with pytest.raises(IndexError, match=r"\[0, 5\)"):
            compiled(graph, target)([rows, np.array([1, bad, 2], np.int32)])


@pytest.mark.parametrize("rows, checked", [([2, 0, 4], False), ([2, 5], True)])
def test_constant_gather_indices_are_checked_only_when_out_of_range(rows, checked):
    # generated source only: the run-time check (and its message's int-to-str,
    # a second of cold compile) is left out where the indices are known good
    from symkb.lower.cpu.codegen import generate
    table = ir.placeholder_node((5, 2), "float32", "table")
    out = call("gather", table, ir.const(np.array(rows, np.int32)))
    source = generate(ir.Graph([table], [out], name="const_gather"), "const_gather").source
    assert ("raise IndexError" in source) is checked


def test_every_op_has_a_cpu_case_and_emitter():
    from symkb.lower.cpu import codegen
    from symkb.lower.cpu import arrays, elementwise, impure, loops  # noqa: F401
    covered = (set(UNARY_FLOAT) | set(BINARY) | {k.split("/")[0] for k in _float_cases()}
               | set(INT_OPS) | {k.split("/")[0] for k in _array_cases()}
               | {"one_hot", "gather", "dropout"} | COVERED_ELSEWHERE
               | {"identity"}  # test_identity_is_simplified_away_and_compiles_when_kept
               | {"stop_gradient"}  # tests/test_gradients.py (simplified away as identity)
               # numba's stream, not numpy's: statistics in tests/test_random_ops.py
               | {"random_uniform", "random_normal", "truncated_normal", "random_bernoulli"}
               | {"print_tensor"}  # tests/test_random_ops.py (printed text)
               | {"round_float16"}  # bit for bit in tests/test_float16_cpu.py
               # compiled against the interpreter in tests/test_conv_ops.py
               | {"conv", "conv_transpose", "conv_filter_grad", "pool", "pool_grad",
                  "pool_select"}
               | {"assign"})  # writes in place: tests/test_updates.py
    missing_case = sorted(set(ir.REGISTRY) - covered)
    assert not missing_case, f"ops with no cpu differential case: {missing_case}"
    # a loop is lowered as its canonical scan: the target rewrites it first
    # (legalize_loops; tests/test_cpu_scan.py compiles one with passes=())
    missing_emitter = sorted(set(ir.REGISTRY) - set(codegen.EMITTERS)
                             - {"input", "param", "const"} - LEGALIZED_OPS)
    assert not missing_emitter, f"ops with no cpu emitter: {missing_emitter}"


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_max_and_min_over_an_empty_axis_give_tfs_identity(dtype):
    from symkb.ir.ops.reduce import reduce_identity
    x = ir.placeholder_node((None, 3), dtype, "x")
    graph = ir.Graph([x], [call("max", x, axis=(0,)), call("min", x, axis=(0,))])
    empty = np.zeros((0, 3), dtype)
    got = assert_same(graph, [empty])
    np.testing.assert_array_equal(got[0], np.full(3, reduce_identity("max", dtype), dtype))
    np.testing.assert_array_equal(got[1], np.full(3, reduce_identity("min", dtype), dtype))
    assert reduce_identity("max", "float32") == -np.inf
    # a non-empty axis is unchanged, NaN included
    full = np.array([[1, 5, 2], [4, 0, 3]], dtype)
    got = assert_same(graph, [full])
    np.testing.assert_array_equal(got[0], full.max(axis=0))


def test_a_0d_transpose_stays_0d():
    x = ir.placeholder_node((), "float32", "x")
    graph = ir.Graph([x], [call("transpose", x, perm=())])
    assert assert_same(graph, [np.float32(2.5)])[0].shape == ()
