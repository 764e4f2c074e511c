"""Ops with no operands: graph inputs, parameters (Variables) and constants."""
from __future__ import annotations

import numpy as np

from ..errors import VerifyError
from ..registry import register
from ..types import TensorType
from ..variable import Variable
from ..verify import node_where


def _no_rule(types, **attrs):
    raise TypeError("source nodes are built directly, not through call()")


@register("input", type_rule=_no_rule, kind="source")
def input_(**attrs):
    """A graph input (placeholder); the executor supplies its value."""
    raise TypeError("an input node has no value of its own; feed it when calling the graph")


def printed_param_attrs(attrs) -> dict:
    """A parameter prints its Variable's full name (and ``trainable=false``), not the Variable."""
    variable = attrs["variable"]
    shown = {"name": variable.name}
    if not variable.trainable:
        shown["trainable"] = False
    return shown


def check_param(node) -> None:
    """A param node holds a Variable of its declared type (the verifier's hook)."""
    where = node_where(node)
    var = node.attrs.get("variable")
    if not isinstance(var, Variable):
        raise VerifyError(f"{where}: a param node holds a Variable in attrs['variable']; "
                          f"it holds {type(var).__name__}")
    declared = node.out_types[0]
    # a float16 Variable of a graph widened for a target without float16
    # arithmetic (``widened``) is declared float32: its value widens at call time
    widened = (node.attrs.get("widened") is True and var.dtype == "float16"
               and declared == TensorType(var.shape, "float32"))
    if var.type != declared and not widened:
        raise VerifyError(f"{where}: param {var.name!r} declares type {declared} but its "
                          f"Variable holds {var.type}")


def check_const(node) -> None:
    """A const node holds an array of its declared type (the verifier's hook)."""
    where = node_where(node)
    value = node.attrs.get("value")
    if not isinstance(value, np.ndarray):
        raise VerifyError(f"{where}: a const node holds an array in attrs['value']; it "
                          f"holds {type(value).__name__}")
    declared = node.out_types[0]
    if TensorType.of(value) != declared:
        raise VerifyError(f"{where}: const declares type {declared} but its value is "
                          f"{TensorType.of(value)}")


@register("param", type_rule=_no_rule, kind="source", print_attrs=printed_param_attrs,
          check=check_param)
def param(*, variable):
    """A Variable, read when the graph runs."""
    return variable.value()


@register("const", type_rule=_no_rule, kind="source", check=check_const)
def const(*, value):
    """A constant array baked into the graph."""
    return np.asarray(value)
