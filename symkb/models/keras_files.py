"""Model files written by tf_keras 2.x and Keras 3, read without TensorFlow.

Two formats:

* the ``.keras`` zip archive: ``config.json`` (the model's
  ``{"module", "class_name", "config", ...}``), ``metadata.json`` and
  ``model.weights.h5`` (one HDF5 dataset per weight, at the paths
  :func:`symkb.models.weights_io.weight_paths` gives, which tf_keras 2.13+
  and Keras 3 both use);
* the legacy HDF5 ``.h5`` model: the config in attribute ``model_config``,
  and under group ``model_weights`` one group per layer (attribute
  ``layer_names``), each listing its weights in attribute ``weight_names``
  in the order ``trainable_weights + non_trainable_weights``; layers with
  weights are matched to the model's by position, as tf_keras does.

Keras 3 configs are first rewritten in tf_keras's form
(:mod:`symkb.models.keras3_config`). Layers are found by class name among
symkb's layers (layers of other modules register there by being defined) or
in ``custom_objects``; Lambda layers are refused unless ``safe_mode=False``
(:mod:`symkb.models.lambda_code`). Everything read is untrusted: archive
members are read by name only (any other member, a path-traversal name
included, is refused), HDF5 datasets go through :mod:`symkb.models.h5_safe`
(shapes checked against the limits before reading, no links to other files),
and every weight must be present with the model's shape. A compiled model's
compile configuration and optimizer state are restored
(:mod:`symkb.models.keras_training`) unless ``compile=False``.
"""
from __future__ import annotations

import io

from ..ir import limits
from ..ir.errors import FileFormatError
from ..utils import safe_io
from . import h5_safe, keras_training
from .config import deserialize_layer
from .keras3_config import is_keras3, to_tf_keras
from .lambda_code import TrustedLambda, lambda_layers, refuse

ARCHIVE_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


def build_model(doc, source: str, custom_objects=None, safe_mode: bool = True):
    """A model (fresh weights) from a tf_keras or Keras 3 ``config.json`` document.

    Args:
        doc: the parsed document ``{"class_name", "config", ...}``.
        source: the file, named in errors.
        custom_objects: optional ``{class name: class}``.
        safe_mode: refuse Lambda layers (their code is never run) when True.
    """
    if not isinstance(doc, dict) or "class_name" not in doc or "config" not in doc:
        raise FileFormatError(f"load_model: {source}: the model config must be "
                              "{\"class_name\": ..., \"config\": ...}, received "
                              f"{str(doc)[:80]!r}", field="config.json")
    objects = dict(custom_objects or {})
    lambdas = lambda_layers(doc)
    if lambdas and "Lambda" not in objects:
        if safe_mode:
            refuse(lambdas, source)
        objects["Lambda"] = TrustedLambda
    if is_keras3(doc):
        doc = to_tf_keras(doc)
    return deserialize_layer({"class_name": doc["class_name"], "config": doc["config"]},
                             objects)


def _archive_parts(filepath: str):
    with safe_io.open_archive(filepath, "keras archive") as archive:
        names = archive.namelist()
        odd = [n for n in names if n not in ARCHIVE_MEMBERS]
        if odd:
            raise FileFormatError(
                f"load_model: {filepath}: a .keras archive holds {list(ARCHIVE_MEMBERS)}; "
                f"this one also holds {[safe_text(n) for n in odd[:5]]}, which symkb does "
                "not read (nothing is ever extracted)", field="members")
        missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
        if missing:
            raise FileFormatError(f"load_model: {filepath}: the .keras archive lacks "
                                  f"{missing}", field=missing[0])
        text = safe_io.decode_text(safe_io.read_member(archive, "config.json"), "config.json")
        weights = safe_io.read_member(archive, "model.weights.h5")
    return text, weights


def safe_text(name: str) -> str:
    """A member name as printable text (control characters escaped)."""
    return name.encode("unicode_escape").decode("ascii")[:120]


