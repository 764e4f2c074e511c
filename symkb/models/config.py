"""Model configs in tf_keras's format: ``get_config`` / ``from_config``.

Sequential: ``{"name", "layers": [entry, ...]}`` with the InputLayer first.
Functional: ``{"name", "trainable", "layers": [entry + {"name",
"inbound_nodes"}], "input_layers", "output_layers"}``. An entry is tf_keras's
``{"module", "class_name", "config", "registered_name", "build_config"}``
(:mod:`symkb.layers.serialization`). Each inbound node lists
``[layer_name, node_index, tensor_index, kwargs]``; ``input_layers`` and
``output_layers`` hold ``[layer_name, node_index, tensor_index]`` references
nested like the model's inputs and outputs.

Node indices count a layer's calls as tf_keras does: a nested model's call
number 0 is the one that made the model itself, so its calls inside an outer
model are numbered from 1 (tf_keras's "skip first node" rule).

Layers are found by class name in :mod:`symkb.layers` (or ``custom_objects``);
nothing is ever executed from a config.
"""
from __future__ import annotations

import numpy as np

from .. import layers
from ..layers.base import Layer
from ..layers.core import InputLayer
from ..layers.op_lambda import CONSTANT
from ..layers.serialization import serialize as layer_entry
from ..backend.nest import flatten, map_structure
from .config_schema import (check_functional, check_layer_entry, check_sequential,
                            node_arguments)


def layer_class(class_name, custom_objects=None):
    """The class for ``class_name``: ``custom_objects`` first, then symkb's."""
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    known = model_classes()
    if class_name in known:
        return known[class_name]
    cls = getattr(layers, class_name, None)
    if isinstance(cls, type):
        return cls
    raise ValueError(f"Unknown layer: {class_name!r}. Please ensure it is a symkb layer or "
                     "pass it in `custom_objects`.")


def model_classes() -> dict:
    """symkb's model classes by the names configs give them: ``Sequential``,
    ``Functional`` and ``Model``.

    They are found among :class:`Layer`'s subclasses rather than imported:
    ``functional.py`` and ``sequential.py`` import this module for their
    ``get_config``/``from_config``. Importing any module of symkb.models runs
    the package first, which defines both.
    """
    found = {}
    stack = [Layer]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            found.setdefault(f"{cls.__module__}.{cls.__qualname__}", cls)
    model = found["symkb.models.functional.Model"]
    return {"Sequential": found["symkb.models.sequential.Sequential"], "Functional": model,
            "Model": model}


def class_name_of(layer) -> str:
    """The class name tf_keras shows for ``layer``: a functional model is a
    ``Functional``."""
    return layer._config_class_name()


