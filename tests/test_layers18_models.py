"""A small CNN (both data formats), a Transformer encoder block and a
Sequential stack of the 1D layers built as in tf_keras (tests/goldens/
layers18.*): same weights, same predictions and the same summary() text;
save/load keeps them; one compiled-cpu run of the CNN and of the Transformer
block equals the interpreter."""
import io
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential
from symkb.models.saving import load_model

GOLDEN = pathlib.Path(__file__).parent / "goldens"
MODELS = {m["id"]: m for m in json.loads((GOLDEN / "layers18.json").read_text())["models"]}
ARRAYS = np.load(GOLDEN / "layers18.npz")


def _build(mid):
    K.clear_session()
    case = MODELS[mid]
    ns = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential}
    exec(case["code"], ns)  # the golden file's own construction code
    model = ns["model"]
    model.set_weights([ARRAYS[f"{mid}/w{k}"] for k in range(case["n_weights"])])
    return model


def _summary(model):
    buf = io.StringIO()
    model.summary(print_fn=lambda line: buf.write(line + "\n"))
    return buf.getvalue().rstrip("\n")


@pytest.mark.parametrize("mid", sorted(MODELS))
def test_model_matches_tf_keras(mid):
    model = _build(mid)  # fresh names: the summary shows them
    assert [w.name for w in model.weights] == MODELS[mid]["weight_names"]
    assert _summary(model) == MODELS[mid]["summary"]
    run = symkb.compile(model, target="interpreter")
    np.testing.assert_allclose(run(ARRAYS[f"{mid}/x"]), ARRAYS[f"{mid}/pred"],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mid", ["cnn_cf", "transformer", "sequential_1d"])
def test_save_and_load_keep_predictions(mid, tmp_path):
    model = _build(mid)
    path = tmp_path / f"{mid}.symkb"
    model.save(str(path))
    loaded = load_model(str(path))
    assert _summary(loaded) == _summary(model)
    x = ARRAYS[f"{mid}/x"]
    np.testing.assert_allclose(symkb.compile(loaded, target="interpreter")(x),
                               ARRAYS[f"{mid}/pred"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mid", ["cnn_cl", "transformer"])
def test_compiled_cpu_equals_interpreter(mid):
    model = _build(mid)
    x = ARRAYS[f"{mid}/x"]
    expected = symkb.compile(model, target="interpreter")(x)
    np.testing.assert_allclose(symkb.compile(model, target="cpu")(x), expected,
                               rtol=1e-5, atol=1e-6)
