"""What a pass requires of the graph it is given and what it leaves true.

A *property* is a named fact about a graph that some pass establishes and
another relies on. A pass declares, with :func:`declare_pass`,

* ``requires``: the properties that must hold before it runs;
* ``ensures``: the properties it makes hold;
* ``invalidates``: the properties it may break.

:func:`check_order` walks a pass list as :func:`~symkb.lower.run_pipeline`
will run it and raises :class:`PassOrderError`, naming the pass and the
missing property, when a pass would run without what it requires. A graph as
a caller gives it is assumed to have the :data:`GIVEN` properties; a pass
declared nothing (a caller's own function) requires, ensures and breaks
nothing.

The properties:

``verified``
    the IR invariants hold (``verify``);
``types``
    every node's recorded types are its type rule's (``infer_types``; a
    graph as built has them);
``unfused``
    no fusion pass of this pipeline has run yet, so loop bodies show their
    products and gates as single ops (``sink_slices`` and ``licm`` match
    them; the fusion passes break it);
``fused_elementwise``
    elementwise groups are ``fused_elementwise`` nodes (``fuse_dot`` merges
    products into them);
``canonical_loops``
    every loop is in its canonical form (ensured by ``canonicalize_loops``,
    run first after ``verify``; ``licm``, ``sink_slices`` and the code
    generators will require it once that pass is in the pipeline).
"""
from __future__ import annotations

from dataclasses import dataclass

PROPERTIES = frozenset({"verified", "types", "unfused", "fused_elementwise",
                        "canonical_loops"})
GIVEN = frozenset({"types", "unfused"})


class PassOrderError(ValueError):
    """A pass list runs a pass before what it requires holds."""


@dataclass(frozen=True)
class PassInfo:
    """The declared contract of one pass (module docstring)."""

    requires: frozenset = frozenset()
    ensures: frozenset = frozenset()
    invalidates: frozenset = frozenset()


def declare_pass(*, requires=(), ensures=(), invalidates=()):
    """Decorator attaching a :class:`PassInfo` to a pass function (``fn.pass_info``);
    the function itself is returned unchanged."""
    info = PassInfo(frozenset(requires), frozenset(ensures), frozenset(invalidates))
    unknown = sorted((info.requires | info.ensures | info.invalidates) - PROPERTIES)
    if unknown:
        raise ValueError(f"declare_pass: unknown graph properties {unknown}; the properties "
                         f"are {', '.join(sorted(PROPERTIES))}")

    def decorate(fn):
        fn.pass_info = info
        return fn

    return decorate


def pass_info(p) -> PassInfo:
    """The declared contract of pass ``p`` (an empty one when it declares none)."""
    info = getattr(p, "pass_info", None)
    return info if isinstance(info, PassInfo) else PassInfo()


def check_order(passes, name=None, default=()) -> None:
    """Raise :class:`PassOrderError` when a pass of ``passes`` would run without
    a property it requires; ``name(p)`` gives a pass's name in the message,
    and the ``default`` pipeline suggests the pass that ensures the property."""
    passes = tuple(passes)
    name = name or (lambda p: getattr(p, "__name__", type(p).__name__))
    holds = set(GIVEN)
    broken_by: dict = {}
    for i, p in enumerate(passes):
        info = pass_info(p)
        missing = sorted(info.requires - holds)
        if missing:
            prop = missing[0]
            why = (f"pass {broken_by[prop]!r} before it invalidates it" if prop in broken_by
                   else "no earlier pass ensures it")
            makers = [name(q) for q in passes[:i] if prop in pass_info(q).ensures]
            hint = (f"; run a pass that ensures it (such as {makers[-1]!r}) after that"
                    if makers else _ensurer_hint(prop, default, name))
            raise PassOrderError(
                f"pass {name(p)!r} (position {i} of the pass list) requires the graph property "
                f"{prop!r}, but {why}{hint}. The pass list: "
                f"{', '.join(name(q) for q in passes)}")
        for prop in info.invalidates:
            holds.discard(prop)
            broken_by[prop] = name(p)
        holds |= info.ensures
        for prop in info.ensures:
            broken_by.pop(prop, None)


def _ensurer_hint(prop: str, default, name) -> str:
    makers = [name(p) for p in default if prop in pass_info(p).ensures]
    return f"; in the default pipeline {makers[0]!r} ensures it" if makers else ""
