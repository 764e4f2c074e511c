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

Nothing is pickled: weights are read with ``allow_pickle=False`` and layers
are looked up by class name among symkb's layers (or ``custom_objects``), so
loading a file never runs code from it.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from ..utils.atomic import write_atomic

FORMAT = "symkb-model"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.npz"


class ModelFormatError(ValueError):
    """A file is not a symkb model this version can read."""


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"to_json: a model config holds a {type(value).__name__} ({value!r}), "
                    "which has no JSON form; the layer's get_config() must return plain data")


def _architecture(model) -> dict:
    from .config import serialize_layer
    return serialize_layer(model)


def model_to_json(model, **kwargs) -> str:
    """``model.to_json()``: the architecture in tf_keras's JSON format."""
    from .. import __version__
    doc = {**_architecture(model), "keras_version": f"symkb-{__version__}", "backend": "symkb"}
    return json.dumps(doc, default=_json_default, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from ``model.to_json()`` text.

    Args:
        json_string: the JSON text (``str`` or ``bytes``).
        custom_objects: optional ``{class name: class}`` for layers that are
            not symkb's own.
    """
    try:
        doc = json.loads(json_string)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"model_from_json: not valid JSON: {exc}") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        doc = doc["model"]
    return _from_architecture(doc, custom_objects)


def _from_architecture(doc, custom_objects):
    from .config import deserialize_layer
    if not isinstance(doc, dict) or "class_name" not in doc or "config" not in doc:
        raise ModelFormatError("expected a model architecture {\"class_name\": ..., "
                               f"\"config\": ...}}, received {str(doc)[:80]!r}")
    return deserialize_layer({"class_name": doc["class_name"], "config": doc["config"]},
                             custom_objects)


def _documents(model, include_graph: bool):
    from .. import __version__
    weights = model.weights
    config = {
        "format": FORMAT, "version": VERSION, "symkb_version": __version__,
        "model": _architecture(model),
        "weights": [{"name": w.name, "shape": list(w.shape), "dtype": w.dtype} for w in weights],
    }
    if include_graph:
        from ..ir.serialize import to_dict
        config["graph"] = to_dict(model.graph, include_values=False)
    buffer = io.BytesIO()
    np.savez(buffer, **{f"weight_{i}": w.numpy() for i, w in enumerate(weights)})
    text = json.dumps(config, default=_json_default, indent=1, allow_nan=False)
    return text, buffer.getvalue()


def save_model(model, filepath, overwrite: bool = True, include_graph: bool = True):
    """``model.save(filepath)``: architecture and weights (see the module docstring).

    Args:
        model: a Sequential or functional Model.
        filepath: the archive to write, or an existing directory to write
            ``config.json`` and ``model.weights.npz`` into.
        overwrite: replace an existing archive (else ``FileExistsError``).
        include_graph: store the model's graph (without values) too, for
            inspection tools.
    """
    filepath = os.fspath(filepath)
    text, weights = _documents(model, include_graph)
    if os.path.isdir(filepath):
        from .folder_save import write_folder
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
    if os.path.isdir(filepath):
        from .folder_save import read_folder
        return read_folder(filepath, ModelFormatError)
    if zipfile.is_zipfile(filepath):
        with zipfile.ZipFile(filepath) as archive:
            names = set(archive.namelist())
            if CONFIG_FILE not in names:
                raise ModelFormatError(f"load_model: {filepath} is a zip archive without "
                                       f"{CONFIG_FILE}; it is not a saved symkb model")
            text = archive.read(CONFIG_FILE).decode("utf-8")
            weights = archive.read(WEIGHTS_FILE) if WEIGHTS_FILE in names else None
        return text, weights
    with open(filepath, encoding="utf-8") as f:
        return f.read(), None


def read_saved(filepath):
    """``(config dict, list of weight arrays or None)`` of a saved model, without building it."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no file or directory at {filepath!r}")
    text, raw = _read(filepath)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"load_model: {filepath} is not a saved symkb model "
                               f"(its config is not JSON: {exc})") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        version = doc.get("version")
        if not isinstance(version, int) or not 1 <= version <= VERSION:
            raise ModelFormatError(f"load_model: {filepath} has format version {version!r}; "
                                   f"this symkb reads versions 1 to {VERSION}")
    elif not (isinstance(doc, dict) and "class_name" in doc):
        raise ModelFormatError(f"load_model: {filepath} is not a saved symkb model or a "
                               "model.to_json() document")
    weights = None
    if raw is not None:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            count = len(doc.get("weights", data.files))
            missing = [f"weight_{i}" for i in range(count) if f"weight_{i}" not in data.files]
            if missing:
                raise ModelFormatError(f"load_model: {filepath}: the weights file lacks "
                                       f"{missing[:3]}")
            weights = [data[f"weight_{i}"] for i in range(count)]
    return doc, weights


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 (tf_keras's name)
    """A model saved with ``model.save(filepath)`` (or a ``to_json()`` file).

    Args:
        filepath: the archive, directory or JSON file.
        custom_objects: optional ``{class name: class}`` for non-symkb layers.
        compile: accepted for tf_keras compatibility (symkb compiles on first
            predict).

    Returns:
        The model, with its saved weights.

    Raises:
        ModelFormatError: (a ``ValueError``) for files of another kind or a
            newer version; ``FileNotFoundError`` when ``filepath`` is absent.
    """
    doc, weights = read_saved(filepath)
    model = _from_architecture(doc["model"] if doc.get("format") == FORMAT else doc,
                               custom_objects)
    if weights is not None:
        model.set_weights(weights)  # by position, as tf_keras; shapes are checked
    return model
