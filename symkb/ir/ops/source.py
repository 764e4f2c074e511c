"""Ops with no operands: graph inputs, parameters (Variables) and constants."""
from __future__ import annotations

import numpy as np

from ..registry import register


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


@register("param", type_rule=_no_rule, kind="source", print_attrs=printed_param_attrs)
def param(*, variable):
    """A Variable, read when the graph runs."""
    return variable.value()


@register("const", type_rule=_no_rule, kind="source")
def const(*, value):
    """A constant array baked into the graph."""
    return np.asarray(value)
