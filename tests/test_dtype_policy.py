"""Layer dtype policies (floatx, ``dtype=``, mixed_float16) against tf_keras.

Goldens: tests/goldens/dtypes.* from tools/goldens_dtypes.py. Each case
builds the same model in symkb, loads tf_keras's weights and compares the
dtypes tf_keras reports (layer outputs, weights, configs, predict) and the
predictions, on the interpreter and on the cpu target (which must compile:
``target='cpu'`` raises where ``'auto'`` would fall back with a warning, and
warnings are errors here).
"""
import json
import pathlib
import warnings

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers, mixed_precision

GOLDENS = pathlib.Path(__file__).parent / "goldens"
DATA = json.loads((GOLDENS / "dtypes.json").read_text())
ARRAYS = np.load(GOLDENS / "dtypes.npz")
CASES = {c["id"]: c for c in DATA["models"]}
TOL = {"float16": dict(rtol=1e-3, atol=1e-3), "float32": dict(rtol=1e-5, atol=1e-6),
       "float64": dict(rtol=1e-12, atol=1e-12)}


@pytest.fixture(autouse=True)
def _restore():
    yield
    mixed_precision.set_global_policy(None)
    K.set_floatx("float32")


def make_layer(name, kwargs):
    """``layers.<name>(**kwargs)``, a ``{"layer": [class, kwargs]}`` value built first."""
    kwargs = {k: make_layer(*v["layer"]) if isinstance(v, dict) and "layer" in v else v
              for k, v in kwargs.items()}
    return getattr(layers, name)(**kwargs)


def build(case):
    K.clear_session()
    K.set_floatx(case["floatx"])
    mixed_precision.set_global_policy(case["policy"])
    inp = layers.Input(tuple(case["input"]["shape"]), dtype=case["input"]["dtype"])
    t, made, dtypes = inp, [], []
    for name, kwargs in case["layers"]:
        layer = make_layer(name, kwargs)
        t = layer(t)
        made.append(layer)
        dtypes.append(t.dtype)
    model = symkb.Model(inp, t)
    cid = case["id"]
    model.set_weights([ARRAYS[f"{cid}/weight{i}"] for i in range(len(model.weights))])
    return inp, model, made, dtypes


@pytest.mark.parametrize("cid", sorted(CASES))
def test_dtypes_match_tf_keras(cid):
    case = CASES[cid]
    inp, model, made, dtypes = build(case)
    assert inp.dtype == case["input_dtype"]
    assert dtypes == case["output_dtypes"]
    assert [w.dtype for w in model.weights] == case["weight_dtypes"]
    assert [layer.get_config()["dtype"] for layer in made] == case["config_dtypes"]
    assert [layer.compute_dtype for layer in made] == case["compute_dtypes"]
    assert [layer.variable_dtype for layer in made] == case["variable_dtypes"]


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("cid", sorted(CASES))
def test_predictions_match_tf_keras(cid, target):
    case = CASES[cid]
    _, model, _, _ = build(case)
    expected = ARRAYS[f"{cid}/y"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no silent fallback to the interpreter
        fn = symkb.compile(model, target=target)
        got = fn(ARRAYS[f"{cid}/x"])
    if target == "cpu":
        assert type(fn).__name__ == "CpuExecutable"
    assert got.dtype.name == case["predict_dtype"]
    np.testing.assert_allclose(got.astype("float64"), expected.astype("float64"),
                               **TOL[expected.dtype.name])


def test_predict_of_a_float64_input_is_float32_as_in_tf_keras():
    _, model, _, _ = build(CASES["f64_input_dense"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = model.predict(ARRAYS["f64_input_dense/x"])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ARRAYS["f64_input_dense/y"], rtol=1e-6)


def test_policy_facts_match_tf_keras():
    facts = DATA["policies"]
    for name in ("float32", "float16", "float64", "mixed_float16"):
        p = mixed_precision.Policy(name)
        assert (p.name, p.compute_dtype, p.variable_dtype, repr(p)) == (
            facts[name]["name"], facts[name]["compute_dtype"], facts[name]["variable_dtype"],
            facts[name]["repr"])
    with pytest.raises(ValueError) as err:
        mixed_precision.Policy("bogus")
    assert str(err.value) == facts["bogus_error"]
    with pytest.raises(ValueError, match="bfloat16"):
        mixed_precision.Policy("mixed_bfloat16")
    K.set_floatx("float16")
    assert mixed_precision.global_policy().name == facts["default_after_floatx16"]
    K.set_floatx("float32")
    mixed_precision.set_global_policy("mixed_float16")
    assert K.floatx() == facts["floatx_under_mixed"]
    assert layers.Input((2,)).dtype == facts["input_dtype_under_mixed"]
    mixed_precision.set_global_policy(None)
    assert mixed_precision.global_policy().name == facts["default_after_reset"]


def test_global_policy_must_compute_in_floats():
    with pytest.raises(ValueError, match="floating-point policies.*int32"):
        mixed_precision.set_global_policy("int32")
    with pytest.raises(TypeError, match="must be a string"):
        mixed_precision.Policy(3)


def test_mixed_config_round_trips_through_from_config():
    mixed_precision.set_global_policy("mixed_float16")
    dense = layers.Dense(3)
    config = dense.get_config()
    mixed_precision.set_global_policy(None)
    again = layers.Dense.from_config(config)
    assert again.dtype_policy == mixed_precision.Policy("mixed_float16")
    assert (again.compute_dtype, again.dtype) == ("float16", "float32")


def test_eager_call_follows_the_compute_dtype():
    mixed_precision.set_global_policy("mixed_float16")
    dense = layers.Dense(2, kernel_initializer="ones")
    y = dense(np.ones((1, 3), "float64"))
    assert y.dtype == np.float16 and dense.kernel.dtype == "float32"
    np.testing.assert_array_equal(y, np.full((1, 2), 3, "float16"))


def test_a_model_called_as_a_layer_leaves_the_cast_to_its_layers():
    facts = DATA["policies"]
    inner_in = layers.Input((3,), dtype="float64")
    outer_in = layers.Input((3,), dtype="float64")
    keeps = symkb.Model(inner_in, layers.Activation("linear", dtype="float64")(inner_in))
    assert keeps(outer_in).dtype == facts["nested_model_keeps_float64"]
    casts = symkb.Model(inner_in, layers.Activation("linear")(inner_in))
    assert casts(outer_in).dtype == facts["nested_model_default_layer"]
