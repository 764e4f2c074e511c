"""Callbacks that change the learning rate: LearningRateScheduler and
ReduceLROnPlateau. Both read and write ``model.optimizer.learning_rate``
(a Variable: the compiled train step reads the new value on its next call,
without recompiling) and log it as ``lr``."""
from __future__ import annotations

import inspect

import numpy as np

from ..backend.variables import get_value, set_value
from ..ir import Variable
from .base import Callback
from .monitor import check_mode, greater_is_better, logged


def _rate_holder(model, owner):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{owner}: the model's optimizer must have a `learning_rate`; "
                         f"received optimizer {optimizer!r}")
    return optimizer


def get_lr(model, owner) -> float:
    """The optimizer's learning rate as a float."""
    rate = _rate_holder(model, owner).learning_rate
    return float(get_value(rate) if isinstance(rate, Variable) else np.asarray(rate))


def set_lr(model, value, owner) -> None:
    """Set the optimizer's learning rate (in its Variable when it has one)."""
    optimizer = _rate_holder(model, owner)
    if isinstance(optimizer.learning_rate, Variable):
        set_value(optimizer.learning_rate, value)
    elif isinstance(optimizer.learning_rate, (int, float, np.floating)):
        optimizer.learning_rate = float(value)
    else:
        raise ValueError(f"{owner}: cannot set a learning rate given by "
                         f"{type(optimizer.learning_rate).__name__} (a schedule?)")


def _takes_two(schedule) -> bool:
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)``
    (or ``schedule(epoch)`` for a one-argument schedule); epoch is 0-based."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = get_lr(self.model, "LearningRateScheduler")
        new = self.schedule(epoch, lr) if _takes_two(self.schedule) else self.schedule(epoch)
        if isinstance(new, (bool, np.bool_)) or not isinstance(
                new, (float, int, np.floating, np.integer)):
            raise ValueError("LearningRateScheduler: the schedule must return a float; "
                             f"received {new!r} for epoch {epoch}")
        set_lr(self.model, float(new), "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = get_lr(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls.

    After ``patience`` epochs without an improvement beyond ``min_delta``
    (``mode``; ``'auto'``: larger is better for names containing acc), the
    rate becomes ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass
    before the count starts again.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: `factor` must be < 1.0; received {factor}")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.min_delta = verbose, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self.mode = check_mode(mode, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.greater = greater_is_better(self.monitor, self.mode, lambda m: "acc" in m)
        self.best = -np.inf if self.greater else np.inf
        self.cooldown_counter = self.wait = 0

    def _improves(self, current) -> bool:
        if self.greater:
            return bool(np.greater(current, self.best + self.min_delta))
        return bool(np.less(current, self.best - self.min_delta))

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["lr"] = get_lr(self.model, "ReduceLROnPlateau")
        current = logged(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = logs["lr"]
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    set_lr(self.model, new, "ReduceLROnPlateau")
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0
