"""Model files written by real tf_keras 2.21 and Keras 3 (tests/goldens/keras_files/,
made by tools/goldens_keras_files.py), loaded with no TensorFlow: predictions
equal those recorded by the writer (1e-5). Files symkb's ``model.save``
writes under Keras's names load back here; tf_keras reading them is checked
by the generator (``--check-saved``).

Predictions run on the interpreter (the compiled targets are tested on the
same graphs elsewhere), so the whole module costs no compile.
"""
import io
import json
import pathlib
import zipfile

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.backend.nest import flatten
from symkb.ir.errors import FileFormatError
from symkb.models import load_model

HERE = pathlib.Path(__file__).parent / "goldens" / "keras_files"
WRITERS = {w: (json.loads((HERE / f"{w}.json").read_text()), np.load(HERE / f"{w}.npz"))
           for w in ("tfk", "k3")}
FILES = [(w, case, name) for w, (doc, _) in WRITERS.items() for case in doc["cases"]
         if not case.get("refused") for name in case["files"]]


def _predict(model, xs):
    out = symkb.compile(model, target="interpreter")(*xs)
    return [np.asarray(y) for y in flatten(out)]


def _inputs(writer, case):
    arrays = WRITERS[writer][1]
    return [arrays[f"{case['id']}/input{i}"] for i in range(case["inputs"])]


def _check(model, writer, case):
    got = _predict(model, _inputs(writer, case))
    arrays = WRITERS[writer][1]
    assert len(got) == case["outputs"]
    for i, y in enumerate(got):
        np.testing.assert_allclose(y, arrays[f"{case['id']}/output{i}"], rtol=1e-5, atol=1e-5)
    return got


def test_the_goldens_cover_every_format_and_model_kind():
    names = {name for _, _, name in FILES}
    assert len(names) == 36
    ids = {case["id"] for _, case, _ in FILES}
    assert {"dense_stack", "simple_rnn", "lstm", "gru", "bidirectional", "masking",
            "embedding_mask", "multi_io", "nested_sequential", "shared_layers",
            "time_distributed", "reshapes"} == ids
    assert WRITERS["tfk"][0]["version"].startswith("2.") and \
        WRITERS["k3"][0]["version"].startswith("3.")


@pytest.mark.parametrize("writer,case,name", FILES, ids=[f[2] for f in FILES])
def test_keras_file_predicts_what_the_writer_recorded(writer, case, name):
    model = load_model(HERE / name)
    _check(model, writer, case)


@pytest.mark.parametrize("name", ["multi_io.tfk.keras", "bidirectional.tfk.h5",
                                  "nested_sequential.k3.keras"])
def test_saved_under_keras_names_loads_back_equal(tmp_path, name):
    writer = name.split(".")[1]
    case = next(c for c in WRITERS[writer][0]["cases"] if c["id"] == name.split(".")[0])
    model = load_model(HERE / name)
    before = _check(model, writer, case)
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"again{suffix}"
        model.save(path)
        again = load_model(path)
        for a, b in zip(before, _predict(again, _inputs(writer, case))):
            np.testing.assert_array_equal(a, b)
    with zipfile.ZipFile(tmp_path / "again.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                              "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == model._config_class_name()
    assert [w.name for w in again.weights] == [w.name for w in model.weights]


def test_lambda_is_refused_unless_safe_mode_is_off(tmp_path):
    for name in ("lambda.tfk.keras", "lambda.k3.keras"):
        with pytest.raises(FileFormatError, match=r"holds Lambda layer\(s\) \['lambda'\].*"
                                                  r"safe_mode=False"):
            load_model(HERE / name)
        model = load_model(HERE / name, safe_mode=False)
        x = np.arange(8, dtype=np.float32).reshape(2, 4)
        kernel, bias = model.get_weights()
        np.testing.assert_allclose(_predict(model, [x])[0], (x * 2.0) @ kernel + bias,
                                   rtol=1e-6)


def test_custom_objects_name_a_users_class_and_unknown_ones_are_named(tmp_path):
    class Doubler(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    with zipfile.ZipFile(HERE / "dense_stack.tfk.keras") as archive:
        config = json.loads(archive.read("config.json"))
        members = {n: archive.read(n) for n in archive.namelist()}
    entry = {"module": "my_pkg", "class_name": "Doubler", "registered_name": "my_pkg>Doubler",
             "config": {"name": "doubler", "trainable": True, "dtype": "float32"}}
    config["config"]["layers"].insert(1, entry)
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "custom.keras"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(FileFormatError, match=r"layer 'doubler'.*Unknown layer: 'Doubler'"):
        load_model(path)
    model = load_model(path, custom_objects={"Doubler": Doubler})
    case = WRITERS["tfk"][0]["cases"][0]
    x = _inputs("tfk", case)[0]
    plain = load_model(HERE / "dense_stack.tfk.keras")
    np.testing.assert_allclose(_predict(model, [x])[0], _predict(plain, [x * 2.0])[0],
                               rtol=1e-6)


def _no_ids(value):
    if isinstance(value, dict):
        return {k: _no_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_no_ids(v) for v in value]
    return value


@pytest.mark.parametrize("case", [c for c in WRITERS["tfk"][0]["cases"]
                                  if not c.get("refused") and c["id"] != "shared_layers"],
                         ids=lambda c: c["id"])
def test_the_keras_archive_symkb_writes_holds_tf_keras_s_own_config(case):
    # shared_layers is left out: its model calls one layer twice on the same input,
    # a call symkb records once (the inbound node numbers differ; tf_keras reads it)
    from symkb.models.keras_write import keras_archive_bytes
    model = load_model(HERE / case["files"][0])
    with zipfile.ZipFile(io.BytesIO(keras_archive_bytes(model))) as archive:
        ours = json.loads(archive.read("config.json"))
    with zipfile.ZipFile(HERE / case["files"][0]) as archive:
        theirs = json.loads(archive.read("config.json"))
    assert _no_ids(ours) == _no_ids(theirs)
