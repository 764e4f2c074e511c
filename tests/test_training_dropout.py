"""Dropout of the recurrent layers in training (tf_keras semantics).

Structural checks with real values on the interpreter: the masks are drawn
once per sequence (the same dropped features at every step), hold only 0
and ``1 / (1 - rate)``, LSTM and GRU draw one per gate when
``recurrent_dropout`` is set, about ``rate`` of the entries are zero, and
inference is untouched. The gradient of a SimpleRNN with both dropouts,
compiled for the cpu, matches finite differences of a numpy forward pass
that uses the masks the same run drew.
"""
from __future__ import annotations

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.models.training_forward import training_forward

RNG = np.random.default_rng(11)


def _identity_rnn(rate, recurrent=0.0):
    """A linear SimpleRNN whose output at each step is its input (times the mask)."""
    model = symkb.Sequential([layers.Input((5, 4)),
                              layers.SimpleRNN(4, activation="linear", dropout=rate,
                                               recurrent_dropout=recurrent,
                                               return_sequences=True)])
    model.set_weights([np.eye(4, dtype="float32"), np.zeros((4, 4), "float32"),
                       np.zeros(4, "float32")])
    return model


def test_one_input_mask_per_sequence_scaled_and_inference_unchanged():
    model = _identity_rnn(0.4)
    outputs, _ = training_forward(model)
    fn = K.function(model.inputs, outputs, target="interpreter")
    x = np.ones((200, 5, 4), "float32")
    (seq,) = fn([x])
    # every step shows the same mask: input * mask with an identity kernel
    np.testing.assert_array_equal(seq, np.broadcast_to(seq[:, :1], seq.shape))
    assert set(np.unique(seq)) == {0.0, np.float32(1 / 0.6)}
    assert 0.3 < np.mean(seq == 0.0) < 0.5
    assert len({seq[i, 0].tobytes() for i in range(200)}) > 8  # per sample (of 16)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference: no mask
    np.testing.assert_array_equal(model(x), x)
    (again,) = fn([x])
    assert not np.array_equal(again, seq)  # a new draw at every run


@pytest.mark.parametrize("make,gates", [
    (lambda: layers.LSTM(3, dropout=0.5, recurrent_dropout=0.25), 4),
    (lambda: layers.GRU(3, dropout=0.5, recurrent_dropout=0.25), 3),
    (lambda: layers.GRU(3, dropout=0.5, recurrent_dropout=0.25, reset_after=False), 3),
    (lambda: layers.LSTM(3, dropout=0.5), 1)])
def test_gated_cells_draw_a_mask_per_gate_with_recurrent_dropout(make, gates):
    model = symkb.Sequential([layers.Input((4, 2)), make()])
    outputs, _ = training_forward(model)
    dp, rdp = model.layers[0].cell._dropout_masks
    assert len(dp) == gates and (rdp is None if gates == 1 else len(rdp) == gates)
    masks = dp + (rdp or [])
    fn = K.function(model.inputs, outputs + masks, target="interpreter")
    x = RNG.normal(size=(64, 4, 2)).astype("float32")
    values = fn([x])
    assert values[0].shape == (64, 3)
    for m, rate in zip(values[1:], [0.5] * len(dp) + [0.25] * len(rdp or [])):
        assert set(np.unique(m)) == {0.0, np.float32(1 / (1 - rate))}
    if gates > 1:  # independent draws
        assert not np.array_equal(values[1], values[2])
    inference = model.predict(x, verbose=0)
    assert not np.allclose(values[0], inference)
    np.testing.assert_array_equal(inference, model.predict(x, verbose=0))


def _numpy_rnn_loss(x, kernel, recurrent, bias, dp, rdp):
    h = np.zeros((x.shape[0], kernel.shape[1]))
    for t in range(x.shape[1]):
        h = np.tanh((x[:, t] * dp) @ kernel + bias + (h * rdp) @ recurrent)
    return np.sum(h ** 2)


def test_compiled_gradient_flows_through_the_masked_steps():
    model = symkb.Sequential([layers.Input((3, 2)),
                              layers.SimpleRNN(3, dropout=0.3, recurrent_dropout=0.3)])
    outputs, _ = training_forward(model)
    cell = model.layers[0].cell
    (dp,), (rdp,) = cell._dropout_masks
    loss = K.sum(K.square(outputs[0]))
    params = model.trainable_weights
    fn = K.function(model.inputs, [loss, dp, rdp] + K.gradients(loss, params), target="cpu")
    x = RNG.normal(size=(4, 3, 2)).astype("float32")
    value, dp_v, rdp_v, *grads = fn([x])
    weights = [w.astype("float64") for w in model.get_weights()]
    args = (x.astype("float64"), *weights, dp_v, rdp_v)
    assert value == pytest.approx(_numpy_rnn_loss(*args), rel=1e-5)
    eps = 1e-6
    for k, grad in enumerate(grads):
        numeric = np.zeros_like(weights[k])
        for i in np.ndindex(*weights[k].shape):
            up = [w.copy() for w in weights]
            down = [w.copy() for w in weights]
            up[k][i] += eps
            down[k][i] -= eps
            numeric[i] = (_numpy_rnn_loss(args[0], *up, dp_v, rdp_v)
                          - _numpy_rnn_loss(args[0], *down, dp_v, rdp_v)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-4,
                                   err_msg=f"gradient of {params[k].name}")
    assert np.any(dp_v == 0.0) or np.any(rdp_v == 0.0)
