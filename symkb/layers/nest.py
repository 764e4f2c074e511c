"""Nested structures (lists, tuples, dicts) of tensors, flattened in tf.nest order."""
from __future__ import annotations


def flatten(structure) -> list:
    """Leaves in order; dict values by sorted key."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_as(structure, leaves):
    """Rebuild ``structure`` with ``leaves`` (the inverse of :func:`flatten`)."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        if isinstance(s, tuple):
            return tuple(build(v) for v in s)
        if isinstance(s, list):
            return [build(v) for v in s]
        return next(it)

    return build(structure)


def map_structure(fn, structure):
    return pack_as(structure, [fn(x) for x in flatten(structure)])
