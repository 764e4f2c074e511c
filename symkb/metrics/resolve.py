"""What ``compile(metrics=[...])`` makes of a metric identifier.

``'accuracy'``/``'acc'`` and ``'crossentropy'``/``'ce'`` become the binary,
sparse or categorical form by tf_keras's rule on the target's and output's
shapes: binary when the output's last size is 1; sparse when the target has
fewer axes than the output, or a last size of 1 where the output's is more;
categorical otherwise. Without the target's shape, the loss decides: a
sparse crossentropy implies integer targets (one axis less).
"""
from __future__ import annotations

from .. import losses as L
from .base import MeanMetricWrapper, Metric
from .registry import FUNCTIONS, get

GENERIC = ("accuracy", "acc", "crossentropy", "ce")



def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    if isinstance(loss, L.Loss):
        return getattr(getattr(loss, "fn", None), "__name__", None) or type(loss).__name__
    return getattr(loss, "__name__", "") or ""


def _generic(identifier, loss, output_shape, target_shape):
    if output_shape is None or len(output_shape) == 0:
        raise ValueError(f"metrics.resolve: {identifier!r} needs the model output's shape "
                         f"to choose its binary, categorical or sparse form; received "
                         f"output_shape={output_shape!r}")
    output_shape = tuple(output_shape)
    if target_shape is None:
        name = _loss_name(loss).lower()
        sparse = "sparse" in name
        target_shape = output_shape[:-1] if sparse else output_shape
    target_shape = tuple(target_shape)
    binary = output_shape[-1] == 1
    sparse = len(target_shape) < len(output_shape) or (
        len(target_shape) > 0 and target_shape[-1] == 1 and (output_shape[-1] or 2) > 1)
    kind = "binary" if binary else "sparse_categorical" if sparse else "categorical"
    suffix = "accuracy" if identifier.lower() in ("accuracy", "acc") else "crossentropy"
    return FUNCTIONS[f"{kind}_{suffix}"]


def resolve(identifier, loss=None, output_shape=None, target_shape=None):
    """A Metric object for one of ``compile``'s metric identifiers.

    Args:
        identifier: a name, a function, a Metric object or a config dict.
        loss: the output's loss (a name, function or Loss); used for the
            generic names when ``target_shape`` is not given.
        output_shape: the model output's shape (``None`` for the batch).
        target_shape: the targets' shape, when known.

    Returns:
        The Metric itself, or a :class:`MeanMetricWrapper` named
        ``identifier`` (a function's ``__name__`` for a function).

    Raises:
        ValueError: for an unknown identifier, or a generic name without
            ``output_shape``.
    """
    if isinstance(identifier, str) and identifier.lower() in GENERIC:
        return MeanMetricWrapper(_generic(identifier, loss, output_shape, target_shape),
                                 name=identifier)
    found = get(identifier)
    if isinstance(found, Metric):
        return found
    name = identifier if isinstance(identifier, str) else getattr(found, "__name__", None)
    return MeanMetricWrapper(found, name=name)
