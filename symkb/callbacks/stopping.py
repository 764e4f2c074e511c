"""Callbacks that stop training: EarlyStopping and TerminateOnNaN."""
from __future__ import annotations

import sys

import numpy as np

from .base import Callback
from .monitor import check_mode, greater_is_better, logged


def _bigger_is_better(monitor: str) -> bool:
    return monitor.endswith(("acc", "accuracy", "auc"))


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change beyond ``min_delta`` in the good direction
    (``mode``: ``'min'``, ``'max'``, or ``'auto'``: larger is better for
    names ending in acc, accuracy or auc). With ``baseline``, the wait only
    resets on improvements that also beat the baseline. Epochs before
    ``start_from_epoch`` are not watched. ``restore_best_weights`` sets the
    best epoch's weights back when training ends.

    Attributes:
        stopped_epoch: the (0-based) epoch training stopped at, 0 if it did not.
        best_epoch: the epoch of the best value.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.mode = check_mode(mode, "EarlyStopping")
        self.greater = greater_is_better(monitor, self.mode, _bigger_is_better)
        self.min_delta = abs(min_delta) if self.greater else -abs(min_delta)
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = None
        self.best_weights = None

    def _improves(self, value, reference) -> bool:
        op = np.greater if self.greater else np.less
        return bool(op(value - self.min_delta, reference))

    def on_train_begin(self, logs=None):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best = -np.inf if self.greater else np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = logged(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss))
        if np.isnan(loss) or np.isinf(loss):
            (self.stream or sys.stdout).write(f"Batch {batch}: Invalid loss, terminating "
                                              "training\n")
            self.model.stop_training = True
