"""Activation functions (tf_keras.backend names and arguments).

All but ``log_softmax`` are registered elementwise ops (``softmax`` a
reduction-like op), so code generators can fuse them.
"""
from __future__ import annotations

from .. import ir
from ._util import axis1, ndim_of, shape_of, reads_variables
from .math_ops import log, max, sum  # noqa: A004

call = ir.call


@reads_variables
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit.

    With default values it returns ``max(x, 0)``; otherwise
    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for
    ``threshold <= x < max_value`` and ``alpha * (x - threshold)`` below.

    Args:
        x: a floating-point tensor.
        alpha: slope of the negative part.
        max_value: saturation threshold (``None``: no cap).
        threshold: the value below which the negative slope applies.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("relu", x, alpha=float(alpha),
                max_value=None if max_value is None else float(max_value),
                threshold=float(threshold))


@reads_variables
def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        x: a floating-point tensor.
        alpha: scale of the negative part.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("elu", x, alpha=float(alpha))


@reads_variables
def selu(x):
    """Scaled exponential linear unit (the self-normalising constants).

    Args:
        x: a floating-point tensor.

    Returns:
        ``scale * elu(x, alpha)`` with ``alpha = 1.6732632...``, ``scale = 1.0507009...``.
    """
    return call("selu", x)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("sigmoid", x)


@reads_variables
def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("hard_sigmoid", x)


def tanh(x):
    """Hyperbolic tangent, elementwise.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("tanh", x)


def softplus(x):
    """Softplus ``log(exp(x) + 1)``, computed without overflow.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("softplus", x)


def softsign(x):
    """Softsign ``x / (abs(x) + 1)``.

    Args:
        x: a floating-point tensor.

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("softsign", x)


@reads_variables
def softmax(x, axis=-1):
    """Softmax of a tensor along ``axis``.

    Args:
        x: a floating-point tensor of rank >= 2 (as in tf_keras).
        axis: the dimension softmax is performed on (default: the last).

    Returns:
        A tensor of ``x``'s shape whose entries along ``axis`` sum to 1.

    Raises:
        ValueError: for a tensor of rank 0 or 1.
    """
    if ndim_of(x) <= 1:
        raise ValueError(f"softmax: cannot apply softmax to a tensor that is {ndim_of(x)}D "
                         f"(shape {shape_of(x)}); expected rank >= 2. Received input: {x!r}")
    return call("softmax", x, axis=axis1(x, axis, "softmax"))


@reads_variables
def log_softmax(x, axis=-1):
    """``log(softmax(x))`` computed stably (not part of tf_keras.backend).

    Args:
        x: a floating-point tensor.
        axis: the axis to normalise over.

    Returns:
        A tensor of ``x``'s shape.
    """
    # the shift cancels in the value, so no gradient flows through it (as in
    # TF's log_softmax): the backward pass has no max gradient to compute
    m = call("stop_gradient", max(x, axis=axis, keepdims=True))
    shifted = x - m
    return shifted - log(sum(call("exp", shifted), axis=axis, keepdims=True))
