"""Saving and loading models: architecture as JSON, weights as ``.npz``.

* ``model.to_json()`` / :func:`model_from_json`: the architecture in
  tf_keras's format ``{"class_name", "config", "keras_version", "backend"}``;
  the layers start with fresh weights.
* ``model.save(path)`` / :func:`load_model`: architecture and weights. ``path``
  becomes one zip archive (as tf_keras's ``.keras`` files) holding

  - ``config.json``: ``{"format": "symkb-model", "version": 1, "model":
    {"class_name", "config"}, "weights": [{"name", "shape", "dtype"}, ...],
    "graph": <the graph as symkb.ir.to_json writes it, without values>}``;
  - ``model.weights.npz``: ``np.savez`` of the weights in ``model.weights``
    order, keys ``weight_0``, ``weight_1``, ...

  When ``path`` is an existing directory, ``config.json`` and the weights
  (as ``model.weights.<hash>.npz``, named in the config) are written into it
  instead, atomically as a pair (``folder_save.py``). :func:`load_model` reads either form, and also a bare
  ``to_json()`` file (fresh weights).

Nothing is pickled: weights are read without numpy's pickle-capable loader
(object arrays are refused) and layers are looked up by class name among
symkb's layers (or ``custom_objects``), so loading a file never runs code
from it. Files are untrusted data: only regular files are read, sizes are
checked against :mod:`symkb.ir.limits` before anything is allocated, and
every problem is a :class:`ModelFormatError` (a
:class:`~symkb.ir.errors.FileFormatError`) naming the file and the field.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from .._version import __version__
from ..ir import limits
from ..ir.errors import FileFormatError
from ..ir.serialize import to_dict
from ..utils import safe_io
from ..utils.atomic import write_atomic
from .config import deserialize_layer, plain_json, serialize_layer
from .file_kinds import TF_KERAS_EXTENSIONS, keras_kind, refuse_foreign
from .folder_save import read_folder, write_folder
from .training_state import optimizer_keys, restore_training, training_documents

FORMAT = "symkb-model"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.npz"


class ModelFormatError(FileFormatError):
    """A file is not a symkb model this version can read."""


_json_default = plain_json("to_json")


def _architecture(model) -> dict:
    return serialize_layer(model)


def model_to_json(model, **kwargs) -> str:
    """``model.to_json()``: the architecture in tf_keras's JSON format."""
    doc = {**_architecture(model), "keras_version": f"symkb-{__version__}", "backend": "symkb"}
    return json.dumps(doc, default=_json_default, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from ``model.to_json()`` text.

    Args:
        json_string: the JSON text (``str`` or ``bytes``).
        custom_objects: optional ``{class name: class}`` for layers that are
            not symkb's own.

    Raises:
        ModelFormatError: (a ``ValueError``; one of the
            :class:`~symkb.ir.errors.FileFormatError` family) for text that is
            not a model architecture, naming the field;
            :class:`~symkb.ir.errors.LimitError` for text over a limit.
    """
    return model_from_text(json_string, custom_objects)


def model_from_text(json_string, custom_objects=None, *, source: str = "<text>"):
    """:func:`model_from_json` naming ``source`` (a file) in its errors."""
    with limits.reading(source, "model JSON", ModelFormatError):
        doc = limits.load_json(json_string)
        if isinstance(doc, dict) and doc.get("format") == FORMAT:
            doc = doc.get("model")
        return _from_architecture(doc, custom_objects)


def _from_architecture(doc, custom_objects):
    if not isinstance(doc, dict) or "class_name" not in doc or "config" not in doc:
        raise ModelFormatError("expected a model architecture {\"class_name\": ..., "
                               f"\"config\": ...}}, received {str(doc)[:80]!r}")
    return deserialize_layer({"class_name": doc["class_name"], "config": doc["config"]},
                             custom_objects)


def _documents(model, include_graph: bool):
    weights = model.weights
    config = {
        "format": FORMAT, "version": VERSION, "symkb_version": __version__,
        "model": _architecture(model),
        "weights": [{"name": w.name, "shape": list(w.shape), "dtype": w.dtype} for w in weights],
    }
    if include_graph:
        config["graph"] = to_dict(model.graph, include_values=False)
    training, state = training_documents(model)  # a compiled model's optimizer and losses
    if training is not None:
        config["training_config"] = training
    buffer = io.BytesIO()
    np.savez(buffer, **{f"weight_{i}": w.numpy() for i, w in enumerate(weights)}, **state)
    text = json.dumps(config, default=_json_default, indent=1, allow_nan=False)
    return text, buffer.getvalue()


def save_model(model, filepath, overwrite: bool = True, include_graph: bool = True):
    """``model.save(filepath)``: architecture and weights (see the module docstring).

    Args:
        model: a Sequential or functional Model.
        filepath: the archive to write, or an existing directory to write
            ``config.json`` and ``model.weights.npz`` into; a name ending in
            ``.keras`` gets tf_keras's ``.keras`` archive, one ending in
            ``.h5``/``.hdf5`` its legacy HDF5 model (both read by tf_keras's
            ``load_model``; :mod:`symkb.models.keras_write`).
        overwrite: replace an existing archive (else ``FileExistsError``).
        include_graph: store the model's graph (without values) too, for
            inspection tools.
    """
    filepath = os.fspath(filepath)
    if str(filepath).lower().endswith(TF_KERAS_EXTENSIONS) and not os.path.isdir(filepath):
        from .keras_write import save_keras_file
        save_keras_file(model, filepath, overwrite)
        return
    text, weights = _documents(model, include_graph)
    if os.path.isdir(filepath):
        write_folder(filepath, json.loads(text), weights, overwrite,
                     lambda doc: json.dumps(doc, default=_json_default, indent=1,
                                            allow_nan=False))
        return
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save: {filepath} exists and overwrite=False")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONFIG_FILE, text)
        archive.writestr(WEIGHTS_FILE, weights)
    write_atomic(filepath, buffer.getvalue())


def _read(filepath: str):
    """``(config text, weights bytes or None)`` of a saved model in any form."""
    refuse_foreign(filepath)
    if os.path.isdir(filepath):
        return read_folder(filepath, ModelFormatError)
    if safe_io.is_zip(filepath):
        with safe_io.open_archive(filepath) as archive:
            names = set(archive.namelist())
            if CONFIG_FILE not in names and names and all(n.endswith(".npy") for n in names):
                raise ModelFormatError(f"load_model: {filepath} is a numpy .npz archive (as "
                                       "model.save_weights writes), not a saved model: read "
                                       "it with model.load_weights(path) on a built model")
            if CONFIG_FILE not in names:
                raise ModelFormatError(f"load_model: {filepath} is a zip archive without "
                                       f"{CONFIG_FILE}; it is not a saved symkb model",
                                       field=CONFIG_FILE)
            unread = sorted(names - {CONFIG_FILE, WEIGHTS_FILE})
            if unread:
                raise ModelFormatError(f"load_model: {filepath} holds members symkb does not "
                                       f"read ({unread[:5]}); a symkb archive holds only "
                                       f"{CONFIG_FILE} and {WEIGHTS_FILE}", field="members")
            text = safe_io.decode_text(safe_io.read_member(archive, CONFIG_FILE), CONFIG_FILE)
            if WEIGHTS_FILE not in names:
                raise ModelFormatError(f"load_model: {filepath} lacks {WEIGHTS_FILE}: symkb "
                                       "will not build the model with fresh weights in place "
                                       "of saved ones", field=WEIGHTS_FILE)
            weights = safe_io.read_member(archive, WEIGHTS_FILE)
        return text, weights
    return safe_io.read_text(filepath), None


def _config_field(filepath: str) -> str:
    return "file" if not os.path.isdir(filepath) and not safe_io.is_zip(filepath) else CONFIG_FILE


def read_saved(filepath):
    """``(config dict, list of weight arrays or None)`` of a saved model, without building it."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no file or directory at {filepath!r}")
    return _read_with_state(filepath)[:2]


