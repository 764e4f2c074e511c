"""The per-call check that a kernel gets the parameter buffers it was built for.

A compiled kernel is generated for the declared type of each ``param`` and
``const`` node: it indexes a weight up to its declared shape without bounds
checks. The verifier refuses graphs whose declared types differ from their
payloads, and this module checks again where it matters, right before the
call: one shape (and dtype) comparison per parameter, so a Variable that no
longer matches (or never did) can never make a kernel read memory it does
not own.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, ShapeError
from ..ir.types import TensorType


class ParamSpecs:
    """The declared shape and dtype of each parameter a kernel takes, in order."""

    def __init__(self, name: str, graph: Graph, variables):
        declared: dict = {}
        for _, node in graph.walk():
            if node.op == "param":
                declared.setdefault(id(node.attrs["variable"]), set()).add(node.out_types[0])
        self.name = name
        self.specs = []
        for var in variables:
            types = declared.get(id(var), {var.type})
            if len(types) != 1:
                raise ShapeError(f"{name}: Variable {var.name!r} is declared with several "
                                 f"types {sorted(str(t) for t in types)}")
            (t,) = types
            self.specs.append((var, t.shape, np.dtype(t.dtype)))

    def values(self, convert=None) -> list:
        """The Variables' arrays, each checked against its declared type.

        Args:
            convert: applied to each array before the check (a float16 value
                widened to the float32 a widened kernel declares, say).

        Raises:
            ShapeError: a Variable whose array differs from the type the kernel
                was generated for (the message names it and both types).
        """
        out = []
        for var, shape, dtype in self.specs:
            value = var.value() if convert is None else convert(var.value())
            if value.shape != shape or value.dtype != dtype:
                raise ShapeError(
                    f"{self.name}: parameter {var.name!r} holds an array of type "
                    f"{TensorType.of(value)}, but the kernel was compiled for "
                    f"{TensorType(shape, dtype.name)}; compile the graph again after "
                    "changing a Variable's shape or dtype")
            out.append(value)
        return out


def check_const(name: str, declared: TensorType, value: np.ndarray) -> np.ndarray:
    """``value`` when it has the ``declared`` type of its ``const`` node.

    Raises:
        ShapeError: naming the constant and both types.
    """
    if TensorType.of(value) != declared:
        raise ShapeError(f"{name}: a constant holds an array of type {TensorType.of(value)} but "
                         f"is declared {declared}")
    return value
