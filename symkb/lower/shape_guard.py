"""Run-time shape checks for compiled code.

A compiled kernel is generated for the graph's static types: where operands
have unknown (``None``) dimensions, it assumes that the unknown sizes of the
inputs agree when it runs (the same batch size for every input, say). numpy,
and so the interpreter, would also broadcast a size-1 input against a larger
one there, or reject sizes that do not fit.

:class:`ShapeGuard` checks each new combination of input shapes once and
remembers the answer: when two inputs have different run-time sizes at an
axis that is unknown in both, the call runs on the interpreter (the same
values as numpy, or numpy's error), never on a kernel built on the opposite
assumption. Every other call costs one dictionary lookup.
"""
from __future__ import annotations

_MAX_REMEMBERED = 256


class ShapeGuard:
    """Remembers, per tuple of input shapes, whether the kernel fits them."""

    def __init__(self, graph):
        self._static = [t.shape for t in graph.inputs]
        self._seen: dict = {}

    def fits(self, arrays) -> bool:
        key = tuple(a.shape for a in arrays)
        verdict = self._seen.get(key)
        if verdict is None:
            if len(self._seen) >= _MAX_REMEMBERED:
                self._seen.clear()
            verdict = self._seen[key] = _unknown_sizes_agree(self._static, key)
        return verdict


def _unknown_sizes_agree(static_shapes, shapes) -> bool:
    """Whether every axis that is unknown in several inputs has one size."""
    sizes: dict = {}
    for static, shape in zip(static_shapes, shapes):
        for axis, (want, got) in enumerate(zip(static, shape)):
            if want is None:
                sizes.setdefault(axis, set()).add(got)
    return all(len(s) == 1 for s in sizes.values())
