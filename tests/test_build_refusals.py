"""Models that could not be saved are refused when built: duplicate layer
names, a failed ``Sequential.add``, weights of a kind their dtype cannot take,
and a folder save that must be atomic as a pair."""
from __future__ import annotations

import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.ir.variable import IncompatibleValueError
from symkb.models import load_model

ROOT = pathlib.Path(__file__).resolve().parents[1]


# -- duplicate names ----------------------------------------------------------

def test_functional_model_with_duplicate_names_is_refused():
    inp = layers.Input((3,))
    h = layers.Dense(4, name="twin")(inp)
    out = layers.Dense(2, name="twin")(h)
    # tf_keras's message (tf_keras/src/engine/functional.py)
    with pytest.raises(ValueError, match='The name "twin" is used 2 times in the model. '
                                         "All layer names should be unique."):
        symkb.Model(inp, out)


def test_input_named_like_a_layer_is_refused():
    inp = layers.Input((3,), name="same")
    out = layers.Dense(2, name="same")(inp)
    with pytest.raises(ValueError, match='"same" is used 2 times'):
        symkb.Model(inp, out)


def test_sequential_duplicate_leaves_the_model_unchanged():
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(4, name="a")])
    before_out, before_graph = model.outputs[0], str(model.graph)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="a"))
    assert [layer.name for layer in model.layers] == ["a"]
    assert model.outputs[0] is before_out and str(model.graph) == before_graph


def test_sequential_input_named_like_a_layer_is_refused():
    model = symkb.Sequential([layers.Input((3,), name="clash")])
    with pytest.raises(ValueError, match='"clash" is used 2 times'):
        model.add(layers.Dense(2, name="clash"))
    assert model.layers == []


# -- a failed add ---------------------------------------------------------------

def test_failed_add_leaves_the_model_as_it_was():
    dense = layers.Dense(4, name="dense_a")
    model = symkb.Sequential([layers.Input((3,)), dense])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = model.predict(x)
    out, graph_text, inbound = model.outputs[0], str(model.graph), list(dense._inbound)
    with pytest.raises(ValueError):
        model.add(layers.LSTM(2))          # needs 3-D input: the build fails
    assert [layer.name for layer in model.layers] == ["dense_a"]
    assert model.outputs[0] is out and str(model.graph) == graph_text
    assert dense._inbound == inbound and dense.output is out
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x), before)
    model.add(layers.Dense(1, name="dense_b"))   # the model still grows normally
    assert [layer.name for layer in model.layers] == ["dense_a", "dense_b"]
    assert model.predict(x).shape == (2, 1)


def test_failed_first_add_leaves_no_input():
    model = symkb.Sequential()
    with pytest.raises(ValueError):
        model.add(layers.LSTM(2, input_shape=(3,)))
    assert model.layers == [] and not model.built
    model.add(layers.Dense(2, input_shape=(3,)))
    assert model.predict(np.ones((1, 3), np.float32)).shape == (1, 2)


# -- weights of a kind their dtype cannot take ---------------------------------

BAD_VALUES = {
    "complex": lambda shape: np.ones(shape, np.complex64) * (1 + 2j),
    "string": lambda shape: np.full(shape, "1.5"),
    "bytes": lambda shape: np.full(shape, b"1.5"),
    "datetime": lambda shape: np.full(shape, np.datetime64("2024-01-01")),
    "timedelta": lambda shape: np.full(shape, np.timedelta64(3, "s")),
    "object": lambda shape: np.full(shape, "2", dtype=object),
}


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_model_set_weights_refuses_and_assigns_nothing(kind):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    original = model.get_weights()
    bad = [w.copy() + 1 for w in original]
    bad[2] = BAD_VALUES[kind](original[2].shape)       # the third of four
    with pytest.raises(IncompatibleValueError, match="refused, not cast") as info:
        model.set_weights(bad)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert "weight" in str(info.value) and "Received:" in str(info.value)
    for before, after in zip(original, model.get_weights()):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_layer_set_weights_and_assign_refuse(kind):
    layer = layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = layer.get_weights()
    with pytest.raises(IncompatibleValueError):
        layer.set_weights([kernel + 1, BAD_VALUES[kind](bias.shape)])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    with pytest.raises(IncompatibleValueError):
        layer.weights[0].assign(BAD_VALUES[kind](kernel.shape))
    with pytest.raises(IncompatibleValueError):
        K.set_value(layer.weights[1], BAD_VALUES[kind](bias.shape))
    np.testing.assert_array_equal(layer.get_weights()[1], bias)
    with pytest.raises(IncompatibleValueError):
        K.variable(BAD_VALUES[kind]((2,)), dtype="float32")
    with pytest.raises(TypeError, match="dtype"):   # no dtype given: its own is refused
        K.variable(BAD_VALUES[kind]((2,)))


