"""The training methods of :class:`symkb.Model`: ``compile``, ``fit``,
``evaluate``, ``train_on_batch``, ``test_on_batch`` (tf_keras's signatures).

``training.py`` builds the compiled steps, ``fitting.py`` checks the data and
runs the batches; this mixin holds the public methods and their documentation.
"""
from __future__ import annotations

import numpy as np

from . import fitting, streaming

TRAINING_METHODS = ("compile", "fit", "evaluate", "train_on_batch", "test_on_batch")


class Trainable:
    """Mixin of :class:`symkb.Model` (see the module docstring)."""

    _training = None
    stop_training = False
    optimizer = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, target="auto", **kwargs):
        """Configure the model for training (tf_keras's ``compile``).

        Args:
            optimizer: a name (``'adam'``) or a ``symkb.optimizers`` Optimizer.
            loss: a name, function or Loss for every output; a list (one per
                output) or a dict by output name.
            metrics: a list (for every output), a list of lists, or a dict by
                output name; names such as ``'accuracy'`` take the binary,
                categorical or sparse form the loss and shapes call for.
            loss_weights: a list or dict of the outputs' loss factors.
            weighted_metrics, run_eagerly, steps_per_execution, jit_compile:
                accepted for tf_keras compatibility (ignored: symkb always
                compiles one train step).
            target: where the train step runs: ``'auto'``, ``'cpu'``,
                ``'cuda'`` or ``'interpreter'`` (the numpy oracle).

        Raises:
            ValueError: an unknown optimizer, loss or metric name (nothing changes).
        """
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {sorted(kwargs)}")
        from .. import losses, optimizers
        optimizer = optimizers.get(optimizer)  # unknown names fail here, before any change
        for identifier in _leaves(loss):
            losses.get(identifier)
        self._training = None
        self._compile_args = (optimizer, loss, metrics, loss_weights, target)
        self.optimizer = optimizer
        self.loss = loss
        self.stop_training = False
        if getattr(self, "built", True):
            fitting.setup_of(self)  # a built model resolves its outputs' losses now

    @property
    def metrics_names(self) -> list:
        """``['loss', ...]``: the names of ``evaluate``'s results, in order."""
        setup = self._training
        if setup is None or setup.metrics is None:
            return []
        names = self.output_names
        losses = ["loss"] + ([f"{n}_loss" for n in names] if len(names) > 1 else [])
        return losses + [name for _, _, name in setup.metrics]

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Train the model on arrays (tf_keras's ``fit``); returns a ``History``.

        Every batch is one call of the compiled train step, which updates the
        weights in place; the last, smaller batch reuses it. ``shuffle``
        permutes the rows each epoch (``False`` keeps their order). The logs
        hold ``loss`` (the epoch's mean, weighted by batch size), each
        output's ``<name>_loss`` for several outputs, the metrics, and their
        ``val_`` forms with validation data.
        """
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {sorted(kwargs)}")
        self._ensure_built(x)
        fitting.setup_of(self)
        batch_size = 32 if batch_size is None else fitting.positive_int(batch_size,
                                                                        "batch_size", "fit")
        epochs = int(epochs)
        verbose = 1 if verbose == "auto" else int(verbose)
        from ..scale.arrays import has_dask_arrays
        lazy = has_dask_arrays(x) or has_dask_arrays(y)
        if lazy:  # streamed a chunk at a time (symkb/models/streaming.py)
            if validation_split:
                raise ValueError("fit: `validation_split` would read the dask arrays whole; "
                                 "give `validation_data` instead")
            data = streaming.chunked_data(self, x, y, sample_weight, class_weight, "fit")
        else:
            data = fitting.prepare(self, x, y, sample_weight, class_weight, "fit")
        val = None
        if validation_data is not None:
            vx, vy = validation_data[0], validation_data[1]
            vw = validation_data[2] if len(validation_data) > 2 else None
            val = (streaming.chunked_data if has_dask_arrays(vx) or has_dask_arrays(vy)
                   else fitting.prepare)(self, vx, vy, vw, None, "fit (validation_data)")
        elif validation_split:
            data, val = fitting.split_validation(data, float(validation_split))
        steps = None if steps_per_epoch is None else fitting.positive_int(
            steps_per_epoch, "steps_per_epoch", "fit")
        fitting.ensure_steps(self, data[1])
        return self._fit_loop(data, val, batch_size, epochs, verbose, callbacks, shuffle,
                              initial_epoch, steps, validation_batch_size or batch_size,
                              validation_steps)

    def _fit_loop(self, data, val, batch_size, epochs, verbose, callbacks, shuffle,
                  initial_epoch, steps, val_batch, val_steps):
        from ..callbacks import CallbackList
        n = data[0][0].shape[0]
        per_epoch = math_ceil(n, batch_size) if steps is None else min(steps,
                                                                        math_ceil(n, batch_size))
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                 model=self, verbose=verbose, epochs=epochs, steps=per_epoch)
        self.stop_training = False
        setup = self._training
        callbacks.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            order = _epoch_order(data, n, shuffle)
            logs = fitting.run_batches(self, setup.train_fn, data, batch_size, order, callbacks,
                                       ("on_train_batch_begin", "on_train_batch_end"), steps)
            epoch_logs = dict(logs)
            if val is not None:
                val_logs = fitting.run_batches(self, setup.test_fn, val, val_batch,
                                               np.arange(val[0][0].shape[0]), None,
                                               ("on_test_batch_begin", "on_test_batch_end"),
                                               val_steps)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        callbacks.on_train_end(logs)
        return callbacks.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """The loss and metrics on arrays (tf_keras's ``evaluate``), no weight changes.

        Returns:
            The loss alone (no metrics, one output), else a list in
            ``metrics_names`` order, or a dict with ``return_dict=True``.
        """
        if kwargs:
            raise TypeError(f"evaluate: unexpected keyword argument(s) {sorted(kwargs)}")
        fitting.setup_of(self)
        batch_size = 32 if batch_size is None else fitting.positive_int(
            batch_size, "batch_size", "evaluate")
        from ..scale.arrays import has_dask_arrays
        if has_dask_arrays(x) or has_dask_arrays(y):  # per-chunk states, merged exactly
            from .scaled import evaluate as evaluate_dask
            return evaluate_dask(self, x, y, batch_size, sample_weight, return_dict)
        self._ensure_built(x)
        data = fitting.prepare(self, x, y, sample_weight, None, "evaluate")
        fitting.ensure_steps(self, data[1])
        from ..callbacks import CallbackList
        verbose = 1 if verbose == "auto" else int(verbose)
        steps_run = -(-data[0][0].shape[0] // batch_size) if steps is None else steps
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=steps_run)
        cbs.on_test_begin()
        logs = fitting.run_batches(self, self._training.test_fn, data, batch_size,
                                   np.arange(data[0][0].shape[0]), cbs,
                                   ("on_test_batch_begin", "on_test_batch_end"), steps)
        cbs.on_test_end(logs)
        return fitting.results(logs, return_dict)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One train step on all of ``x`` (tf_keras's ``train_on_batch``)."""
        return self._on_batch("train_on_batch", x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        """The loss and metrics of one batch, no weight changes."""
        return self._on_batch("test_on_batch", x, y, sample_weight, None, return_dict)

    def _on_batch(self, where, x, y, sample_weight, class_weight, return_dict):
        self._ensure_built(x)
        data = fitting.prepare(self, x, y, sample_weight, class_weight, where)
        fitting.ensure_steps(self, data[1])
        setup = self._training
        fn = setup.train_fn if where == "train_on_batch" else setup.test_fn
        n = data[0][0].shape[0]
        logs = fitting.run_batches(self, fn, data, n, np.arange(n), None, ("", ""))
        return fitting.results(logs, return_dict)


def _leaves(value) -> list:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def math_ceil(n, d) -> int:
    return -(-n // d)


def _epoch_order(data, n: int, shuffle: bool) -> np.ndarray:
    """The rows of one epoch: a permutation (``shuffle``) or in order; chunk by
    chunk for streamed data (``streaming.epoch_order``)."""
    first = data[0][0]
    if isinstance(first, streaming.ChunkedRows):
        order = streaming.epoch_order(first.array.chunks[0], shuffle)
        for a in data[0] + data[1]:
            a.plan(order)
        return order
    return np.random.permutation(n) if shuffle else np.arange(n)
