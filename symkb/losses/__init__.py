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


def _valid_names() -> str:
    return ", ".join(sorted(FUNCTIONS) + sorted(CLASSES))


def serialize(loss):
    """A loss as JSON-able data: a Loss object as ``{'class_name', 'config'}``,
    a known function as its name."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    for name, fn in FUNCTIONS.items():
        if fn is loss:
            return fn.__name__ if FUNCTIONS.get(fn.__name__) is fn else name
    raise ValueError(f"losses.serialize: cannot serialize {loss!r}; expected a Loss object "
                     f"or one of the functions {sorted(FUNCTIONS)}")


def deserialize(config, custom_objects=None):
    """The loss :func:`serialize` describes (a name, or a ``class_name``/``config`` dict)."""
    custom = dict(custom_objects or {})
    if isinstance(config, dict):
        name = config.get("class_name")
        cls = custom.get(name) or CLASSES.get(name)
        if cls is None or name in ("Loss", "LossFunctionWrapper"):
            raise ValueError(f"losses.deserialize: unknown loss class {name!r} in {config!r}; "
                             f"known classes: {', '.join(sorted(CLASSES))}")
        return cls.from_config(dict(config.get("config") or {}))
    if isinstance(config, str):
        if config in custom:
            found = custom[config]
            return found() if isinstance(found, type) else found
        if config in FUNCTIONS:
            return FUNCTIONS[config]
        if config in CLASSES and config not in ("Loss", "LossFunctionWrapper"):
            return CLASSES[config]()
    raise ValueError(f"Unknown loss {config!r}; expected one of: {_valid_names()}")


def get(identifier):
    """A loss from a name, a function, a Loss object or a config dict.

    Raises:
        ValueError: for None, an unknown name, or anything else, naming what
            was received and listing the known names.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    raise ValueError(f"Could not interpret loss identifier {identifier!r}; expected a loss "
                     f"name, a function, a Loss object or a config dict. Known names: "
                     f"{_valid_names()}")