def test_real_numbers_of_other_dtypes_are_cast():
    layer = layers.Dense(2)
    layer.build((None, 3))
    layer.set_weights([np.arange(6, dtype=np.int64).reshape(3, 2), np.array([True, False])])
    kernel, bias = layer.get_weights()
    assert kernel.dtype == np.float32 and bias.dtype == np.float32
    np.testing.assert_array_equal(kernel, np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(bias, [1.0, 0.0])
    layer.weights[1].assign(np.array([1, 2.5], dtype=object))    # object array of numbers
    np.testing.assert_array_equal(layer.get_weights()[1], [1.0, 2.5])


def test_load_model_refuses_complex_weights(tmp_path):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2)])
    path = tmp_path / "m.symkb"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json")
    buffer = io.BytesIO()
    np.savez(buffer, weight_0=model.get_weights()[0].astype(np.complex64) * 1j,
             weight_1=model.get_weights()[1])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.npz", buffer.getvalue())
    with pytest.raises(ValueError, match="complex"):
        load_model(path)


# -- a folder save is atomic as a pair ------------------------------------------

def _models():
    a = symkb.Sequential([layers.Input((3,)), layers.Dense(2, name="head")])
    b = symkb.Sequential([layers.Input((3,)), layers.Dense(5, name="head")])
    a.set_weights([np.full((3, 2), 0.5, np.float32), np.array([1.0, 2.0], np.float32)])
    b.set_weights([np.full((3, 5), -1.0, np.float32), np.arange(5, dtype=np.float32)])
    return a, b


def test_interrupted_folder_save_keeps_the_previous_pair(tmp_path, monkeypatch):
    from symkb.models import folder_save
    a, b = _models()
    a.save(tmp_path)
    x = np.ones((1, 3), np.float32)
    real = folder_save.write_atomic

    def crash_on_config(path, data):
        if os.path.basename(path) == "config.json":
            raise KeyboardInterrupt("interrupted between the two files")
        real(path, data)
    monkeypatch.setattr(folder_save, "write_atomic", crash_on_config)
    with pytest.raises(KeyboardInterrupt):
        b.save(tmp_path)
    monkeypatch.undo()
    assert len(list(tmp_path.glob("model.weights.*.npz"))) == 2   # b's weights, unreferenced
    np.testing.assert_array_equal(load_model(tmp_path).predict(x), a.predict(x))
    b.save(tmp_path)                     # the next save cleans up
    assert len(list(tmp_path.glob("model.weights.*.npz"))) == 1
    np.testing.assert_array_equal(load_model(tmp_path).predict(x), b.predict(x))


def test_legacy_folder_is_read(tmp_path):
    a, _ = _models()
    a.save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    weights = tmp_path / config.pop("weights_file")
    config.pop("weights_sha256")
    weights.rename(tmp_path / "model.weights.npz")
    (tmp_path / "config.json").write_text(json.dumps(config))
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(load_model(tmp_path).predict(x), a.predict(x))


@pytest.mark.parametrize("damage", ["missing", "changed", "traversal", "no_weights"])
def test_damaged_folder_pair_is_reported(tmp_path, damage):
    a, _ = _models()
    a.save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    weights = tmp_path / config["weights_file"]
    if damage == "missing":
        weights.unlink()
        match = "missing"
    elif damage == "changed":
        data = weights.read_bytes()
        weights.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
        match = "weights_sha256"
    elif damage == "no_weights":      # a config naming no weights, and no weights file
        weights.unlink()
        del config["weights_file"], config["weights_sha256"]
        (tmp_path / "config.json").write_text(json.dumps(config))
        match = "lacks model.weights.npz"
    else:
        config["weights_file"] = "../../etc/passwd"
        (tmp_path / "config.json").write_text(json.dumps(config))
        match = "weights_file"
    with pytest.raises(ValueError, match=match):
        load_model(tmp_path)


SAVER = r"""
import sys
import numpy as np
import symkb
from symkb import layers
folder = sys.argv[1]
a = symkb.Sequential([layers.Input((3,)), layers.Dense(2, name="head")])
b = symkb.Sequential([layers.Input((3,)), layers.Dense(5, name="head")])
a.set_weights([np.full((3, 2), 0.5, np.float32), np.array([1.0, 2.0], np.float32)])
b.set_weights([np.full((3, 5), -1.0, np.float32), np.arange(5, dtype=np.float32)])
a.save(folder)
print("ready", flush=True)
while True:
    b.save(folder)
    a.save(folder)
"""


def test_folder_save_survives_sigkill(tmp_path):
    a, b = _models()
    x = np.ones((1, 3), np.float32)
    expected = [a.predict(x), b.predict(x)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rng = np.random.default_rng(0)
    seen = set()
    for round_ in range(6):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path)], env=env,
                                 stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(float(rng.uniform(0.05, 0.4)))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        out = load_model(tmp_path).predict(x)
        matches = [i for i, e in enumerate(expected) if e.shape == out.shape
                   and np.array_equal(e, out)]
        assert matches, f"round {round_}: the folder holds neither save ({out})"
        seen.add(matches[0])
    assert len(list(tmp_path.glob("model.weights.*.npz"))) <= 3
