"""``fit``, ``evaluate``, ``train_on_batch`` and ``test_on_batch`` (tf_keras semantics).

The data are checked whole before the first step (input and target counts,
row counts, target shapes, sample and class weights), so bad input raises
an error naming what was wrong and leaves the weights as they were. Each
batch is one call of the compiled train step (``training.py``); the host
only slices the batch rows, keeps the running loss means (weighted by batch
size, as tf_keras's ``Mean`` of the loss) and updates the metrics on the
step's outputs.
"""
from __future__ import annotations

import math

import numpy as np

from .predicting import input_arrays
from .training import check_targets


def setup_of(model):
    """The model's compile setup.

    Raises:
        RuntimeError: the model was not compiled (tf_keras's message).
    """
    setup = getattr(model, "_training", None)
    args = getattr(model, "_compile_args", None)
    if setup is None and args is not None:
        from .training import CompiledSetup
        from .. import optimizers
        setup = CompiledSetup(model, *args)
        setup.config["optimizer"] = optimizers.serialize(setup.optimizer)
        model._training = setup
    if setup is None:
        raise RuntimeError("You must compile your model before training/testing. Use "
                           "`model.compile(optimizer, loss)`.")
    return setup


def target_arrays(model, y, where) -> list:
    """One float array per output from ``y`` (an array, a list or a dict by output name)."""
    names = model.output_names
    if y is None:
        raise ValueError(f"{where}: `y` (the targets) is required to train or evaluate "
                         f"model {model.name!r}")
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(f"{where}: no target for output(s) {missing}; `y` has keys "
                             f"{sorted(y)}")
        y = [y[n] for n in names]
    elif len(names) == 1 and not (isinstance(y, (list, tuple)) and len(y) == 1
                                  and np.ndim(y[0]) > 0 and not np.isscalar(y[0])):
        y = [y]
    if not isinstance(y, (list, tuple)) or len(y) != len(names):
        got = len(y) if isinstance(y, (list, tuple)) else 1
        raise ValueError(f"{where}: model {model.name!r} has {len(names)} outputs {names}; "
                         f"received {got} target array(s)")
    arrays = [np.asarray(a, dtype=out.dtype) for a, out in zip(y, model.outputs)]
    # tf_keras's fit expands a 1-D target to a column (``expand_1d``)
    return [a[:, None] if a.ndim == 1 else a for a in arrays]


def weight_arrays(model, ys, sample_weight, class_weight, where) -> list:
    """One sample-weight vector per output (ones where none is given)."""
    names = model.output_names
    n = ys[0].shape[0]
    if sample_weight is None:
        given = [None] * len(names)
    elif isinstance(sample_weight, dict):
        given = [sample_weight.get(k) for k in names]
    elif isinstance(sample_weight, (list, tuple)) and len(names) > 1:
        given = list(sample_weight)
    else:
        given = [sample_weight] * len(names)
    out = []
    for k, w in enumerate(given):
        w = np.ones(n, ys[k].dtype) if w is None else np.asarray(w, ys[k].dtype)
        if w.shape != (n,):
            raise ValueError(f"{where}: `sample_weight` for output {names[k]!r} has shape "
                             f"{w.shape}; expected ({n},), one weight per sample")
        if class_weight is not None:
            w = w * _class_weights(ys[k], class_weight, where)
        out.append(w)
    return out


def _class_weights(y, class_weight, where) -> np.ndarray:
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else \
        np.round(y.reshape(len(y), -1)[:, 0]).astype(int)
    missing = sorted(set(int(c) for c in np.unique(labels)) - set(int(c) for c in class_weight))
    if missing:
        raise ValueError(f"{where}: `class_weight` has no weight for class(es) {missing}; "
                         f"it gives {sorted(class_weight)}")
    return np.array([class_weight[int(c)] for c in labels], dtype=y.dtype)


def prepare(model, x, y, sample_weight, class_weight, where):
    """``(inputs, targets, weights)`` checked against the model and each other."""
    xs = input_arrays(model, x)
    ys = target_arrays(model, y, where)
    x_sizes = [a.shape[0] for a in xs]
    y_sizes = [a.shape[0] if a.ndim else 0 for a in ys]
    if len(set(x_sizes + y_sizes)) > 1:
        raise ValueError(f"{where}: data cardinality is ambiguous: x sizes: "
                         f"{', '.join(map(str, x_sizes))}; y sizes: "
                         f"{', '.join(map(str, y_sizes))}. Make sure all arrays contain the "
                         "same number of samples.")
    setup = setup_of(model)
    check_targets(model, ys, setup)
    ws = weight_arrays(model, ys, sample_weight, class_weight, where)
    return xs, ys, ws


