"""Crossentropy losses with tf_keras's exact clipping and epsilon placement.

Each is composed from other ``K`` functions, so it works eagerly and
symbolically without ops of its own.

As tf_keras does in graph mode, a symbolic ``output`` that is the result of
a ``sigmoid`` (binary losses) or ``softmax`` (categorical losses, same axis)
node is traced back to its logits and the loss is computed from them: exact
and without epsilon clipping. Eager arrays carry no such history, so they
take the clipped probability formula, as tf_keras's eager tensors do.
"""
from __future__ import annotations

from .. import ir
from ._util import axis1, dtype_of, ndim_of, shape_of, reads_variables
from .activations import log_softmax, sigmoid, softmax
from .config import epsilon
from .math_ops import cast, clip, log, sum  # noqa: A004

call = ir.call


def _logits(output, op, axis=None):
    """The logits behind a symbolic ``op`` (sigmoid/softmax) output, else None."""
    if not ir.is_symbolic(output) or output.node.op != op:
        return None
    if op == "softmax" and output.node.attrs.get("axis") != axis1(output, axis, op):
        return None
    return output.node.inputs[0]


@reads_variables
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical crossentropy between a target and an output tensor.

    Without ``from_logits`` the output is first rescaled to sum to 1 along
    ``axis`` and clipped to ``[epsilon, 1 - epsilon]``, as in tf_keras.

    Args:
        target: one-hot (or probability) targets, of ``output``'s shape.
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.

    Returns:
        The loss, with ``axis`` reduced away.
    """
    logits = None if from_logits else _logits(output, "softmax", axis)
    if logits is not None:
        output, from_logits = logits, True
    if from_logits:
        return -sum(target * log_softmax(output, axis), axis=axis)
    output = output / sum(output, axis=axis, keepdims=True)
    output = clip(output, epsilon(), 1.0 - epsilon())
    return -sum(target * log(output), axis=axis)


@reads_variables
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Categorical crossentropy with integer targets.

    Without ``from_logits`` the output is clipped to ``[epsilon,
    1 - epsilon]`` and renormalised (tf_keras feeds ``log(output)`` to a
    softmax crossentropy).

    Args:
        target: integer class indices (any numeric dtype), of ``output``'s
            shape without the class axis (a trailing size-1 axis is allowed).
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
        axis: the class axis of ``output``.
        ignore_class: a class index whose entries get a loss of 0.

    Returns:
        The loss, of ``target``'s shape.

    Raises:
        ValueError: if the class axis of ``output`` has an unknown size.
    """
    axis = axis1(output, axis, "sparse_categorical_crossentropy")
    logits = None if from_logits else _logits(output, "softmax", axis)
    if logits is not None:
        output, from_logits = logits, True
    if not from_logits:
        output = log(clip(output, epsilon(), 1.0 - epsilon()))
    num_classes = shape_of(output)[axis]
    if num_classes is None:
        raise ValueError("sparse_categorical_crossentropy: the class axis of `output` must have "
                         f"a known size; received shape {shape_of(output)}")
    nd = ndim_of(output)
    if ndim_of(target) == nd:
        target = call("squeeze", target, axis=ndim_of(target) - 1)
    onehot = call("one_hot", cast(target, "int64"), num_classes=int(num_classes))
    if axis != nd - 1:
        perm = list(range(nd - 1))
        perm.insert(axis, nd - 1)
        onehot = call("transpose", onehot, perm=tuple(perm))
    onehot = cast(onehot, dtype_of(output))
    loss = -sum(onehot * log_softmax(output, axis), axis=axis)
    if ignore_class is not None:
        keep = call("not_equal", cast(target, "int64"), int(ignore_class))
        loss = call("where", keep, loss, call("zeros_like", loss))
    return loss


@reads_variables
def binary_crossentropy(target, output, from_logits=False):
    """Binary crossentropy between a target and an output tensor.

    Probabilities are clipped to ``[epsilon, 1 - epsilon]`` and the logs are
    taken of ``output + epsilon`` and ``1 - output + epsilon``, exactly as
    tf_keras does; with ``from_logits=True`` the stable form
    ``max(x, 0) - x * z + log(1 + exp(-|x|))`` is used.

    Args:
        target: targets of ``output``'s shape.
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.

    Returns:
        The elementwise loss, of ``output``'s shape.
    """
    logits = None if from_logits else _logits(output, "sigmoid")
    if logits is not None:
        output, from_logits = logits, True
    if from_logits:
        return call("maximum", output, 0.0) - output * target + \
            call("log1p", call("exp", -call("abs", output)))
    output = clip(output, epsilon(), 1.0 - epsilon())
    bce = target * log(output + epsilon()) + (1.0 - target) * log(1.0 - output + epsilon())
    return -bce


@reads_variables
def binary_focal_crossentropy(target, output, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False):
    """Binary focal crossentropy: ``(1 - p_t) ** gamma * binary_crossentropy``.

    ``p_t`` is the probability the output gives the target class
    (``target * p + (1 - target) * (1 - p)``).

    Args:
        target: targets of ``output``'s shape.
        output: probabilities, or logits with ``from_logits=True``.
        apply_class_balancing: weigh the loss by ``alpha`` for positives and
            ``1 - alpha`` for negatives.
        alpha: the class-balancing weight.
        gamma: the focusing parameter.
        from_logits: whether ``output`` holds logits.

    Returns:
        The elementwise loss, of ``output``'s shape.
    """
    probs = sigmoid(output) if from_logits else output
    p_t = target * probs + (1.0 - target) * (1.0 - probs)
    focal = call("pow", 1.0 - p_t, float(gamma))
    loss = focal * binary_crossentropy(target, output, from_logits=from_logits)
    if apply_class_balancing:
        loss = (target * float(alpha) + (1.0 - target) * (1.0 - float(alpha))) * loss
    return loss


@reads_variables
def categorical_focal_crossentropy(target, output, alpha=0.25, gamma=2.0, from_logits=False,
                                   axis=-1):
    """Categorical focal crossentropy.

    ``sum(alpha * (1 - p) ** gamma * -target * log(p), axis)`` where ``p`` is
    the output rescaled to sum to 1 and clipped to ``[epsilon, 1 - epsilon]``
    (a softmax of it first with ``from_logits=True``).

    Args:
        target: one-hot (or probability) targets, of ``output``'s shape.
        output: probabilities, or logits with ``from_logits=True``.
        alpha: the weighting factor.
        gamma: the focusing parameter.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.

    Returns:
        The loss, with ``axis`` reduced away.
    """
    if from_logits:
        output = softmax(output, axis=axis)
    output = output / sum(output, axis=axis, keepdims=True)
    output = clip(output, epsilon(), 1.0 - epsilon())
    cce = -target * log(output)
    weight = call("pow", 1.0 - output, float(gamma)) * float(alpha)
    return sum(weight * cce, axis=axis)
