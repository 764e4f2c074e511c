"""The shape of model configs, checked before a model is built from one.

A config may come from a file (``model_from_json``, ``load_model``): before
:mod:`symkb.models.config` follows its references, every entry it relies on
is checked to be of the right kind, so a malformed config gets a
``ValueError`` naming the entry (``layers[2].inbound_nodes[0][1]``) instead of
an ``IndexError`` or a ``TypeError`` from deep inside.
"""
from __future__ import annotations


def _fail(where: str, expected: str, value) -> None:
    raise ValueError(f"model config: {where} must be {expected}. Received: {str(value)[:80]}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_layer_entry(entry, where: str) -> None:
    """``{"class_name": str, "config": dict, ...}``."""
    if not isinstance(entry, dict):
        _fail(where, 'an object {"class_name": ..., "config": {...}}', entry)
    if not isinstance(entry.get("class_name"), str):
        _fail(f"{where}.class_name", "a string", entry.get("class_name"))
    if not isinstance(entry.get("config"), dict):
        _fail(f"{where}.config", "an object", entry.get("config"))


def check_sequential(config) -> None:
    """A Sequential config: ``{"name", "layers": [layer entry, ...]}``."""
    if not isinstance(config, dict):
        _fail("config", "an object", config)
    layers = config.get("layers")
    if not isinstance(layers, list):
        _fail("config.layers", "a list of layer entries", layers)
    for i, entry in enumerate(layers):
        check_layer_entry(entry, f"layers[{i}]")
    _check_name(config)


def _check_name(config) -> None:
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        _fail("config.name", "a string", name)


def _check_ref(ref, where: str, size: int) -> None:
    if not isinstance(ref, list) or len(ref) < 3 or not isinstance(ref[0], str) \
            or not _is_int(ref[1]) or not _is_int(ref[2]):
        _fail(where, "[layer name, node index, tensor index, ...]", ref)
    if len(ref) > size:
        _fail(where, f"a list of at most {size} items", ref)


def node_arguments(node) -> list:
    """An inbound node's arguments: tf_keras writes a node of one argument with
    call keywords (its TFOpLambda calls) as that argument alone."""
    return [node] if node and isinstance(node[0], str) else node


def _check_constant(ref, where: str) -> None:
    """tf_keras's entry of a constant first operand: ``["_CONSTANT_VALUE", -1,
    value, {kwargs}]``, the value a number or (nested) lists of numbers."""
    def numbers(value, depth: int) -> bool:
        if isinstance(value, bool) or depth > 8:
            return False
        if isinstance(value, (int, float)):
            return True
        return isinstance(value, list) and len(value) <= 1 << 16 and \
            all(numbers(v, depth + 1) for v in value)
    if len(ref) != 4 or ref[1] != -1 or not numbers(ref[2], 0) or not isinstance(ref[3], dict):
        _fail(where, '["_CONSTANT_VALUE", -1, a number or a list of numbers, {...}]', ref)


def _check_nested_refs(refs, where: str, names: set, depth: int) -> None:
    """A reference, or a (nested) list of them, as tf_keras nests model outputs."""
    if isinstance(refs, list) and refs and isinstance(refs[0], str):
        _check_ref(refs, where, 3)
        if refs[0] not in names:
            _fail(where, "the name of one of the layers", refs[0])
        return
    if not isinstance(refs, list) or not refs or depth > 8:
        _fail(where, "a [layer name, node index, tensor index] reference or a list of them",
              refs)
    for k, ref in enumerate(refs):
        _check_nested_refs(ref, f"{where}[{k}]", names, depth + 1)


def check_functional(config) -> None:
    """A functional config: layers with names and inbound nodes, input and output refs."""
    if not isinstance(config, dict):
        _fail("config", "an object", config)
    layers = config.get("layers")
    if not isinstance(layers, list):
        _fail("config.layers", "a list of layer entries", layers)
    names = set()
    for i, entry in enumerate(layers):
        where = f"layers[{i}]"
        check_layer_entry(entry, where)
        name = entry.get("name", entry["config"].get("name"))
        if not isinstance(name, str):
            _fail(f"{where}.name", "a string", name)
        if name in names:
            _fail(f"{where}.name", "unique among the layers", name)
        names.add(name)
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            _fail(f"{where}.inbound_nodes", "a list", nodes)
        for j, args in enumerate(nodes):
            if not isinstance(args, list) or not args:
                _fail(f"{where}.inbound_nodes[{j}]", "a non-empty list of inputs", args)
            args = node_arguments(args)
            for k, ref in enumerate(args):
                if isinstance(ref, list) and ref and ref[0] == "_CONSTANT_VALUE":
                    _check_constant(ref, f"{where}.inbound_nodes[{j}][{k}]")
                else:
                    _check_ref(ref, f"{where}.inbound_nodes[{j}][{k}]", 4)
    for key in ("input_layers", "output_layers"):
        refs = config.get(key)
        if not isinstance(refs, list) or not refs:
            _fail(f"config.{key}", "a non-empty list of [layer name, node index, tensor index]",
                  refs)
        _check_nested_refs(refs, f"config.{key}", names, depth=0)
    _check_name(config)
