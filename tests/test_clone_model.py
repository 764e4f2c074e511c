"""symkb.models.clone_model: new layers, same config and names, fresh weights
(tf_keras's answer in tests/goldens/saving.json, from tools/goldens_saving.py)."""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.models import clone_model

GOLDENS = pathlib.Path(__file__).parent / "goldens"
CLONE = json.loads((GOLDENS / "saving.json").read_text())["clone"]
NAMES = {"layers": layers, "Input": layers.Input, "Model": symkb.Model,
         "Sequential": symkb.Sequential}


def nested_functional():
    K.clear_session()
    scope = dict(NAMES)
    exec(CLONE["code"], scope)
    return scope["model"]


def test_functional_clone_as_tf_keras():
    model = nested_functional()
    clone = clone_model(model)
    assert [layer.name for layer in model.layers] == CLONE["layer_names"]
    assert clone.name == model.name == CLONE["clone_name"]
    assert [layer.name for layer in clone.layers] == CLONE["clone_layer_names"]
    assert [type(layer).__name__ for layer in clone.layers] == CLONE["clone_layer_classes"]
    assert not CLONE["shares_layer_objects"]
    assert not any(a is b for a, b in zip(model.layers, clone.layers))
    assert CLONE["configs_equal"] and clone.get_config() == model.get_config()
    assert [list(w.shape) for w in clone.get_weights()] == CLONE["weight_shapes"]
    assert CLONE["weights_differ"]
    assert any(not np.array_equal(a, b)
               for a, b in zip(model.get_weights(), clone.get_weights()))
    # same weights, same predictions; the shared Dense stays shared (one set of weights)
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((5, 3)).astype("float32"),
          rng.standard_normal((5, 2)).astype("float32")]
    for u, v in zip(clone.predict(xs, verbose=0), model.predict(xs, verbose=0), strict=True):
        np.testing.assert_array_equal(u, v)
    clone.set_weights([w + 1 for w in model.get_weights()])
    assert not np.array_equal(clone.predict(xs, verbose=0)[0], model.predict(xs, verbose=0)[0])


def test_sequential_clone_with_clone_function_and_input_tensors():
    model = symkb.Sequential([layers.Input((5, 3)), layers.LSTM(4), layers.Dense(2)])
    seen = []

    def renamed(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = "copy_of_" + config["name"]
        return type(layer).from_config(config)
    clone = clone_model(model, clone_function=renamed)
    assert isinstance(clone, symkb.Sequential) and seen == ["lstm", "dense"]
    assert [layer.name for layer in clone.layers] == ["copy_of_lstm", "copy_of_dense"]
    x = layers.Input((5, 3), name="new_input")
    onto = clone_model(model, input_tensors=x)
    assert onto.inputs[0] is x
    onto.set_weights(model.get_weights())
    data = np.random.default_rng(1).standard_normal((4, 5, 3)).astype("float32")
    np.testing.assert_array_equal(onto.predict(data, verbose=0), model.predict(data, verbose=0))


def test_functional_clone_onto_given_inputs():
    model = nested_functional()
    a, b = layers.Input((3,), name="a2"), layers.Input((2,), name="b2")
    clone = clone_model(model, input_tensors=[a, b])
    assert clone.inputs == [a, b]


def test_bad_arguments():
    model = nested_functional()
    with pytest.raises(TypeError, match=r"`clone_function` must return a Layer. Received: 3"):
        clone_model(model, clone_function=lambda layer: 3)
    with pytest.raises(ValueError, match=r"has 2 input\(s\); input_tensors holds 1"):
        clone_model(model, input_tensors=[layers.Input((3,))])
    with pytest.raises(TypeError, match=r"input_tensors\[1\] must be a KerasTensor"):
        clone_model(model, input_tensors=[layers.Input((3,)), np.zeros((1, 2))])
    with pytest.raises(TypeError, match="expected a symkb Sequential or functional Model"):
        clone_model(layers.Dense(2))
