"""Nested structures (lists, tuples, dicts) of tensors in ``tf.nest`` order.

Lists and tuples keep their order, dicts go by sorted key; named tuples and
dict types are rebuilt as they were. ``K.rnn``, the layers and the models
all flatten and rebuild their nested arguments with these.
"""
from __future__ import annotations


def is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


def flatten(structure) -> list:
    """The leaves of ``structure`` in ``tf.nest.flatten`` order."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_as(structure, flat):
    """Inverse of :func:`flatten`: ``flat`` arranged like ``structure``."""
    flat = list(flat)
    out, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(f"cannot pack {len(flat)} values into a structure with {used} leaves")
    return out


pack_sequence_as = pack_as


def _pack(structure, flat, i):
    if isinstance(structure, dict):
        packed = {}
        for k in sorted(structure):
            packed[k], i = _pack(structure[k], flat, i)
        return type(structure)((k, packed[k]) for k in structure), i
    if isinstance(structure, (list, tuple)):
        items = []
        for item in structure:
            v, i = _pack(item, flat, i)
            items.append(v)
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):
            return type(structure)(*items), i
        return type(structure)(items), i
    return flat[i], i + 1


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf."""
    return pack_as(structure, [fn(x) for x in flatten(structure)])
