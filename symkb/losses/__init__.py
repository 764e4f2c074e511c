"""Losses with tf_keras's names, formulas, reductions and configs.

    from symkb import losses
    losses.get("mse")                      # the function mean_squared_error
    losses.get("CategoricalCrossentropy")  # an instance
    loss = losses.BinaryCrossentropy(from_logits=True)
    loss(y_true, y_pred, sample_weight=w)  # a graph on KerasTensors, a number on numpy

The functions give per-sample losses; the Loss objects add the masks,
``sample_weight`` and the reduction (``symkb.losses.reduction``).
"""
from __future__ import annotations

from .classes import (BinaryCrossentropy, CategoricalCrossentropy,  # noqa: F401
                      CategoricalHinge, CosineSimilarity, Hinge, Huber, KLDivergence,
                      LogCosh, Loss, LossFunctionWrapper, MeanAbsoluteError,
                      MeanAbsolutePercentageError, MeanSquaredError,
                      MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                      SquaredHinge)
from .functions import (KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy,  # noqa: F401
                        categorical_crossentropy, categorical_hinge, cosine_similarity,
                        hinge, huber, huber_loss, kl_divergence, kld,
                        kullback_leibler_divergence, log_cosh, logcosh, mae, mape,
                        mean_absolute_error, mean_absolute_percentage_error,
                        mean_squared_error, mean_squared_logarithmic_error, mse, msle,
                        poisson, sparse_categorical_crossentropy, squared_hinge)
from ..utils.registry import Registry
from .reduction import (Reduction, apply_mask, compute_weighted_loss, get_mask,  # noqa: F401
                        with_mask)

CLASSES = {cls.__name__: cls for cls in (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge,
    Huber, KLDivergence, LogCosh, Loss, LossFunctionWrapper, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge)}

FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": MSE,
    "mean_absolute_error": mean_absolute_error, "mae": mae, "MAE": MAE,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape,
    "MAPE": MAPE, "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": msle, "MSLE": MSLE, "huber": huber, "huber_loss": huber_loss,
    "log_cosh": log_cosh, "logcosh": logcosh, "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy, "hinge": hinge,
    "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "kl_divergence": kl_divergence, "kld": kld, "KLD": KLD,
    "kullback_leibler_divergence": kullback_leibler_divergence, "poisson": poisson,
    "cosine_similarity": cosine_similarity,
}


REGISTRY = Registry("loss", "losses", Loss, CLASSES, FUNCTIONS,
                    abstract=("Loss", "LossFunctionWrapper"))
serialize = REGISTRY.serialize
deserialize = REGISTRY.deserialize
get = REGISTRY.get
