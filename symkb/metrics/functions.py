"""Per-sample metric functions on numpy arrays, with tf_keras's semantics
(ties, squeezes and dtypes included)."""
from __future__ import annotations

import numpy as np

from ..backend.config import floatx


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` elementwise, else 0.0."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.dtype != y_pred.dtype:
        y_pred = y_pred.astype(y_true.dtype)
    return (y_true == y_pred).astype(floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """The fraction of ``y_pred > threshold`` matching ``y_true`` on the last axis."""
    y_pred = np.asarray(y_pred)
    predicted = (y_pred > np.asarray(threshold, y_pred.dtype)).astype(y_pred.dtype)
    return np.mean((np.asarray(y_true) == predicted).astype(floatx()), axis=-1)


def sparse_categorical_matches(y_true, y_pred):
    """1.0 where the integer target is ``argmax(y_pred, -1)`` (first on ties)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    shape = y_true.shape
    if y_true.ndim == y_pred.ndim:
        y_true = y_true.reshape(shape[:-1]) if shape[-1] == 1 else np.squeeze(y_true, -1)
    predicted = np.argmax(y_pred, axis=-1).astype(y_true.dtype)
    matches = (y_true == predicted).astype(floatx())
    return matches.reshape(shape) if len(shape) == y_pred.ndim else matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` on the last axis."""
    return sparse_categorical_matches(np.argmax(np.asarray(y_true), axis=-1), y_pred)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer target is ``argmax(y_pred)``."""
    matches = sparse_categorical_matches(y_true, y_pred)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches[..., 0]
    return matches


def in_top_k(predictions, targets, k):
    """Whether each target is among the ``k`` largest of its row.

    Ties straddling the boundary all count as in (a target loses only to
    strictly larger values); a row with a non-finite value is never in.
    """
    predictions = np.asarray(predictions)
    targets = np.asarray(targets).astype(np.int64)
    rows = np.arange(predictions.shape[0])
    valid = (targets >= 0) & (targets < predictions.shape[1])
    picked = predictions[rows, np.clip(targets, 0, predictions.shape[1] - 1)]
    larger = np.sum(predictions > picked[:, None], axis=1)
    finite = np.all(np.isfinite(predictions), axis=1)
    return valid & finite & (larger < k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer target is among the ``k`` largest predictions."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    shape = y_true.shape
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1]) if y_pred.ndim > 2 else y_pred
    matches = in_top_k(flat_pred, y_true.reshape(-1), int(k)).astype(floatx())
    return matches.reshape(shape) if y_true.ndim > 1 else matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where ``argmax(y_true)`` is among the ``k`` largest predictions."""
    return sparse_top_k_categorical_accuracy(np.argmax(np.asarray(y_true), axis=-1),
                                             y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine similarity along ``axis`` (positive, unlike the loss)."""
    def unit(x):
        x = np.asarray(x)
        return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))
    return np.sum(unit(y_true) * unit(y_pred), axis=axis)


acc = ACC = accuracy
