"""``symkb.models.clone_model``: the same architecture with new layers.

As tf_keras's ``clone_model``: every layer is replaced by
``clone_function(layer)`` (by default a new layer of the same class and
config, so with freshly initialised weights: copy them with
``clone.set_weights(model.get_weights())``), and the layer calls are
replayed on new inputs (new ``Input`` tensors of the same config, or
``input_tensors``). A layer called several times is cloned once and shared
as in the original. Names are kept.
"""
from __future__ import annotations

from ..backend.nest import flatten, map_structure, pack_as
from ..ir import KerasTensor
from ..layers.base import Layer
from ..layers.core import Input, InputLayer, input_layer_of
from .functional import Model
from .sequential import Sequential


def _clone_layer(layer):
    """A new layer of ``layer``'s class built from its config (fresh weights)."""
    return type(layer).from_config(layer.get_config())


def _cloner(clone_function):
    clone_function = clone_function or _clone_layer

    def clone(layer):
        new = clone_function(layer)
        if not isinstance(new, Layer):
            raise TypeError("clone_model: `clone_function` must return a Layer. Received: "
                            f"{new!r} (of type {type(new).__name__}) for layer {layer.name!r}")
        return new
    return clone


def _new_inputs(model, input_tensors) -> list:
    if input_tensors is None:
        return [InputLayer.from_config(input_layer_of(t).get_config()).output
                if input_layer_of(t) is not None else _new_placeholder_input(t)
                for t in model.inputs]
    given = flatten(input_tensors)
    if len(given) != len(model.inputs):
        raise ValueError(f"clone_model: model {model.name!r} has {len(model.inputs)} "
                         f"input(s); input_tensors holds {len(given)}. Received: "
                         f"input_tensors={input_tensors!r}")
    for i, t in enumerate(given):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"clone_model: input_tensors[{i}] must be a KerasTensor (from "
                            f"Input or a layer). Received: {type(t).__name__}")
    return given


def _new_placeholder_input(t):
    return Input(batch_shape=tuple(t.shape), dtype=t.dtype)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with ``model``'s architecture and new layers.

    Args:
        model: a Sequential or functional Model.
        input_tensors: optional KerasTensors to call the new layers on (as
            many as the model has inputs); default: new Inputs like the
            model's.
        clone_function: ``layer -> new layer``, called once per layer (not
            for Input layers); default: a new layer from ``get_config()``.

    Returns:
        The new model (a Sequential for a Sequential), with the same name.

    Example:
        >>> import symkb
        >>> from symkb import layers
        >>> m = symkb.Sequential([layers.Input((3,)), layers.Dense(2)])
        >>> c = symkb.models.clone_model(m)
        >>> c.layers[0] is m.layers[0], c.layers[0].name == m.layers[0].name
        (False, True)
    """
    if not isinstance(model, Model):
        raise TypeError("clone_model: expected a symkb Sequential or functional Model. "
                        f"Received: model={model!r} of type {type(model).__name__}")
    clone = _cloner(clone_function)
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone)
    new_inputs = _new_inputs(model, input_tensors)
    tensors = dict(zip(model.inputs, new_inputs))
    made: dict = {}

    def new_of(x):
        return tensors[x] if isinstance(x, KerasTensor) else x

    for call in model._calls:
        layer = call.layer
        if id(layer) not in made:
            made[id(layer)] = clone(layer)
        kwargs = {k: map_structure(new_of, v) for k, v in call.kwargs.items() if k != "mask"}
        out = flatten(made[id(layer)](map_structure(new_of, call.inputs), **kwargs))
        for t in call.outputs:
            tensors[t] = out[model._records[t].index]
    inputs = pack_as(model._nested_inputs, new_inputs) \
        if input_tensors is None else input_tensors
    outputs = pack_as(model._nested_outputs, [tensors[t] for t in model.outputs])
    return Model(inputs, outputs, name=model.name)


def _clone_sequential(model, input_tensors, clone):
    stack = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        given = flatten(input_tensors)
        if len(given) != 1 or input_layer_of(given[0]) is None:
            raise ValueError("clone_model: a Sequential model is cloned onto one Input "
                             f"tensor. Received: input_tensors={input_tensors!r}")
        return Sequential([given[0], *stack], name=model.name)
    if model._input_layer is not None:
        first = InputLayer.from_config(model._input_layer.get_config())
        return Sequential([first, *stack], name=model.name)
    return Sequential(stack, name=model.name)