def _read_with_state(filepath):
    """``(config dict, weight arrays or None, {key: optimizer array})`` of a saved model."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no file or directory at {filepath!r}")
    with limits.reading(filepath, "symkb model", ModelFormatError):
        return _read_saved(filepath)


def _read_saved(filepath: str):
    text, raw = _read(filepath)
    doc = limits.load_json(text, _config_field(filepath))
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        version = doc.get("version")
        if not isinstance(version, int) or not 1 <= version <= VERSION:
            raise ModelFormatError(f"load_model: {filepath} has format version {version!r}; "
                                   f"this symkb reads versions 1 to {VERSION}", field="version")
    elif not (isinstance(doc, dict) and "class_name" in doc):
        raise ModelFormatError(f"load_model: {filepath} is not a saved symkb model or a "
                               "model.to_json() document", field=CONFIG_FILE)
    weights, state = None, {}
    if raw is None and doc.get("format") == FORMAT:
        raise ModelFormatError(f"load_model: {filepath} lacks {WEIGHTS_FILE}: symkb will not "
                               "build the model with fresh weights in place of saved ones "
                               "(model_from_json reads an architecture alone)")
    if raw is not None:
        data = safe_io.load_npz(raw, WEIGHTS_FILE)
        entries = doc.get("weights", data)
        if not isinstance(entries, (list, dict)):
            raise ModelFormatError(f"load_model: {filepath}: 'weights' must be a list",
                                   field="weights")
        count = len(entries)
        missing = [f"weight_{i}" for i in range(count) if f"weight_{i}" not in data]
        if missing:
            raise ModelFormatError(f"load_model: {filepath}: the weights file lacks "
                                   f"{missing[:3]}", field=WEIGHTS_FILE)
        unread = sorted(set(data) - {f"weight_{i}" for i in range(count)}
                        - optimizer_keys(doc))
        if unread:
            raise ModelFormatError(f"load_model: {filepath}: the weights file holds "
                                   f"arrays the model does not have: {unread[:3]}",
                                   field=WEIGHTS_FILE)
        weights = [data[f"weight_{i}"] for i in range(count)]
        state = {k: data[k] for k in optimizer_keys(doc) if k in data}
    return doc, weights, state


def load_model(filepath, custom_objects=None, compile=True,  # noqa: A002 (tf_keras's name)
               safe_mode=True):
    """A model saved with ``model.save(filepath)`` (or a ``to_json()`` file), or
    by tf_keras 2.x or Keras 3 (a ``.keras`` archive or a legacy ``.h5`` model;
    :mod:`symkb.models.keras_files`), told by content.

    Args:
        filepath: the archive, directory or JSON file.
        custom_objects: optional ``{class name: class}`` for non-symkb layers.
        compile: compile the model again from a saved compile config and
            restore its optimizer state (the training continues where it
            stopped); ``False`` loads the architecture and weights only.
        safe_mode: refuse Lambda layers in Keras files (their Python code is
            run only when this is False; Keras's rule).

    Returns:
        The model, with its saved weights.

    Raises:
        ModelFormatError: (a ``ValueError``; one of the
            :class:`~symkb.ir.errors.FileFormatError` family) for files of
            another kind, a newer version, or a damaged or malformed file,
            naming the file and the field; its sibling
            :class:`~symkb.ir.errors.LimitError` for a file over a limit
            (:mod:`symkb.ir.limits`); ``FileNotFoundError`` when
            ``filepath`` is absent.
    """
    path = os.fspath(filepath)
    kind = None
    if os.path.exists(path):
        with limits.reading(path, "symkb model", ModelFormatError):
            kind = keras_kind(path)  # a damaged archive is reported as symkb's own would be
    if kind is not None:
        from . import keras_files
        fmt = "Keras .keras archive" if kind == "archive" else "Keras HDF5 model"
        with limits.reading(path, fmt, ModelFormatError):
            if kind == "archive":
                return keras_files.load_archive(path, custom_objects, safe_mode, compile)
            return keras_files.load_legacy_h5(path, custom_objects, safe_mode, compile)
    doc, weights, state = _read_with_state(filepath)
    with limits.reading(os.fspath(filepath), "symkb model", ModelFormatError):
        model = _from_architecture(doc.get("model") if doc.get("format") == FORMAT else doc,
                                   custom_objects)
        if weights is not None:
            model.set_weights(weights)  # by position, as tf_keras; shapes are checked
        if compile and isinstance(doc.get("training_config"), dict):
            restore_training(model, doc["training_config"], state)
        return model
