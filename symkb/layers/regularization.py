"""Regularization losses of layers and models: what ``layer.losses`` holds.

As in tf_keras, a layer's losses are

* one penalty per regularized weight (``kernel_regularizer`` penalises the
  ``kernel``, ``recurrent_regularizer`` the ``recurrent_kernel``,
  ``depthwise_regularizer`` the ``depthwise_kernel``, ...), computed from the
  Variable, so a train step's graph reads its current value;
* ``activity_regularizer(output) / batch size`` for each output of each
  symbolic call (recorded by ``Layer.__call__``, keyed by the output);
* what ``add_loss`` was given: a tensor (a function of the model's inputs or
  of Variables) or a callable taking no argument, called when the losses are
  read;
* and the losses of its sublayers (a recurrent layer's cell, a wrapped
  layer, a model's layers).

A model counts the activity losses of its own graph's calls only (a shared
layer may have been called elsewhere). ``fit`` adds their sum to the loss.
Regularizers are resolved (``regularizers.get``) when the losses are read,
so a config naming one symkb cannot train with still loads for inference.
"""
from __future__ import annotations

from .. import backend as K
from ..backend.nest import flatten
from ..ir import KerasTensor, Variable
from ..ir.build import as_tensor
from . import regularizers


def keep_regularizers(layer, specs: dict) -> None:
    """Remember the regularizer arguments among ``specs`` as given."""
    raw = layer.__dict__.setdefault("_raw_regularizers", {})
    for key, value in specs.items():
        if key.endswith("_regularizer"):
            raw[key] = value


def _resolve(layer, key):
    value = layer.__dict__.get("_raw_regularizers", {}).get(key)
    try:
        return regularizers.get(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Layer {layer.name!r}: `{key}`={value!r} cannot be applied: "
                         f"{exc}") from None


def _weight_of(layer, key):
    base = key[:-len("_regularizer")]
    for name in (base, f"{base}_kernel"):
        value = layer.__dict__.get(name)
        if isinstance(value, Variable):
            return value
    return None


def weight_penalties(layer) -> list:
    """The penalties of ``layer``'s own regularized weights (not its sublayers')."""
    out = []
    for key in layer.__dict__.get("_raw_regularizers", {}):
        if key == "activity_regularizer":
            continue
        regularizer = _resolve(layer, key)
        weight = _weight_of(layer, key) if regularizer is not None else None
        if weight is not None:
            out.append(regularizer(as_tensor(weight)))
    return out


def record_activity(layer, outputs) -> None:
    """Record ``activity_regularizer(output) / batch size`` for each float output."""
    regularizer = _resolve(layer, "activity_regularizer")
    if regularizer is None:
        return
    table = layer.__dict__.setdefault("_activity_losses", {})
    for t in flatten(outputs):
        if isinstance(t, KerasTensor) and t.dtype.startswith("float"):
            batch = K.cast(K.shape(t)[0], t.dtype)
            table[id(t)] = (t, regularizer(t) / batch)


def add_loss(layer, losses) -> None:
    """``layer.add_loss``: tensors, zero-argument callables or numbers."""
    items = list(losses) if isinstance(losses, (list, tuple)) else [losses]
    for item in items:
        if not (isinstance(item, (KerasTensor, int, float)) or callable(item)):
            raise TypeError(f"Layer {layer.name!r}: add_loss takes a tensor, a callable with "
                            f"no argument or a number; received {type(item).__name__}")
    layer.__dict__.setdefault("_added_losses", []).extend(items)


def _children(layer) -> list:
    found = list(layer._sublayers())
    if hasattr(layer, "_calls"):
        found += [x for x in getattr(layer, "layers", ()) if x not in found]
    return found


def activity_keys(model):
    """The ids of the tensors ``model``'s own calls made (``None``: not a model)."""
    calls = getattr(model, "_calls", None)
    if calls is None:
        return None
    return {id(t) for call in calls for t in call.outputs}


def collect(root, keys=None, exclude=None) -> list:
    """The losses of ``root`` and its sublayers (see the module docstring).

    Args:
        root: a layer or a model.
        keys: the ids of the outputs whose activity losses count (``None``:
            every recorded one).
        exclude: ids of activity losses to leave out (``ids_of_activity``
            before a replay), when only the replay's own should count.
    """
    out, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        out.extend(weight_penalties(layer))
        for loss in layer.__dict__.get("_added_losses", ()):
            out.append(loss() if callable(loss) and not isinstance(loss, KerasTensor) else loss)
        for key, (_, loss) in layer.__dict__.get("_activity_losses", {}).items():
            if (keys is None or key in keys) and (exclude is None or id(loss) not in exclude):
                out.append(loss)
        for child in _children(layer):
            visit(child)
    visit(root)
    return out


def ids_of_activity(root) -> set:
    """The ids of every activity loss recorded so far in ``root``'s layers."""
    found, seen = set(), set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.update(id(loss) for _, loss in layer.__dict__.get("_activity_losses", {}).values())
        for child in _children(layer):
            visit(child)
    visit(root)
    return found
