"""``fit`` with BatchNormalization and regularization losses, against tf_keras.

``tools/goldens_training_extras.py`` trained each model with tf_keras (SGD
with momentum, 3 epochs, ``shuffle=False``): the per-epoch losses (with the
regularization terms, as tf_keras reports them), the weights after training
(the moving mean and variance among them) and ``evaluate``'s results must
match to 1e-4 relative. The runs use the interpreter (the oracle); one BN
run compiles for the cpu, where the moving statistics' updates are part of
the one compiled train step.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers, optimizers

HERE = os.path.join(os.path.dirname(__file__), "goldens")
with open(os.path.join(HERE, "training_extras.json")) as _fh:
    DOC = json.load(_fh)
GOLD = dict(np.load(os.path.join(HERE, "training_extras.npz")))
RUNS = {r["id"]: r for r in DOC["runs"]}
RTOL, ATOL = 1e-4, 1e-6


def _add_loss_model():
    x = layers.Input((4,), name="x")
    h = layers.Dense(5, activation="relu", name="hidden")(x)
    out = layers.Dense(2, name="out")(h)
    model = symkb.Model(x, out, name="add_loss")
    model.add_loss(0.1 * K.mean(K.square(h)))
    return model


def _model(run):
    if run["model"] == "add_loss":
        model = _add_loss_model()
    else:
        model = symkb.models.model_from_json(json.dumps(DOC["models"][run["model"]]))
    model.set_weights([GOLD[f"{run['model']}/w0_{k}"] for k in range(run["n_weights"])])
    return model


def _train(run, target, evaluate=True):
    model = _model(run)
    model.compile(optimizer=optimizers.deserialize(run["optimizer"]), loss=run["loss"],
                  metrics=run["metrics"], target=target)
    x, y = GOLD[f"{run['model']}/x0"], GOLD[f"{run['model']}/y0"]
    history = model.fit(x, y, batch_size=run["batch_size"], epochs=DOC["epochs"],
                        shuffle=False, verbose=0)
    evaluated = model.evaluate(x, y, batch_size=run["batch_size"], verbose=0,
                               return_dict=True) if evaluate else {}
    return model, history, evaluated


def _check(run, model, history, evaluated):
    assert set(history.history) == set(run["history"])
    for key, values in run["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: history {key}")
    for k, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, GOLD[f"{run['id']}/w_{k}"], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: weight {k}")
    for key, value in run["evaluate"].items() if evaluated else ():
        np.testing.assert_allclose(evaluated[key], value, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: evaluate {key}")


@pytest.mark.parametrize("run_id", ["bn_mlp/sgd", "bn_cnn/sgd"])
def test_batch_normalization_fit_matches_tf_keras(run_id):
    run = RUNS[run_id]
    model, history, evaluated = _train(run, "interpreter")
    _check(run, model, history, evaluated)
    bn = next(layer for layer in model.layers if "batch_normalization" in layer.name)
    assert not np.allclose(K.get_value(bn.moving_mean), 0.0)  # the statistics moved


def test_compiled_batch_normalization_step_updates_the_moving_statistics():
    run = RUNS["bn_mlp/sgd"]
    model, history, evaluated = _train(run, "cpu", evaluate=False)  # one compile
    _check(run, model, history, evaluated)
    assert model._training.train_fn.calls == {"kernel": 9, "interpreter": 0}


@pytest.mark.parametrize("run_id", ["reg_mlp/sgd", "reg_rnn/sgd", "add_loss/sgd"])
def test_regularization_losses_match_tf_keras(run_id):
    run = RUNS[run_id]
    model = _model(run)
    x = GOLD[f"{run['model']}/x0"]
    first = K.function(model.inputs, [sum(model.losses[1:], model.losses[0])],
                       target="interpreter")([x[:run["batch_size"]]])[0]
    np.testing.assert_allclose(first, run["losses"], rtol=RTOL)
    _check(run, *_train(run, "interpreter"))


def test_regularizers_round_trip_their_config_and_refuse_what_symkb_cannot_apply():
    from symkb import regularizers
    dense = layers.Dense(3, kernel_regularizer=regularizers.L2(0.02), bias_regularizer="l1")
    config = dense.get_config()
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["kernel_regularizer"]["config"] == {"l2": pytest.approx(0.02)}
    again = layers.Dense.from_config(config)
    for layer in (dense, again):
        layer.build((None, 2))
        layer.set_weights([np.full((2, 3), -2.0, "float32"), np.ones(3, "float32")])
    values = [K.function([], layer.losses, target="interpreter")([]) for layer in (dense, again)]
    np.testing.assert_allclose(values[0], [0.02 * 4.0 * 6, 0.01 * 3.0], rtol=1e-6)
    np.testing.assert_allclose(values[1], values[0], rtol=0)
    odd = layers.Dense(2, kernel_regularizer="orthogonal_regularizer")
    odd.build((None, 2))  # loads for inference; refused when the losses are read
    with pytest.raises(ValueError, match=r"dense.*kernel_regularizer.*"
                                         r"orthogonal_regularizer.*symkb applies"):
        odd.losses


def test_fit_calls_the_batch_hooks_a_callback_defines_and_takes_1d_targets():
    from symkb import callbacks
    seen = []

    class Legacy(callbacks.Callback):  # on_batch_end: what on_train_batch_end calls
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    model = symkb.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse", target="interpreter")
    x = np.linspace(-1, 1, 30, dtype="float32").reshape(10, 3)
    y = x.sum(axis=1)  # (10,): a column for the (None, 1) output, as tf_keras expands it
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
                        callbacks=[Legacy()])
    assert [b for b, _ in seen] == [0, 1, 2]
    # (rounded to 6 places, a loss near 0.02 missed rel=1e-5 by its rounding)
    assert seen[-1][1] == pytest.approx(history.history["loss"][0], rel=1e-5)
    lambdas = []
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: lambdas.append(b))])
    assert lambdas == [0, 1]


def test_a_training_call_on_arrays_moves_the_moving_statistics_once():
    model = symkb.Sequential([layers.Input((3,)), layers.BatchNormalization(momentum=0.75)])
    x = np.arange(12, dtype="float32").reshape(4, 3)
    bn = model.layers[0]
    np.testing.assert_allclose(model(x), x / np.sqrt(1.0 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(K.get_value(bn.moving_mean), np.zeros(3))
    out = model(x, training=True)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(K.get_value(bn.moving_mean), 0.25 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(K.get_value(bn.moving_variance), 0.75 + 0.25 * x.var(0),
                               rtol=1e-6)
