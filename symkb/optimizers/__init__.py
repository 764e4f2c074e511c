"""Optimizers (tf_keras 2.x's update rules), building symbolic train-step updates.

``symkb.optimizers.get('adam')`` or ``Adam(learning_rate=...)``; an
optimizer's ``apply_gradients`` / ``get_updates`` return ``assign``
KerasTensors for ``K.function(..., updates=...)``, so a train step compiles to
one kernel. ``schedules`` holds the learning-rate schedules.
"""
from __future__ import annotations

from . import schedules
from .base import Optimizer
from .rules import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

ALL = {c.__name__: c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam)}
_ALIASES = {name.lower(): cls for name, cls in ALL.items()}


def serialize(optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` of an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config) -> Optimizer:
    """An optimizer from :func:`serialize`'s dict."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = ALL.get(name) or _ALIASES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizers.deserialize: unknown optimizer {name!r}; expected one of "
                         f"{sorted(ALL)}")
    return cls.from_config(dict(config.get("config", {})))


def get(identifier) -> Optimizer:
    """An optimizer from a name (``'adam'``, ``'SGD'``), a config dict or an instance.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: anything else.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"optimizers.get: unknown optimizer {identifier!r}; expected one "
                             f"of {sorted(_ALIASES)}")
        return cls()
    raise TypeError(f"optimizers.get: expected an optimizer name, config dict or Optimizer, "
                    f"received {type(identifier).__name__}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam",
           "schedules", "get", "serialize", "deserialize"]
