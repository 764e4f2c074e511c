"""The op registry: every op is declared once, with its type rule and numpy reference.

An :class:`OpDef` holds

* ``name``: equal to the ``symkb.backend`` function that records it;
* ``type_rule(types, **attrs)``: a pure function from operand types to result
  types (a :class:`TensorType` or a tuple of them); it raises a ``ValueError``
  or ``TypeError`` naming the op when the operands do not fit;
* ``impl(*arrays, **attrs)``: the numpy reference. It is at once the eager path
  of the backend and the interpreter's meaning of the op, so they cannot
  disagree;
* ``kind``: ``'elementwise'``, ``'reduction'``, ``'linalg'``, ``'shape'``,
  ``'source'``, ``'random'``, ``'control'`` or ``'other'``: what passes and
  code generators may assume of it;
* ``random``: it draws random values (two nodes with the same operands differ);
* ``effect``: running it does something besides computing its results
  (``print_tensor`` prints).

A node of a ``random`` or ``effect`` op is not *pure*: passes never merge,
fold, move or duplicate it (:attr:`OpDef.pure`).

Each compile target keeps its own table ``op name -> emitter``; the registry
knows nothing about targets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .types import TensorType

KINDS = ("elementwise", "reduction", "linalg", "shape", "source", "random", "control", "other")


@dataclass(frozen=True)
class OpDef:
    """The definition of one op (see the module docstring)."""

    name: str
    impl: Callable
    type_rule: Callable
    kind: str
    doc: str = ""
    random: bool = False
    effect: bool = False

    @property
    def pure(self) -> bool:
        """Whether a node of this op may be merged, folded, moved or duplicated."""
        return not (self.random or self.effect)

    def infer(self, types, attrs) -> tuple:
        """The result types for operand ``types`` (always a tuple)."""
        out = self.type_rule(tuple(types), **attrs)
        return (out,) if isinstance(out, TensorType) else tuple(out)

    def run(self, arrays, attrs, out_types=None) -> tuple:
        """Run the numpy reference; results are cast to the inferred dtypes."""
        if out_types is None:
            out_types = self.infer([TensorType.of(a) for a in arrays], attrs)
        with np.errstate(all="ignore"):
            out = self.impl(*arrays, **attrs)
        outs = out if isinstance(out, tuple) else (out,)
        if len(outs) != len(out_types):
            raise AssertionError(f"op {self.name}: reference returned {len(outs)} results, "
                                 f"its type rule {len(out_types)}")
        return tuple(_cast(np.asarray(o), t, self.name) for o, t in zip(outs, out_types))


def _cast(array: np.ndarray, t: TensorType, op: str) -> np.ndarray:
    if array.dtype.name != t.dtype:
        array = array.astype(t.dtype)
    if array.ndim != t.ndim or any(d is not None and d != a for d, a in zip(t.shape, array.shape)):
        raise AssertionError(f"op {op}: reference gave shape {array.shape}, "
                             f"its type rule {t.shape}")
    return array


REGISTRY: dict[str, OpDef] = {}


def register(name: str, *, type_rule: Callable, kind: str, random: bool = False,
             effect: bool = False):
    """Decorator registering ``impl`` as the numpy reference of op ``name``."""
    if kind not in KINDS:
        raise ValueError(f"register({name!r}): kind must be one of {KINDS}, received {kind!r}")

    def decorate(impl):
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        REGISTRY[name] = OpDef(name, impl, type_rule, kind, _describe(impl), random, effect)
        return impl

    return decorate


def _describe(impl) -> str:
    """A short description of a reference: its docstring, or numpy's ufunc name."""
    if isinstance(impl, np.ufunc):
        return f"``numpy.{impl.__name__}``, elementwise."
    return (impl.__doc__ or "").strip()


def get_op(name: str) -> OpDef:
    """The registered op ``name``; a clear error when there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} is registered; known ops: "
                       f"{', '.join(sorted(REGISTRY))}") from None
