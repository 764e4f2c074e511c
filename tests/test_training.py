"""Training with ``compile``/``fit``: resuming after ``save``, callbacks, bad input.

The tf_keras goldens are in ``test_training_goldens.py``; this module checks
what they cannot: a saved-and-loaded model continues bit for bit, callbacks
stop training where they should, and bad input raises an error naming what
was wrong while the weights stay as they were.
"""
from __future__ import annotations

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import callbacks, layers, optimizers

RNG = np.random.default_rng(5)
X = RNG.normal(size=(20, 4)).astype("float32")
Y = RNG.normal(size=(20, 2)).astype("float32")


def _mlp(name="mlp"):
    model = symkb.Sequential([layers.Input((4,)), layers.Dense(5, activation="tanh"),
                              layers.Dense(2)], name=name)
    model.set_weights([RNG.normal(size=w.shape).astype("float32") * 0.5
                       for w in model.weights])
    return model


def test_resume_after_save_continues_bit_for_bit(tmp_path):
    start = _mlp().get_weights()
    straight = _mlp("straight")
    straight.set_weights(start)
    straight.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae"],
                     target="cpu")
    straight.fit(X, Y, batch_size=8, epochs=4, shuffle=False, verbose=0)
    # batches of 8, 8 and 4 rows: the last, partial batch reuses the one kernel
    assert straight._training.train_fn.calls == {"kernel": 12, "interpreter": 0}
    assert K.get_value(straight.optimizer.iterations) == 12

    halted = _mlp("halted")
    halted.set_weights(start)
    halted.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae"],
                   target="cpu")
    halted.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    halted.save(tmp_path / "halted.symkb")
    resumed = symkb.models.load_model(tmp_path / "halted.symkb")
    assert int(resumed.optimizer.iterations.numpy()) == 6
    history = resumed.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert resumed._training.train_fn.target == "cpu"
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(history.history) == ["loss", "mae"]


def _compiled(target="interpreter", **kwargs):
    model = _mlp()
    model.compile(optimizer=kwargs.pop("optimizer", optimizers.SGD(0.1)),
                  loss=kwargs.pop("loss", "mse"), target=target, **kwargs)
    return model


def test_early_stopping_stops_at_the_right_epoch():
    # the rate drops to 0 after epoch 2: epoch 3 still improves (its loss is
    # measured at the final weights), epochs 4 and 5 do not: patience 2 stops at 5
    model = _compiled()
    rate = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 if epoch < 3 else 0.0)
    stop = callbacks.EarlyStopping(monitor="loss", patience=2)
    history = model.fit(X, Y, batch_size=10, epochs=20, shuffle=False, verbose=0,
                        callbacks=[rate, stop])
    losses = history.history["loss"]
    assert len(losses) == 6 and stop.stopped_epoch == 5
    assert losses[3] < losses[2] and losses[4] == losses[3] == losses[5]


def test_terminate_on_nan_stops_at_the_batch():
    model = _compiled()
    y = Y.copy()
    y[12] = np.nan  # the second batch of 10
    history = model.fit(X, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert model._training.train_fn.calls["interpreter"] == 2
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])


def test_validation_split_sample_and_class_weights():
    model = _compiled(metrics=["mse"])
    weights = np.linspace(0, 1, 20)
    history = model.fit(X, Y, batch_size=6, epochs=2, shuffle=False, verbose=0,
                        validation_split=0.25, sample_weight=weights)
    assert sorted(history.history) == ["loss", "mse", "val_loss", "val_mse"]
    # the validation rows are the last 5, with their sample weights (tf_keras)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(X[15:], Y[15:], sample_weight=weights[15:],
                                              verbose=0)[0], rtol=1e-6)
    classes = symkb.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    classes.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"], target="interpreter")
    labels = np.arange(20) % 3
    plain = classes.test_on_batch(X, labels)
    weighted = classes.evaluate(X, labels, sample_weight=np.where(labels == 1, 2.0, 1.0),
                                verbose=0)
    by_class = classes.fit(X, labels, batch_size=20, epochs=1, verbose=0, shuffle=False,
                           class_weight={0: 1.0, 1: 2.0, 2: 1.0}).history["loss"][0]
    assert plain[0] != weighted[0] and by_class == pytest.approx(weighted[0], rel=1e-6)


@pytest.mark.parametrize("bad, error, words", [
    (lambda m: m.compile(optimizer="sgd", loss="mean_sqared_error"), ValueError,
     ["mean_sqared_error"]),
    (lambda m: m.compile(optimizer="adamax_typo", loss="mse"), ValueError, ["adamax_typo"]),
    (lambda m: m.fit(X, Y[:, :1].repeat(3, axis=1), verbose=0), ValueError,
     ["target", "dense_1", "(20, 3)", "expected 2"]),
    (lambda m: m.fit(X, Y[:15], verbose=0), ValueError, ["cardinality", "20", "15"]),
    (lambda m: m.train_on_batch(X, Y, sample_weight=np.ones(3)), ValueError,
     ["sample_weight", "(3,)"]),
])
def test_bad_input_is_named_and_leaves_the_weights(bad, error, words):
    model = _compiled()
    before = model.get_weights()
    with pytest.raises(error) as info:
        bad(model)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_initial_epoch_and_steps_per_epoch():
    model = _compiled()
    history = model.fit(X, Y, batch_size=4, epochs=3, initial_epoch=1, steps_per_epoch=2,
                        shuffle=False, verbose=0)
    assert history.epoch == [1, 2] and model._training.train_fn.calls["interpreter"] == 4


def test_dropout_acts_in_training_only_and_recurrent_dropout_too():
    model = symkb.Sequential([layers.Input((6,)),
                              layers.Dense(16, kernel_initializer="ones", use_bias=False),
                              layers.Dropout(0.5),
                              layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse", target="interpreter")
    x, y = np.ones((64, 6), "float32"), np.zeros((64, 1), "float32")
    assert model.evaluate(x, y, verbose=0) == 96.0 ** 2  # inference: nothing dropped
    first, second = model.train_on_batch(x, y), model.train_on_batch(x, y)
    assert first != second and first != 96.0 ** 2  # a new mask every step
    assert 0.5 * 96.0 ** 2 < np.mean([first, second]) < 2.0 * 96.0 ** 2
    recurrent = symkb.Sequential([layers.Input((3, 2)), layers.LSTM(3, recurrent_dropout=0.2),
                                  layers.Dense(1)])
    recurrent.compile(optimizer=optimizers.SGD(0.0), loss="mse", target="interpreter")
    xr, yr = RNG.normal(size=(8, 3, 2)).astype("float32"), np.ones((8, 1), "float32")
    assert recurrent.evaluate(xr, yr, verbose=0) == recurrent.evaluate(xr, yr, verbose=0)
    losses = {recurrent.train_on_batch(xr, yr) for _ in range(3)}
    assert len(losses) == 3  # the recurrent masks are drawn anew at every step
