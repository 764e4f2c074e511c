"""Model saving: to_json/model_from_json and save/load_model (JSON + .npz, never pickle)."""
import io
import json
import zipfile

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.models import load_model, model_from_json
from symkb.models.saving import ModelFormatError, read_saved


def _summary(model) -> str:
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _mlp():
    return symkb.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                             layers.Dense(3, activation="softmax")])


def _gru():
    return symkb.Sequential([layers.Input((6, 3)), layers.GRU(4), layers.Dense(2)])


def _lstm():
    return symkb.Sequential([layers.Input((5, 2)), layers.LSTM(3, return_sequences=True),
                             layers.SimpleRNN(2, go_backwards=True)])


def _functional():
    a = layers.Input((3,), name="a")
    b = layers.Input((2,), name="b")
    h = layers.Dense(4, activation="tanh")(a)
    joined = layers.Concatenate()([h, b])
    out1 = layers.Dense(2, name="head_1")(joined)
    out2 = layers.Dense(1, activation="sigmoid", name="head_2")(h)
    return symkb.Model([a, b], [out1, out2], name="two_heads")


def _inputs(model):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(4,) + tuple(t.shape[1:])).astype("float32") for t in model.inputs]


def _predict(model, xs):
    out = model.predict(xs if len(xs) > 1 else xs[0])
    return out if isinstance(out, list) else [out]


BUILDERS = {"mlp": _mlp, "gru": _gru, "lstm": _lstm, "functional": _functional}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("fresh_session", [True, False])
def test_save_and_load_give_the_same_model(tmp_path, name, fresh_session):
    model = BUILDERS[name]()
    xs = _inputs(model)
    expected = _predict(model, xs)
    summary, graph_text = _summary(model), str(model.graph)
    path = tmp_path / f"{name}.symkb"
    model.save(path)
    if fresh_session:
        K.clear_session()
    again = load_model(path)
    assert type(again) is type(model) and again.name == model.name
    assert _summary(again) == summary
    assert str(again.graph) == graph_text
    for u, v in zip(_predict(again, xs), expected):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_archive_layout_and_contents(tmp_path):
    model = _mlp()
    path = tmp_path / "mlp.symkb"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "model.weights.npz"]
        config = json.loads(archive.read("config.json"))
        weights = np.load(io.BytesIO(archive.read("model.weights.npz")), allow_pickle=False)
        assert weights.files == [f"weight_{i}" for i in range(4)]
    assert config["format"] == "symkb-model" and config["version"] == 1
    assert config["model"]["class_name"] == "Sequential"
    assert [w["name"] for w in config["weights"]] == [w.name for w in model.weights]
    assert config["weights"][0] == {"name": "dense/kernel:0", "shape": [4, 8],
                                    "dtype": "float32"}
    graph = symkb.ir.json_read.from_dict(config["graph"])
    assert str(graph) == str(model.graph)
    doc, arrays = read_saved(path)
    assert doc == config and len(arrays) == 4


def test_directory_form(tmp_path):
    model = _gru()
    xs = _inputs(model)
    model.save(tmp_path)
    weights_files = [p.name for p in tmp_path.glob("model.weights*.npz")]
    assert (tmp_path / "config.json").exists() and len(weights_files) == 1
    assert json.loads((tmp_path / "config.json").read_text())["weights_file"] == weights_files[0]
    again = load_model(tmp_path)
    np.testing.assert_array_equal(again.predict(xs[0]), model.predict(xs[0]))


def test_overwrite_false(tmp_path):
    model = _mlp()
    path = tmp_path / "m.symkb"
    model.save(path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    model.save(path)  # overwrite=True by default


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_to_json_and_model_from_json(name):
    model = BUILDERS[name]()
    text = model.to_json()
    doc = json.loads(text)
    assert doc["class_name"] in ("Sequential", "Functional") and doc["backend"] == "symkb"
    K.clear_session()
    again = model_from_json(text)
    assert _summary(again) == _summary(model)
    assert again.to_json() == text
    assert str(again.graph) == str(model.graph)
    # fresh weights; the same weights give the same predictions
    again.set_weights(model.get_weights())
    xs = _inputs(model)
    for u, v in zip(_predict(again, xs), _predict(model, xs)):
        np.testing.assert_array_equal(u, v)


def test_load_model_reads_a_to_json_file(tmp_path):
    model = _mlp()
    path = tmp_path / "arch.json"
    path.write_text(model.to_json())
    again = load_model(path)
    assert _summary(again) == _summary(model)


def test_weights_are_never_unpickled(tmp_path):
    model = _mlp()
    path = tmp_path / "m.symkb"
    model.save(path)
    buffer = io.BytesIO()
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    arrays["weight_0"] = np.array([object()], dtype=object)
    np.savez(buffer, **arrays)
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.npz", buffer.getvalue())
    with pytest.raises(ModelFormatError, match="dtype object are not read"):
        load_model(path)


@pytest.mark.parametrize("content, message", [
    (json.dumps({"format": "symkb-model", "version": 7, "model": {}}), "version 7"),
    (json.dumps({"hello": 1}), "not a saved symkb model"),
    ("not json", "bad.json: symkb model: file: not valid JSON"),
    (json.dumps({"class_name": "NoSuchLayer", "config": {}}), "Unknown layer"),
])
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        load_model(tmp_path / "absent.symkb")


def test_wrong_weight_count_is_an_error(tmp_path):
    model = _mlp()
    model.save(tmp_path / "m.symkb")
    doc, _ = read_saved(tmp_path / "m.symkb")
    buffer = io.BytesIO()
    np.savez(buffer, weight_0=np.zeros((4, 8), "float32"))
    with zipfile.ZipFile(tmp_path / "m.symkb", "w") as archive:
        archive.writestr("config.json", json.dumps(doc))
        archive.writestr("model.weights.npz", buffer.getvalue())
    with pytest.raises(ModelFormatError, match="lacks"):
        load_model(tmp_path / "m.symkb")


# tf_keras records `rnn(x, initial_state=[h, c])` as one inbound node [x, h, c]; the RNN
# layers split such a list back into inputs and states when the model is rebuilt.
GOLDEN_LAYER_CASES = [pytest.param(c, id=c["id"])
                      for c in __import__("graph_cases").golden_layer_cases()]


@pytest.mark.parametrize("case", GOLDEN_LAYER_CASES)
def test_every_layer_model_saves_and_loads(tmp_path, case):
    import graph_cases as cases
    model, feeds = cases.build_golden_model(case)
    summary, graph_text = _summary(model), str(model.graph)
    expected = symkb.ir.evaluate(model.graph, feeds)
    model.save(tmp_path / "m.symkb")
    K.clear_session()
    again = load_model(tmp_path / "m.symkb")
    assert _summary(again) == summary
    assert str(again.graph) == graph_text
    for u, v in zip(symkb.ir.evaluate(again.graph, feeds), expected):
        np.testing.assert_array_equal(u, v)


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from symkb.utils.atomic import write_atomic
    old = os.umask(0o022)
    try:
        target = tmp_path / "plain.txt"
        write_atomic(target, "text")
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
        write_atomic(target, b"bytes")
        assert target.read_bytes() == b"bytes"
        assert [p.name for p in tmp_path.iterdir()] == ["plain.txt"]  # no temporary left
    finally:
        os.umask(old)
