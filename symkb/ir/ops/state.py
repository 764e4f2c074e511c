"""``assign``: a graph's write of a new value into a Variable.

A training step computes new weights and must store them; ``assign`` is how
the IR says so. Its operands are the Variable's ``param`` read and the new
value (of the Variable's type); its result is the new value. It is an
``effect`` op: passes never merge, fold or move it. Its meaning is fixed for
every target: a graph's assignments take effect *after* all its results are
computed, so every read of the Variable in the same graph, and every result,
sees the value from before the call (as ``K.function(..., updates=...)`` in
tf_keras computes its outputs first). An ``assign`` node is only valid as a
result of the graph (the verifier checks it), one per Variable.

The interpreter applies the writes on the host after evaluating the graph;
the cpu target stores each new value into the Variable's own array at the end
of the generated function (no copy of the weights per call); the cuda target
keeps the new value on the device as the Variable's copy and writes the host
array back.
"""
from __future__ import annotations

import numpy as np

from ..errors import VerifyError
from ..registry import NoGradient, register
from ..verify import node_where


def _assign_type(types, **attrs):
    target, value = types
    if target != value:
        raise TypeError(f"assign: the new value has type {value}; the Variable it is written "
                        f"to has type {target} (expected the same shape and dtype)")
    return target


def check_assign(node) -> None:
    """The target of an ``assign`` is a ``param`` read (the verifier's hook)."""
    if node.inputs[0].node.op != "param":
        raise VerifyError(f"{node_where(node)}: assign writes a Variable: its operand 0 must be "
                          f"a param node, received the result of {node.inputs[0].node.op!r}")


@register("assign", type_rule=_assign_type, kind="other", effect=True, check=check_assign,
          grad=NoGradient("an assignment is a write, not a differentiable value"))
def assign(target, value):
    """The new value (the graph's executor writes it to the Variable after the call)."""
    return np.array(value, copy=True)


def written_variables(graph) -> list:
    """``[(result index, Variable)]`` for each ``assign`` result of ``graph``."""
    return [(k, t.node.inputs[0].node.attrs["variable"]) for k, t in enumerate(graph.outputs)
            if t.node.op == "assign"]


def build_assign(variable, value, op: str = "assign"):
    """Record the write of ``value`` (a KerasTensor or array) into ``variable``.

    Args:
        variable: the :class:`~symkb.ir.Variable` written.
        value: its new value: a KerasTensor of the Variable's shape and dtype,
            or concrete data (converted to the Variable's dtype).
        op: the caller's name, for errors (``update_add``, ...).

    Returns:
        The ``assign`` node's KerasTensor, for a graph's results
        (``K.function(..., updates=[...])``).

    Raises:
        TypeError: ``variable`` is not a Variable, or ``value`` has another dtype.
        ValueError: ``value`` has another (or a not fully known) shape.
    """
    from ..build import as_tensor
    from ..node import KerasTensor, Node
    from ..variable import Variable

    if not isinstance(variable, Variable):
        raise TypeError(f"{op}: expected a Variable (made with K.variable) to write, received "
                        f"{type(variable).__name__}")
    if not isinstance(value, KerasTensor):
        value = as_tensor(np.asarray(value, dtype=variable.dtype), variable.dtype)
    if value.dtype != variable.dtype:
        raise TypeError(f"{op}: the new value of Variable {variable.name!r} has dtype "
                        f"{value.dtype}; expected {variable.dtype} (cast it first)")
    if tuple(value.shape) != tuple(variable.shape):
        raise ValueError(f"{op}: the new value of Variable {variable.name!r} has shape "
                         f"{tuple(value.shape)}; expected the Variable's shape "
                         f"{tuple(variable.shape)}")
    return Node("assign", (variable.tensor, value), {}, (variable.type,)).outputs[0]
