"""Loss objects: a per-sample function plus the reduction, with tf_keras's
class names, defaults and configs."""
from __future__ import annotations

from .. import backend as K
from . import functions as F
from .reduction import (SUM_OVER_BATCH_SIZE, compute_weighted_loss, get_mask, plain,
                        remove_squeezable, valid_weights, validate_reduction)


class Loss:
    """The base of loss objects: subclasses define ``call(y_true, y_pred)``.

    Calling the object applies masks and ``sample_weight`` and the reduction
    (see :mod:`symkb.losses.reduction`), on KerasTensors (building a graph) or
    numpy arrays (computing now) alike.

    Args:
        reduction: ``'sum_over_batch_size'`` (the mean over all entries,
            ``'auto'`` is the same), ``'sum'`` or ``'none'``.
        name: the loss's name (the class's snake-case name by default).
    """

    def __init__(self, reduction=SUM_OVER_BATCH_SIZE, name=None):
        self.reduction = validate_reduction(reduction, type(self).__name__)
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_mask(y_pred)
        losses = self.call(plain(y_true), plain(y_pred))
        out_mask = get_mask(losses)
        if out_mask is None:
            out_mask = self.loss_mask(plain(y_true), plain(y_pred))
        losses = plain(losses)
        if in_mask is not None and out_mask is not None:
            mask = K.cast(in_mask, "bool") & K.cast(out_mask, "bool")
        else:
            mask = in_mask if in_mask is not None else out_mask
        sample_weight = valid_weights(losses, sample_weight, mask, self.reduction)
        return compute_weighted_loss(losses, sample_weight, self.reduction)

    def loss_mask(self, y_true, y_pred):
        """The entries of the losses to leave out, beside ``y_pred``'s mask
        (None: none; the sparse crossentropy's ``ignore_class`` sets one)."""
        return None

    def call(self, y_true, y_pred):
        """The per-sample losses (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict:
        """The constructor arguments (``from_config`` rebuilds the loss)."""
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config):
        """A loss from :meth:`get_config`'s dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    As tf_keras's wrapper does, a size-1 last axis of ``y_true`` or
    ``y_pred`` is dropped when the other has one axis less.
    """

    def __init__(self, fn, reduction=SUM_OVER_BATCH_SIZE, name=None, **kwargs):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_pred = F.as_pred(y_pred)
        y_true, y_pred = remove_squeezable(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _wrapper(class_name, fn, default_name, doc, **options):
    """A LossFunctionWrapper subclass taking ``options`` as keyword arguments."""
    def __init__(self, *args, reduction=SUM_OVER_BATCH_SIZE, name=default_name, **kwargs):
        values = dict(options)
        if len(args) > len(options):
            raise TypeError(f"{class_name} takes at most {len(options)} positional "
                            f"arguments ({', '.join(options)}); received {len(args)}")
        values.update(zip(options, args))
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            raise TypeError(f"{class_name}: unexpected keyword arguments {unknown}; "
                            f"it takes {sorted(options) + ['name', 'reduction']}")
        values.update(kwargs)
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, **values)

    def from_config(cls, config):
        return cls(**config)

    return type(class_name, (LossFunctionWrapper,), {
        "__init__": __init__, "from_config": classmethod(from_config), "__doc__": doc,
        "__module__": __name__})


MeanSquaredError = _wrapper("MeanSquaredError", F.mean_squared_error, "mean_squared_error",
                            "The mean of squared errors.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", F.mean_absolute_error,
                             "mean_absolute_error", "The mean of absolute errors.")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "The mean absolute error in percent of ``y_true``.")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "The mean squared error of ``log(y + 1)``.")
CosineSimilarity = _wrapper("CosineSimilarity", F.cosine_similarity, "cosine_similarity",
                            "The negated cosine similarity along ``axis``.", axis=-1)
Huber = _wrapper("Huber", F.huber, "huber_loss",
                 "Quadratic errors up to ``delta``, linear beyond.", delta=1.0)
LogCosh = _wrapper("LogCosh", F.log_cosh, "log_cosh", "The mean of ``log(cosh(error))``.")
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy", F.binary_crossentropy, "binary_crossentropy",
    "Binary crossentropy (``from_logits``, ``label_smoothing``, ``axis``).",
    from_logits=False, label_smoothing=0.0, axis=-1)
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy", F.categorical_crossentropy, "categorical_crossentropy",
    "Categorical crossentropy (``from_logits``, ``label_smoothing``, ``axis``).",
    from_logits=False, label_smoothing=0.0, axis=-1)
Hinge = _wrapper("Hinge", F.hinge, "hinge", "The hinge loss (0/1 labels become -1/1).")
SquaredHinge = _wrapper("SquaredHinge", F.squared_hinge, "squared_hinge",
                        "The squared hinge loss (0/1 labels become -1/1).")
CategoricalHinge = _wrapper("CategoricalHinge", F.categorical_hinge, "categorical_hinge",
                            "The categorical hinge loss.")
Poisson = _wrapper("Poisson", F.poisson, "poisson", "The Poisson loss.")
KLDivergence = _wrapper("KLDivergence", F.kl_divergence, "kl_divergence",
                        "The Kullback-Leibler divergence.")


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy with integer targets.

    Entries whose target is ``ignore_class`` are masked: they get a loss of
    0 and, with ``sum_over_batch_size``, do not count in the mean.

    Args:
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a class index to leave out, or None.
        reduction: see :class:`Loss`.
        name: the loss's name.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction=SUM_OVER_BATCH_SIZE,
                 name="sparse_categorical_crossentropy"):
        super().__init__(F.sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, ignore_class=ignore_class)

    def loss_mask(self, y_true, y_pred):
        ignore = self._fn_kwargs["ignore_class"]
        if ignore is None:
            return None
        return F.valid_mask(y_true, F.as_pred(y_pred), ignore)
