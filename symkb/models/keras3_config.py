"""Keras 3 model configs in tf_keras's form, so one reader builds both.

Keras 3 writes the same layers with a few differences of form, which this
module rewrites (in a copy) before :func:`symkb.models.config.deserialize_layer`
sees the config:

* ``"dtype"`` is a ``DTypePolicy`` entry; tf_keras writes the policy's name;
* an ``InputLayer`` has ``"batch_shape"`` where tf_keras has
  ``"batch_input_shape"``;
* an inbound node is ``{"args": [...], "kwargs": {...}}`` with the input
  tensors as ``{"class_name": "__keras_tensor__", "config": {"keras_history":
  [layer, node, tensor]}}``; tf_keras lists ``[layer, node, tensor, kwargs]``
  per input;
* a nested model's first call is node 0 (tf_keras counts the call that made
  the model as node 0, so references to it are moved up by one);
* keys tf_keras does not have (``seed`` of a recurrent layer, an
  initializer's ``input_axes``, ``quantization_config``, ...) are dropped
  where they hold their neutral value, and refused otherwise.

A config is Keras 3's when any of these forms appears; tf_keras configs pass
through unchanged.
"""
from __future__ import annotations

import copy

from ..ir.errors import FileFormatError

_TENSOR = "__keras_tensor__"
# Keras 3 config keys tf_keras lacks, with the values that mean "as tf_keras".
_NEUTRAL = {"seed": (None,), "zero_output_for_mask": (False, True),
            "quantization_config": (None,), "input_axes": (None,), "output_axes": (None,),
            "lora_rank": (None,), "lora_alpha": (None,), "optional": (False,),
            "use_cudnn": ("auto", False, True), "synchronized": (False,)}
_MODELS = ("Sequential", "Functional", "Model")


def is_keras3(doc) -> bool:
    """Whether a ``{"class_name", "config"}`` document uses Keras 3's forms."""
    found = []

    def visit(value, depth=0):
        if found or depth > 200:
            return
        if isinstance(value, dict):
            if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy", _TENSOR) or \
                    "batch_shape" in value or ("args" in value and "kwargs" in value):
                found.append(True)
                return
            for item in value.values():
                visit(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                visit(item, depth + 1)
    visit(doc)
    return bool(found)


def to_tf_keras(doc: dict) -> dict:
    """A copy of a Keras 3 model document in tf_keras's form (see the module
    docstring).

    Raises:
        FileFormatError: for a form with no tf_keras equivalent (a tensor
            passed as a keyword argument, a key set to a value tf_keras
            cannot express), naming the layer and the key.
    """
    doc = copy.deepcopy(doc)
    _layer_entry(doc, "model")
    return doc


def _layer_entry(entry: dict, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return
    config = entry["config"]
    name = config.get("name", entry.get("name", where))
    _plain_config(config, f"{entry.get('class_name')} {name!r}")
    if entry.get("class_name") == "InputLayer" and "batch_shape" in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    for key in ("layer", "forward_layer", "backward_layer", "cell"):
        if isinstance(config.get(key), dict):
            _layer_entry(config[key], f"{name}.{key}")
    cells = config.get("cells")
    if isinstance(cells, list):
        for cell in cells:
            _layer_entry(cell, f"{name}.cells")
    if entry.get("class_name") in _MODELS and isinstance(config.get("layers"), list):
        for layer in config["layers"]:
            _layer_entry(layer, name)
        if entry.get("class_name") != "Sequential":
            _functional(config)


def _plain_config(config: dict, where: str) -> None:
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        inner = dtype.get("config") if isinstance(dtype.get("config"), dict) else {}
        config["dtype"] = inner.get("name", "float32")
    for key, value in list(config.items()):
        if key in _NEUTRAL:
            if value not in _NEUTRAL[key]:
                raise FileFormatError(f"Keras 3 config: layer {where} sets {key}={value!r}, "
                                      "which symkb's layers (tf_keras's) cannot express",
                                      field=key)
            del config[key]
        elif isinstance(value, dict) and isinstance(value.get("config"), dict) and \
                "class_name" in value and key.endswith(("initializer", "regularizer",
                                                        "constraint")):
            _plain_config(value["config"], f"{where}.{key}")
            value.pop("shared_object_id", None)


def _nested_models(config: dict) -> set:
    """Names of the layers of a functional config whose call 0 made them (their
    references move up by one, as tf_keras counts)."""
    out = set()
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            continue
        inner = layer.get("config") or {}
        if layer.get("class_name") in ("Functional", "Model"):
            out.add(layer.get("name", inner.get("name")))
        elif layer.get("class_name") == "Sequential":
            first = (inner.get("layers") or [{}])[0]
            if isinstance(first, dict) and first.get("class_name") == "InputLayer":
                out.add(layer.get("name", inner.get("name")))
    return out


def _functional(config: dict) -> None:
    shifted = _nested_models(config)

    def ref(history, where):
        if not (isinstance(history, list) and len(history) == 3):
            raise FileFormatError(f"Keras 3 config: {where}: keras_history must be "
                                  f"[layer, node, tensor], received {str(history)[:60]}",
                                  field="keras_history")
        layer, node, tensor = history
        return [layer, node + 1 if layer in shifted and isinstance(node, int) else node,
                tensor]

    for layer in config["layers"]:
        nodes = layer.get("inbound_nodes") if isinstance(layer, dict) else None
        if not isinstance(nodes, list):
            continue
        layer["inbound_nodes"] = [_node(node, layer.get("name"), ref) for node in nodes]
    for key in ("input_layers", "output_layers"):
        value = config.get(key)
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            config[key] = [ref(value, key)]
        elif isinstance(value, list):
            config[key] = [ref(v, key) for v in value]


def _node(node, layer_name, ref) -> list:
    if not (isinstance(node, dict) and "args" in node):
        return node  # tf_keras's form already
    kwargs = node.get("kwargs") or {}
    plain = {}
    for key, value in kwargs.items():
        if _holds_tensor(value):
            raise FileFormatError(f"Keras 3 config: layer {layer_name!r} is called with a "
                                  f"tensor as keyword argument {key!r}, which symkb does not "
                                  "read from Keras 3 files yet", field="inbound_nodes")
        if key != "mask" or value is not None:
            plain[key] = value
    tensors = []
    for arg in node["args"]:
        items = arg if isinstance(arg, list) else [arg]
        for item in items:
            if not (isinstance(item, dict) and item.get("class_name") == _TENSOR):
                raise FileFormatError(f"Keras 3 config: layer {layer_name!r} is called with "
                                      f"a non-tensor argument {str(item)[:60]}, which symkb "
                                      "does not read", field="inbound_nodes")
            history = (item.get("config") or {}).get("keras_history")
            tensors.append(ref(history, f"layer {layer_name!r}") + [plain])
    return tensors


def _holds_tensor(value) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == _TENSOR or any(_holds_tensor(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_tensor(v) for v in value)
    return False
