"""The model's forward pass in training mode, for the train step.

A model's graph is built once, in inference mode. When a layer of the model
acts differently in training (a ``Dropout`` with a rate above 0), the train
step needs the forward pass again with ``training=True``: each layer call of
the model is replayed on the same Input tensors, in topological order, with
``training=True`` for the layers that take it. The weights are the same
Variables, so the train step updates the model's weights. Models without
such layers keep their graph's outputs (nothing is rebuilt).
"""
from __future__ import annotations

from ..backend.nest import flatten, map_structure
from ..ir import KerasTensor
from ..layers.core import Dropout


def acts_in_training(model) -> bool:
    """Whether a layer of ``model`` computes differently with ``training=True``."""
    return any(isinstance(layer, Dropout) and layer.rate > 0 for layer in model.layers)


def training_outputs(model) -> list:
    """``model.outputs`` computed again with ``training=True`` (see the module docstring)."""
    if not acts_in_training(model):
        return list(model.outputs)
    calls = getattr(model, "_calls", None)
    if calls is None:
        raise NotImplementedError(f"{model.name}: no layer calls to replay in training mode")
    env = {t: t for t in model.inputs}

    def new(t):
        return env.get(t, t) if isinstance(t, KerasTensor) else t

    for call in calls:
        kwargs = {k: map_structure(new, v) for k, v in call.kwargs.items() if k != "mask"}
        if "training" in call.layer._call_accepts:
            kwargs["training"] = True
        outs = flatten(call.layer(map_structure(new, call.inputs), **kwargs))
        for old in call.outputs:
            env[old] = outs[model._records[old].index]
    return [env[t] for t in model.outputs]
