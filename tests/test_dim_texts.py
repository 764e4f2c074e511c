"""Sizes the cpu generator only knows as expressions (a padded batch axis,
``x.shape[0] + 0``; a tiled, repeated or joined one) stay whole when later
code multiplies them or takes them modulo: each is written bracketed. A
causal Conv1D before an LSTM once allocated its product's 16-column buffer
``x.shape[0] + 0 * 12`` rows long (the batch, not batch x steps) and wrote
past it."""
import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model


@pytest.mark.parametrize("batch", [1, 3, 9])
def test_causal_conv_then_lstm(batch):
    K.clear_session()
    x = Input((12, 3))
    model = Model(x, layers.LSTM(5)(layers.Conv1D(6, 3, padding="causal")(x)))
    compiled = symkb.compile(model, target="cpu")
    # the composed batch size, bracketed, sizes every buffer the product writes
    assert "lstm_matmul = empty(((input_1.shape[0] + 0), 12, 20), np.float32)" in compiled.source
    value = np.random.default_rng(batch).normal(size=(batch, 12, 3)).astype("float32")
    want = symkb.compile(model, target="interpreter")(value)
    np.testing.assert_allclose(compiled(value), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda a, b: K.tile(a, (2, 1, 1)),
    lambda a, b: K.repeat_elements(a, 3, axis=0),
    lambda a, b: K.concatenate([a, b], axis=0),
    lambda a, b: K.tile(K.concatenate([a, b], axis=0), (1, 2, 1)),
], ids=["tile", "repeat", "join", "join_tile"])
def test_products_and_tiles_of_composed_batch_sizes(make):
    K.clear_session()
    a, b = K.placeholder(shape=(None, 4, 3)), K.placeholder(shape=(None, 4, 3))
    kernel = np.random.default_rng(0).normal(size=(3, 20)).astype("float32")
    joined = make(a, b)
    y = K.tanh(K.dot(joined, K.variable(kernel)))
    z = K.tile(joined, (2, 1, 1)) * 2.0
    compiled = K.function([a, b], [y, z], target="cpu")
    interp = K.function([a, b], [y, z], target="interpreter")
    rng = np.random.default_rng(1)
    args = [rng.normal(size=(3, 4, 3)).astype("float32"),
            rng.normal(size=(3, 4, 3)).astype("float32")]
    for got, want in zip(compiled(args), interp(args), strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_softmax_rows_beside_a_product_and_a_batched_product_compile():
    # with the softmax's reciprocal written as one expression of the sum, numba
    # failed to type this function's (unrelated) reshape of the batched
    # product's result; the reciprocal is now a statement of its own
    K.clear_session()
    x = K.placeholder(shape=(None, 6, 5))
    w = K.variable(np.linspace(-1, 1, 5 * 33, dtype=np.float32).reshape(5, 33))
    outs = [K.dot(K.softmax(x, axis=1), w), K.batch_dot(x, x, axes=(2, 2))]
    compiled = K.function([x], outs, target="cpu")
    interp = K.function([x], outs, target="interpreter")
    value = np.random.default_rng(5).normal(size=(3, 6, 5)).astype("float32")
    for got, want in zip(compiled([value]), interp([value]), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
