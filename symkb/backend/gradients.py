"""``K.gradients``: reverse mode on the symbolic graph (``symkb/ir/gradients.py``)."""
from __future__ import annotations

from .. import ir
from ..ir import KerasTensor, Variable


def gradients(loss, variables, checkpoint=None):
    """Return the gradients of ``loss`` with respect to ``variables``.

    As tf_keras (``tf.gradients``): symbolic tensors computing
    ``d sum(loss) / d variable`` (a non-scalar loss is summed; a list of
    losses adds up), one per variable in the order given, ``None`` for a
    variable the loss does not depend on (integer tensors and everything
    behind ``K.stop_gradient`` included). The results are KerasTensors: pass
    them to ``K.function`` with the loss's inputs.

    Args:
        loss: a symbolic scalar tensor, or a list of symbolic tensors.
        variables: Variables, placeholders or intermediate tensors; a list
            (or one of them).
        checkpoint: symkb's option for long sequences: an int ``k`` has the
            gradient of each recurrence save its states every ``k`` steps
            only and recompute the steps of each segment in the backward
            (memory ``O(T/k + k)`` steps instead of ``O(T)``; the forward runs
            once more). Needs the number of steps at build time.

    Returns:
        A list of KerasTensors or ``None``, one per variable.

    Raises:
        TypeError: ``loss`` is an eager value (numpy): it recorded no graph
            to differentiate.
        NotImplementedError: the gradient would cross a ``dropout`` node
            without a seed that ``K.dropout`` did not record (its mask is
            not a value of the graph).
    """
    losses = list(loss) if isinstance(loss, (list, tuple)) else [loss]
    for i, t in enumerate(losses):
        if not isinstance(t, KerasTensor):
            raise TypeError(
                f"gradients: the loss{f'[{i}]' if len(losses) > 1 else ''} is a "
                f"{type(t).__name__}, an eager value with no graph to differentiate; "
                "expected a symbolic KerasTensor (build the loss from K.placeholder / Input "
                "tensors, or read Variables in a symbolic expression)")
    wrt = list(variables) if isinstance(variables, (list, tuple)) else [variables]
    for i, v in enumerate(wrt):
        if not isinstance(v, (KerasTensor, Variable)):
            raise TypeError(f"gradients: variables[{i}] is a {type(v).__name__}; expected a "
                            "Variable or a KerasTensor")
    return ir.vjp(losses, wrt, checkpoint=checkpoint)
