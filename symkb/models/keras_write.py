"""``model.save`` under Keras's names: files tf_keras's ``load_model`` reads.

* ``*.keras``: the zip archive of tf_keras 2.13+ — ``metadata.json``,
  ``config.json`` (the model's entry as
  :func:`symkb.layers.serialization.serialize` gives it, which is tf_keras's)
  and ``model.weights.h5`` (the layout of ``model.save_weights`` to a
  ``.weights.h5`` name, :mod:`symkb.models.weights_io`);
* ``*.h5`` / ``*.hdf5``: tf_keras's legacy HDF5 model — attributes
  ``model_config``, ``keras_version``, ``backend``, and group
  ``model_weights`` with one group per layer of ``model.layers`` listing its
  weights (``trainable_weights + non_trainable_weights``) in attribute
  ``weight_names``, each a dataset at that name.

A compiled model's compile configuration and optimizer state go in both,
where tf_keras puts them (:mod:`symkb.models.keras_training`). Both need
h5py (the extra ``symkb[keras]``). Files are written whole to
memory, then atomically (a failed save leaves no half file).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile

import numpy as np

from ..layers.serialization import serialize
from ..utils.atomic import write_atomic
from . import h5_safe, keras_training
from .config import plain_json

# the tf_keras version whose formats these are (tf_keras reads them back)
KERAS_VERSION = "2.21.0"


_json_default = plain_json("model.save")


def _config_text(model) -> str:
    doc = serialize(model)
    training = keras_training.compile_config(model)
    if training is not None:
        doc["compile_config"] = training
    return json.dumps(doc, default=_json_default, allow_nan=False)


def keras_archive_bytes(model) -> bytes:
    """The ``.keras`` archive of ``model`` (see the module docstring)."""
    from .weights_io import _h5_bytes, weight_paths
    arrays = {path: var.numpy() for path, var in weight_paths(model).items()}
    arrays.update(keras_training.archive_arrays(model))
    weights = _h5_bytes(model, arrays)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", _config_text(model))
        archive.writestr("model.weights.h5", weights)
    return buffer.getvalue()


def _unique(names: list) -> list:
    seen: dict = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            stem, _, tail = name.rpartition(":")
            name = f"{stem}_{seen[name]}:{tail}" if stem else f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def legacy_h5_bytes(model) -> bytes:
    """The legacy HDF5 model file of ``model`` (see the module docstring)."""
    h5py = h5_safe.h5py_module("model.save")
    doc = {"class_name": serialize(model)["class_name"], "config": model.get_config()}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["model_config"] = json.dumps(doc, default=_json_default, allow_nan=False)
        group = f.create_group("model_weights")
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = KERAS_VERSION
        layers = list(model.layers)
        group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
        for layer in layers:
            variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
            names = _unique([v.name if ":" in v.name else f"{v.name}:0" for v in variables])
            sub = group.create_group(layer.name)
            sub.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for name, var in zip(names, variables):
                sub.create_dataset(name, data=var.numpy())
        top = group.create_group("top_level_model_weights")
        top.attrs["weight_names"] = []
        _write_training(f, model)
    return buffer.getvalue()


def _write_training(f, model) -> None:
    """A compiled model's ``training_config`` and optimizer state (legacy ``.h5``)."""
    config = keras_training.legacy_training_config(model)
    if config is None:
        return
    f.attrs["training_config"] = json.dumps(config, default=_json_default, allow_nan=False)
    named, extra = keras_training.optimizer_state(model)
    for group_name, items in (("optimizer_weights", named),
                              ("symkb_optimizer_weights", extra)):
        if not items:
            continue
        group = f.create_group(group_name)
        names = _unique([name for name, _ in items])
        group.attrs["weight_names"] = [n.encode("utf8") for n in names]
        for name, (_, value) in zip(names, items):
            group.create_dataset(name, data=value)


def save_keras_file(model, filepath: str, overwrite: bool = True) -> None:
    """``model.save`` to a ``.keras``, ``.h5`` or ``.hdf5`` name (see the module
    docstring)."""
    if not getattr(model, "built", True) or not model.weights and not model.layers:
        raise ValueError(f"model.save: model {model.name!r} is not built yet; build it "
                         "(give it an Input, or predict on data) before saving to "
                         f"{filepath!r}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save: {filepath} exists and overwrite=False")
    if str(filepath).lower().endswith(".keras"):
        data = keras_archive_bytes(model)
    else:
        data = legacy_h5_bytes(model)
    write_atomic(filepath, data)
