"""Python arithmetic on a functional model's tensors (``d + x``, ``a * 0.5``,
``2.0 - b``, ``-c``, ``n / m``) as tf_keras's TFOpLambda layers, against real
tf_keras (tests/goldens/op_lambda.*, keras_files/op_lambda_*, made by
tools/goldens_op_lambda.py): tf_keras's JSON, .keras and .h5 files load and
predict what tf_keras predicted; the same models built with symkb have
tf_keras's layers, config and summary."""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers

GOLDEN = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDEN / "op_lambda.json").read_text())
ARRAYS = np.load(GOLDEN / "op_lambda.npz")
TOL = dict(rtol=1e-5, atol=1e-5)
MODELS = sorted(DOC["models"])


def _weights(mid):
    return [ARRAYS[f"{mid}/w{k}"] for k in range(DOC["models"][mid]["weights"])]


def arith():
    x = layers.Input((4,), name="x")
    d = layers.Dense(4, name="d")(x)
    a = d + x
    b = a * 0.5
    c = 2.0 - b
    n = -c
    e = n / (d + 3.0)
    f = 1.5 * e
    g = f * np.array([1.0, -2.0, 0.5, 3.0], "float32")
    return symkb.Model(x, layers.Dense(2, name="out")(g - d))


def residual():
    x = layers.Input((6, 8), name="tokens")
    att = layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    h = layers.LayerNormalization(name="ln1")(x + att)
    f = layers.Dense(8, name="ffn2")(layers.Dense(16, activation="relu", name="ffn1")(h))
    y = layers.LayerNormalization(name="ln2")(h + f * 0.5)
    return symkb.Model(x, y)


BUILDERS = {"arith": arith, "residual": residual}


@pytest.mark.parametrize("mid", MODELS)
def test_tf_keras_json_loads_and_predicts(mid):
    K.clear_session()
    model = symkb.models.model_from_json(DOC["models"][mid]["json"])
    assert [layer.name for layer in model.layers] == DOC["models"][mid]["layers"]
    model.set_weights(_weights(mid))
    np.testing.assert_allclose(model.predict(ARRAYS[f"{mid}/x"], verbose=0),
                               ARRAYS[f"{mid}/pred"], **TOL)
    interp = symkb.compile(model, target="interpreter")(ARRAYS[f"{mid}/x"])
    np.testing.assert_allclose(interp, ARRAYS[f"{mid}/pred"], **TOL)


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("mid", MODELS)
def test_tf_keras_files_load_and_predict(mid, ext, tmp_path):
    K.clear_session()
    model = symkb.models.load_model(GOLDEN / "keras_files" / f"op_lambda_{mid}.tfk.{ext}")
    np.testing.assert_allclose(model.predict(ARRAYS[f"{mid}/x"], verbose=0),
                               ARRAYS[f"{mid}/pred"], **TOL)
    model.save(tmp_path / "again.symkb")
    again = symkb.models.load_model(tmp_path / "again.symkb")
    np.testing.assert_allclose(again.predict(ARRAYS[f"{mid}/x"], verbose=0),
                               ARRAYS[f"{mid}/pred"], **TOL)


@pytest.mark.parametrize("mid", MODELS)
def test_built_in_symkb_it_is_tf_kerass_model(mid):
    K.clear_session()
    model = BUILDERS[mid]()
    want = json.loads(DOC["models"][mid]["json"])["config"]
    got = json.loads(model.to_json())["config"]
    assert [entry["class_name"] for entry in got["layers"]] == \
        [entry["class_name"] for entry in want["layers"]]
    for g, w in zip(got["layers"], want["layers"], strict=True):
        assert g["inbound_nodes"] == w["inbound_nodes"], g["config"]["name"]
        if g["class_name"] == "TFOpLambda":
            assert g["config"] == w["config"]
    assert got["output_layers"] == want["output_layers"]
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) + "\n" == DOC["models"][mid]["summary"]
    model.set_weights(_weights(mid))
    for target in ("cpu", "interpreter"):
        got_pred = symkb.compile(model, target=target)(ARRAYS[f"{mid}/x"])
        np.testing.assert_allclose(got_pred, ARRAYS[f"{mid}/pred"], **TOL)


def test_other_top_level_computations_are_refused_by_name():
    K.clear_session()
    x = layers.Input((3,))
    with pytest.raises(ValueError, match=r"op 'relu'.*Lambda"):
        symkb.Model(x, K.relu(layers.Dense(3)(x)))
    with pytest.raises(ValueError, match=r"TFOpLambda: the function 'math.sin' is not supported"):
        layers.TFOpLambda("math.sin")


@pytest.mark.parametrize("mid", MODELS)
def test_clones_and_configs_rebuild_the_same_model(mid):
    K.clear_session()
    model = BUILDERS[mid]()
    model.set_weights(_weights(mid))
    clone = symkb.models.clone_model(model)
    clone.set_weights(_weights(mid))
    again = symkb.Model.from_config(model.get_config())
    again.set_weights(_weights(mid))
    for other in (clone, again):
        assert [type(layer).__name__ for layer in other.layers] == \
            [type(layer).__name__ for layer in model.layers]
        np.testing.assert_allclose(other.predict(ARRAYS[f"{mid}/x"], verbose=0),
                                   ARRAYS[f"{mid}/pred"], **TOL)


def test_a_model_with_operators_trains():
    K.clear_session()
    x = layers.Input((4,))
    hidden = layers.Dense(8, activation="tanh")(x)
    y = layers.Dense(1)(hidden * 0.5 + layers.Dense(8)(x))
    model = symkb.Model(x, y)
    model.compile(optimizer="adam", loss="mse")
    data = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    history = model.fit(data, data.sum(1, keepdims=True), epochs=4, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]


def test_an_op_layer_called_on_arrays_computes_at_once():
    K.clear_session()
    x = np.array([[1.0, -2.0]], "float32")
    np.testing.assert_array_equal(layers.TFOpLambda("math.subtract")(x, y=0.5), x - 0.5)
    np.testing.assert_array_equal(layers.TFOpLambda("math.negative")(x), -x)
    np.testing.assert_array_equal(layers.TFOpLambda("__operators__.add")(x, x), x + x)
