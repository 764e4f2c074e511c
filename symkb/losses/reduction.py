"""How a Loss turns per-sample losses into one value: sample weights, masks
and the reduction, with tf_keras's broadcasting rules.

* ``sample_weight`` of rank one more than the losses loses its last axis; of
  rank one less it gains one; then it broadcasts (a scalar scales all).
* A mask (``_keras_mask`` on ``y_pred``, or the mask travelling with a
  KerasTensor, or the one ``ignore_class`` implies) zeroes the masked
  entries; with ``sum_over_batch_size`` the valid ones are rescaled by
  ``total / valid``, so the mean is over the valid entries only, and
  ``sample_weight`` composes with it by multiplication.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..backend._util import dtype_of, ndim_of, shape_of
from ..ir import KerasTensor

AUTO = "auto"
NONE = "none"
SUM = "sum"
SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
REDUCTIONS = (AUTO, NONE, SUM, SUM_OVER_BATCH_SIZE)


def validate_reduction(reduction, owner: str) -> str:
    """``reduction`` if tf_keras knows it, else a ValueError naming ``owner``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: unknown `reduction` {reduction!r}; expected one of "
                         f"{', '.join(repr(r) for r in REDUCTIONS)}")
    return reduction


class _MaskedArray(np.ndarray):
    """A numpy array carrying a ``_keras_mask`` (see :func:`with_mask`)."""

    _keras_mask = None


def with_mask(array, mask):
    """``array`` as a numpy array carrying ``mask`` as its ``_keras_mask``.

    This is how eager values tell a Loss which entries to leave out, as
    tf_keras's eager tensors do with their ``_keras_mask`` attribute.
    """
    out = np.asarray(array).view(_MaskedArray)
    out._keras_mask = None if mask is None else np.asarray(mask)
    return out


def get_mask(value):
    """The mask of ``value``: its ``_keras_mask``, or the mask a layer gave it."""
    mask = getattr(value, "_keras_mask", None)
    if mask is None and isinstance(value, KerasTensor):
        from ..layers.base import get_mask as layer_mask
        mask = layer_mask(value)
    return mask


def plain(value):
    """``value`` without its mask (a plain ndarray for a masked one)."""
    return value.view(np.ndarray) if isinstance(value, _MaskedArray) else value


def squeeze_or_expand(losses, sample_weight):
    """``sample_weight`` with its rank matched to ``losses`` where one apart."""
    rank, weight_rank = ndim_of(losses), ndim_of(sample_weight)
    if weight_rank == 0:
        return sample_weight
    if weight_rank - rank == 1:
        return K.squeeze(sample_weight, -1)
    if rank - weight_rank == 1:
        return K.expand_dims(sample_weight, -1)
    return sample_weight


def remove_squeezable(y_true, y_pred):
    """Drop a size-1 last axis from whichever of the two has one extra axis.

    As tf_keras's loss wrappers do, except when ``y_pred`` has one more axis
    whose last size is not 1 (the sparse crossentropies' class axis).
    """
    rank_true, rank_pred = ndim_of(y_true), ndim_of(y_pred)
    if rank_pred - rank_true == 1 and shape_of(y_pred)[-1] == 1:
        return y_true, K.squeeze(y_pred, -1)
    if rank_pred - rank_true == -1 and shape_of(y_true)[-1] == 1:
        return K.squeeze(y_true, -1), y_pred
    return y_true, y_pred


def num_elements(x):
    """The number of entries of ``x`` as a float (symbolic if its shape is unknown)."""
    shape = shape_of(x)
    if all(d is not None for d in shape):
        return float(np.prod(shape, dtype=np.int64))
    return K.cast(K.prod(K.shape(x)), dtype_of(x))


def valid_weights(losses, sample_weight, mask, reduction):
    """``sample_weight`` with ``mask`` folded in (tf_keras's ``apply_valid_mask``)."""
    if mask is None:
        return sample_weight
    mask = K.cast(mask, dtype_of(losses))
    if reduction in (AUTO, SUM_OVER_BATCH_SIZE):
        mask = mask * (num_elements(mask) / K.sum(mask))
    if sample_weight is None:
        return mask
    sample_weight = K.cast(sample_weight, dtype_of(mask))
    if ndim_of(sample_weight) != 0:
        sample_weight = squeeze_or_expand(mask, sample_weight)
    return sample_weight * mask


def apply_mask(sample_weight, mask, dtype="float32"):
    """``sample_weight`` times ``mask`` (rank-matched), or the mask alone.

    What tf_keras's compile does for metrics of a masked output: masked
    entries get weight 0, and no rescaling (a weighted mean divides by the
    weights' sum anyway).
    """
    if mask is None:
        return sample_weight
    mask = K.cast(mask, dtype)
    if sample_weight is None:
        return mask
    sample_weight = K.cast(sample_weight, dtype)
    if ndim_of(sample_weight) != 0:
        sample_weight = squeeze_or_expand(mask, sample_weight)
    return sample_weight * mask


def compute_weighted_loss(losses, sample_weight=None, reduction=SUM_OVER_BATCH_SIZE):
    """Weigh ``losses`` by ``sample_weight`` and reduce them.

    Args:
        losses: the per-sample losses.
        sample_weight: None, a scalar, or a tensor broadcastable to
            ``losses`` after its rank is matched.
        reduction: ``'sum_over_batch_size'`` (or ``'auto'``): the sum over
            the number of entries of ``losses``; ``'sum'``; ``'none'``: the
            weighted losses themselves.

    Returns:
        The loss.
    """
    if sample_weight is not None:
        sample_weight = K.cast(sample_weight, dtype_of(losses))
        losses = losses * squeeze_or_expand(losses, sample_weight)
    if reduction == NONE:
        return losses
    total = K.sum(losses)
    if reduction == SUM:
        return total
    count = num_elements(losses)
    if isinstance(count, float):
        return total / count if count else total * 0.0
    return total / K.maximum(count, 1.0)


class Reduction:
    """tf_keras's names for the reductions (``losses.Reduction.SUM`` ...)."""

    AUTO = AUTO
    NONE = NONE
    SUM = SUM
    SUM_OVER_BATCH_SIZE = SUM_OVER_BATCH_SIZE

    @classmethod
    def all(cls):
        return REDUCTIONS
