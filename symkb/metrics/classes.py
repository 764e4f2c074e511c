"""The metric classes that average a per-sample function (tf_keras's names,
defaults and configs)."""
from __future__ import annotations

import numpy as np

from .. import losses as L
from . import functions as F
from .base import Mean, MeanMetricWrapper, numpy_value, remove_squeezable


def _wrapper(class_name, fn, default_name, doc, **options):
    """A MeanMetricWrapper subclass taking ``options`` as keyword arguments."""
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        if len(args) > len(options):
            raise TypeError(f"{class_name} takes at most {len(options)} positional "
                            f"arguments ({', '.join(options)}); received {len(args)}")
        values = dict(options)
        values.update(zip(options, args))
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            raise TypeError(f"{class_name}: unexpected keyword arguments {unknown}; "
                            f"it takes {sorted(options) + ['dtype', 'name']}")
        values.update(kwargs)
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **values)

    def from_config(cls, config):
        return cls(**config)

    return type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__, "from_config": classmethod(from_config), "__doc__": doc,
        "__module__": __name__})


Accuracy = _wrapper("Accuracy", F.accuracy, "accuracy",
                    "How often ``y_pred`` equals ``y_true`` elementwise.")
BinaryAccuracy = _wrapper("BinaryAccuracy", F.binary_accuracy, "binary_accuracy",
                          "How often ``y_pred > threshold`` matches binary labels.",
                          threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", F.categorical_accuracy,
                               "categorical_accuracy",
                               "How often the argmax of ``y_pred`` is the one-hot label's.")
SparseCategoricalAccuracy = _wrapper(
    "SparseCategoricalAccuracy", F.sparse_categorical_accuracy, "sparse_categorical_accuracy",
    "How often the argmax of ``y_pred`` is the integer label.")
TopKCategoricalAccuracy = _wrapper(
    "TopKCategoricalAccuracy", F.top_k_categorical_accuracy, "top_k_categorical_accuracy",
    "How often the one-hot label is among the ``k`` largest predictions.", k=5)
SparseTopKCategoricalAccuracy = _wrapper(
    "SparseTopKCategoricalAccuracy", F.sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    "How often the integer label is among the ``k`` largest predictions.", k=5)
MeanSquaredError = _wrapper("MeanSquaredError", L.mean_squared_error, "mean_squared_error",
                            "The mean squared error.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", L.mean_absolute_error,
                             "mean_absolute_error", "The mean absolute error.")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", L.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "The mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", L.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "The mean squared logarithmic error.")
Hinge = _wrapper("Hinge", L.hinge, "hinge", "The hinge loss as a metric.")
SquaredHinge = _wrapper("SquaredHinge", L.squared_hinge, "squared_hinge",
                        "The squared hinge loss as a metric.")
CategoricalHinge = _wrapper("CategoricalHinge", L.categorical_hinge, "categorical_hinge",
                            "The categorical hinge loss as a metric.")
KLDivergence = _wrapper("KLDivergence", L.kl_divergence, "kullback_leibler_divergence",
                        "The Kullback-Leibler divergence as a metric.")
Poisson = _wrapper("Poisson", L.poisson, "poisson", "The Poisson loss as a metric.")
LogCoshError = _wrapper("LogCoshError", L.log_cosh, "logcosh",
                        "The mean of ``log(cosh(error))``.")
CosineSimilarity = _wrapper("CosineSimilarity", F.cosine_similarity, "cosine_similarity",
                            "The cosine similarity along ``axis``.", axis=-1)
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy", L.binary_crossentropy, "binary_crossentropy",
    "Binary crossentropy as a metric.", from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy", L.categorical_crossentropy, "categorical_crossentropy",
    "Categorical crossentropy as a metric.", from_logits=False, label_smoothing=0.0,
    axis=-1)
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy", L.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", "Sparse categorical crossentropy as a metric.",
    from_logits=False, ignore_class=None, axis=-1)


class RootMeanSquaredError(Mean):
    """The square root of the weighted mean of squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = numpy_value(y_true, self.name, "y_true").astype(self.dtype)
        y_pred = numpy_value(y_pred, self.name, "y_pred").astype(self.dtype)
        y_true, y_pred = remove_squeezable(y_true, y_pred)
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.sqrt(super().result()).astype(self.dtype)
