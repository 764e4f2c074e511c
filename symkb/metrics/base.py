"""Stateful metrics computed on numpy values: the base class, the weighted
reductions (``Mean``, ``Sum``) and ``MeanMetricWrapper``.

Metrics accumulate in their ``dtype`` (float32 by default, as tf_keras's
metric variables do), so their results match tf_keras's to float32 rounding.
``sample_weight`` follows tf_keras: its rank is matched to the values' (one
axis squeezed or added), then it broadcasts where each axis is 1 or equal;
otherwise the values are averaged down to the weights' rank.
"""
from __future__ import annotations

import re

import numpy as np

from ..backend.config import floatx
from ..ir import KerasTensor


def snake_case(name: str) -> str:
    """``MeanSquaredError`` -> ``mean_squared_error`` (tf_keras's default names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def match_rank(values, weights, owner: str):
    """``weights`` with one axis squeezed or added to match ``values``'s rank."""
    if weights.ndim == 0:
        return weights
    if weights.ndim - values.ndim == 1:
        if weights.shape[-1] != 1:
            raise ValueError(f"{owner}: cannot match `sample_weight` of shape {weights.shape} "
                             f"to values of shape {values.shape}")
        return weights[..., 0]
    if values.ndim - weights.ndim == 1:
        return weights[..., None]
    return weights


def remove_squeezable(y_true, y_pred):
    """Drop a size-1 last axis from whichever of ``y_true``/``y_pred`` has one more axis,
    unless ``y_pred`` has the extra one and its size is not 1 (sparse targets)."""
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        return y_true, y_pred[..., 0]
    if diff == -1 and y_true.shape[-1] == 1:
        return y_true[..., 0], y_pred
    return y_true, y_pred


def numpy_value(value, owner: str, what: str):
    """``value`` as a numpy array; a KerasTensor (no value yet) is a TypeError."""
    if isinstance(value, KerasTensor):
        raise TypeError(f"{owner}: metrics compute on numpy values; `{what}` is the "
                        f"symbolic {value!r} (run its graph first)")
    return np.asarray(value)


def _broadcastable(weights, values) -> bool:
    return weights.ndim == 0 or (weights.ndim == values.ndim and all(
        w in (1, v) for w, v in zip(weights.shape, values.shape)))


class Metric:
    """The base of stateful metrics.

    Subclasses define ``update_state``, ``result`` and ``reset_state``;
    calling a metric updates it and returns its result, as in tf_keras.

    Args:
        name: the metric's name (the class's snake-case name by default).
        dtype: the dtype its state accumulates in (floatx by default).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = np.dtype(dtype or floatx()).name

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def update_state(self, *args, **kwargs):
        """Accumulate statistics from one batch (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        """The metric's value from the state so far (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Forget the state (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state")

    def reset_states(self):
        """tf_keras 1.x's name of :meth:`reset_state`."""
        self.reset_state()

    def get_config(self) -> dict:
        """The constructor arguments (``from_config`` rebuilds the metric)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """A metric from :meth:`get_config`'s dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()!r}>"


class Reduce(Metric):
    """``total`` and ``count`` of weighted values; ``reduction`` is ``'sum'`` or
    ``'weighted_mean'``."""

    def __init__(self, reduction, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.reset_state()

    def reset_state(self):
        self.total = np.zeros((), self.dtype)
        self.count = np.zeros((), self.dtype)

    def update_state(self, values, sample_weight=None):
        """Add ``values`` (weighted by ``sample_weight``) to the state."""
        values = numpy_value(values, self.name, "values").astype(self.dtype)
        weights = None
        if sample_weight is not None:
            weights = numpy_value(sample_weight, self.name, "sample_weight")
            weights = match_rank(values, weights.astype(self.dtype), self.name)
            if _broadcastable(weights, values):
                weights = np.broadcast_to(weights, values.shape)
            else:
                axes = tuple(range(weights.ndim, values.ndim))
                reduce = np.sum if self.reduction == "sum" else np.mean
                values = reduce(values, axis=axes).astype(self.dtype)
            values = values * weights
        self.total = (self.total + np.sum(values, dtype=self.dtype)).astype(self.dtype)
        if self.reduction != "sum":
            count = values.size if weights is None else np.sum(weights, dtype=self.dtype)
            self.count = (self.count + np.asarray(count, self.dtype)).astype(self.dtype)

    def result(self):
        if self.reduction == "sum":
            return self.total.copy()
        return (self.total / self.count).astype(self.dtype) if self.count \
            else np.zeros((), self.dtype)


class Sum(Reduce):
    """The weighted sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__("sum", name=name, dtype=dtype)

    def get_config(self):
        return Metric.get_config(self)


class Mean(Reduce):
    """The weighted mean of all values seen (``sum(w * v) / sum(w)``)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__("weighted_mean", name=name, dtype=dtype)

    def get_config(self):
        return Metric.get_config(self)


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all batches.

    ``y_true`` and ``y_pred`` are cast to the metric's dtype and a squeezable
    last axis is dropped first, as tf_keras does.

    Args:
        fn: the per-sample function.
        name: the metric's name.
        dtype: the accumulation dtype.
        **kwargs: passed to ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper",
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = numpy_value(y_true, self.name, "y_true").astype(self.dtype)
        y_pred = numpy_value(y_pred, self.name, "y_pred").astype(self.dtype)
        y_true, y_pred = remove_squeezable(y_true, y_pred)
        matches = np.asarray(self._fn(y_true, y_pred, **self._fn_kwargs))
        super().update_state(matches, sample_weight=sample_weight)

    def get_config(self):
        return {**Metric.get_config(self), **self._fn_kwargs}
