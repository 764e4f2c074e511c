"""float16 graphs on the cpu target: widened to float32, every float16 result
rounded as TensorFlow and numpy round it, float16 back out (lower/float16.py).
The interpreter (numpy float16) is the oracle; a fallback is an error here."""
import warnings

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir
from symkb.lower.float16 import has_float16, widen_float16

RNG = np.random.default_rng(16)


def _compiled_pair(inputs, outputs):
    graph = ir.Graph(inputs, outputs, name="half")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cpu = symkb.compile(graph, target="cpu")
    assert type(cpu).__name__ == "CpuExecutable"
    assert "np.float16" not in cpu.source and "f16[" not in cpu.source
    return cpu, symkb.compile(graph, target="interpreter")


def _half(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype("float16")


def test_round_f16_is_numpys_float16_rounding_bit_for_bit():
    x = K.placeholder((None,), dtype="float32")
    f = symkb.compile(ir.Graph([x], [ir.call("round_float16", x)]), target="cpu")
    bits = RNG.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    values = np.concatenate([bits.view(np.float32), np.array(
        [0.0, -0.0, 65504, 65519.99, 65520, -65520, 2.9802322e-08, 2.98e-8, 6.1035156e-05,
         1.00048828125, np.inf, -np.inf, np.nan], np.float32)])
    got = f(values)
    with np.errstate(all="ignore"):
        want = values.astype(np.float16).astype(np.float32)
    same = (got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want))
    assert same.all(), values[~same][:5]


def test_elementwise_chain_rounds_every_result():
    x = K.placeholder((None, 7), dtype="float16")
    y = K.placeholder((None, 7), dtype="float16")
    out = K.tanh(x * y + 0.1) / (K.abs(y) + 1) - K.exp(x * 0.5)
    cpu, interp = _compiled_pair([x, y], [out])
    a, b = _half(5, 7, scale=3), _half(5, 7, scale=3)
    got, want = cpu([a, b]), interp([a, b])
    assert got.dtype == np.float16 == want.dtype
    # each op rounds to float16 in both: at most one float16 step apart
    np.testing.assert_allclose(got.astype("float32"), want.astype("float32"), rtol=2e-3, atol=1e-3)


def test_overflow_gives_inf_as_in_float16():
    x = K.placeholder((None,), dtype="float16")
    cpu, interp = _compiled_pair([x], [x * 300.0])
    a = np.array([100, 250, -300, 1], "float16")
    np.testing.assert_array_equal(cpu(a), interp(a))
    assert np.isinf(cpu(a)[1:3]).all()


def test_dot_softmax_sum_and_cast():
    x = K.placeholder((None, 6), dtype="float16")
    w = K.variable(_half(6, 4), dtype="float16")
    h = K.softmax(K.dot(x, w))
    outs = [h, K.sum(h * 3, axis=1), K.cast(h * 100, "int32"), K.cast(x, "float32") + 1,
            K.mean(K.cast(x, "float16"), axis=0)]
    cpu, interp = _compiled_pair([x], outs)
    a = _half(9, 6, scale=2)
    for got, want in zip(cpu(a), interp(a)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.astype("float64"), want.astype("float64"),
                                   rtol=2e-3, atol=2e-3)
    w.assign(_half(6, 4))  # a float16 Variable is read at call time, no recompile
    np.testing.assert_allclose(cpu(a)[0].astype("float32"), interp(a)[0].astype("float32"),
                               atol=2e-3)


def test_widened_graph_has_no_float16_and_rounds_each_result():
    x = K.placeholder((None, 3), dtype="float16")
    graph = ir.Graph([x], [K.relu(x * 2.0 + 1.0)])
    wide = widen_float16(graph)
    assert has_float16(graph) and not has_float16(wide)
    ops = [n.op for n in wide.nodes]
    assert ops.count("round_float16") == 3, ops


@pytest.mark.parametrize("layer", ["SimpleRNN", "LSTM", "GRU"])
def test_float16_recurrent_layers_compile(layer):
    from symkb import layers
    K.set_floatx("float16")
    try:
        inp = layers.Input((5, 3))
        model = symkb.Model(inp, getattr(layers, layer)(4, return_sequences=True)(inp))
    finally:
        K.set_floatx("float32")
    cpu, interp = _compiled_pair(list(model.inputs), list(model.outputs))
    a = _half(3, 5, 3)
    got, want = cpu(a), interp(a)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype("float32"), want.astype("float32"), atol=2e-3)
