"""Emitter tables: how a target's modules declare the ops they lower.

Each emitter module of a target owns its table and registers into it::

    EMITTERS: dict = {}
    emitter = registrar(EMITTERS)

    @emitter("relu", "tanh")
    def emit_unary(cg, node): ...

The target assembles its whole table in one place by importing those modules
and merging their tables (:func:`merge`), so no module is imported for the
side effect of filling a global, and an op claimed by two modules is an error
at import time rather than a silent override.
"""
from __future__ import annotations


def registrar(table: dict):
    """A decorator ``emitter(*ops)`` that registers a function into ``table``."""
    def emitter(*ops):
        def register(fn):
            for op in ops:
                table[op] = fn
            return fn
        return register
    return emitter


def merge(target: str, *tables: dict) -> dict:
    """One table from the emitter modules' tables of ``target``.

    Raises:
        ValueError: two tables lower the same op (the message names it).
    """
    merged: dict = {}
    for table in tables:
        for op, fn in table.items():
            if op in merged and merged[op] is not fn:
                raise ValueError(f"{target} target: op {op!r} has two emitters, "
                                 f"{merged[op].__module__}.{merged[op].__qualname__} and "
                                 f"{fn.__module__}.{fn.__qualname__}; expected one")
            merged[op] = fn
    return merged
