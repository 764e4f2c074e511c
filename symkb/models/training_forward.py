"""The model's forward pass in training mode, for the train step.

A model's graph is built once, in inference mode. When a layer of the model
acts differently in training (a ``Dropout`` or noise layer, a recurrent
layer with ``dropout``/``recurrent_dropout``, a ``BatchNormalization``, or a
wrapper or nested model holding one), the train step needs the forward
pass again with ``training=True``: each layer call of the model is replayed
on the same Input tensors (or on given tensors, for a nested model), in
topological order, with ``training=True`` for the layers that take it. The
weights are the same Variables, so the train step updates the model's
weights. The state updates the replayed calls record (BatchNormalization's
moving statistics, through ``add_update``) are returned with the outputs:
they become part of the compiled train step. Models without such layers
keep their graph's outputs (nothing is rebuilt).
"""
from __future__ import annotations

from ..backend.nest import flatten, map_structure
from ..ir import KerasTensor
from ..layers.core import Dropout
from ..layers.noise import _Noise
from ..layers.normalization import BatchNormalization
from ..layers.recurrent import RNN
from ..layers.recurrent_dropout import has_dropout
from ..layers import regularization


def _acts(layer, seen) -> bool:
    if layer is None or id(layer) in seen:
        return False
    seen.add(id(layer))
    if isinstance(layer, (Dropout, _Noise)):
        return getattr(layer, "rate", getattr(layer, "stddev", 0)) > 0
    if isinstance(layer, BatchNormalization):
        return True
    if isinstance(layer, RNN) and has_dropout(layer.cell):
        return True
    inner = [getattr(layer, a, None) for a in ("layer", "forward_layer", "backward_layer")]
    inner += list(getattr(layer, "_layers", None) or ())
    return any(_acts(x, seen) for x in inner)


def acts_in_training(model) -> bool:
    """Whether a layer of ``model`` computes differently with ``training=True``."""
    seen = {id(model)}
    return any(_acts(layer, seen) for layer in model.layers)


def _all_updates(model) -> list:
    return [u for layer in model.layers for u in layer.updates]


def training_forward(model, inputs=None, with_losses=False) -> tuple:
    """``(outputs, updates)``: the outputs computed with ``training=True`` and the
    ``(variable, value)`` updates that pass records (see the module docstring);
    with ``with_losses``, also the model's regularization losses for that pass
    (``layers/regularization.py``): the activity losses of the replayed calls.

    Args:
        model: a built functional or Sequential model.
        inputs: tensors standing for ``model.inputs`` (default: the inputs).
    """
    if not acts_in_training(model):
        outputs = list(model.outputs)
        if inputs is not None:
            from ..ir import replay
            outputs = replay(model.graph, flatten(inputs))
        if with_losses:
            return outputs, [], model.losses
        return outputs, []
    calls = getattr(model, "_calls", None)
    if calls is None:
        raise NotImplementedError(f"{model.name}: no layer calls to replay in training mode")
    before = {id(value) for _, value in _all_updates(model)}
    old_losses = regularization.ids_of_activity(model)
    given = list(model.inputs) if inputs is None else flatten(inputs)
    env = dict(zip(model.inputs, given))

    def new(t):
        return env.get(t, t) if isinstance(t, KerasTensor) else t

    for call in calls:
        kwargs = {k: map_structure(new, v) for k, v in call.kwargs.items() if k != "mask"}
        if "training" in call.layer._call_accepts:
            kwargs["training"] = True
        outs = flatten(call.layer(map_structure(new, call.inputs), **kwargs))
        for old in call.outputs:
            env[old] = outs[model._records[old].index]
    updates = [(v, value) for v, value in _all_updates(model) if id(value) not in before]
    outputs = [env[t] for t in model.outputs]
    if with_losses:
        return outputs, updates, regularization.collect(model, None, exclude=old_losses)
    return outputs, updates


def training_outputs(model) -> list:
    """``model.outputs`` computed again with ``training=True``."""
    return training_forward(model)[0]


def call_in_training(model, leaves):
    """``model(arrays, training=True)``: the training forward pass on arrays,
    compiled once (cached on the model) with its state updates, so that a
    BatchNormalization's moving statistics move as tf_keras's eager call
    moves them. ``None`` when no layer acts differently in training."""
    if not acts_in_training(model):
        return None
    fn = model.__dict__.get("_training_call_fn")
    if fn is None:
        from .. import backend as K
        outputs, updates = training_forward(model)
        fn = K.function(list(model.inputs), outputs, updates=updates,
                        name=f"{model.name}_training_call")
        model._training_call_fn = fn
    return fn(list(leaves))