def load_archive(filepath: str, custom_objects=None, safe_mode: bool = True,
                 compile: bool = True):  # noqa: A002 (tf_keras's name)
    """The model in a tf_keras or Keras 3 ``.keras`` archive, with its weights
    (and, with ``compile``, its compile config and optimizer state)."""
    text, weights = _archive_parts(filepath)
    doc = limits.load_json(text, "config.json")
    model = build_model(doc, filepath, custom_objects, safe_mode)
    if weights[:8] != b"\x89HDF\r\n\x1a\n":
        raise FileFormatError(f"load_model: {filepath}: its model.weights.h5 is not HDF5",
                              field="model.weights.h5")
    from .weights_io import set_from_h5
    with h5_safe.damage_reported(filepath), \
            h5_safe.open_file(io.BytesIO(weights), "load_model") as f:
        state = set_from_h5(model, f, filepath)
    config = doc.get("compile_config")
    if compile and isinstance(config, dict) and config and \
            keras_training.compile_from(model, config, filepath):
        arrays = keras_training.indexed(state, keras_training.VARS)
        if arrays:
            keras_training.restore_optimizer(
                model, arrays, keras_training.indexed(state, keras_training.SYMKB_VARS),
                filepath)
    return model


def load_legacy_h5(filepath: str, custom_objects=None, safe_mode: bool = True,
                   compile: bool = True):  # noqa: A002 (tf_keras's name)
    """The model in a legacy HDF5 ``.h5`` file (see the module docstring), with
    its training config and optimizer state when ``compile``."""
    with safe_io.open_regular(filepath) as stream, h5_safe.damage_reported(filepath), \
            h5_safe.open_file(stream, "load_model") as f:
        if "model_config" not in f.attrs:
            raise FileFormatError(
                f"load_model: {filepath} is an HDF5 file without a model config (attribute "
                "'model_config'): a weights file, which model.load_weights(path) reads "
                "into a model with the same layers", field="model_config")
        doc = limits.load_json(h5_safe.text_attr(f.attrs, "model_config", filepath),
                               "model_config")
        model = build_model(doc, filepath, custom_objects, safe_mode)
        group = h5_safe.node(f, "model_weights", filepath) if "model_weights" in f else f
        _set_legacy_weights(model, group, filepath)
        if compile and "training_config" in f.attrs:
            _restore_legacy_training(model, f, filepath)
    return model


def _named_arrays(f, group_name: str, where: str) -> list:
    """The datasets a group's ``weight_names`` attribute lists, in that order."""
    if group_name not in f:
        return []
    group = h5_safe.node(f, group_name, where)
    return [h5_safe.dataset(group, name, where)
            for name in h5_safe.string_list(group.attrs, "weight_names", where)]


def _restore_legacy_training(model, f, where: str) -> None:
    config = limits.load_json(h5_safe.text_attr(f.attrs, "training_config", where),
                              "training_config")
    if not isinstance(config, dict) or not keras_training.compile_from(model, config, where):
        return
    arrays = _named_arrays(f, "optimizer_weights", where)
    if arrays:
        keras_training.restore_optimizer(
            model, arrays, _named_arrays(f, "symkb_optimizer_weights", where), where)


def _legacy_layers(group, where: str) -> list:
    """``[(layer name, [weight name, ...]), ...]`` of the file's layers with weights."""
    out = []
    for name in h5_safe.string_list(group.attrs, "layer_names", where):
        layer_group = h5_safe.node(group, name, where)
        names = h5_safe.string_list(layer_group.attrs, "weight_names", where)
        if names:
            out.append((name, names))
    return out


def _set_legacy_weights(model, group, where: str) -> None:
    stored = _legacy_layers(group, where)
    own = [layer for layer in model.layers if layer.weights]
    if len(stored) != len(own):
        raise FileFormatError(
            f"load_model: {where}: the file holds weights for {len(stored)} layers "
            f"({[n for n, _ in stored][:6]}), the model has {len(own)} layers with weights "
            f"({[layer.name for layer in own][:6]})", field="model_weights")
    pending = []
    for layer, (name, weight_names) in zip(own, stored):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if len(variables) != len(weight_names):
            raise FileFormatError(
                f"load_model: {where}: layer {layer.name!r} ({type(layer).__name__}) has "
                f"{len(variables)} weights, the file's layer {name!r} holds "
                f"{len(weight_names)}", field=f"model_weights/{name}")
        layer_group = h5_safe.node(group, name, where)
        for var, weight_name in zip(variables, weight_names):
            obj = h5_safe.node(layer_group, weight_name, where)
            shape = h5_safe.check_dataset(obj, where)
            if shape != tuple(var.shape):
                raise FileFormatError(
                    f"load_model: {where}: weight {name}/{weight_name} has shape {shape}; "
                    f"layer {layer.name!r} expects {tuple(var.shape)} for {var.name}",
                    field=f"model_weights/{name}/{weight_name}")
            pending.append((var, obj))
    values = [(var, h5_safe.read_checked(obj, where)) for var, obj in pending]
    for var, value in values:
        var.assign(value)
