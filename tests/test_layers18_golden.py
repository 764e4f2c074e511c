"""Convolution, pooling, reshaping, normalisation, attention and noise layers
against real tf_keras (tests/goldens/layers18.*, made by
tools/goldens_layers18.py): outputs after set_weights (eagerly and through a
model on the interpreter), configs, weight names and shapes, output shapes,
parameter counts and the moving statistics after a training call."""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model

GOLDEN = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDEN / "layers18.json").read_text())
CASES = DOC["cases"]
ARRAYS = np.load(GOLDEN / "layers18.npz")
TOL = dict(rtol=1e-5, atol=1e-5)


def _namespace(case):
    ns = {f"x{i}": ARRAYS[f"{case['id']}/x{i}"] for i in range(case["n_inputs"])}
    ns.update({f"m{i}": ARRAYS[f"{case['id']}/m{i}"] for i in range(case["n_masks"])})
    return ns


def _call(layer, case, ns):
    local = dict(ns, layer=layer)
    exec(case["call"], {}, local)  # the golden file's own call
    out = local["out"]
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _weights(case):
    return [ARRAYS[f"{case['id']}/w{k}"] for k in range(len(case["weight_names"]))]


def _plain(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_layer_matches_tf_keras(case):
    K.clear_session()
    layer = eval(case["code"], {"layers": layers})
    ns = _namespace(case)
    _call(layer, case, ns)  # builds
    assert [w.name for w in layer.weights] == case["weight_names"]
    assert [list(w.shape) for w in layer.weights] == case["weight_shapes"]
    layer.set_weights(_weights(case))
    outs = _call(layer, case, ns)
    assert len(outs) == case["n_outputs"]
    for k, got in enumerate(outs):
        np.testing.assert_allclose(got, ARRAYS[f"{case['id']}/out{k}"], **TOL)
    for k in range(case["n_after"]):
        np.testing.assert_allclose(layer.non_trainable_weights[k].numpy(),
                                   ARRAYS[f"{case['id']}/after{k}"], **TOL)
    config = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key)
    assert _plain(config) == case["config"]
    assert layer.count_params() == case["params"]
    if "output_shape" in case:
        shape = layer.compute_output_shape((None,) + ARRAYS[f"{case['id']}/x0"].shape[1:])
        assert list(shape) == case["output_shape"]
    clone = type(layer).from_config(layer.get_config())
    assert _plain(clone.get_config()) == _plain(layer.get_config())


SYMBOLIC = [c for c in CASES if "training" not in c["call"]]


@pytest.mark.parametrize("case", SYMBOLIC, ids=[c["id"] for c in SYMBOLIC])
def test_layer_in_a_model_on_the_interpreter(case):
    K.clear_session()
    layer = eval(case["code"], {"layers": layers})
    arrays = _namespace(case)
    inputs = {k: Input(v.shape[1:], dtype="bool" if k[0] == "m" else None)
              for k, v in arrays.items()}
    outputs = _call(layer, case, inputs)
    ins = list(inputs.values())
    model = Model(ins if len(ins) > 1 else ins[0], outputs if len(outputs) > 1 else outputs[0])
    layer.set_weights(_weights(case))
    got = symkb.compile(model, target="interpreter")(*arrays.values())
    got = got if isinstance(got, list) else [got]
    for k, value in enumerate(got):
        np.testing.assert_allclose(value, ARRAYS[f"{case['id']}/out{k}"], **TOL)
    if "output_shape" in case:
        assert tuple(model.output_shape) == tuple(case["output_shape"])


TRAINING = [c for c in CASES if "training=True" in c["call"]]


@pytest.mark.parametrize("case", TRAINING, ids=[c["id"] for c in TRAINING])
def test_training_call_on_the_interpreter_and_its_updates(case):
    K.clear_session()
    layer = eval(case["code"], {"layers": layers})
    x = ARRAYS[f"{case['id']}/x0"]
    inp = Input(x.shape[1:])
    out = _call(layer, case, {"x0": inp})[0]
    layer.set_weights(_weights(case))
    values = [value for _, value in layer.updates]
    got = K.function([inp], [out] + values, target="interpreter")(x)
    np.testing.assert_allclose(got[0], ARRAYS[f"{case['id']}/out0"], **TOL)
    for k in range(case["n_after"]):
        np.testing.assert_allclose(got[1 + k], ARRAYS[f"{case['id']}/after{k}"], **TOL)
