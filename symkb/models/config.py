"""Model configs in tf_keras's format: ``get_config`` / ``from_config``.

Sequential: ``{"name", "layers": [{"class_name", "config"}, ...]}`` with the
InputLayer first. Functional: ``{"name", "layers": [{"class_name", "config",
"name", "inbound_nodes"}], "input_layers", "output_layers"}`` where each
inbound node lists ``[layer_name, node_index, tensor_index, kwargs]``.
Layers are found by class name in :mod:`symkb.layers` (or ``custom_objects``);
nothing is ever executed from a config.
"""
from __future__ import annotations

from ..layers.core import InputLayer
from ..backend.nest import flatten
from .config_schema import check_functional, check_layer_entry, check_sequential


def layer_class(class_name, custom_objects=None):
    from .. import layers
    from . import functional, sequential
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    known = {"Sequential": sequential.Sequential, "Functional": functional.Model,
             "Model": functional.Model}
    if class_name in known:
        return known[class_name]
    cls = getattr(layers, class_name, None)
    if isinstance(cls, type):
        return cls
    raise ValueError(f"Unknown layer: {class_name!r}. Please ensure it is a symkb layer or "
                     "pass it in `custom_objects`.")


def class_name_of(layer) -> str:
    """The class name tf_keras shows for ``layer``: a functional model is a
    ``Functional``."""
    return "Functional" if type(layer).__name__ == "Model" else type(layer).__name__


def serialize_layer(layer) -> dict:
    return {"class_name": class_name_of(layer), "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    check_layer_entry(config, "layer")
    cls = layer_class(config["class_name"], custom_objects)
    try:
        if hasattr(cls, "from_config"):
            try:
                return cls.from_config(config["config"], custom_objects=custom_objects)
            except TypeError:
                return cls.from_config(config["config"])
        return cls(**config["config"])
    except TypeError as exc:  # an argument the class does not take, or of the wrong kind
        name = config["config"].get("name")
        raise ValueError(f"model config: layer {config['class_name']}"
                         f"{f' {name!r}' if isinstance(name, str) else ''} cannot be built from "
                         f"its config: {exc}") from exc


def sequential_config(model) -> dict:
    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_layer(layer) for layer in model.layers)
    return {"name": model.name, "layers": layers}


def sequential_from_config(config, custom_objects=None):
    from .sequential import Sequential
    check_sequential(config)
    model = Sequential(name=config.get("name"))
    for layer_config in config["layers"]:
        layer = deserialize_layer(layer_config, custom_objects)
        model.add(layer)
    return model


def functional_config(model) -> dict:
    layer_configs = []
    for layer in model.layers:
        inbound = []
        for call in model._calls:
            if call.layer is not layer:
                continue
            args = []
            for t in flatten(call.inputs):
                src = model._records[t]
                args.append([src.layer.name, model.node_index(t), src.index, {}])
            inbound.append(args)
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)

    def ref(t):
        src = model._records[t]
        return [src.layer.name, model.node_index(t), src.index]
    return {"name": model.name, "layers": layer_configs,
            "input_layers": [ref(t) for t in model.inputs],
            "output_layers": [ref(t) for t in model.outputs]}


def functional_from_config(config, custom_objects=None):
    from .functional import Model
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
            done = sum(1 for key in outputs if key[0] == name)
            while done < len(nodes):
                args = nodes[done]
                if not all((a[0], a[1]) in outputs for a in args):
                    break
                tensors = [_output(outputs, a, f"layer {name!r}") for a in args]
                result = layer(tensors[0] if len(tensors) == 1 else tensors)
                outputs[(name, done)] = flatten(result)
                done += 1
                progressed = True
            if done == len(nodes):
                pending.remove(entry)
        if not progressed:
            raise ValueError("from_config: the layer graph in this config cannot be rebuilt "
                             f"(unresolved layers: {[e.get('name') for e in pending]})")
    ins = [_output(outputs, r, "input_layers") for r in config["input_layers"]]
    outs = [_output(outputs, r, "output_layers") for r in config["output_layers"]]
    return Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0],
                 name=config.get("name"))


def _output(outputs: dict, ref, where: str):
    """The tensor a ``[layer name, node index, tensor index]`` reference names."""
    tensors = outputs.get((ref[0], ref[1]))
    if tensors is None or ref[2] >= len(tensors):
        raise ValueError(f"from_config: {where} refers to output {ref[2]} of call {ref[1]} of "
                         f"layer {ref[0]!r}, which the config does not make")
    return tensors[ref[2]]
