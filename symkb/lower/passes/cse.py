"""Pass ``cse``: common-subexpression elimination.

Assumes: a valid graph. Guarantees: two nodes with the same op, the same
operands (after merging) and equal attributes compute one value; the later is
replaced by the earlier. Never merged: impure ops (two ``dropout`` or
``random_uniform`` nodes draw twice, two ``print_tensor`` nodes print twice),
``param`` nodes of distinct Variables, graph inputs, and nodes with bodies
(loops). Equal ``const`` nodes (same dtype, shape and bytes) are
merged. Bodies are handled on their own (values never merge across a body
boundary).
"""
from __future__ import annotations

import numpy as np

from ...ir import Graph, get_op
from .info import declare_pass
from .rewrite import map_bodies, rewrite


@declare_pass(requires={"types"})
def cse(graph: Graph) -> Graph:
    """Merge duplicate computations (see the module docstring)."""
    graph = map_bodies(graph, cse)
    seen: dict = {}

    def merge_duplicates(node):
        key = node_key(node)
        if key is None:
            return None
        if key in seen:
            return seen[key].outputs
        seen[key] = node
        return None

    return rewrite(graph, merge_duplicates)


def node_key(node):
    """A hashable key equal for interchangeable nodes, or ``None`` (never merge)."""
    opdef = get_op(node.op)
    if not opdef.pure or node.op in ("input", "param") or node.bodies():
        return None
    try:
        attrs = tuple(sorted((k, _hashable(v)) for k, v in node.attrs.items()))
        key = (node.op, tuple(node.inputs), attrs, tuple(node.out_types))
        hash(key)
    except TypeError:
        return None
    return key


def _hashable(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.name, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, float) and value != value:
        return ("nan",)
    return value
