"""Dtype policies across the tf_keras JSON interchange, both ways.

* tf_keras -> symkb: a mixed_float16 model's ``to_json()`` written by
  tf_keras loads in symkb with the same policies and predictions.
* symkb -> tf_keras: ``tests/goldens/dtypes_symkb_model.json`` is what symkb
  writes for :func:`symkb_mixed_model` (checked here); tools/goldens_dtypes.py
  loaded it with tf_keras and recorded the policies and predictions tf_keras
  gives it.
"""
import json
import pathlib

import numpy as np

import symkb
from symkb import backend as K
from symkb import layers, mixed_precision
from symkb.models.saving import model_from_json

GOLDENS = pathlib.Path(__file__).parent / "goldens"
DATA = json.loads((GOLDENS / "dtypes.json").read_text())["interchange"]
ARRAYS = np.load(GOLDENS / "dtypes.npz")


def symkb_mixed_model():
    """The model whose JSON tf_keras loaded (built under mixed_float16)."""
    K.clear_session()
    mixed_precision.set_global_policy("mixed_float16")
    try:
        inp = layers.Input((5,), name="features")
        h = layers.Dense(8, activation="relu", name="hidden")(inp)
        h = layers.Activation("tanh", name="squash")(h)
        out = layers.Dense(3, activation="softmax", dtype="float32", name="probs")(h)
        return symkb.Model(inp, out, name="mixed_mlp")
    finally:
        mixed_precision.set_global_policy(None)


def _policies(model):
    return {layer.name: layer.dtype_policy.name for layer in model.layers}


def test_tf_keras_json_loads_with_its_policies_and_predictions():
    case = DATA["from_tf_keras"]
    model = model_from_json(case["json"])
    assert _policies(model) == case["policies"]
    model.set_weights([ARRAYS[f"from_tf_keras/weight{i}"] for i in range(case["n_weights"])])
    y = model.predict(ARRAYS["from_tf_keras/x"])
    want = ARRAYS["from_tf_keras/y"]
    assert y.dtype == want.dtype
    np.testing.assert_allclose(y.astype("float32"), want.astype("float32"), atol=1e-3)
    # and symkb writes back the dtype entries tf_keras wrote
    ours = json.loads(model.to_json())["config"]["layers"]
    theirs = json.loads(case["json"])["config"]["layers"]
    assert [lay["config"]["dtype"] for lay in ours] == [lay["config"]["dtype"] for lay in theirs]


def test_symkb_json_is_the_file_tf_keras_loaded():
    written = json.loads(symkb_mixed_model().to_json())
    assert written == json.loads((GOLDENS / "dtypes_symkb_model.json").read_text())


def test_tf_keras_reads_symkb_json_with_the_same_policies_and_predictions():
    case = DATA["to_tf_keras"]
    model = symkb_mixed_model()
    assert _policies(model) == case["policies"]
    model.set_weights([ARRAYS[f"to_tf_keras/weight{i}"] for i in range(case["n_weights"])])
    y = model.predict(ARRAYS["to_tf_keras/x"])
    want = ARRAYS["to_tf_keras/y"]
    assert y.dtype == want.dtype == np.float32
    np.testing.assert_allclose(y, want, atol=1e-3)


def test_save_and_load_keep_the_policies_and_predictions(tmp_path):
    from symkb.models.saving import load_model
    model = symkb_mixed_model()
    case = DATA["to_tf_keras"]
    model.set_weights([ARRAYS[f"to_tf_keras/weight{i}"] for i in range(case["n_weights"])])
    path = tmp_path / "mixed.symkb"
    model.save(str(path))
    back = load_model(str(path))
    assert _policies(back) == case["policies"]
    assert [w.dtype for w in back.weights] == ["float32"] * case["n_weights"]
    x = ARRAYS["to_tf_keras/x"]
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
