"""save_weights / load_weights: tf_keras's .weights.h5 layout (goldens from
tools/goldens_saving.py) and symkb's .npz; mismatches are errors."""
import json
import pathlib
import sys

import h5py  # in the test extra (pip install -e .[test])
import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.models.weights_io import weight_paths

GOLDENS = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDENS / "saving.json").read_text())
ARRAYS = np.load(GOLDENS / "saving.npz")
CASES = {case["id"]: case for case in DOC["models"]}
NAMES = {"layers": layers, "Input": layers.Input, "Model": symkb.Model,
         "Sequential": symkb.Sequential}


def build(case):
    K.clear_session()
    scope = dict(NAMES)
    exec(case["code"], scope)
    return scope["model"]


def inputs(case):
    xs = [ARRAYS[k] for k in case["input_keys"]]
    return xs if len(xs) > 1 else xs[0]


def outputs(model, case):
    out = model.predict(inputs(case), verbose=0)
    return out if isinstance(out, list) else [out]


def h5_layout(path):
    datasets = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: datasets.append([name, list(obj.shape), obj.dtype.name])
                     if isinstance(obj, h5py.Dataset) else None)
    return sorted(datasets)


@pytest.mark.parametrize("cid", sorted(CASES))
def test_load_weights_reads_the_file_tf_keras_wrote(cid):
    case = CASES[cid]
    model = build(case)
    model.load_weights(GOLDENS / case["weights_file"])
    for got, key in zip(model.get_weights(), case["weight_keys"], strict=True):
        np.testing.assert_array_equal(got, ARRAYS[key])
    for got, key in zip(outputs(model, case), case["output_keys"], strict=True):
        np.testing.assert_allclose(got, ARRAYS[key], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cid", sorted(CASES))
def test_save_weights_writes_tf_keras_layout(tmp_path, cid):
    case = CASES[cid]
    model = build(case)
    model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    # the datasets tf_keras writes for this model, path for path
    assert h5_layout(path) == case["h5_datasets"]
    # tf_keras loaded the file symkb wrote and predicted what it predicts itself
    loaded = case["symkb_file_loaded_by_tf_keras"]
    assert loaded["ok"] and loaded["max_abs_diff"] <= 1e-6, loaded
    assert loaded["datasets"] == case["h5_datasets"]
    with h5py.File(path, "r") as f:
        for (p, var) in weight_paths(model).items():
            np.testing.assert_array_equal(f[p][()], var.numpy())


@pytest.mark.parametrize("name", ["w.npz", "weights", "w.ckpt"])
def test_npz_round_trip_under_any_other_name(tmp_path, name):
    case = CASES["rnn_stack"]
    model = build(case)
    model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
    path = tmp_path / name
    model.save_weights(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # the name as given
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(p for p, _, _ in case["h5_datasets"])
    other = build(case)
    other.load_weights(path)
    for u, v in zip(other.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    for got, key in zip(outputs(other, case), case["output_keys"]):
        np.testing.assert_allclose(got, ARRAYS[key], rtol=1e-5, atol=1e-5)


def test_load_weights_from_a_tf_keras_keras_archive():
    case = CASES["mlp"]
    model = build(case)
    model.load_weights(GOLDENS / "saving" / "mlp.keras")
    for got, key in zip(model.get_weights(), case["weight_keys"], strict=True):
        np.testing.assert_array_equal(got, ARRAYS[key])


def test_a_file_of_another_model_is_refused_and_nothing_changes():
    model = build(CASES["rnn_stack"])
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"does not hold the weights of model 'sequential': "
                                         r"missing \['layers/lstm/cell/vars/0'"):
        model.load_weights(GOLDENS / CASES["mlp"]["weights_file"])
    for u, v in zip(model.get_weights(), before):
        np.testing.assert_array_equal(u, v)


def test_a_shape_mismatch_is_refused(tmp_path):
    small = symkb.Sequential([layers.Input((4,)), layers.Dense(8), layers.Dense(3)])
    small.save_weights(tmp_path / "w.npz")
    other = symkb.Sequential([layers.Input((5,)), layers.Dense(8), layers.Dense(3)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"weight layers/dense/vars/0 \(dense_2/kernel:0\) has "
                                         r"shape \(5, 8\); the file holds shape \(4, 8\)"):
        other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.get_weights()[0], before[0])


def test_legacy_h5_and_other_files_are_refused(tmp_path):
    model = build(CASES["mlp"])
    with pytest.raises(ValueError, match="tf_keras's legacy HDF5 layout"):
        model.load_weights(GOLDENS / "saving" / "mlp.h5")
    model.save(tmp_path / "whole.symkb")
    with pytest.raises(ValueError, match="is a whole saved model"):
        model.load_weights(tmp_path / "whole.symkb")
    (tmp_path / "junk").write_bytes(b"not weights")
    with pytest.raises(ValueError, match="neither HDF5"):
        model.load_weights(tmp_path / "junk")
    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "absent.weights.h5")
    np.savez(tmp_path / "text.npz", **{"layers/dense/vars/0": np.array(["abc"])})
    with pytest.raises(ValueError, match=r"array 'layers/dense/vars/0' holds <U3 values"):
        model.load_weights(tmp_path / "text.npz")
    with h5py.File(tmp_path / "text.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.array([b"abc"]))
    with pytest.raises(ValueError, match=r"dataset 'layers/dense/vars/0' holds \|S3 values"):
        model.load_weights(tmp_path / "text.weights.h5")
    with pytest.raises(ValueError, match="skip_mismatch=True is not supported"):
        model.load_weights(GOLDENS / CASES["mlp"]["weights_file"], skip_mismatch=True)


@pytest.mark.parametrize("name", ["w.h5", "w.hdf5", "w.keras", "W.KERAS"])
def test_save_weights_refuses_tf_keras_names_it_cannot_write(tmp_path, name):
    model = build(CASES["mlp"])
    with pytest.raises(ValueError, match=r"Received: filepath=.*" + name.replace(".", r"\.")):
        model.save_weights(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_overwrite_false_and_unbuilt_models(tmp_path):
    model = build(CASES["mlp"])
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save_weights(tmp_path / "w.weights.h5", overwrite=False)
    lazy = symkb.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="is not built yet"):
        lazy.save_weights(tmp_path / "lazy.npz")
    with pytest.raises(ValueError, match="is not built yet"):
        lazy.load_weights(tmp_path / "w.weights.h5")


def test_without_h5py_the_error_names_the_extra(tmp_path, monkeypatch):
    model = build(CASES["mlp"])
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"symkb\[keras\]"):
        model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ImportError, match=r"symkb\[keras\]"):
        model.load_weights(GOLDENS / CASES["mlp"]["weights_file"])
    model.save_weights(tmp_path / "w.npz")  # symkb's own file needs no h5py
    model.load_weights(tmp_path / "w.npz")
