"""Which files load_model and `symkb inspect` read, and which they refuse.

tf_keras's own files (a .keras archive, an .h5 model, written by tf_keras in
tools/goldens_saving.py) are read with their weights; a weights-only file is
explained, never read as an architecture with fresh weights. Every file
model.save writes, under any name, is read back by both."""
import io
import json
import os
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.cli import main as cli_main
from symkb.models import load_model
from symkb.models.file_kinds import ForeignModelFileError
from symkb.models.saving import ModelFormatError

GOLDENS = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDENS / "saving.json").read_text())
ROOT = pathlib.Path(__file__).resolve().parents[1]


def gru_model():
    return symkb.Sequential([layers.Input((6, 3)), layers.GRU(4), layers.Dense(2)], name="gru_m")


def inspect(path, capsys):
    """``symkb inspect PATH`` in-process: (exit code, stdout, stderr)."""
    code = cli_main(["inspect", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_tf_keras_keras_file_loads_with_its_weights(capsys):
    path = GOLDENS / "saving" / "mlp.keras"
    assert DOC["save_formats"]["m.keras"] == {
        "kind": "zip", "members": ["config.json", "metadata.json", "model.weights.h5"]}
    model = load_model(path)
    reference = load_model(path)  # the same architecture, weights from the weights file
    rng = np.random.default_rng(3)
    reference.set_weights([rng.uniform(-1, 1, w.shape).astype(w.dtype)
                           for w in reference.weights])
    reference.load_weights(path)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    code, out, err = inspect(path, capsys)
    assert code == 0, err
    assert "Total params:" in out


def test_a_tf_keras_h5_file_loads_and_a_weights_file_is_explained(capsys):
    path = GOLDENS / "saving" / "mlp.h5"
    assert DOC["save_formats"]["m.h5"] == {"kind": "hdf5"}
    from_h5 = load_model(path)
    from_keras = load_model(GOLDENS / "saving" / "mlp.keras")
    assert [w.shape for w in from_h5.weights] == [w.shape for w in from_keras.weights]
    code, out, err = inspect(path, capsys)
    assert code == 0 and "Total params:" in out and "UnicodeDecodeError" not in err
    with pytest.raises(ModelFormatError, match=r"without a model config .*"
                                               r"model.load_weights\(path\)"):
        load_model(GOLDENS / "saving" / "mlp.weights.h5")
    code, _, err = inspect(GOLDENS / "saving" / "mlp.weights.h5", capsys)
    assert code == 1 and "model.load_weights(path)" in err


def test_a_savedmodel_folder_is_refused(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(ForeignModelFileError, match="TensorFlow SavedModel folder"):
        load_model(tmp_path)


def test_a_loader_never_fills_in_what_it_cannot_read(tmp_path):
    model = gru_model()
    model.save(tmp_path / "m.symkb")
    with zipfile.ZipFile(tmp_path / "m.symkb") as archive:
        config = archive.read("config.json")
        weights = archive.read("model.weights.npz")
    cases = {"no_weights": {"config.json": config},
             "extra_member": {"config.json": config, "model.weights.npz": weights,
                              "notes.txt": b"x"}}
    for name, members in cases.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        (tmp_path / name).write_bytes(buffer.getvalue())
    with pytest.raises(ModelFormatError, match="lacks model.weights.npz"):
        load_model(tmp_path / "no_weights")
    with pytest.raises(ModelFormatError, match=r"holds members symkb does not read "
                                               r"\(\['notes.txt'\]\)"):
        load_model(tmp_path / "extra_member")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "config.json").write_bytes(config)
    with pytest.raises(ModelFormatError, match="lacks model.weights.npz"):
        load_model(folder)
    (tmp_path / "config_only.json").write_bytes(config)
    with pytest.raises(ModelFormatError, match="lacks model.weights.npz"):
        load_model(tmp_path / "config_only.json")
    (tmp_path / "binary").write_bytes(bytes(range(256)))
    with pytest.raises(ModelFormatError, match="binary data, not UTF-8 text"):
        load_model(tmp_path / "binary")


# tf_keras's extensions: model.save writes tf_keras's formats there (read back by
# tf_keras's load_model); under any other name it writes its own format.
TF_KERAS = [".keras", ".h5", ".hdf5", ".weights.h5", ".KERAS"]
WRITTEN = ["", ".symkb", ".zip", ".json", ".npz", ".bin", "folder/"]


@pytest.mark.parametrize("suffix", TF_KERAS + WRITTEN)
def test_newcomer_saves_under_every_name_and_inspects_it(tmp_path, capsys, suffix):
    model = gru_model()
    x = np.random.default_rng(0).standard_normal((3, 6, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    capsys.readouterr()
    if suffix == "folder/":
        path = tmp_path / "saved"
        path.mkdir()
    else:
        path = tmp_path / f"m{suffix}"
    if suffix in TF_KERAS:
        tf_keras_kind = DOC["save_formats"].get(f"m{suffix}")
        if tf_keras_kind is not None:  # what tf_keras writes there: symkb writes the same
            assert tf_keras_kind.get("kind") in ("zip", "hdf5")
            model.save(path)
            assert (path.read_bytes()[:4] == b"PK\x03\x04") == (tf_keras_kind["kind"] == "zip")
            path.unlink()
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    code, out, err = inspect(path, capsys)
    assert code == 0, err
    assert 'Model: "gru_m"' in out and "Total params: 118" in out
    assert "graph gru_m(%input_1: f32[?,6,3]) -> (f32[?,2])" in out


def test_inspect_in_a_subprocess_reads_a_model_saved_without_extension(tmp_path):
    model = gru_model()
    model.save(tmp_path / "model")
    result = subprocess.run([sys.executable, "-m", "symkb", "inspect", str(tmp_path / "model")],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ),
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert 'Model: "gru_m"' in result.stdout


def test_extra_weight_arrays_are_an_error(tmp_path):
    model = gru_model()
    model.save(tmp_path / "m.symkb")
    with zipfile.ZipFile(tmp_path / "m.symkb") as archive:
        config = archive.read("config.json")
    buffer = io.BytesIO()
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    np.savez(buffer, **arrays, weight_99=np.zeros(3, "float32"))
    with zipfile.ZipFile(tmp_path / "extra.symkb", "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.npz", buffer.getvalue())
    with pytest.raises(ModelFormatError, match=r"arrays the model does not have: "
                                               r"\['weight_99'\]"):
        load_model(tmp_path / "extra.symkb")


@pytest.mark.parametrize("save_format", ["tf", "h5", "keras"])
def test_save_format_is_refused(tmp_path, save_format):
    with pytest.raises(ValueError, match=rf"Received: save_format='{save_format}'"):
        gru_model().save(tmp_path / "m", save_format=save_format)
    assert not (tmp_path / "m").exists()


def test_weights_files_are_pointed_to_load_weights(tmp_path, capsys):
    model = gru_model()
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ModelFormatError, match=r"is a numpy .npz archive \(as "
                                               r"model.save_weights writes\), not a saved model"):
        load_model(tmp_path / "w.npz")
    code, _, err = inspect(tmp_path / "w.npz", capsys)
    assert code == 1 and "model.load_weights(path)" in err