def serialize_layer(layer) -> dict:
    """``{"class_name", "config"}`` of a layer or model (a model's JSON top level)."""
    return {"class_name": class_name_of(layer), "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    """A layer or model from ``{"class_name", "config", ...}`` (extra keys ignored)."""
    check_layer_entry(config, "layer")
    try:
        cls = layer_class(config["class_name"], custom_objects)
    except ValueError as exc:
        name = config["config"].get("name")
        if not isinstance(name, str):
            raise
        raise ValueError(f"model config: layer {name!r}: {exc}") from None
    try:
        if hasattr(cls, "from_config"):
            try:
                return cls.from_config(config["config"], custom_objects=custom_objects)
            except TypeError as exc:
                if "custom_objects" not in str(exc):
                    raise
                return cls.from_config(config["config"])
        return cls(**config["config"])
    except TypeError as exc:  # an argument the class does not take, or of the wrong kind
        name = config["config"].get("name")
        raise ValueError(f"model config: layer {config['class_name']}"
                         f"{f' {name!r}' if isinstance(name, str) else ''} cannot be built from "
                         f"its config: {exc}") from exc


def first_node_offset(layer) -> int:
    """1 for a model with its own input (its call 0 made it), else 0."""
    return int(isinstance(layer, model_classes()["Model"]) and bool(getattr(layer, "inputs", None)))


def sequential_config(model) -> dict:
    layers = []
    if model._input_layer is not None:
        layers.append(layer_entry(model._input_layer))
    layers.extend(layer_entry(layer) for layer in model.layers)
    return {"name": model.name, "layers": layers}


def sequential_from_config(config, custom_objects=None):
    check_sequential(config)
    model = model_classes()["Sequential"](name=config.get("name"), trainable=config.get("trainable", True))
    for layer_config in config["layers"]:
        layer = deserialize_layer(layer_config, custom_objects)
        model.add(layer)
    return model


def functional_config(model) -> dict:
    """The config of a functional model (see the module docstring)."""
    def ref(t):
        src = model._records[t]
        return [src.layer.name, model.node_index(t) + first_node_offset(src.layer), src.index]

    layer_configs = []
    for layer in model.layers:
        inbound = []
        for call in model._calls:
            if call.layer is not layer:
                continue
            if hasattr(layer, "_config_inbound"):  # TFOpLambda: one argument, tf_keras's form
                inbound.append(layer._config_inbound(call.inputs, call.kwargs, ref))
                continue
            kwargs = layer._config_call_kwargs(call.kwargs)
            flat = flatten(call.inputs)
            by_name = getattr(layer, "_config_keyword_inputs", ())
            if by_name and len(flat) > 1:  # tf_keras records these inputs as keywords
                kwargs = {**kwargs, **{n: ref(t) for n, t in zip(by_name, flat[1:])}}
                flat = flat[:1]
            inbound.append([ref(t) + [kwargs] for t in flat])
        entry = layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)

    def refs(nested):
        out = map_structure(ref, nested)
        return out if isinstance(out, list) and out and isinstance(out[0], list) else [out]
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": refs(model._nested_inputs),
            "output_layers": refs(model._nested_outputs)}


def _is_ref(item) -> bool:
    return isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)


def functional_from_config(config, custom_objects=None):
    """A functional model from :func:`functional_config`'s (or tf_keras's) config."""
    Model = model_classes()["Model"]  # noqa: N806 (the class)
    check_functional(config)
    made: dict = {}     # layer name -> layer
    outputs: dict = {}  # (layer name, node index) -> list of output tensors
    pending = list(config["layers"])
    while pending:
        progressed = False
        for entry in list(pending):
            name = entry.get("name", entry["config"].get("name"))
            if name not in made:
                made[name] = deserialize_layer(entry, custom_objects)
            layer = made[name]
            if isinstance(layer, InputLayer):
                outputs[(name, 0)] = [layer.output]
                pending.remove(entry)
                progressed = True
                continue
            nodes = entry.get("inbound_nodes", [])
            offset = first_node_offset(layer)
            done = sum(1 for key in outputs if key[0] == name)
            while done < len(nodes):
                args = node_arguments(nodes[done])
                recorded = args[0][3] if args and len(args[0]) > 3 else None
                # tf_keras records tensors passed by keyword (MultiHeadAttention's
                # value=) as [layer, node, tensor] in the call's kwargs
                refs = {k: v for k, v in recorded.items() if _is_ref(v)} \
                    if isinstance(recorded, dict) else {}
                if not all((a[0], a[1]) in outputs for a in list(args) + list(refs.values())
                           if a[0] != CONSTANT):
                    break
                tensors = [a[2] if a[0] == CONSTANT else _output(outputs, a, f"layer {name!r}")
                           for a in args]
                if refs:
                    recorded = {k: v for k, v in recorded.items() if k not in refs}
                kwargs = layer._replayed_call_kwargs(recorded)
                kwargs.update({k: _output(outputs, v, f"layer {name!r}, argument {k!r}")
                               for k, v in refs.items()})
                result = layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)
                outputs[(name, done + offset)] = flatten(result)
                done += 1
                progressed = True
            if done == len(nodes):
                pending.remove(entry)
        if not progressed:
            raise ValueError("from_config: the layer graph in this config cannot be rebuilt "
                             f"(unresolved layers: {[e.get('name') for e in pending]}). "
                             "An inbound node refers to a layer call that no layer in the "
                             "config makes.")

    def tensors(nested, where):
        if _is_ref(nested):
            return _output(outputs, nested, where)
        return [tensors(item, where) for item in nested]
    ins = tensors(config["input_layers"], "input_layers")
    outs = tensors(config["output_layers"], "output_layers")
    if len(ins) == 1:
        ins = ins[0]
    if len(outs) == 1:
        outs = outs[0]
    return Model(ins, outs, name=config.get("name"), trainable=config.get("trainable", True))


def _output(outputs: dict, ref, where: str):
    """The tensor a ``[layer name, node index, tensor index]`` reference names."""
    tensors = outputs.get((ref[0], ref[1]))
    if tensors is None or ref[2] >= len(tensors):
        raise ValueError(f"from_config: {where} refers to output {ref[2]} of call {ref[1]} of "
                         f"layer {ref[0]!r}, which the config does not make")
    return tensors[ref[2]]


def plain_json(where):
    """A ``json.dumps`` default for model configs: numpy scalars and arrays,
    sets; anything else is refused with an error naming ``where``."""
    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        raise TypeError(f"{where}: a model config holds a {type(value).__name__} ({value!r}), "
                        "which has no JSON form; the layer's get_config() must return plain "
                        "data")
    return default