def ensure_steps(model, ys) -> None:
    """Build the step functions for targets shaped like ``ys`` (once per shape)."""
    setup = setup_of(model)
    shapes = [tuple(y.shape[1:]) for y in ys]
    if setup.train_fn is None or setup.y_shapes != shapes:
        setup.step_functions(ys)
        setup.build_metrics([(None,) + s for s in shapes])


class Tracker:
    """The running logs of one epoch or evaluation: loss means and metrics."""

    def __init__(self, model):
        self.setup = setup_of(model)
        names = model.output_names
        self.loss_names = ["loss"] + ([f"{n}_loss" for n in names] if len(names) > 1 else [])
        self.sums = [0.0] * len(self.loss_names)
        self.count = 0
        for _, metric, _ in self.setup.metrics:
            metric.reset_state()

    def update(self, outs, ys, rows) -> None:
        setup = self.setup
        sums = self.sums
        for i in range(setup.n_losses):
            sums[i] += float(outs[i]) * rows
        self.count += rows
        if setup.metrics:
            preds = outs[setup.n_losses:]
            for k, metric, _ in setup.metrics:
                mask = preds[setup.mask_of[k]] if k in setup.mask_of else None
                metric.update_state(ys[k], preds[k], sample_weight=mask)

    def logs(self) -> dict:
        count = max(self.count, 1)
        out = {n: float(s / count) for n, s in zip(self.loss_names, self.sums)}
        for _, metric, name in self.setup.metrics:
            out[name] = float(metric.result())
        return out


def _overridden(callbacks, hooks) -> bool:
    """Whether a callback defines one of ``hooks`` (tf_keras skips the batch hooks,
    and the per-batch logs they take, when none does)."""
    from ..callbacks import Callback
    names = [h for h in hooks if h]
    if any(h.startswith("on_train") for h in names):  # their default calls these two
        names += ["on_batch_begin", "on_batch_end"]

    def defines(cb, name):
        method = getattr(cb, name, None)
        return getattr(method, "__func__", method) is not getattr(Callback, name, None)
    return any(defines(cb, h) for cb in callbacks for h in names)


def run_batches(model, fn, data, batch_size, order, callbacks, hooks, steps=None) -> dict:
    """Run ``fn`` on each batch of ``order``; returns the final logs."""
    xs, ys, ws = data
    tracker = Tracker(model)
    batches = math.ceil(len(order) / batch_size)
    if steps is not None:
        batches = min(batches, steps)
    begin, end = hooks
    calls = callbacks is not None and _overridden(callbacks, hooks)
    training = begin.startswith("on_train")
    in_order = len(order) > 0 and bool(np.all(np.diff(order) == 1))
    for b in range(batches):
        lo, hi = b * batch_size, min((b + 1) * batch_size, len(order))
        if calls:
            getattr(callbacks, begin)(b)
        part = slice(order[lo], order[hi - 1] + 1) if in_order else order[lo:hi]
        batch_y = [y[part] for y in ys]
        outs = fn([a[part] for a in xs] + batch_y + [w[part] for w in ws])
        tracker.update(outs, batch_y, hi - lo)
        if calls:
            getattr(callbacks, end)(b, tracker.logs())
        if training and model.stop_training:
            break
    return tracker.logs()


def split_validation(data, fraction):
    """tf_keras's ``validation_split``: the last ``fraction`` of the rows, unshuffled."""
    if not 0 < fraction < 1:
        raise ValueError(f"fit: `validation_split` must be in (0, 1), received {fraction}")
    n = data[0][0].shape[0]
    at = int(math.floor(n * (1.0 - fraction)))
    if at == 0 or at == n:
        raise ValueError(f"fit: validation_split={fraction} leaves no rows for training or "
                         f"validation out of {n} samples")
    return tuple([a[:at] for a in part] for part in data), \
        tuple([a[at:] for a in part] for part in data)


def positive_int(value, name, where):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{where}: `{name}` must be a positive integer, received {value!r}")
    return int(value)


def results(logs, return_dict):
    """``evaluate``'s answer: the loss alone, a list in ``metrics_names`` order, or a dict."""
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
