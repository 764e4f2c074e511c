"""Compiled code never runs on input shapes it was not built for: inputs that
disagree on an unknown size get numpy's answer (broadcast or error)."""
import warnings

import numpy as np
import pytest

from symkb import FallbackWarning
from symkb import backend as K


@pytest.fixture(scope="module")
def add_two():
    x = K.placeholder(shape=(None, 4), name="x")
    y = K.placeholder(shape=(None, 4), name="y")
    return K.function([x, y], K.tanh(x * 2.0 + y))


def test_equal_unknown_sizes_run_the_kernel(add_two):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    np.testing.assert_allclose(add_two([a, a]), np.tanh(a * 2 + a), rtol=1e-6)
    assert add_two.target == "cpu"


def test_size_one_batch_broadcasts_like_numpy(add_two):
    a = np.ones((1, 4), np.float32)
    b = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    before = add_two.calls
    with pytest.warns(FallbackWarning, match=r"graph 'function' for inputs of shapes "
                      r"\[\(1, 4\), \(3, 4\)\].*add broadcasts operands of shapes \(1, 4\) and "
                      r"\(3, 4\) on an unknown axis.*"
                      "interpreter"):
        np.testing.assert_allclose(add_two([a, b]), np.tanh(a * 2 + b), rtol=1e-6)
    with pytest.warns(FallbackWarning, match=r"\[\(3, 4\), \(1, 4\)\]"):
        np.testing.assert_allclose(add_two([b, a]), np.tanh(b * 2 + a), rtol=1e-6)
    # once per tuple of shapes: the same shapes again run on numpy without a new warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(add_two([a, b]), np.tanh(a * 2 + b), rtol=1e-6)
    assert add_two.target == "cpu"
    assert add_two.calls == {"kernel": before["kernel"],
                             "interpreter": before["interpreter"] + 3}
    add_two([b, b])
    assert add_two.calls["kernel"] == before["kernel"] + 1


def test_incompatible_sizes_raise_instead_of_reading_out_of_bounds(add_two):
    with pytest.raises(ValueError, match="broadcast"):
        add_two([np.ones((2, 4), np.float32), np.ones((3, 4), np.float32)])


def test_single_input_of_any_batch_uses_the_kernel():
    from symkb.lower.shape_guard import ShapeGuard
    x = K.placeholder(shape=(None, None, 3))
    f = K.function([x], K.sum(x, axis=1))
    guard = ShapeGuard(f.graph)
    assert guard.fits([np.ones((1, 7, 3))]) and guard.fits([np.ones((5, 2, 3))])
    np.testing.assert_allclose(f([np.ones((1, 7, 3), np.float32)]), np.full((1, 3), 7.0))


def test_a_slice_of_an_unknown_axis_broadcasts_like_numpy():
    q = K.placeholder(shape=(None, 4))
    x = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    ratio = K.function([q], [q / q[0:1]])
    with pytest.warns(FallbackWarning, match=r"divide broadcasts operands of shapes \(3, 4\) "
                      r"and \(1, 4\) on an unknown axis"):
        np.testing.assert_allclose(ratio([x])[0], x / x[0:1], rtol=1e-6)
    weighted = K.function([q], [K.sum(q[0:1] * q, axis=1)])
    with pytest.warns(FallbackWarning, match="multiply broadcasts"):
        np.testing.assert_allclose(weighted([x])[0], np.sum(x[0:1] * x, axis=1), rtol=1e-6)
    # a batch of one is no broadcast: the kernel runs it
    np.testing.assert_allclose(ratio([x[:1]])[0], np.ones((1, 4)), rtol=1e-6)
    assert ratio.calls == {"kernel": 1, "interpreter": 1}
    assert weighted.calls == {"kernel": 0, "interpreter": 1}


def test_a_static_size_against_an_unknown_batch_is_numpys_error():
    q = K.placeholder(shape=(None, 4))
    f = K.function([q], [q * np.ones((2, 4), np.float32)])
    np.testing.assert_allclose(f([np.full((2, 4), 3.0, np.float32)])[0], np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match=r"multiply: operand shapes \(3, 4\) and \(2, 4\) "
                                         "cannot be broadcast together"):
        f([np.ones((3, 4), np.float32)])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_average_pooling_with_same_padding_on_an_unknown_batch(data_format):
    shape = (None, 6, 7, 3) if data_format == "channels_last" else (None, 3, 6, 7)
    p = K.placeholder(shape=shape)
    pooled = K.pool2d(p, (3, 3), strides=(2, 2), padding="same", pool_mode="avg",
                      data_format=data_format)
    v = np.random.default_rng(0).random((2,) + shape[1:]).astype(np.float32)
    f = K.function([p], [pooled])
    compiled = f([v])[0]
    reference = K.function([p], [pooled], target="interpreter")([v])[0]
    np.testing.assert_allclose(compiled, reference, rtol=1e-5, atol=1e-6)
    assert f.calls == {"kernel": 1, "interpreter": 0}  # the window counts broadcast statically


def test_recurrent_models_keep_the_kernel():
    import symkb
    from symkb import layers
    for layer in (layers.LSTM(8, return_sequences=True), layers.GRU(8),
                  layers.Bidirectional(layers.LSTM(3))):
        model = symkb.Sequential([layers.Input((5, 3)), layers.Masking(0.0), layer,
                                  layers.Dense(2)])
        exe = symkb.compile(model, target="cpu")
        assert exe._guard.fits([np.ones((4, 5, 3), np.float32)])
        assert exe._guard.fits([np.ones((1, 5, 3), np.float32)])


def test_an_already_optimised_graph_is_guarded_inside_its_fused_nodes():
    import symkb
    q = K.placeholder(shape=(None, 4))
    x = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    # compiling a K.function's graph again compiles the graph after its passes,
    # where the divide sits in a fused_elementwise body
    ratio = symkb.compile(K.function([q], [q / q[0:1]]), target="cpu")
    assert any(n.op == "fused_elementwise" for n in ratio._guard._graph.nodes)
    with pytest.warns(FallbackWarning, match=r"divide broadcasts operands of shapes \(3, 4\) "
                      r"and \(1, 4\) on an unknown axis \(in the body of fused_elementwise\)"):
        np.testing.assert_allclose(ratio(x)[0], x / x[0:1], rtol=1e-6)
    assert ratio.calls == {"kernel": 0, "interpreter": 1}
