"""tf_keras files holding convolution, normalisation and attention layers
(tests/goldens/keras_files/layers_*, written by tools/goldens_keras_layers.py with
real tf_keras) load with no TensorFlow and predict what tf_keras recorded."""
import pathlib

import numpy as np
import pytest

import symkb

pytest.importorskip("h5py")  # the extra symkb[keras]; in the test extra
HERE = pathlib.Path(__file__).parent / "goldens" / "keras_files"
ARRAYS = np.load(HERE / "layers.npz")


@pytest.mark.parametrize("name", ["cnn", "attention"])
@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_layer_files_predict_what_tf_keras_recorded(name, ext, tmp_path):
    model = symkb.models.load_model(HERE / f"layers_{name}.{ext}")
    run = symkb.compile(model, target="interpreter")
    np.testing.assert_allclose(run(ARRAYS[f"{name}_x"]), ARRAYS[f"{name}_y"], rtol=1e-5,
                               atol=1e-5)
    # written back under the same kind of name, read again: the same predictions
    model.save(tmp_path / f"again.{ext}")
    again = symkb.compile(symkb.models.load_model(tmp_path / f"again.{ext}"),
                          target="interpreter")
    np.testing.assert_array_equal(again(ARRAYS[f"{name}_x"]), run(ARRAYS[f"{name}_x"]))


def test_attention_calls_are_written_as_tf_keras_writes_them(tmp_path):
    import json
    import zipfile

    def inbound(path):
        config = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]
        return {layer["class_name"]: layer["inbound_nodes"] for layer in config["layers"]}
    model = symkb.models.load_model(HERE / "layers_attention.keras")
    model.save(tmp_path / "again.keras")
    ours, theirs = inbound(tmp_path / "again.keras"), inbound(HERE / "layers_attention.keras")
    # the query by position, the value as a keyword reference: [[["input", 0, 0, {"value": ...}]]]
    assert ours["MultiHeadAttention"] == theirs["MultiHeadAttention"]
