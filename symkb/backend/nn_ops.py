"""Activations, losses, normalisation, dropout and the learning-phase switches."""
from __future__ import annotations

import numpy as np

from .. import ir
from ._util import axis1, ndim_of, shape_of
from .config import epsilon, floatx, normalize_data_format
from .math_ops import cast, clip, log, max, mean, sqrt, square, sum  # noqa: A004
from .session import learning_phase

call = ir.call


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit: ``x`` above ``threshold`` (capped at
    ``max_value``), ``alpha * (x - threshold)`` below it."""
    return call("relu", x, alpha=float(alpha),
                max_value=None if max_value is None else float(max_value),
                threshold=float(threshold))


def elu(x, alpha=1.0):
    """Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1)."""
    return call("elu", x, alpha=float(alpha))


def selu(x):
    """Scaled exponential linear unit."""
    return call("selu", x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return call("sigmoid", x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return call("hard_sigmoid", x)


def tanh(x):
    """Hyperbolic tangent."""
    return call("tanh", x)


def softplus(x):
    """log(exp(x) + 1)."""
    return call("softplus", x)


def softsign(x):
    """x / (abs(x) + 1)."""
    return call("softsign", x)


def softmax(x, axis=-1):
    """Softmax along ``axis``."""
    return call("softmax", x, axis=axis1(x, axis, "softmax"))


def bias_add(x, bias, data_format=None):
    """Add ``bias`` along the channel axis (last for channels_last)."""
    data_format = normalize_data_format(data_format)
    bias_shape, nd = shape_of(bias), ndim_of(x)
    if len(bias_shape) != 1 and len(bias_shape) != nd - 1:
        raise ValueError(f"bias_add: unexpected bias dimensions {len(bias_shape)} (bias shape "
                         f"{tuple(bias_shape)}), expected 1 or {nd - 1} dimensions for an input "
                         f"of shape {shape_of(x)}")
    if len(bias_shape) == 1 and (data_format == "channels_last" or nd <= 2):
        return call("bias_add", x, bias)
    if data_format == "channels_first":
        if len(bias_shape) == 1:
            new_shape = (1, bias_shape[0]) + (1,) * (nd - 2)
        else:
            new_shape = (1, bias_shape[-1]) + tuple(bias_shape[:-1])
    else:
        new_shape = (1,) + tuple(bias_shape)
    return x + call("reshape", bias, shape=new_shape)


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))``."""
    sq = sum(square(x), axis=axis, keepdims=True)
    return x * call("divide", 1.0, call("sqrt", call("maximum", sq, 1e-12)))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot/probability ``target`` and ``output``
    (probabilities, or logits with ``from_logits=True``) along ``axis``."""
    if from_logits:
        return -sum(target * log_softmax(output, axis), axis=axis)
    output = output / sum(output, axis=axis, keepdims=True)
    output = clip(output, epsilon(), 1.0 - epsilon())
    return -sum(target * log(output), axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed stably."""
    m = max(x, axis=axis, keepdims=True)
    shifted = x - m
    return shifted - log(sum(call("exp", shifted), axis=axis, keepdims=True))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Crossentropy with integer class ``target``."""
    axis = axis1(output, axis, "sparse_categorical_crossentropy")
    if not from_logits:
        output = log(clip(output, epsilon(), 1.0 - epsilon()))
    num_classes = shape_of(output)[axis]
    if num_classes is None:
        raise ValueError("sparse_categorical_crossentropy: the class axis of `output` must have "
                         f"a known size; received shape {shape_of(output)}")
    nd = ndim_of(output)
    if ndim_of(target) == nd:
        target = call("squeeze", target, axis=axis)
    onehot = call("one_hot", cast(target, "int64"), num_classes=int(num_classes))
    if axis != nd - 1:
        perm = list(range(nd - 1))
        perm.insert(axis, nd - 1)
        onehot = call("transpose", onehot, perm=tuple(perm))
    onehot = cast(onehot, ir.build._reference_dtype([output]) or floatx())
    loss = -sum(onehot * log_softmax(output, axis), axis=axis)
    if ignore_class is not None:
        keep = cast(call("not_equal", target, ignore_class), loss.dtype)
        loss = loss * keep
    return loss


def binary_crossentropy(target, output, from_logits=False):
    """Binary crossentropy of probabilities (or logits with ``from_logits``)."""
    if from_logits:
        # max(x, 0) - x * z + log(1 + exp(-|x|))
        return call("maximum", output, 0.0) - output * target + \
            call("log1p", call("exp", -call("abs", output)))
    output = clip(output, epsilon(), 1.0 - epsilon())
    bce = target * log(output + epsilon()) + (1.0 - target) * log(1.0 - output + epsilon())
    return -bce


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):  # noqa: A002
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``."""
    inv = call("divide", 1.0, call("sqrt", var + epsilon))
    if gamma is not None:
        inv = inv * gamma
    out = (x - mean) * inv
    return out + beta if beta is not None else out


def dropout(x, level, noise_shape=None, seed=None):
    """Zero each entry with probability ``level``; scale the rest by 1/(1-level)."""
    if not 0 <= level < 1:
        raise ValueError(f"dropout: `level` must be in [0, 1), received {level}")
    return call("dropout", x, rate=float(level), seed=seed,
                noise_shape=None if noise_shape is None else tuple(noise_shape))


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, else ``alt`` (callables are called)."""
    if training is None:
        training = learning_phase()
    if ir.is_symbolic(training):
        raise ValueError("in_train_phase: `training` must be a Python bool or 0/1, "
                         "not a symbolic tensor")
    chosen = x if bool(training) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, else ``alt``."""
    return in_train_phase(alt, x, training=training)


def _unused():  # keep names used by docs/tests importable from here
    return max, mean, sqrt, np
