"""The per-sample loss functions, with tf_keras's formulas and names.

Each takes ``(y_true, y_pred)`` and returns the loss with the last axis (or
``axis``) reduced away, one value per sample (per time step for sequences).
They are composed from ``K`` ops only, so they build graph nodes on
KerasTensors and compute eagerly on numpy arrays through the same code.
``y_true`` is cast to ``y_pred``'s dtype first, as tf_keras does.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..backend._util import dtype_of, ndim_of, shape_of, reads_variables
from ..ir import KerasTensor, Variable, call


def as_pred(y_pred):
    """``y_pred`` as a tensor: lists and numbers become floatx numpy arrays."""
    if isinstance(y_pred, (KerasTensor, Variable, np.ndarray)):
        return y_pred
    array = np.asarray(y_pred)
    return array.astype(K.floatx()) if array.dtype.kind in "biuf" else array


def _prepare(y_true, y_pred):
    y_pred = as_pred(y_pred)
    return K.cast(y_true, dtype_of(y_pred)), y_pred


@reads_variables
def mean_squared_error(y_true, y_pred):
    """``mean(square(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return K.mean(K.square(y_pred - y_true), axis=-1)


@reads_variables
def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return K.mean(K.abs(y_pred - y_true), axis=-1)


@reads_variables
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), -1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = K.abs((y_true - y_pred) / K.maximum(K.abs(y_true), K.epsilon()))
    return 100.0 * K.mean(diff, axis=-1)


@reads_variables
def mean_squared_logarithmic_error(y_true, y_pred):
    """The squared difference of ``log(max(y, epsilon) + 1)``, averaged on -1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    first = K.log(K.maximum(y_pred, K.epsilon()) + 1.0)
    second = K.log(K.maximum(y_true, K.epsilon()) + 1.0)
    return K.mean(K.square(first - second), axis=-1)


def _maybe_convert_labels(y_true):
    """Labels that are all 0 or 1 become -1 or 1 (the hinge losses' convention)."""
    binary = K.all(call("logical_or", K.equal(y_true, 0.0), K.equal(y_true, 1.0)))
    return call("where", binary, 2.0 * y_true - 1.0, y_true)


@reads_variables
def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), -1)``; 0/1 labels count as -1/1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return K.mean(K.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


@reads_variables
def squared_hinge(y_true, y_pred):
    """``mean(square(max(1 - y_true * y_pred, 0)), -1)``; 0/1 labels count as -1/1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return K.mean(K.square(K.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


@reads_variables
def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` on -1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = K.sum(y_true * y_pred, axis=-1)
    neg = K.max((1.0 - y_true) * y_pred, axis=-1)
    return K.maximum(neg - pos + 1.0, 0.0)


@reads_variables
def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors up to ``delta``, linear beyond, averaged on -1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    delta = float(delta)
    error = y_pred - y_true
    abs_error = K.abs(error)
    small = 0.5 * K.square(error)
    large = delta * abs_error - 0.5 * delta * delta
    return K.mean(call("where", K.less_equal(abs_error, delta), small, large), axis=-1)


@reads_variables
def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), -1)`` in the overflow-free form
    ``x + softplus(-2x) - log(2)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    return K.mean(x + K.softplus(-2.0 * x) - float(np.log(2.0)), axis=-1)


@reads_variables
def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), -1)``, both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = K.clip(y_true, K.epsilon(), 1.0)
    y_pred = K.clip(y_pred, K.epsilon(), 1.0)
    return K.sum(y_true * K.log(y_true / y_pred), axis=-1)


@reads_variables
def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), -1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return K.mean(y_pred - y_true * K.log(y_pred + K.epsilon()), axis=-1)


@reads_variables
def cosine_similarity(y_true, y_pred, axis=-1):
    """The negated cosine similarity along ``axis`` (-1 for aligned vectors)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = K.l2_normalize(y_true, axis=axis)
    y_pred = K.l2_normalize(y_pred, axis=axis)
    return -K.sum(y_true * y_pred, axis=axis)


def _check_axis(axis, name):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{name}: `axis` must be an int; received {axis!r}")


@reads_variables
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """The mean over ``axis`` of the elementwise binary crossentropy.

    ``label_smoothing`` moves targets towards 0.5:
    ``y_true * (1 - label_smoothing) + 0.5 * label_smoothing``.
    """
    _check_axis(axis, "binary_crossentropy")
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - float(label_smoothing)) + 0.5 * float(label_smoothing)
    return K.mean(K.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


@reads_variables
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy over ``axis``.

    ``label_smoothing`` mixes the targets with the uniform distribution over
    the last axis's classes, as tf_keras does (whatever ``axis`` is).
    """
    _check_axis(axis, "categorical_crossentropy")
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        num_classes = shape_of(y_true)[-1]
        if num_classes is None:
            num_classes = K.cast(K.shape(y_true)[-1], dtype_of(y_pred))
        y_true = y_true * (1.0 - float(label_smoothing)) + float(label_smoothing) / num_classes
    return K.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


@reads_variables
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Crossentropy with integer targets; ``ignore_class`` entries get 0.

    See :func:`valid_mask` for the mask that ``ignore_class`` implies (a Loss
    leaves those entries out of its mean).
    """
    _check_axis(axis, "sparse_categorical_crossentropy")
    y_pred = as_pred(y_pred)
    return K.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                             axis=axis, ignore_class=ignore_class)


def valid_mask(y_true, y_pred, ignore_class):
    """The entries of a sparse crossentropy that are not ``ignore_class``."""
    if ndim_of(y_true) == ndim_of(y_pred):
        y_true = K.squeeze(y_true, ndim_of(y_true) - 1)
    return K.not_equal(K.cast(y_true, "int64"), int(ignore_class))


# tf_keras's short names for the same functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber
