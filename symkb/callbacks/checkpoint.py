"""Callbacks that write files: ModelCheckpoint and CSVLogger."""
from __future__ import annotations

import collections
import csv
import os

import numpy as np

from .base import Callback
from .monitor import check_mode, greater_is_better, logged


def _bigger_is_better(monitor: str) -> bool:
    return "acc" in monitor or monitor.startswith("fmeasure")


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after epochs, or every ``save_freq`` batches.

    ``filepath`` is formatted with ``epoch`` (1-based), ``batch`` (1-based,
    with an integer ``save_freq``) and the logs: ``"w.{epoch:02d}-
    {val_loss:.2f}.h5"``. With ``save_best_only`` the file is written only
    when ``monitor`` improves (``mode`` as in EarlyStopping; ``'auto'``:
    larger is better for names containing acc); ``initial_value_threshold``
    is the value to beat first.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = check_mode(mode, "ModelCheckpoint")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: `save_freq` must be 'epoch' or a positive "
                             f"int; received {save_freq!r}")
        self.save_freq = save_freq
        self.greater = greater_is_better(monitor, self.mode, _bigger_is_better)
        self.initial_value_threshold = initial_value_threshold
        self.best = self._initial_best()
        self._batches, self._epoch = 0, 0

    def _initial_best(self):
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return -np.inf if self.greater else np.inf

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def file_path(self, epoch, batch, logs) -> str:
        """The path for ``epoch`` (0-based) and ``batch``, formatted from the logs."""
        values = {k: float(np.asarray(v)) if np.ndim(v) == 0 else v
                  for k, v in (logs or {}).items()}
        extra = {} if batch is None else {"batch": batch + 1}
        try:
            return self.filepath.format(epoch=epoch + 1, **extra, **values)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: `filepath` {self.filepath!r} names {err}, "
                           f"which is not among the logged quantities "
                           f"{sorted(values)} (nor epoch/batch)") from None

    def _save(self, epoch, batch, logs):
        path = self.file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logged(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            better = current > self.best if self.greater else current < self.best
            if not better:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                      f"to {current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: ``epoch`` then the sorted keys.

    Args:
        filename: the file.
        separator: the field separator.
        append: append to an existing file (no second header if it has one).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys, self.writer, self.csv_file = None, None, None
        self.append_header = True

    def on_train_begin(self, logs=None):
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as fh:
                    self.append_header = not bool(len(fh.readline()))
            mode = "a"
        self.csv_file = open(self.filename, mode, newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((k, _cell(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.writer = None


def _cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, collections.abc.Iterable):
        return f"\"[{', '.join(map(str, value))}]\""
    return value
