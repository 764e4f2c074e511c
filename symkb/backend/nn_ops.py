"""Bias, normalisation, dropout, top-k and the learning-phase switches.

Everything here except ``bias_add`` and ``dropout`` is composed from other
``K`` functions, so it works eagerly and symbolically without ops of its own.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import ir
from ._util import axis1, ndim_of, shape_of, reads_variables
from .config import normalize_data_format
from .math_ops import cast, mean, square, sum, switch  # noqa: A004
from .session import learning_phase

call = ir.call


@reads_variables
def bias_add(x, bias, data_format=None):
    """Add a bias vector (or tensor) to ``x`` along its channel axis.

    Args:
        x: a tensor.
        bias: a 1-D bias (one value per channel), or a tensor of rank
            ``ndim(x) - 1`` holding the non-batch dimensions.
        data_format: ``'channels_last'`` (the channel axis is the last) or
            ``'channels_first'`` (axis 1); ``None`` uses
            :func:`image_data_format`.

    Returns:
        ``x`` plus the broadcast bias.

    Raises:
        ValueError: for an unknown data format or a bias of the wrong rank.
    """
    data_format = normalize_data_format(data_format)
    bias_shape, nd = tuple(shape_of(bias)), ndim_of(x)
    if len(bias_shape) != 1 and len(bias_shape) != nd - 1:
        raise ValueError(f"bias_add: unexpected bias dimensions {len(bias_shape)} (bias shape "
                         f"{bias_shape}), expected 1 or {nd - 1} dimensions for an input "
                         f"of shape {shape_of(x)}")
    if len(bias_shape) == 1 and (data_format == "channels_last" or nd <= 2):
        return call("bias_add", x, bias)
    if data_format == "channels_first":
        if len(bias_shape) == 1:
            new_shape = (1, bias_shape[0]) + (1,) * (nd - 2)
        else:
            new_shape = (1, bias_shape[-1]) + bias_shape[:-1]
    else:
        new_shape = (1,) + bias_shape
    return x + call("reshape", bias, shape=new_shape)


@reads_variables
def l2_normalize(x, axis=None):
    """Normalise ``x`` to unit L2 norm along ``axis``.

    Computes ``x / sqrt(max(sum(x ** 2, axis), 1e-12))``, so an all-zero slice
    stays zero.

    Args:
        x: a floating-point tensor.
        axis: the axis (or axes) to normalise over; ``None``: all axes.

    Returns:
        A tensor of ``x``'s shape.
    """
    sq = sum(square(x), axis=axis, keepdims=True)
    return x * call("divide", 1.0, call("sqrt", call("maximum", sq, 1e-12)))


def _broadcast_params(x, params, axis):
    """Reshape 1-D per-channel ``params`` so they line up with ``x``'s ``axis``."""
    nd = ndim_of(x)
    shape = [1] * nd
    out = []
    for p in params:
        if p is None or ndim_of(p) != 1 or axis == nd - 1:
            out.append(p)
            continue
        shape[axis] = shape_of(p)[0]
        out.append(call("reshape", p, shape=tuple(shape)))
    return out


@reads_variables
def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):  # noqa: A002
    """Apply batch normalisation given the statistics.

    Computes ``(x - mean) / sqrt(var + epsilon) * gamma + beta``. 1-D
    statistics are taken along ``axis`` (the channel axis), otherwise they
    broadcast. For 4-D inputs normalised along axis 1 or 3 tf_keras uses
    TensorFlow's fused kernel, which raises ``epsilon`` to at least 1.001e-5;
    symkb does the same.

    Args:
        x: the input tensor.
        mean: the mean.
        var: the variance.
        beta: the offset (``None``: 0).
        gamma: the scale (``None``: 1).
        axis: the channel axis that 1-D statistics belong to.
        epsilon: the fuzz factor added to the variance.

    Returns:
        A tensor of ``x``'s shape.
    """
    ax = axis1(x, axis, "batch_normalization")
    if ndim_of(x) == 4 and ax in (1, 3) and ndim_of(mean) == 1:
        # tf_keras runs TensorFlow's fused kernel here, which floors epsilon
        epsilon = builtins.max(epsilon, 1.001e-5)
    mean, var, beta, gamma = _broadcast_params(x, [mean, var, beta, gamma], ax)
    inv = call("divide", 1.0, call("sqrt", var + epsilon))
    if gamma is not None:
        inv = inv * gamma
    out = (x - mean) * inv
    return out + beta if beta is not None else out


