"""Compiled, trained models in tf_keras's files: the compile config and the
optimizer state are read and written where tf_keras keeps them.

The goldens were written by real tf_keras (tools/goldens_keras_training_files.py):
each file holds an MLP trained one epoch; tf_keras loaded it and trained one
more epoch. symkb must load the same file and train to the same weights.
"""
import json
import pathlib
import warnings
import zipfile

import numpy as np
import pytest

import symkb
from symkb import layers, optimizers
from symkb.models import load_model

pytest.importorskip("h5py")

HERE = pathlib.Path(__file__).parent / "goldens" / "keras_files"
GOLD = np.load(HERE / "training.npz")
NAMES = ("adam_amsgrad", "rmsprop_centered", "sgd_momentum", "adadelta")


def _continue(model, target="interpreter"):
    # compile again on the oracle target with the restored optimizer object:
    # its state (slots, iteration) stays as loaded
    args = model._compile_args
    model.compile(optimizer=model.optimizer, loss=args[1], metrics=args[2], target=target)
    return model.fit(GOLD["x"], GOLD["y"], batch_size=8, epochs=1, shuffle=False, verbose=0)


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("name", NAMES)
def test_tf_keras_file_resumes_as_tf_keras_does(name, ext):
    model = load_model(HERE / f"train_{name}.{ext}")
    assert model.optimizer is not None and model._compile_args[1] == "mse"
    state = model.optimizer.keras_variables()
    assert len(state) == int(GOLD[f"{name}_opt_count"])
    for i, variable in enumerate(state):
        np.testing.assert_allclose(variable.numpy(), GOLD[f"{name}_opt{i}"], rtol=0, atol=0)
    history = _continue(model)
    np.testing.assert_allclose(history.history["loss"][0], GOLD[f"{name}_{ext}_loss"],
                               rtol=1e-5)
    assert set(history.history) == {"loss", "mae"}
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, GOLD[f"{name}_{ext}_w{i}"], rtol=1e-5, atol=1e-6)


def test_tf_keras_file_resumes_on_the_cpu_target():
    model = load_model(HERE / "train_adam_amsgrad.keras")
    model.fit(GOLD["x"], GOLD["y"], batch_size=8, epochs=1, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, GOLD[f"adam_amsgrad_keras_w{i}"], rtol=1e-5, atol=1e-6)


def test_compile_false_and_load_weights_skip_the_training_state():
    path = HERE / "train_rmsprop_centered.keras"
    model = load_model(path, compile=False)
    assert getattr(model, "_compile_args", None) is None
    fresh = symkb.models.clone_model(model)
    fresh.load_weights(str(path))  # optimizer/ and metrics/ paths are not weights
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _edit_config(path, change) -> None:
    """Rewrite the ``config.json`` of the archive at ``path`` through ``change(doc)``."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    doc = json.loads(parts["config.json"])
    change(doc)
    parts["config.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


def _mlp():
    return symkb.Sequential([layers.Input((4,)), layers.Dense(3, activation="tanh"),
                             layers.Dense(2)], name="mlp")


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_symkb_save_resume_is_bit_exact(tmp_path, ext):
    x, y = GOLD["x"], GOLD["y"]
    model = _mlp()
    model.compile(optimizer=optimizers.Nadam(0.01), loss="mse", metrics=["mae"],
                  target="interpreter")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / f"m.{ext}"
    model.save(path)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    again = load_model(path)
    assert type(again.optimizer).__name__ == "Nadam"
    _continue(again)
    _continue(again)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert again.optimizer.iterations.numpy() == model.optimizer.iterations.numpy() == 6


def test_optimizer_state_of_another_count_warns_and_starts_fresh(tmp_path):
    model = _mlp()
    model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="mse",
                  target="interpreter")
    model.fit(GOLD["x"], GOLD["y"], batch_size=8, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    _edit_config(path, lambda doc: doc["compile_config"].update(
        optimizer={"class_name": "Adam", "config": {"learning_rate": 0.1}}))
    with pytest.warns(UserWarning, match="optimizer state is not restored: the file holds 5 "
                                         "optimizer variables, optimizer 'Adam' has 9"):
        again = load_model(path)
    assert again.optimizer.iterations.numpy() == 0


def test_unusable_compile_config_warns_and_loads_uncompiled(tmp_path):
    model = _mlp()
    model.compile(optimizer="sgd", loss="mse", target="interpreter")
    path = tmp_path / "m.keras"
    model.save(path)
    _edit_config(path, lambda doc: doc["compile_config"].update(loss="no_such_loss"))
    with pytest.warns(UserWarning, match="compile configuration could not be used.*"
                                         "no_such_loss"):
        again = load_model(path)
    assert getattr(again, "_compile_args", None) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])
