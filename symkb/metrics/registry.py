"""The metric names symkb knows: classes and functions by name, and
``get``/``serialize``/``deserialize`` over them."""
from __future__ import annotations

from .. import losses as L
from . import functions as F
from .auc import AUC
from .base import Mean, Metric, Sum
from .classes import (Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy,
                      CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge,
                      KLDivergence, LogCoshError, MeanAbsoluteError,
                      MeanAbsolutePercentageError, MeanSquaredError,
                      MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                      SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
                      SparseTopKCategoricalAccuracy, SquaredHinge, TopKCategoricalAccuracy)
from ..utils.registry import Registry
from .confusion import Precision, Recall

FUNCTIONS = {
    "accuracy": F.accuracy, "acc": F.acc, "ACC": F.ACC,
    "binary_accuracy": F.binary_accuracy, "categorical_accuracy": F.categorical_accuracy,
    "sparse_categorical_accuracy": F.sparse_categorical_accuracy,
    "top_k_categorical_accuracy": F.top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": F.sparse_top_k_categorical_accuracy,
    "cosine_similarity": F.cosine_similarity,
    **{name: fn for name, fn in L.FUNCTIONS.items() if name != "cosine_similarity"},
}

CLASSES = {cls.__name__: cls for cls in (
    AUC, Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy,
    CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge, KLDivergence,
    LogCoshError, Mean, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, Precision, Recall, RootMeanSquaredError,
    SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
    SquaredHinge, Sum, TopKCategoricalAccuracy)}


REGISTRY = Registry("metric", "metrics", Metric, CLASSES, FUNCTIONS)
serialize = REGISTRY.serialize
deserialize = REGISTRY.deserialize
get = REGISTRY.get
