"""Callbacks driven by a small fake model and a loop shaped like ``fit``
(no training needed), and the progress bar's text against tf_keras's
``Progbar`` on a fixed clock (``tests/goldens/losses.json``, "progbar")."""
import io
import json
from pathlib import Path

import numpy as np
import pytest

from symkb import backend as K
from symkb import callbacks as C
from symkb.utils.progbar import Progbar

GOLDENS = Path(__file__).parent / "goldens"
PROGBAR = json.loads((GOLDENS / "losses.json").read_text())["progbar"]


class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = K.variable(lr)


class FakeModel:
    """What callbacks use of a model: weights that change per epoch, a flag, saving."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights = [np.zeros(2, np.float32)]
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saved.append(("model", path))

    def save_weights(self, path):
        self.saved.append(("weights", path))


def fit(model, callbacks, epoch_logs, batch_losses=(1.0, 1.0), verbose=0):
    """Run the hooks as fit does: the epoch's weights are ``[epoch, epoch]``."""
    cbs = C.CallbackList(callbacks, add_history=True, model=model, verbose=verbose,
                         epochs=len(epoch_logs), steps=len(batch_losses))
    model.stop_training = False
    cbs.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        for batch, loss in enumerate(batch_losses):
            cbs.on_train_batch_begin(batch)
            model.weights = [np.full(2, epoch, np.float32)]
            cbs.on_train_batch_end(batch, {"loss": loss})
            if model.stop_training:
                break
        logs = dict(logs)
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
    return cbs.history


def curve(*values, key="val_loss"):
    return [{"loss": 1.0, key: v} for v in values]


def test_history_records_every_epoch_and_sets_model_history():
    model = FakeModel()
    history = fit(model, [], curve(3.0, 2.0, 1.0))
    assert history.epoch == [0, 1, 2]
    assert history.history == {"loss": [1.0, 1.0, 1.0], "val_loss": [3.0, 2.0, 1.0]}
    assert model.history is history


def test_early_stopping_stops_at_the_right_epoch():
    # best at epoch 2 (0.5); epochs 3, 4 do not improve by min_delta 0.05: stop at 4
    stop = C.EarlyStopping(patience=2, min_delta=0.05)
    history = fit(FakeModel(), [stop], curve(1.0, 0.8, 0.5, 0.47, 0.6, 0.1, 0.1))
    assert history.epoch == [0, 1, 2, 3, 4]
    assert stop.stopped_epoch == 4 and stop.best == 0.5 and stop.best_epoch == 2


def test_early_stopping_max_mode_baseline_start_and_restore():
    model = FakeModel()
    stop = C.EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True)
    fit(model, [stop], curve(0.5, 0.7, 0.6, 0.65, 0.9, key="val_accuracy"))
    assert stop.stopped_epoch == 2 and stop.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    # a baseline not reached: the first epoch's wait does not reset
    stop = C.EarlyStopping(patience=2, baseline=0.1)
    history = fit(FakeModel(), [stop], curve(1.0, 1.0, 1.0, 1.0))
    assert history.epoch == [0, 1] and stop.stopped_epoch == 1
    stop = C.EarlyStopping(patience=2)
    history = fit(FakeModel(), [stop], curve(1.0, 1.0, 1.0, 1.0))
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2
    # epochs before start_from_epoch are not watched
    stop = C.EarlyStopping(patience=0, start_from_epoch=3)
    history = fit(FakeModel(), [stop], curve(1.0, 2.0, 3.0, 4.0, 5.0))
    assert history.epoch == [0, 1, 2, 3, 4]


def test_terminate_on_nan_stops_at_the_first_bad_batch():
    out = io.StringIO()
    model = FakeModel()
    history = fit(model, [C.TerminateOnNaN(stream=out)], curve(1.0, 1.0, 1.0),
                  batch_losses=(0.5, float("nan"), 0.4))
    assert history.epoch == [0] and model.stop_training
    assert out.getvalue() == "Batch 1: Invalid loss, terminating training\n"


def test_model_checkpoint_formats_paths_and_saves_only_the_best(tmp_path):
    model = FakeModel()
    best = C.ModelCheckpoint(str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}.h5"),
                             save_best_only=True, save_weights_only=True)
    every = C.ModelCheckpoint(str(tmp_path / "m{epoch}.keras"))
    fit(model, [best, every], curve(0.9, 0.95, 0.4))
    assert model.saved == [
        ("weights", str(tmp_path / "w.01-0.90.h5")), ("model", str(tmp_path / "m1.keras")),
        ("model", str(tmp_path / "m2.keras")),
        ("weights", str(tmp_path / "w.03-0.40.h5")), ("model", str(tmp_path / "m3.keras"))]
    model = FakeModel()
    fit(model, [C.ModelCheckpoint("b{epoch}-{batch}", save_freq=3)], curve(1, 1),
        batch_losses=(1, 1, 1, 1))
    assert model.saved == [("model", "b1-3"), ("model", "b2-2")]
    with pytest.raises(KeyError, match="val_acc"):
        fit(FakeModel(), [C.ModelCheckpoint("{val_acc}")], curve(1.0))


