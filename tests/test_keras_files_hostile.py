"""Hostile and broken Keras files: a clear error (the FileFormatError family,
naming what is wrong), nothing executed, nothing large allocated.

Each file is crafted from a small golden (tests/goldens/keras_files/): wrong
magic, a truncated archive, path-traversal member names, a huge declared
layer, HDF5 datasets claiming 10**12 elements (their header says so; the file
is a few kilobytes), links into other files and externally stored datasets.
"""
import io
import json
import pathlib
import tracemalloc
import zipfile

import numpy as np
import pytest

from symkb.ir.errors import FileFormatError, LimitError
from symkb.models import load_model

h5py = pytest.importorskip("h5py")  # the extra symkb[keras]; in the test extra

HERE = pathlib.Path(__file__).parent / "goldens" / "keras_files"
SMALL = 64 << 20  # no hostile file may make a load trace more


def _members(name):
    with zipfile.ZipFile(HERE / name) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _zip(path, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def _refused(path, error=FileFormatError, match=None, **kwargs):
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match) as info:
            load_model(path, **kwargs)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < SMALL, f"peak {peak} bytes"
    assert not info.value.internal, repr(info.value.__cause__)
    return str(info.value)


def _h5(build) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return buffer.getvalue()


def test_wrong_magic_and_truncated_archives(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"GIF89a" + bytes(200))
    _refused(tmp_path / "m.keras", match="not valid JSON")
    data = (HERE / "lstm.tfk.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[:len(data) // 2])
    _refused(tmp_path / "cut.keras", match="truncated or damaged zip")
    members = _members("lstm.tfk.keras")
    members["model.weights.h5"] = b"\x89HDF\r\n\x1a\n" + bytes(100)
    _refused(_zip(tmp_path / "badh5.keras", members), match="HDF5")
    members["model.weights.h5"] = b"not hdf5 at all"
    _refused(_zip(tmp_path / "noth5.keras", members), match="model.weights.h5 is not HDF5")


def test_path_traversal_and_unknown_members_are_refused(tmp_path):
    for odd in ("../../evil.py", "/etc/passwd", "assets/..\\..\\x", "config.json/../x"):
        members = _members("lstm.tfk.keras")
        members[odd] = b"print('owned')"
        message = _refused(_zip(tmp_path / "m.keras", members),
                           match="which symkb does not read")
        assert "nothing is ever extracted" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_a_huge_declared_layer_is_refused_before_weights_are_made(tmp_path):
    members = _members("dense_stack.tfk.keras")
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 10 ** 9
    members["config.json"] = json.dumps(config).encode()
    _refused(_zip(tmp_path / "m.keras", members), LimitError, match="max_array_elements")


def _claiming(f, path):
    f.create_dataset(path, shape=(10 ** 6, 10 ** 6), dtype="float32", chunks=(1, 16))


def test_an_hdf5_dataset_claiming_1e12_elements_is_refused_before_reading(tmp_path):
    members = _members("dense_stack.tfk.keras")
    members["model.weights.h5"] = _h5(lambda f: _claiming(f, "layers/dense/vars/0"))
    assert len(members["model.weights.h5"]) < 20000
    message = _refused(_zip(tmp_path / "m.keras", members), LimitError,
                       match="max_array_elements")
    assert "1000000000000 elements" in message

    config = json.loads(_members("dense_stack.tfk.keras")["config.json"])
    config["config"]["layers"] = config["config"]["layers"][:2]  # Input, Dense(8)

    def legacy(f):
        f.attrs["model_config"] = json.dumps(config)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"dense"]
        group.create_group("dense").attrs["weight_names"] = [b"dense/kernel:0",
                                                             b"dense/bias:0"]
        _claiming(group["dense"], "dense/kernel:0")
        group["dense"]["dense/bias:0"] = np.zeros(8, "float32")
    (tmp_path / "m.h5").write_bytes(_h5(legacy))
    _refused(tmp_path / "m.h5", LimitError, match="1000000000000 elements")


def test_links_into_other_files_and_external_storage_are_never_followed(tmp_path):
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["w"] = np.ones((4, 8), "float32")
    members = _members("dense_stack.tfk.keras")
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
        original = {}
        f.visititems(lambda n, o: original.__setitem__(n, o[()]) if isinstance(
            o, h5py.Dataset) else None)

    def linked(f):
        for name, value in original.items():
            f[name] = value
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(secret), "w")
    members["model.weights.h5"] = _h5(linked)
    _refused(_zip(tmp_path / "link.keras", members), match="ExternalLink")

    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones((4, 8), "float32").tobytes())

    def external(f):
        for name, value in original.items():
            if name != "layers/dense/vars/0":
                f[name] = value
        f.create_dataset("layers/dense/vars/0", shape=(4, 8), dtype="float32",
                         external=[(str(raw), 0, 128)])
    members["model.weights.h5"] = _h5(external)
    _refused(_zip(tmp_path / "ext.keras", members), match="external or virtual storage")


def test_non_numeric_datasets_and_a_weights_file_as_a_model(tmp_path):
    members = _members("dense_stack.tfk.keras")
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
        original = {}
        f.visititems(lambda n, o: original.__setitem__(n, o[()]) if isinstance(
            o, h5py.Dataset) else None)

    def strings(f):
        for name, value in original.items():
            f[name] = value
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = np.array([b"x"] * 8, dtype=object)
    members["model.weights.h5"] = _h5(strings)
    _refused(_zip(tmp_path / "s.keras", members), match="weights are numbers")
    _refused(HERE.parent / "saving" / "mlp.weights.h5", match="without a model config")


def test_load_weights_checks_a_claimed_shape_too(tmp_path):
    import symkb
    from symkb import layers
    model = symkb.Sequential([layers.Input((4,)), layers.Dense(8)])
    (tmp_path / "w.weights.h5").write_bytes(_h5(lambda f: (
        _claiming(f, "layers/dense/vars/0"), f.create_dataset("layers/dense/vars/1",
                                                              data=np.zeros(8, "float32")))))
    with pytest.raises(LimitError, match="1000000000000 elements"):
        model.load_weights(tmp_path / "w.weights.h5")
