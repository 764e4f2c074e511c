"""LambdaCallback: a callback made of plain functions."""
from __future__ import annotations

from .base import BATCH_HOOKS, EPOCH_HOOKS, HOOKS, Callback

_NAMES = set(HOOKS + BATCH_HOOKS + EPOCH_HOOKS) | {"on_batch_begin", "on_batch_end"}


class LambdaCallback(Callback):
    """Callback hooks given as functions.

    ``on_epoch_begin``/``on_epoch_end`` take ``(epoch, logs)``,
    ``on_batch_begin``/``on_batch_end`` (and the ``on_*_batch_*`` hooks)
    ``(batch, logs)``, ``on_train_begin``/``on_train_end`` (and the test and
    predict ones) ``(logs)``.

    Raises:
        ValueError: for a keyword that is not a hook's name.
    """

    def __init__(self, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - _NAMES)
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hooks {unknown}; expected some of "
                             f"{sorted(_NAMES)}")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, _bind(name, fn))


def _bind(name, fn):
    if name in HOOKS:
        return lambda logs=None: fn(logs)
    return lambda index, logs=None: fn(index, logs)
