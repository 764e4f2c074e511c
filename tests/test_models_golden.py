"""Dense models against real tf_keras (tests/goldens/dense.*): predictions after
set_weights, summary text, parameter counts, names."""
import io
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential

GOLDEN = pathlib.Path(__file__).parent / "goldens"
CASES = json.loads((GOLDEN / "dense.json").read_text())["cases"]
ARRAYS = np.load(GOLDEN / "dense.npz")


def _build(case):
    namespace = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential,
                 "np": np}
    exec(case["code"], namespace)  # the golden file's own construction code
    return namespace["model"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dense_model_matches_tf_keras(case):
    model = _build(case)
    inputs = [ARRAYS[k] for k in case["input_keys"]]
    if case["built_by_predict"]:
        model.predict(inputs[0] if len(inputs) == 1 else inputs)
    assert [tuple(w.shape) for w in model.weights] == [tuple(s) for s in case["weight_shapes"]]
    assert [w.name for w in model.weights] == case["weight_names"]
    model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
    out = model.predict(inputs[0] if len(inputs) == 1 else inputs)
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == len(case["output_keys"])
    for got, key in zip(outs, case["output_keys"]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ARRAYS[key], rtol=1e-5, atol=1e-6)
    assert model.name == case["model_name"]
    assert model.count_params() == case["params"]["total"]
    buf = io.StringIO()
    model.summary(print_fn=lambda line: buf.write(line + "\n"))
    assert buf.getvalue().rstrip("\n") == case["summary"].rstrip("\n")


def test_functional_config_round_trip_keeps_predictions():
    case = next(c for c in CASES if c["id"] == "functional_two_io")
    model = _build(case)
    model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    inputs = [ARRAYS[k] for k in case["input_keys"]]
    for a, b in zip(model.predict(inputs), clone.predict(inputs)):
        np.testing.assert_array_equal(a, b)


def test_sequential_config_round_trip():
    model = Sequential([Input((5,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])
    clone = Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((3, 5)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x), clone.predict(x))
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Dense"]
    assert symkb.Sequential is Sequential


def test_compile_of_an_unbuilt_sequential_says_so():
    model = Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not been built"):
        symkb.compile(model)
    model.build((None, 4))
    out = symkb.compile(model, target="interpreter")(np.ones((2, 4), np.float32))
    assert out.shape == (2, 3)
