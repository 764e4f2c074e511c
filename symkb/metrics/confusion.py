"""Metrics from confusion-matrix counts at thresholds: Precision, Recall, AUC.

Counts accumulate in float32 per threshold, exactly as tf_keras counts them:
a prediction is positive at threshold ``t`` when it is ``> t``; labels are
booleans (non-zero is positive); ``sample_weight`` weighs each entry after
it is broadcast to ``y_pred``'s shape; ``top_k`` keeps only each row's ``k``
largest predictions (the others count as -1e10); ``class_id`` looks at one
column. AUC's evenly spaced thresholds bucket the predictions instead
(``ceil(p * (n - 1)) - 1``), as tf_keras's fast path does.
"""
from __future__ import annotations

import numpy as np

from .base import Metric, match_rank, numpy_value, remove_squeezable

EPSILON = 1e-7
NEG_INF = -1e10


def filter_top_k(x, k):
    """``x`` with all but each row's ``k`` largest (first on ties) set to -1e10."""
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(x.shape, bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return np.where(keep, x, np.float32(NEG_INF)).astype(x.dtype)


def prepare(y_true, y_pred, sample_weight, top_k=None, class_id=None, owner="metric"):
    """Labels as booleans, predictions as float32, weights broadcast to them."""
    y_pred = numpy_value(y_pred, owner, "y_pred").astype(np.float32)
    y_true = numpy_value(y_true, owner, "y_true").astype(np.float32)
    y_true, y_pred = remove_squeezable(y_true, y_pred)
    if np.any(y_pred < 0) or np.any(y_pred > 1):
        raise ValueError(f"{owner}: predictions must be in [0, 1]; received values from "
                         f"{float(np.min(y_pred))} to {float(np.max(y_pred))}")
    weights = None
    if sample_weight is not None:
        weights = match_rank(y_pred, np.asarray(sample_weight, np.float32), owner)
        weights = np.broadcast_to(weights, y_pred.shape)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, int(top_k))
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        weights = None if weights is None else weights[..., class_id]
    return y_true, y_pred, weights


def counts_at(y_true, y_pred, weights, thresholds):
    """``(tp, fp, fn, tn)`` float32 arrays, one entry per threshold."""
    label = (y_true != 0).reshape(1, -1)
    pred = y_pred.reshape(1, -1) > np.asarray(thresholds, np.float32).reshape(-1, 1)
    w = np.ones(label.shape, np.float32) if weights is None else \
        np.asarray(weights, np.float32).reshape(1, -1)

    def total(cond):
        return np.sum(np.where(cond, w, np.float32(0)), axis=1, dtype=np.float32)
    return total(label & pred), total(~label & pred), total(label & ~pred), \
        total(~label & ~pred)


def bucket_counts(y_true, y_pred, weights, num_thresholds):
    """``(tp, fp, fn, tn)`` for evenly spaced thresholds (with the epsilon ends)."""
    w = np.float32(1.0) if weights is None else np.asarray(weights, np.float32).reshape(-1)
    true = (y_true.reshape(-1) * w).astype(np.float32) * np.ones_like(y_pred.reshape(-1))
    false = ((np.float32(1) - y_true.reshape(-1)) * w).astype(np.float32) * \
        np.ones_like(y_pred.reshape(-1))
    index = np.ceil(y_pred.reshape(-1) * np.float32(num_thresholds - 1)) - 1
    index = np.maximum(index, 0).astype(np.int64)
    tp_bucket = np.bincount(index, true, num_thresholds).astype(np.float32)
    fp_bucket = np.bincount(index, false, num_thresholds).astype(np.float32)
    tp = np.cumsum(tp_bucket[::-1], dtype=np.float32)[::-1]
    fp = np.cumsum(fp_bucket[::-1], dtype=np.float32)[::-1]
    return tp, fp, np.sum(true, dtype=np.float32) - tp, np.sum(false, dtype=np.float32) - fp


def div_no_nan(a, b):
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return np.where(b == 0, np.float32(0), a / np.where(b == 0, np.float32(1), b)) \
        .astype(np.float32)


class _Thresholded(Metric):
    """Precision or Recall: counts at ``thresholds`` (0.5 by default)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = NEG_INF if top_k is not None else 0.5
        values = default if thresholds is None else thresholds
        self._single = np.ndim(values) == 0
        self.thresholds = np.atleast_1d(np.asarray(values, np.float32))
        if thresholds is not None and (np.any(self.thresholds < 0) or
                                       np.any(self.thresholds > 1)):
            raise ValueError(f"{self.name}: `thresholds` must be in [0, 1]; received "
                             f"{thresholds!r}")
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n, np.float32)
        self.false_positives = np.zeros(n, np.float32)
        self.false_negatives = np.zeros(n, np.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, weights = prepare(y_true, y_pred, sample_weight, self.top_k,
                                          self.class_id, self.name)
        tp, fp, fn, _ = counts_at(y_true, y_pred, weights, self.thresholds)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def _value(self, wrong):
        value = div_no_nan(self.true_positives, self.true_positives + wrong)
        return value[0] if self._single else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_Thresholded):
    """``tp / (tp + fp)`` at each threshold (a list of thresholds gives a list)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        return self._value(self.false_positives)


class Recall(_Thresholded):
    """``tp / (tp + fn)`` at each threshold (a list of thresholds gives a list)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        return self._value(self.false_negatives)
