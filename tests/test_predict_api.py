"""predict (batch_size 32 by default, verbose, steps, keyword arguments),
predict_on_batch and the training methods symkb does not have; tf_keras's
answers from tests/goldens/saving.json (tools/goldens_saving.py)."""
import json
import pathlib
import re

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.models.train_api import TRAINING_METHODS

GOLDENS = pathlib.Path(__file__).parent / "goldens"
PREDICT = json.loads((GOLDENS / "saving.json").read_text())["predict"]
ARRAYS = np.load(GOLDENS / "saving.npz")


def golden_model():
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.set_weights([ARRAYS["predict/weight0"], ARRAYS["predict/weight1"]])
    return model


def record_batches(model) -> list:
    """Wrap the model's compiled function to record the rows of each call."""
    fn = model._compiled()
    rows = []

    def counting(*arrays):
        rows.append(arrays[0].shape[0])
        return fn(*arrays)
    model._predict_fn = counting
    return rows


def normalise(text: str) -> str:
    """The text with its durations (``0s``, ``3ms``, ``51us``) as ``<t>``: symkb is
    faster than tf_keras, so the unit differs too."""
    return re.sub(r"\d+(\.\d+)?(s|ms|us)\b", "<t>", text)


def test_predict_batches_32_rows_by_default():
    model = golden_model()
    rows = record_batches(model)
    out = model.predict(ARRAYS["predict/x"], verbose=0)
    np.testing.assert_allclose(out, ARRAYS["predict/output"], rtol=1e-5, atol=1e-6)
    assert rows == [32, 32, 6]
    assert str(len(rows)) == PREDICT["default_batches"]  # tf_keras's bar shows 3/3


@pytest.mark.parametrize("verbose", ["1", "2", "auto", "0"])
def test_verbose_prints_tf_keras_progress(capsys, verbose):
    model = golden_model()
    model.predict(ARRAYS["predict/x"], verbose=verbose if verbose == "auto" else int(verbose))
    text = capsys.readouterr().out
    expected = PREDICT["printed"][verbose]
    assert normalise(text.split("\r")[-1]) == normalise(expected["final"])
    if verbose in ("1", "auto"):  # the bar is drawn after the first batch, then redrawn
        first = "\r1/3 [=========>....................] - ETA: "
        assert expected["stdout"].startswith(first) and text.startswith(first)
        redraw = re.compile("\b{46,}\r3/3 \\[")
        assert redraw.search(expected["stdout"]) and redraw.search(text)


def test_verbose_true_and_false_are_1_and_0(capsys):
    model = golden_model()
    model.predict(ARRAYS["predict/x"], verbose=False)
    assert capsys.readouterr().out == ""
    model.predict(ARRAYS["predict/x"], verbose=True)
    assert normalise(capsys.readouterr().out.split("\r")[-1]) == \
        normalise(PREDICT["printed"]["1"]["final"])


def test_verbose_auto_is_the_default(capsys):
    golden_model().predict(ARRAYS["predict/x"])
    text = capsys.readouterr().out
    assert normalise(text.split("\r")[-1]) == normalise(PREDICT["printed"]["auto"]["final"])


@pytest.mark.parametrize("key", sorted(PREDICT["rows_returned"]))
def test_steps_and_batch_size_give_tf_keras_row_counts(key):
    steps, batch_size = (None if v == "None" else int(v)
                         for v in re.fullmatch(r"steps=(\w+),batch_size=(\w+)", key).groups())
    model = golden_model()
    out = model.predict(ARRAYS["predict/x"], steps=steps, batch_size=batch_size, verbose=0)
    assert out.shape[0] == PREDICT["rows_returned"][key]
    np.testing.assert_allclose(out, ARRAYS["predict/output"][:out.shape[0]],
                               rtol=1e-5, atol=1e-6)


def test_steps_set_the_batch_size_when_none_is_given():
    model = golden_model()
    rows = record_batches(model)
    model.predict(ARRAYS["predict/x"], steps=3, verbose=0)
    assert rows == [24, 24, 22]  # ceil(70 / 3), as tf_keras sizes it


def test_bad_arguments():
    model = golden_model()
    x = ARRAYS["predict/x"]
    errors = PREDICT["errors"]
    with pytest.raises(TypeError) as info:
        model.predict(x, verbose=0, foo=1)
    assert str(info.value) == errors["unknown_kwarg"]["message"]
    assert errors["batch_size_0"]["type"] == errors["steps_0"]["type"] == "ValueError"
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. "
                                         r"Received: batch_size=0"):
        model.predict(x, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"`steps` must be a positive integer, None or -1. "
                                         r"Received: steps=0"):
        model.predict(x, steps=0, verbose=0)
    with pytest.raises(ValueError, match=r"Received: verbose='loud'"):
        model.predict(x, verbose="loud")
    with pytest.raises(ValueError, match="symkb has no callbacks"):
        model.predict(x, verbose=0, callbacks=[object()])


def test_predict_on_batch_is_one_call():
    model = golden_model()
    assert PREDICT["predict_on_batch_equals_predict"]
    rows = record_batches(model)
    out = model.predict_on_batch(ARRAYS["predict/x"])
    assert rows == [70]
    np.testing.assert_allclose(out, ARRAYS["predict/output"], rtol=1e-5, atol=1e-6)


def test_batched_multi_output_model_matches_one_call():
    a = layers.Input((3,), name="a")
    b = layers.Input((2,), name="b")
    h = layers.Dense(4, activation="tanh")(layers.Concatenate()([a, b]))
    model = symkb.Model([a, b], [layers.Dense(2)(h), h])
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((45, 3)).astype("float32"),
          rng.standard_normal((45, 2)).astype("float32")]
    batched = model.predict(xs, batch_size=8, verbose=0)
    whole = model.predict_on_batch(xs)
    assert len(batched) == 2
    for u, v in zip(batched, whole):
        assert u.shape[0] == 45
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)


def test_lazy_sequential_builds_on_predict_on_batch():
    model = symkb.Sequential([layers.Dense(2)])
    out = model.predict_on_batch(np.ones((3, 4), "float32"))
    assert out.shape == (3, 2) and model.built


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_methods_before_compile_say_so(method):
    model = golden_model()
    assert method in TRAINING_METHODS and callable(getattr(model, method))
    x = np.ones((2,) + tuple(model.input_shape[1:]), "float32")
    with pytest.raises(RuntimeError, match=r"You must compile your model before "
                                           r"training/testing"):
        getattr(model, method)(x, np.ones((2,) + tuple(model.output_shape[1:]), "float32"))
