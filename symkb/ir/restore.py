"""Variables for graphs being read back (text, JSON, networkx).

The readers recreate each ``param`` node's Variable from its name, type and
trainable flag; a caller may instead hand over Variables (used as they are)
or arrays (initial values) by name.
"""
from __future__ import annotations

import numpy as np

from .types import TensorType
from .variable import Variable


def variable_mapping(variables) -> dict:
    if variables is None:
        return {}
    if isinstance(variables, dict):
        return dict(variables)
    out = {}
    for v in variables:
        if not isinstance(v, Variable):
            raise TypeError(f"`variables` must be a mapping name -> Variable or array, "
                            f"or a list of Variables; received an item of type "
                            f"{type(v).__name__}")
        out[v.name] = v
    return out


def make_variable(name, t: TensorType, given, trainable) -> Variable:
    if isinstance(given, Variable):
        return given
    if given is None:
        return Variable(np.zeros(t.shape, dtype=t.dtype), t.dtype, name=name, trainable=trainable)
    value = np.asarray(given)
    if value.shape != t.shape:
        raise ValueError(f"the value given for variable {name!r} has shape {value.shape}; "
                         f"the graph expects {t.shape}")
    return Variable(value, t.dtype, name=name, trainable=trainable)
