"""AUC: the area under the ROC or precision-recall curve, approximated from
confusion counts at ``num_thresholds`` thresholds as tf_keras does.

The thresholds are ``i / (num_thresholds - 1)`` with the ends moved to
``-epsilon`` and ``1 + epsilon`` (or the given ``thresholds`` between those
ends). ``summation_method='interpolation'`` takes trapezoids for ROC and
Davis and Goadrich's interpolation of precision for PR; ``'minoring'`` and
``'majoring'`` take the lower or upper Riemann sums.
"""
from __future__ import annotations

import numpy as np

from .base import Metric, numpy_value
from .confusion import EPSILON, bucket_counts, counts_at, div_no_nan, prepare

CURVES = ("ROC", "PR")
SUMMATIONS = ("interpolation", "minoring", "majoring")


def _choice(value, allowed, what, owner):
    text = str(value)
    for option in allowed:
        if text.lower() == option.lower():
            return option
    raise ValueError(f"{owner}: unknown `{what}` {value!r}; expected one of {list(allowed)}")


def interpolate_pr_auc(tp, fp, fn):
    """The PR AUC with precision interpolated between thresholds (Davis & Goadrich)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = div_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, div_no_nan(p[:-1], np.maximum(p[1:], 0)), np.float32(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        increment = div_no_nan(slope * (dtp + intercept * np.log(ratio).astype(np.float32)),
                               np.maximum(tp[1:] + fn[1:], 0))
    return np.sum(increment, dtype=np.float32)


class AUC(Metric):
    """The area under the ROC or PR curve (binary labels, predictions in [0, 1]).

    Args:
        num_thresholds: the number of thresholds (> 1) when ``thresholds`` is None.
        curve: ``'ROC'`` or ``'PR'``.
        summation_method: ``'interpolation'``, ``'minoring'`` or ``'majoring'``.
        name: the metric's name.
        dtype: the accumulation dtype.
        thresholds: thresholds in [0, 1] to use instead of evenly spaced ones.
        from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name="auc", dtype=None, thresholds=None, multi_label=False,
                 num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        if multi_label or label_weights is not None:
            raise ValueError(f"{self.name}: `multi_label` and `label_weights` are not "
                             "supported; received multi_label={multi_label!r}")
        self.curve = _choice(curve, CURVES, "curve", self.name)
        self.summation_method = _choice(summation_method, SUMMATIONS, "summation_method",
                                        self.name)
        self.from_logits, self.num_labels = bool(from_logits), num_labels
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if int(num_thresholds) <= 1:
                raise ValueError(f"{self.name}: `num_thresholds` must be > 1; received "
                                 f"{num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            n = self.num_thresholds
            inner = [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)]
        self._init_thresholds = None if thresholds is None else inner
        self._evenly = thresholds is None or np.allclose(
            inner, np.arange(1, len(inner) + 1) / (len(inner) + 1))
        self.thresholds = np.asarray([0.0 - EPSILON] + inner + [1.0 + EPSILON], np.float32)
        self.reset_state()

    def reset_state(self):
        n = self.num_thresholds
        self.true_positives = np.zeros(n, np.float32)
        self.false_positives = np.zeros(n, np.float32)
        self.true_negatives = np.zeros(n, np.float32)
        self.false_negatives = np.zeros(n, np.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = numpy_value(y_pred, self.name, "y_pred").astype(np.float32)
            y_pred = (1.0 / (1.0 + np.exp(-y_pred))).astype(np.float32)
        y_true, y_pred, weights = prepare(y_true, y_pred, sample_weight, owner=self.name)
        if self._evenly:
            tp, fp, fn, tn = bucket_counts(y_true, y_pred, weights, self.num_thresholds)
        else:
            tp, fp, fn, tn = counts_at(y_true, y_pred, weights, self.thresholds)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn
        self.true_negatives += tn

    def result(self):
        tp, fp = self.true_positives, self.false_positives
        fn, tn = self.false_negatives, self.true_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return interpolate_pr_auc(tp, fp, fn)
        recall = div_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = div_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, div_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / np.float32(2)
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return np.sum((x[:-1] - x[1:]) * heights, dtype=np.float32)

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": False, "num_labels": self.num_labels,
                  "label_weights": None, "from_logits": self.from_logits}
        if self._init_thresholds is not None:
            config["thresholds"] = list(self._init_thresholds)
        return config
