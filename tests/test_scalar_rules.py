"""The one scalar table of the elementwise ops and the dialects that read it.

Cheap checks (no numba compile, except one small cpu graph): every
elementwise op of the registry has a rule, each target implements every
construct and math function of the dialect, every rule writes valid Python
in both dialects, and the builders parenthesise exactly where Python needs it.
"""
import ast
import itertools
import random

import numpy as np
import pytest

from symkb import ir
from symkb.ir import Graph, Node, call, get_op, placeholder_node
from symkb.ir.ops.elementwise import _BINARY as _BINARY_OPS
from symkb.ir.types import TensorType
from symkb.lower import compile_graph
from symkb.lower.cpu.scalar import CpuScalars
from symkb.lower.cuda.program import UNSUPPORTED
from symkb.lower.cuda.scalar import CudaScalars
from symkb.lower.dialect import CONSTRUCTS, FAST, MATH, ScalarDialect, lit
from symkb.lower.errors import LoweringError
from symkb.lower.scalar import RULES
from symkb.lower.writer import SourceWriter

DIALECTS = (CpuScalars, CudaScalars)


def _dialect(cls):
    w = SourceWriter()
    names = itertools.count()
    return cls(w, lambda base: f"{base}{next(names)}"), w


def test_every_elementwise_op_has_one_scalar_rule():
    elementwise = {name for name, op in ir.REGISTRY.items() if op.kind == "elementwise"}
    assert set(RULES) == elementwise


@pytest.mark.parametrize("cls", DIALECTS, ids=lambda c: c.target)
def test_each_target_implements_every_construct(cls):
    assert set(CONSTRUCTS) == set(ScalarDialect.__abstractmethods__)
    assert {"cast", "math", "max_nan", "tmp", "result"} <= set(CONSTRUCTS)
    missing = [name for name in CONSTRUCTS if name not in vars(cls)]
    assert missing == [], f"{cls.__name__} lacks {missing}"
    _dialect(cls)  # not abstract: it instantiates


@pytest.mark.parametrize("cls", DIALECTS, ids=lambda c: c.target)
def test_each_target_implements_every_math_function(cls):
    d, _ = _dialect(cls)
    for fn in MATH:
        args = ["a", "b"] if fn in ("floordiv", "mod") else ["a"]
        for dtype in ("float32", "float64"):
            if cls is CudaScalars and fn == "round_f16":
                with pytest.raises(LoweringError, match="round_f16"):
                    d.math(fn, args, dtype)
                continue
            text = d.math(fn, args, dtype)
            ast.parse(text, mode="eval")
            assert all(a in text for a in args), text
    for fn in FAST:
        fast = d.fast(fn, ["a"], "float32")
        assert fast is None or "a" in fast


def test_the_cpu_math_functions_are_the_runtime_s_for_float32():
    d, _ = _dialect(CpuScalars)
    assert d.math("tanh", ["a"], "float32") == "tanh_f32(a)"
    assert d.math("tanh", ["a"], "float64") == "np.tanh(a)"
    assert d.math("erf", ["a"], "float64") == "erf_f64(a)"
    assert d.fast("sigmoid", ["a"], "float32") == "sigmoid_f32(a)"
    assert d.fast("sigmoid", ["a"], "float64") is None
    assert d.math("floordiv", ["a", "b"], "float32") == "np.float32(floordiv_float(a, b))"


_DTYPES = ("float32", "float64", "int32", "int8", "uint8", "bool")
_ATTRS = {"relu": [{}, {"alpha": 0.1}, {"alpha": 0.2, "max_value": 6.0, "threshold": 0.5}],
          "elu": [{"alpha": 0.5}], "cast": [{"dtype": "float32"}, {"dtype": "bool"}],
          "clip": [{"min_value": -np.inf, "max_value": 1.0}, {"min_value": 0.0, "max_value": 6.0}]}


_BINARY = {name for name, _, _ in _BINARY_OPS} | {"divide", "pow", "bias_add"}


def _nodes(op):
    arity = 3 if op == "where" else 2 if op in _BINARY else 1
    for dtypes in itertools.product(_DTYPES[:4] + ("bool",), repeat=arity):
        if len(set(dtypes)) > 2 or (arity == 3 and dtypes[0] != "bool"):
            continue
        for attrs in _ATTRS.get(op, [{}]):
            ins = [Node("input", (), {}, (TensorType((2,), dt),), name=f"x{i}").outputs[0]
                   for i, dt in enumerate(dtypes)]
            try:
                types = get_op(op).infer([t.type for t in ins], attrs)
            except (ValueError, TypeError):
                continue
            yield Node(op, tuple(ins), attrs, types)


