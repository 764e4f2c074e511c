"""A newcomer saves a model under every file name they might pick and inspects
the result: ``load_model`` gives back the architecture (the same tf_keras
JSON) and the weights (the same predictions), and ``symkb inspect`` prints
the model's summary, whatever the extension. Under tf_keras's own extensions
(``.keras``, ``.h5``, ``.hdf5``) the file is tf_keras's format, which
tf_keras's ``load_model`` reads too."""
import contextlib
import io
import json

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.cli import main
from symkb.models import load_model

NAMES = ["model.symkb", "model.zip", "model", "model.bin", "folder/"]
TF_KERAS_NAMES = ["model.keras", "model.h5", "model.hdf5", "MODEL.KERAS"]


def _model():
    K.clear_session()
    inner_in = layers.Input((4,))
    inner = symkb.Model(inner_in, layers.Dense(3, activation="tanh")(inner_in), name="inner")
    x = layers.Input((4,))
    model = symkb.Model(x, layers.Dense(2)(inner(x)))
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(w.dtype) for w in model.weights])
    return model


def _architecture(text):
    return {k: v for k, v in json.loads(text).items() if k not in ("keras_version", "backend")}


@pytest.mark.parametrize("name", NAMES + TF_KERAS_NAMES)
def test_save_under_any_name_then_load_and_inspect(tmp_path, name):
    model = _model()
    path = tmp_path / name
    if name.endswith("/"):
        path.mkdir()
    model.save(str(path))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype("float32")
    expected = model.predict(x)
    summary = io.StringIO()
    model.summary(print_fn=lambda line: summary.write(line + "\n"))

    K.clear_session()
    again = load_model(str(path))
    assert _architecture(again.to_json()) == _architecture(model.to_json())
    np.testing.assert_array_equal(again.predict(x), expected)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["inspect", str(path)])
    assert status == 0
    printed = out.getvalue()
    assert summary.getvalue() in printed
    assert "graph model(%input_2: f32[?,4]) -> (f32[?,2])" in printed
