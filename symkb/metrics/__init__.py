"""Stateful metrics with tf_keras's names, semantics and configs, computed on
numpy values (``update_state``, ``result``, ``reset_state``).

    from symkb import metrics
    m = metrics.AUC(curve="PR")
    m.update_state(y_true, y_pred, sample_weight=w)
    m.result()
    metrics.resolve("accuracy", loss="sparse_categorical_crossentropy",
                    output_shape=(None, 10))   # a SparseCategoricalAccuracy-like wrapper
"""
from __future__ import annotations

from .auc import AUC  # noqa: F401
from .base import Mean, MeanMetricWrapper, Metric, Reduce, Sum  # noqa: F401
from .classes import (Accuracy, BinaryAccuracy, BinaryCrossentropy,  # noqa: F401
                      CategoricalAccuracy, CategoricalCrossentropy, CategoricalHinge,
                      CosineSimilarity, Hinge, KLDivergence, LogCoshError,
                      MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                      MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                      SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
                      SparseTopKCategoricalAccuracy, SquaredHinge, TopKCategoricalAccuracy)
from .confusion import Precision, Recall  # noqa: F401
from .functions import (acc, accuracy, binary_accuracy,  # noqa: F401
                        categorical_accuracy, cosine_similarity,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                        top_k_categorical_accuracy)
from .registry import CLASSES, FUNCTIONS, deserialize, get, serialize  # noqa: F401
from .resolve import GENERIC, resolve  # noqa: F401
