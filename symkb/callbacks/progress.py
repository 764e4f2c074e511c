"""``ProgbarLogger``: the progress bar ``fit``/``evaluate``/``predict`` show.

``verbose=1``: ``Epoch 1/3`` (when there are several epochs), then a bar
redrawn after each batch with the ETA and the running results, finished
with the epoch's time per step and its results (validation ones included);
``verbose=2``: ``Epoch 1/3`` and one line per epoch. Inside ``fit`` the
validation pass is silent. Logged values are shown as given: ``fit`` logs
metric results, which are running averages already (tf_keras treats them
as its ``stateful_metrics`` too); names in ``averaged`` are averaged over
the batches instead.
"""
from __future__ import annotations

import sys

from ..utils.progbar import Progbar
from .base import Callback


class ProgbarLogger(Callback):
    """Prints the progress of ``fit``, ``evaluate`` and ``predict``.

    Args:
        count_mode: ``'steps'`` (the only mode: batches are counted).
        averaged: names of logged values to average over the batches.
        stream: where to write (``sys.stdout`` by default).
        clock: the time source for the bar (tests give a fixed one).
    """

    def __init__(self, count_mode="steps", averaged=(), stream=None, clock=None):
        super().__init__()
        if count_mode != "steps":
            raise ValueError(f"ProgbarLogger: unknown `count_mode` {count_mode!r}; symkb "
                             "counts steps (expected 'steps')")
        self.averaged = set(averaged)
        self.stream, self.clock = stream, clock
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progbar, self.seen, self._in_fit = None, 0, False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _write(self, text):
        (self.stream or sys.stdout).write(text)

    def _start(self):
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose, stream=self.stream,
                               clock=self.clock)

    def _bar(self, logs):
        if self.progbar is None:
            self._start()
        self.progbar.stateful_metrics |= {k for k in (logs or {}) if k not in self.averaged}
        return self.progbar

    def _batch(self, batch, logs):
        self.seen = batch + 1
        if self.verbose == 1:
            self._bar(logs).update(self.seen, list((logs or {}).items()), finalize=False)

    def _finish(self, logs):
        bar = self._bar(logs)
        if self.target is None:
            self.target = bar.target = self.seen
        bar.update(self.target, list((logs or {}).items()), finalize=True)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start()
        if self.verbose and self.epochs > 1:
            self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._batch(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose:
            self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._batch(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit and self.verbose:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._batch(batch, None)

    def on_predict_end(self, logs=None):
        if self.verbose:
            self._finish(None)
