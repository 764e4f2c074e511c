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

*Traits* are the facts passes and targets ask of an op, declared once here
instead of as tests of its name scattered through the compiler:

* ``bodies``: the attribute names that hold nested graphs (a loop's step);
  the passes' ``map_bodies`` reaches them through it, and the completeness
  test checks that an op whose reference takes a ``body`` declares it;
* ``fused``: a fused group node built by a fusion pass; its body is a small
  graph of other ops that the passes leave as the fusion built it (opaque),
  and the code generators emit inline;
* ``rows``: the name of the rule that tells whether a node keeps the batch
  rows apart (the cpu row blocks, ``symkb/lower/cpu/rows.py`` ``ROW_RULES``);
  ``None``: a node of the op touching a batch row keeps the graph whole;
* ``step``: the name of the rule by which ``licm`` hoists a per-step value
  computed for every step at once (``symkb/lower/passes/licm.py``
  ``STEP_RULES``); ``None``: a node of the op never becomes per-step;
* ``check``: the verifier hook, ``check(node)`` raising ``VerifyError``,
  run after the type rule (a loop checks its step's signature);
* ``print_attrs``: ``print_attrs(attrs) -> dict``, the attributes as the
  printer shows them (a ``param`` shows its Variable's name);
* ``right_identity`` and ``commutative``: ``x op unit == x`` (and
  ``unit op x == x`` when commutative), for ``simplify``;
* ``noop_same_type``: the node is its operand when their types agree:
  ``'always'`` (``cast``) or ``'static'`` (``reshape``, when the shape is
  fully known);
* ``grad``: the reverse-mode rule, ``grad(node, cotangents) -> [cotangent
  per operand or None]``, written with registered ops so that gradients of
  gradients work (``symkb/ir/gradients.py`` calls it), or a
  :class:`NoGradient` saying why the op has none (comparisons, integer
  results, random draws) or that it has none yet (``pending``).

Elementwise ops get the ``'elementwise'`` row and step rules and reductions
the ``'axis'`` row rule unless they declare others. A rule is looked up by its
name in the table of the pass or target that uses it; the completeness test
(``tests/test_op_traits.py``) fails when a name has no rule there.

Each compile target keeps its own table ``op name -> emitter``; the registry
knows nothing about targets.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np

from .types import TensorType

@dataclass(frozen=True)
class NoGradient:
    """An op's explicit declaration that reverse mode sends nothing through it.

    ``reason`` says why (shown in errors and the op reference). ``pending``:
    the op is differentiable but its rule is not written yet; reverse mode
    through a node of it raises ``NotImplementedError`` naming the op instead
    of answering ``None``.
    """

    reason: str
    pending: bool = False


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
    bodies: tuple = ()
    fused: bool = False
    rows: Optional[str] = None
    step: Optional[str] = None
    check: Optional[Callable] = None
    print_attrs: Optional[Callable] = None
    right_identity: object = None
    commutative: bool = False
    noop_same_type: Optional[str] = None
    grad: object = None

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

TRAITS = ("bodies", "fused", "rows", "step", "check", "print_attrs", "right_identity",
          "commutative", "noop_same_type", "grad")
_DEFAULT_ROWS = {"elementwise": "elementwise", "reduction": "axis"}
_DEFAULT_STEP = {"elementwise": "elementwise"}
_NOOP_WHEN = (None, "always", "static")


def register(name: str, *, type_rule: Callable, kind: str, random: bool = False,
             effect: bool = False, **traits):
    """Decorator registering ``impl`` as the numpy reference of op ``name``.

    ``traits`` are the keyword traits of :class:`OpDef` (module docstring).
    """
    if kind not in KINDS:
        raise ValueError(f"register({name!r}): kind must be one of {KINDS}, received {kind!r}")
    traits.setdefault("rows", _DEFAULT_ROWS.get(kind))
    traits.setdefault("step", _DEFAULT_STEP.get(kind))
    _check_traits(name, traits)

    def decorate(impl):
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        REGISTRY[name] = OpDef(name, impl, type_rule, kind, _describe(impl), random, effect,
                               **traits)
        return impl

    return decorate


def declare(name: str, **traits) -> OpDef:
    """Add ``traits`` to the already registered op ``name`` (for an op module
    whose hooks are defined after its ``register`` call)."""
    _check_traits(name, traits)
    REGISTRY[name] = replace(get_op(name), **traits)
    return REGISTRY[name]


def _check_traits(name: str, traits: dict) -> None:
    unknown = sorted(set(traits) - set(TRAITS))
    if unknown:
        raise TypeError(f"register({name!r}): unknown trait(s) {unknown}; the traits are "
                        f"{', '.join(TRAITS)}")
    if traits.get("noop_same_type") not in _NOOP_WHEN:
        raise ValueError(f"register({name!r}): noop_same_type must be one of {_NOOP_WHEN}, "
                         f"received {traits['noop_same_type']!r}")
    grad = traits.get("grad")
    if grad is not None and not (callable(grad) or isinstance(grad, NoGradient)):
        raise TypeError(f"register({name!r}): grad is a rule grad(node, cotangents) or a "
                        f"NoGradient, received {type(grad).__name__}")
    if isinstance(traits.get("bodies"), str):
        raise TypeError(f"register({name!r}): bodies is a tuple of attribute names, "
                        f"received the string {traits['bodies']!r}")


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
