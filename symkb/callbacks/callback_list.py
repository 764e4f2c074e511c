"""``CallbackList``: calls every callback's hook in order."""
from __future__ import annotations

from .base import BATCH_HOOKS, EPOCH_HOOKS, HOOKS, Callback, History
from .progress import ProgbarLogger


class CallbackList:
    """Calls each hook of every callback in order.

    Args:
        callbacks: the callbacks (None: none).
        add_history: add a :class:`History` unless one is given.
        add_progbar: add a ``ProgbarLogger`` unless one is given.
        model: the model (given to every callback).
        **params: the run's parameters (given to every callback).

    Raises:
        TypeError: if an entry is not a :class:`Callback`.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}] must be a symkb.callbacks.Callback; "
                                f"received {type(cb).__name__} {cb!r}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        self.model = None
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @property
    def history(self):
        """The :class:`History` among the callbacks, or None."""
        return next((cb for cb in self.callbacks if isinstance(cb, History)), None)

    def append(self, callback):
        """Add a callback at the end."""
        self.callbacks.append(callback)

    def set_params(self, params):
        """Give every callback the run's parameters."""
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        """Give every callback the model."""
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _dispatch(name, indexed):
    if indexed:
        def hook(self, index, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(index, logs=logs)
    else:
        def hook(self, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(logs=logs)
    hook.__name__ = name
    hook.__doc__ = f"Call ``{name}`` of every callback, in order."
    return hook


for _name in HOOKS:
    setattr(CallbackList, _name, _dispatch(_name, False))
for _name in BATCH_HOOKS + EPOCH_HOOKS:
    setattr(CallbackList, _name, _dispatch(_name, True))
