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


def _valid_names() -> str:
    return ", ".join(sorted(FUNCTIONS) + sorted(CLASSES))


def serialize(metric):
    """A metric as JSON-able data: ``{'class_name', 'config'}`` or a function's name."""
    if isinstance(metric, Metric) and type(metric).__name__ in CLASSES:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    for name, fn in FUNCTIONS.items():
        if fn is metric:
            return fn.__name__ if FUNCTIONS.get(fn.__name__) is fn else name
    raise ValueError(f"metrics.serialize: cannot serialize {metric!r}; expected a built-in "
                     f"Metric object or one of the functions {sorted(FUNCTIONS)}")


def deserialize(config, custom_objects=None):
    """The metric :func:`serialize` describes (a name or a ``class_name``/``config`` dict)."""
    custom = dict(custom_objects or {})
    if isinstance(config, dict):
        name = config.get("class_name")
        cls = custom.get(name) or CLASSES.get(name)
        if cls is None:
            raise ValueError(f"metrics.deserialize: unknown metric class {name!r} in "
                             f"{config!r}; known classes: {', '.join(sorted(CLASSES))}")
        return cls.from_config(dict(config.get("config") or {}))
    if isinstance(config, str):
        if config in custom:
            found = custom[config]
            return found() if isinstance(found, type) else found
        if config in FUNCTIONS:
            return FUNCTIONS[config]
        if config in CLASSES:
            return CLASSES[config]()
    raise ValueError(f"Unknown metric {config!r}; expected one of: {_valid_names()}")


def get(identifier):
    """A metric function or object from a name, function, Metric or config dict.

    Raises:
        ValueError: for None, an unknown name or anything else, naming what
            was received and listing the known names.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(f"Could not interpret metric identifier {identifier!r}; expected a "
                     f"metric name, a function, a Metric object or a config dict. Known "
                     f"names: {_valid_names()}")