@reads_variables
def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):  # noqa: A002
    """Compute the mean and variance of a batch, then batch-normalise it.

    Args:
        x: the input batch.
        gamma: the per-channel scale (``None``: 1).
        beta: the per-channel offset (``None``: 0).
        reduction_axes: the axes to compute the statistics over (a list).
        epsilon: the fuzz factor.

    Returns:
        A tuple ``(normalized, mean, variance)``; ``mean`` and ``variance``
        have ``reduction_axes`` reduced away.
    """
    axes = sorted(a % ndim_of(x) for a in reduction_axes)
    # On the CPU tf_keras takes TensorFlow's fused kernel for NHWC statistics
    # only ([0, 1, 2] of a 4-D input): it floors epsilon and reports the
    # unbiased (Bessel-corrected) batch variance. Other axes broadcast.
    fused = ndim_of(x) == 4 and list(reduction_axes) == [0, 1, 2]
    if fused:
        epsilon = builtins.max(epsilon, 1.001e-5)
    m = mean(x, axis=axes, keepdims=True)
    v = mean(square(x - m), axis=axes, keepdims=True)
    kept = [a for a in range(ndim_of(x)) if a not in axes]
    broadcast = [gamma, beta]
    if len(kept) == 1:
        broadcast = _broadcast_params(x, broadcast, kept[0])
    else:
        target = tuple(1 if a in axes else (d if d is not None else -1)
                       for a, d in enumerate(shape_of(x)))
        broadcast = [p if p is None or ndim_of(p) == ndim_of(x)
                     else call("reshape", p, shape=target) for p in broadcast]
    inv = call("divide", 1.0, call("sqrt", v + epsilon))
    if broadcast[0] is not None:
        inv = inv * broadcast[0]
    normed = x * inv + ((broadcast[1] - m * inv) if broadcast[1] is not None else -m * inv)
    variance = _squeeze(v, axes)
    if fused:
        # the element count of each channel, known or not until run time
        count = _squeeze(sum(call("ones_like", x), axis=axes, keepdims=True), axes)
        variance = variance * count / call("maximum", count - 1.0, 1.0)
    return normed, _squeeze(m, axes), variance


def _squeeze(x, axes):
    for a in sorted(axes, reverse=True):
        x = call("squeeze", x, axis=a)
    return x


@reads_variables
def in_top_k(predictions, targets, k):
    """Whether each target is among the top ``k`` predictions.

    As in TensorFlow, classes tied with the ``k``-th largest prediction all
    count as in the top ``k`` (a target is in when fewer than ``k`` classes
    score strictly higher), and a non-finite prediction for the target, or a
    target outside ``[0, classes)``, gives ``False``.

    Args:
        predictions: a ``(batch, classes)`` float tensor.
        targets: a ``(batch,)`` integer tensor of class indices.
        k: how many top classes to consider.

    Returns:
        A ``(batch,)`` bool tensor.

    Raises:
        ValueError: if the ranks do not fit or the class count is unknown.
    """
    if ndim_of(predictions) != 2 or ndim_of(targets) != 1:
        raise ValueError(f"in_top_k: expected predictions of rank 2 and targets of rank 1, "
                         f"received shapes {shape_of(predictions)} and {shape_of(targets)}")
    classes = shape_of(predictions)[1]
    if classes is None:
        raise ValueError(f"in_top_k: the class axis of `predictions` must have a known size; "
                         f"received shape {shape_of(predictions)}")
    hot = call("cast", call("one_hot", targets, num_classes=int(classes)), dtype="bool")
    zero = call("zeros_like", predictions)
    target_value = sum(call("where", hot, predictions, zero), axis=1, keepdims=True)
    higher = sum(cast(call("greater", predictions, target_value), "int32"), axis=1)
    finite = call("less", call("abs", call("squeeze", target_value, axis=1)), np.inf)
    # a target outside [0, classes) is in no top k (tf)
    valid = call("logical_and", call("greater_equal", targets, 0),
                 call("less", targets, int(classes)))
    return call("logical_and", call("logical_and", call("less", higher, int(k)), finite), valid)


def dropout(x, level, noise_shape=None, seed=None):
    """Set entries to zero at random, scaling the kept ones by ``1 / (1 - level)``.

    Recorded as ``x * dropout(ones_like(x))``: the scaled mask is a value of
    the graph, so the gradient reads the forward's draw (``ct * mask / (1 -
    level)``, as in tf) instead of drawing again.

    Args:
        x: a tensor.
        level: the fraction of entries to drop, in ``[0, 1)``.
        noise_shape: the shape of the keep/drop mask, broadcast against ``x``
            (``None`` entries take ``x``'s size).
        seed: a random seed; with ``None`` every call draws a new mask.

    Returns:
        A tensor of ``x``'s shape.

    Raises:
        ValueError: if ``level`` is outside ``[0, 1)``.
    """
    if not 0 <= level < 1:
        raise ValueError(f"dropout: `level` must be in [0, 1), received {level}")
    # the scaled keep mask (0 or 1 / (1 - level)) is a value of its own, drawn
    # by the ``dropout`` op from ones: the forward multiplies by it and the
    # gradient (the rule of ``multiply``) reads the same draw, as tf does
    scaled_mask = call("dropout", call("ones_like", x), rate=float(level), seed=seed,
                       noise_shape=None if noise_shape is None else tuple(noise_shape))
    return call("multiply", x, scaled_mask)


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, ``alt`` otherwise.

    Args:
        x: what to return in the training phase (a tensor or a callable).
        alt: what to return otherwise (a tensor or a callable).
        training: 0/1 or a bool, or a symbolic scalar selecting at run time;
            ``None`` uses :func:`learning_phase`.

    Returns:
        ``x`` or ``alt`` (called if callable), or a symbolic selection.
    """
    if training is None:
        training = learning_phase()
    if ir.is_symbolic(training):
        return switch(training, x, alt)
    chosen = x if bool(training) else alt
    return chosen() if callable(chosen) else chosen


def in_test_phase(x, alt, training=None):
    """``x`` in the test (inference) phase, ``alt`` otherwise.

    Args:
        x: what to return in the test phase (a tensor or a callable).
        alt: what to return in the training phase.
        training: as for :func:`in_train_phase`.

    Returns:
        ``x`` or ``alt``.
    """
    return in_train_phase(alt, x, training=training)
