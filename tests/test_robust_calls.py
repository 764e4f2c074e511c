"""Edge cases of calls: the interpreter and the cpu target agree with each
other and with tf (``tests/goldens/robust_calls.json``, written by
``tools/goldens_robust_calls.py`` from real tf_keras) on empty reduced axes,
integer powers with negative exponents, out-of-range indices; inputs in
non-native byte order are converted."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.lower import compile_graph

GOLDEN = json.loads((pathlib.Path(__file__).parent / "goldens" / "robust_calls.json")
                    .read_text())["cases"]

TABLE = np.arange(12, dtype=np.float32).reshape(4, 3)

# case name -> the same computation in symkb (tools/goldens_robust_calls.py has tf's)
BUILD = {
    "max_empty_axis0": lambda x: K.max(x, axis=0),
    "min_empty_axis0": lambda x: K.min(x, axis=0),
    "max_empty_all": lambda x: K.max(x),
    "sum_empty_axis0": lambda x: K.sum(x, axis=0),
    "prod_empty_axis0": lambda x: K.prod(x, axis=0),
    "mean_empty_axis0": lambda x: K.mean(x, axis=0),
    "logsumexp_empty_axis0": lambda x: K.logsumexp(x, axis=0),
    "int_max_empty_axis0": lambda x: K.max(x, axis=0),
    "int_min_empty_axis0": lambda x: K.min(x, axis=0),
    "argmax_empty_axis0": lambda x: K.argmax(x, axis=0),
    "argmin_empty_axis0": lambda x: K.argmin(x, axis=0),
    "argmax_empty_rows": lambda x: K.argmax(x, axis=-1),
    "int_pow_negative_constant": lambda x: K.pow(x, -2),
    "int_pow_negative_tensor": lambda x: K.pow(x, x - 2),
    "int_pow_zero_and_positive": lambda x: K.pow(x, x - 1),
    "gather_out_of_range": lambda i: K.gather(TABLE, i),
    "gather_negative": lambda i: K.gather(TABLE, i),
    "one_hot_out_of_range": lambda i: K.one_hot(i, 3),
    "softmax_empty_axis": lambda x: K.softmax(x),
    "getitem_out_of_range": lambda x: x[5],
    "getitem_negative_out_of_range": lambda x: x[-3],
    "mean_big_endian": lambda x: K.mean(x, axis=1),
}

# what symkb's error says for each refusal tf makes (tf's words where it has them)
MESSAGES = {
    "argmax_empty_axis0": "Reduction axis 0 is empty",
    "argmin_empty_axis0": "Reduction axis 0 is empty",
    "int_pow_negative_constant": "Integers to negative integer powers are not allowed",
    "int_pow_negative_tensor": "Integers to negative integer powers are not allowed",
    "gather_out_of_range": "indices must be in [0, 4), received 5",
    "gather_negative": "indices must be in [0, 4), received -1",
    "getitem_out_of_range": "index 5 is out of bounds for axis 0 with size 2",
    "getitem_negative_out_of_range": "index -3 is out of bounds for axis 0 with size 2",
}


def _input(case):
    return np.array(case["input"], dtype=np.dtype(case["input_dtype"])) \
        .reshape(case["input_shape"])


def _outcome(executable, x):
    try:
        out = executable(x)
    except Exception as exc:  # the outcome compared below
        return exc
    return out[0] if isinstance(out, list) else out


def test_every_golden_case_is_covered():
    assert set(BUILD) == set(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_interpreter_and_cpu_agree_with_tf(name):
    case = GOLDEN[name]
    x = _input(case)
    dtype = np.dtype(case["input_dtype"]).newbyteorder("=").name
    placeholder = K.placeholder(shape=(None,) + x.shape[1:], dtype=dtype)
    graph = K.function([placeholder], [BUILD[name](placeholder)]).graph
    results = {target: _outcome(compile_graph(graph, target), x)
               for target in ("interpreter", "cpu")}
    interpreted, compiled = results["interpreter"], results["cpu"]
    if "raises" in case:
        for target, result in results.items():
            assert isinstance(result, Exception), f"{target} returned {result!r}; tf raises"
            assert MESSAGES[name] in str(result), f"{target}: {result}"
        assert type(interpreted) is type(compiled)
        assert isinstance(interpreted, (ValueError, IndexError))
        # the same words (the compiled call's shape guard adds what did not fit)
        assert str(interpreted) in str(compiled)
        return
    expected = np.array(case["value"], dtype=case["dtype"]).reshape(case["shape"])
    for target, result in results.items():
        assert not isinstance(result, Exception), f"{target} raised {result!r}"
        assert result.shape == expected.shape, target
        assert result.dtype == expected.dtype, (target, result.dtype)
        np.testing.assert_allclose(result, expected, rtol=1e-6, equal_nan=True,
                                   err_msg=target)


@pytest.mark.parametrize("name", ["argmax_empty_axis0", "int_pow_negative_tensor",
                                  "gather_out_of_range", "softmax_empty_axis"])
def test_eager_calls_agree(name):
    """The eager path runs the same references: the same value or error."""
    case = GOLDEN[name]
    x = _input(case)
    if "raises" in case:
        with pytest.raises((ValueError, IndexError), match=MESSAGES[name].replace("[", r"\[")
                           .replace(")", r"\)")):
            BUILD[name](x)
    else:
        assert BUILD[name](x).shape == tuple(case["shape"])


# -- byte order -------------------------------------------------------------------

@pytest.mark.parametrize("order", [">", "<"])
@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_non_native_inputs_are_converted(order, target):
    x = K.placeholder(shape=(None, 3))
    captured = np.array([1.0, -2.0, 0.5, 3.0], dtype=f"{order}f4")  # a captured constant
    weights = K.variable(np.arange(12, dtype=f"{order}f8").reshape(3, 4) / 10)
    y = K.tanh(K.dot(x, weights)) * captured
    f = compile_graph(K.function([x], [y]).graph, target)
    for dtype in (f"{order}f4", f"{order}f8", f"{order}i8"):
        a = np.arange(6).reshape(2, 3).astype(dtype)
        out = _outcome(f, a)
        assert not isinstance(out, Exception), out
        kernel = (np.arange(12, dtype=np.float64).reshape(3, 4) / 10).astype(np.float32)
        ref = np.tanh(a.astype(np.float32) @ kernel) * np.float32([1.0, -2.0, 0.5, 3.0])
        assert out.dtype == np.float32 and out.dtype.isnative
        np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_model_with_big_endian_inputs_and_weights():
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu")])
    kernel = np.array([[1.0, -1.0], [0.5, 2.0], [-0.25, 1.0]], dtype=">f4")
    bias = np.array([0.1, -0.2], dtype=">f8")
    model.set_weights([kernel, bias])
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]], dtype=">f4")
    expected = np.maximum(x.astype(np.float32) @ kernel.astype(np.float32)
                          + bias.astype(np.float32), 0)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)
    np.testing.assert_allclose(model(x), expected, rtol=1e-6)      # eager call


def test_eager_reductions_of_big_endian_arrays():
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    native = a.astype(np.float32)
    for name in ("sum", "mean", "prod", "max", "std", "var"):
        np.testing.assert_allclose(getattr(K, name)(a, axis=1),
                                   getattr(np, name)(native, axis=1), rtol=1e-6,
                                   err_msg=name)


EMPTY_OPS = {
    "sum": lambda x, a: K.sum(x, axis=a), "prod": lambda x, a: K.prod(x, axis=a),
    "max": lambda x, a: K.max(x, axis=a), "min": lambda x, a: K.min(x, axis=a),
    "mean": lambda x, a: K.mean(x, axis=a), "std": lambda x, a: K.std(x, axis=a),
    "any": lambda x, a: K.any(x, axis=a), "logsumexp": lambda x, a: K.logsumexp(x, axis=a),
    "cumsum": lambda x, a: K.cumsum(x, axis=a), "softmax": lambda x, a: K.softmax(x, axis=a),
    "l2_normalize": lambda x, a: K.l2_normalize(x, axis=a),
    "argmin": lambda x, a: K.argmin(x, axis=a),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("shape,axis", [((0, 3), 0), ((2, 0), 1)], ids=["rows", "columns"])
@pytest.mark.parametrize("op", sorted(EMPTY_OPS))
def test_empty_axes_agree(op, shape, axis):
    """The interpreter (the oracle) and the cpu target: the same value or the same error."""
    x = K.placeholder(shape=(None, None))
    graph = K.function([x], [EMPTY_OPS[op](x, axis)]).graph
    a = np.zeros(shape, np.float32)
    interpreted = _outcome(compile_graph(graph, "interpreter"), a)
    compiled = _outcome(compile_graph(graph, "cpu"), a)
    if isinstance(interpreted, Exception):
        assert type(compiled) is type(interpreted) and str(compiled) == str(interpreted)
        assert op == "argmin"       # the one op tf refuses on an empty axis
        return
    assert not isinstance(compiled, Exception), compiled
    assert compiled.shape == interpreted.shape and compiled.dtype == interpreted.dtype
    np.testing.assert_array_equal(compiled, interpreted)