@pytest.mark.parametrize("cls", DIALECTS, ids=lambda c: c.target)
def test_every_rule_writes_valid_python_in_every_dialect(cls):
    count = 0
    for op in sorted(set(RULES) - (set(UNSUPPORTED) if cls is CudaScalars else set())):
        for node in _nodes(op):
            d, w = _dialect(cls)
            args = [f"a{i}" for i in range(len(node.inputs))]
            expr = d.result(RULES[op](d, node, args), node.out_types[0].dtype)
            w.line(f"v = {expr}")
            ast.parse(w.text())
            count += 1
    assert count > 200


def _tree(rng, depth):
    """A random expression as (builder call, python value) over small ints."""
    if depth == 0 or rng.random() < 0.2:
        v = rng.randint(-3, 3)
        return (lambda d, v=v: f"({v})" if v < 0 else str(v)), v
    kind = rng.choice(["arith", "arith", "compare", "neg", "select", "not"])
    a, va = _tree(rng, depth - 1)
    b, vb = _tree(rng, depth - 1)
    if kind == "arith":
        op = rng.choice(["+", "-", "*", "|", "&", "**"])
        if op == "**":
            vb = abs(vb) % 3
            b = (lambda d, vb=vb: str(vb))
        value = eval(f"({va}) {op} ({vb})")
        return (lambda d: d.arith(op, a(d), b(d))), value
    if kind == "compare":
        op = rng.choice(["<", "<=", "==", "!=", ">", ">="])
        return (lambda d: d.compare(op, a(d), b(d))), eval(f"({va}) {op} ({vb})")
    if kind == "neg":
        return (lambda d: d.neg(a(d))), -va
    if kind == "not":
        return (lambda d: d.not_(a(d))), not va
    c, vc = _tree(rng, depth - 1)
    return (lambda d: d.select(c(d), a(d), b(d))), va if vc else vb


def test_builders_parenthesise_where_python_needs_it():
    d, _ = _dialect(CpuScalars)
    assert d.arith("-", "a", d.arith("-", "b", "c")) == "a - (b - c)"
    assert d.arith("-", d.arith("-", "a", "b"), "c") == "a - b - c"
    assert d.arith("*", "a", d.arith("+", "b", "c")) == "a * (b + c)"
    assert d.compare("<", d.compare("<", "a", "b"), "c") == "(a < b) < c"
    assert d.neg(d.arith("+", "a", "b")) == "-(a + b)"
    assert d.arith("**", d.neg("a"), "b") == "(-a) ** b"
    assert d.select("c", d.arith("*", "a", "b"), d.select("e", "f", "g")) == \
        "a * b if c else (f if e else g)"
    rng = random.Random(0)
    for _ in range(300):
        build, value = _tree(rng, 4)
        text = build(d)
        assert eval(text) == value, text


def test_one_lit_for_every_target():
    assert lit(0.5, "float32") == "np.float32(0.5)"
    assert lit(float("nan"), "float64") == "np.float64(np.nan)"
    assert lit(-np.inf, "float32") == "np.float32(-np.inf)"
    assert lit(3, "uint8") == "np.uint8(3)" and lit(1, "bool") == "True"
    for cls in DIALECTS:
        d, _ = _dialect(cls)
        assert d.lit(-np.inf, "float32") == lit(-np.inf, "float32")


def test_integer_clip_with_bounds_beyond_the_dtype_compiles_on_cpu():
    # the bound outside the dtype's range (here -inf) clamps nothing, as in the interpreter
    x = placeholder_node((None, 3), "int32", "x")
    y = placeholder_node((None, 3), "uint8", "y")
    graph = Graph([x, y], [call("clip", x, min_value=-np.inf, max_value=2.0),
                           call("clip", y, min_value=-1.0, max_value=300.0),
                           call("sign", x)])
    feeds = [np.array([[-2**31, -1, 5], [0, 2, 3]], np.int32),
             np.array([[0, 7, 255], [1, 2, 3]], np.uint8)]
    want = compile_graph(graph, "interpreter")(feeds)
    got = compile_graph(graph, "cpu")(feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(got[0], [[-2**31, -1, 2], [0, 2, 2]])