def test_learning_rate_scheduler_sets_the_variable_and_logs_lr():
    model = FakeModel(lr=0.1)
    history = fit(model, [C.LearningRateScheduler(lambda epoch, lr: lr * 0.5)],
                  curve(1, 1, 1))
    np.testing.assert_allclose(history.history["lr"], [0.05, 0.025, 0.0125], rtol=1e-6)
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.0125)
    fit(model, [C.LearningRateScheduler(lambda epoch: 0.3 + epoch)], curve(1, 1))
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(1.3)
    with pytest.raises(ValueError, match="must return a float; received 'x'"):
        fit(model, [C.LearningRateScheduler(lambda epoch: "x")], curve(1))


def test_reduce_lr_on_plateau_with_patience_cooldown_and_floor():
    model = FakeModel(lr=1.0)
    cb = C.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.2)
    history = fit(model, [cb], curve(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    # logs carry the rate at each epoch's end, before a reduction at that epoch
    np.testing.assert_allclose(history.history["lr"], [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2],
                               rtol=1e-6)
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="`factor` must be < 1.0"):
        C.ReduceLROnPlateau(factor=1.5)


def test_csv_logger_writes_rows_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    fit(FakeModel(), [C.CSVLogger(str(path))], [{"loss": 0.5}, {"loss": 0.25}])
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,0.5,NA", "1,0.25,NA"]
    fit(FakeModel(), [C.CSVLogger(str(path), separator=";", append=True)],
        [{"loss": 0.125, "val_loss": 1.0}])
    assert path.read_text().splitlines()[-1] == "0;0.125;1.0"


def test_lambda_callback_and_bad_callbacks():
    seen = []
    cb = C.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])),
                          on_train_end=lambda logs: seen.append("end"),
                          on_batch_end=lambda batch, logs: seen.append(batch))
    fit(FakeModel(), [cb], curve(1, 1))
    assert seen == [0, 1, (0, 1.0), 0, 1, (1, 1.0), "end"]
    with pytest.raises(ValueError, match="unknown hooks \\['on_epoch_ended'\\]"):
        C.LambdaCallback(on_epoch_ended=print)
    with pytest.raises(TypeError, match="callbacks\\[0\\] must be a symkb.callbacks.Callback"):
        C.CallbackList([print])
    with pytest.raises(ValueError, match="EarlyStopping: unknown `mode` 'best'"):
        C.EarlyStopping(mode="best")


def test_missing_monitor_warns_naming_the_logged_keys():
    with pytest.warns(UserWarning, match="`val_loss`, which is not among .*: loss"):
        fit(FakeModel(), [C.EarlyStopping()], [{"loss": 1.0}])


@pytest.mark.parametrize("case", PROGBAR, ids=range(len(PROGBAR)))
def test_progbar_text_equals_tf_keras(case):
    ticks = iter(case["times"])
    out = io.StringIO()
    bar = Progbar(case["target"], verbose=case["verbose"], interval=case["interval"],
                  stream=out, stateful_metrics=case["stateful"], clock=lambda: next(ticks))
    for current, values, finalize in case["updates"]:
        bar.update(current, [tuple(v) for v in values], finalize=finalize)
    assert out.getvalue() == case["text"]


def test_progbar_logger_in_a_fit_loop_prints_epochs_and_results():
    clock = iter(np.arange(0.0, 100.0, 0.25))
    out = io.StringIO()
    logger = C.ProgbarLogger(stream=out, clock=lambda: next(clock))
    fit(FakeModel(), [logger], [{"loss": 0.5, "val_loss": 0.75}] * 2, verbose=2,
        batch_losses=(0.7, 0.5))
    assert out.getvalue() == (
        "Epoch 1/2\n2/2 - 0s - loss: 0.5000 - val_loss: 0.7500 - 250ms/epoch - 125ms/step\n"
        "Epoch 2/2\n2/2 - 0s - loss: 0.5000 - val_loss: 0.7500 - 250ms/epoch - 125ms/step\n")
    out.truncate(0), out.seek(0)
    clock = iter(np.arange(0.0, 100.0, 0.25))
    logger = C.ProgbarLogger(stream=out, clock=lambda: next(clock))
    fit(FakeModel(), [logger], [{"loss": 0.5}], verbose="auto", batch_losses=(0.7, 0.5))
    text = out.getvalue()
    assert text.startswith("\r1/2 [==============>...............] - ETA: 0s - loss: 0.7000")
    # the last batch redraws 2/2 with an ETA; the epoch's end finishes the line
    assert text.endswith("\r2/2 [==============================] - 1s 500ms/step - loss: "
                         "0.5000\n")


CALLBACK_GOLDENS = json.loads((GOLDENS / "losses.json").read_text())["callbacks"]


@pytest.mark.parametrize("case", CALLBACK_GOLDENS, ids=range(len(CALLBACK_GOLDENS)))
def test_monitoring_callbacks_follow_tf_keras_on_crafted_curves(case):
    model = FakeModel(lr=1.0)
    cb = getattr(C, case["callback"])(**case["kwargs"])
    history = fit(model, [cb], [{case["key"]: v} for v in case["values"]])
    assert history.epoch == case["epochs"]
    if case["stopped_epoch"] is not None:
        assert cb.stopped_epoch == case["stopped_epoch"]
    np.testing.assert_allclose(history.history.get("lr", []), case["lr"], rtol=1e-6)
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(case["final_lr"])
