"""The callback protocol of ``fit``/``evaluate``/``predict``: ``Callback``
and ``History``."""
from __future__ import annotations

HOOKS = tuple(f"on_{stage}_{when}" for stage in ("train", "test", "predict")
              for when in ("begin", "end"))
BATCH_HOOKS = tuple(f"on_{stage}_batch_{when}" for stage in ("train", "test", "predict")
                    for when in ("begin", "end"))
EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")


class Callback:
    """The base of callbacks: every hook does nothing until overridden.

    ``fit`` calls ``set_params`` (``{'verbose', 'epochs', 'steps'}``) and
    ``set_model``, then ``on_train_begin``, per epoch ``on_epoch_begin``,
    ``on_train_batch_begin/end`` per batch, ``on_epoch_end`` with the
    epoch's logs (``{'loss': ..., 'val_loss': ...}``), and ``on_train_end``.
    A callback stops training by setting ``self.model.stop_training = True``.
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        """Keep the run's parameters (``verbose``, ``epochs``, ``steps``)."""
        self.params = params

    def set_model(self, model):
        """Keep the model being trained, evaluated or run."""
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """A training batch begins (what ``on_train_batch_begin`` calls)."""

    def on_batch_end(self, batch, logs=None):
        """A training batch ended (what ``on_train_batch_end`` calls)."""

    def on_epoch_begin(self, epoch, logs=None):
        """An epoch (0-based) begins."""

    def on_epoch_end(self, epoch, logs=None):
        """An epoch ended; ``logs`` has its training and validation results."""

    def on_train_batch_begin(self, batch, logs=None):
        """A training batch begins."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """A training batch ended; ``logs`` has the running results."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """An evaluation batch begins."""

    def on_test_batch_end(self, batch, logs=None):
        """An evaluation batch ended."""

    def on_predict_batch_begin(self, batch, logs=None):
        """A prediction batch begins."""

    def on_predict_batch_end(self, batch, logs=None):
        """A prediction batch ended."""

    def on_train_begin(self, logs=None):
        """Training begins."""

    def on_train_end(self, logs=None):
        """Training ended."""

    def on_test_begin(self, logs=None):
        """Evaluation begins."""

    def on_test_end(self, logs=None):
        """Evaluation ended."""

    def on_predict_begin(self, logs=None):
        """Prediction begins."""

    def on_predict_end(self, logs=None):
        """Prediction ended."""


class History(Callback):
    """Records each epoch's logs: ``history.history['loss'][epoch]``.

    ``fit`` returns it, and it sets itself as ``model.history``.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
