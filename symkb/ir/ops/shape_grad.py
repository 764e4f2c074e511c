"""Gradient rules of the ops that move data (``shape.py``).

Each moves the cotangent back where the data came from: the inverse
permutation, reshape or squeeze; slices of the cotangent for joins and pads;
sums of slices for repetitions. ``getitem`` puts the cotangent back between
zeros (``zeros_like`` of the parts of the operand the index left out, so the
sizes need not be known; a strided slice needs its axis' size and goes
through ``gather``). ``gather``'s cotangent is summed per row by a product
with the ``one_hot`` of the indices (the table's sizes must be known).
"""
from __future__ import annotations

import numpy as np

from ..build import call
from ..errors import ShapeError
from ..node import encode_index, expand_index
from ..registry import NoGradient, declare


def _index(t, items):
    """``getitem`` with encoded ``items`` (the remaining axes whole)."""
    return call("getitem", t, index=tuple(items))


def _on_axis(t, axis, item):
    return _index(t, [("slice", None, None, None)] * axis + [item])


def _sl(start, stop, step=None):
    return ("slice", start, stop, step)


def _reshape(node, cts):
    x = node.inputs[0]
    if sum(d is None for d in x.shape) > 1:
        raise ShapeError(f"gradients: the gradient of reshape to {node.attrs['shape']} needs the "
                         f"operand's shape {x.shape} with at most one unknown dimension")
    return [call("reshape", cts[0], shape=x.shape)]


def _transpose(node, cts):
    perm = node.attrs["perm"]
    inverse = tuple(sorted(range(len(perm)), key=lambda i: perm[i]))
    return [call("transpose", cts[0], perm=inverse)]


def _bounds(dims, i):
    """``(start, stop)`` of operand ``i`` along a join of sizes ``dims`` (from the
    end when the sizes before it are unknown)."""
    def edge(k):
        if all(d is not None for d in dims[:k]):
            return sum(dims[:k])
        if all(d is not None for d in dims[k:]):
            return -sum(dims[k:]) or None
        raise ShapeError(f"gradients: the gradient of a concatenate of sizes {dims} needs "
                         f"the sizes on one side of operand {i}")
    if dims[i] == 0:
        return 0, 0
    return edge(i), edge(i + 1)


def _concatenate(node, cts):
    axis = node.attrs["axis"]
    dims = [t.shape[axis] for t in node.inputs]
    return [_on_axis(cts[0], axis, _sl(*_bounds(dims, i))) for i in range(len(dims))]


def _stack(node, cts):
    axis = node.attrs["axis"]
    return [_on_axis(cts[0], axis, ("int", i)) for i in range(len(node.inputs))]


def _embed(g, x, left, axis, a, start, stop):
    """``g`` (its axis ``axis`` holding ``x[start:stop]`` on axis ``a`` of
    ``x``) between zeros shaped as ``x``'s parts before and after."""
    d = x.shape[a]
    if d is not None:
        start, stop, _ = slice(start, stop).indices(d)
        stop = max(start, stop)
        # zero padding of a known size reads nothing of x (a loop saves no x for it)
        pads = [(0, 0)] * g.ndim
        pads[axis] = (start, d - stop)
        return call("pad", g, pads=tuple(pads)) if start or d - stop else g
    else:
        before, after = (start or None), stop
    parts = [g]
    if before is not None:
        parts.insert(0, call("zeros_like", _index(x, left + [_sl(None, before)])))
    if after is not None:
        parts.append(call("zeros_like", _index(x, left + [_sl(after, None)])))
    return call("concatenate", *parts, axis=axis) if len(parts) > 1 else g


def _scatter_strided(g, x, left, axis, a, item):
    """``g`` (a strided slice of ``x``'s axis ``a``) put back with zeros elsewhere."""
    d = x.shape[a]
    if d is None:
        raise ShapeError(f"gradients: the gradient of getitem with the strided slice {item} "
                         f"needs the size of axis {a} (shape {x.shape})")
    picked = list(range(*slice(item[1], item[2], item[3]).indices(d)))
    if not picked:
        return call("zeros_like", _index(x, left))
    where = {q: o for o, q in enumerate(picked)}
    rows = np.array([where.get(q, len(picked)) for q in range(d)], dtype=np.int32)
    perm = (axis,) + tuple(i for i in range(g.ndim) if i != axis)
    front = call("transpose", g, perm=perm)
    padded = call("concatenate", front, call("zeros_like", _on_axis(front, 0, _sl(0, 1))),
                  axis=0)
    back = tuple(sorted(range(len(perm)), key=lambda i: perm[i]))
    return call("transpose", call("gather", padded, rows), perm=back)


def _getitem(node, cts):
    """Undo the index item by item, last first: the items on the left still hold."""
    x, g = node.inputs[0], cts[0]
    items = expand_index(node.attrs["index"], x.ndim)
    for k in reversed(range(len(items))):
        item, left = items[k], items[:k]
        p = sum(1 for it in left if it[0] in ("slice", "newaxis"))
        a = sum(1 for it in left if it[0] in ("int", "slice"))
        if item[0] == "newaxis":
            g = call("squeeze", g, axis=p)
        elif item[0] == "int":
            i = item[1]
            g = call("expand_dims", g, axis=p)
            g = _embed(g, x, left, p, a, i, None if i == -1 else i + 1)
        elif item[3] not in (None, 1):
            g = _scatter_strided(g, x, left, p, a, item)
        elif item[1] not in (None, 0) or item[2] is not None:
            g = _embed(g, x, left, p, a, item[1], item[2])
    return [g]


def _tile(node, cts):
    x, g = node.inputs[0], cts[0]
    for axis, r in enumerate(node.attrs["reps"]):
        if r == 1:
            continue
        d = x.shape[axis]
        if d is None:
            raise ShapeError(f"gradients: the gradient of tile needs the size of axis {axis} "
                             f"(shape {x.shape}, reps {node.attrs['reps']})")
        parts = [_on_axis(g, axis, _sl(j * d, (j + 1) * d)) for j in range(r)]
        g = parts[0]
        for part in parts[1:]:
            g = call("add", g, part)
    return [g]


def _repeat_elements(node, cts):
    rep, axis, g = node.attrs["rep"], node.attrs["axis"], cts[0]
    total = _on_axis(g, axis, _sl(0, None, rep))
    for j in range(1, rep):
        total = call("add", total, _on_axis(g, axis, _sl(j, None, rep)))
    return [total]


def _pad(node, cts):
    index = [_sl(before or None, -after if after else None) for before, after in node.attrs["pads"]]
    return [_index(cts[0], index)]


def _gather(node, cts):
    """Rows summed by index: ``dot(transpose(one_hot(indices)), g)``."""
    ref, idx = node.inputs
    rest = ref.shape[1:]
    if ref.shape[0] is None or any(d is None for d in rest):
        raise ShapeError(f"gradients: the gradient of gather needs the table's shape, "
                         f"received {ref.shape}")
    width = int(np.prod(rest)) if rest else 1
    hot = call("one_hot", call("reshape", idx, shape=(None,)), num_classes=ref.shape[0])
    if hot.dtype != cts[0].dtype:
        hot = call("cast", hot, dtype=cts[0].dtype)
    rows = call("dot", call("transpose", hot, perm=(1, 0)),
                call("reshape", cts[0], shape=(None, width)))
    return [call("reshape", rows, shape=ref.shape), None]


for _name, _rule in {
    "reshape": _reshape, "transpose": _transpose, "concatenate": _concatenate,
    "stack": _stack, "getitem": _getitem, "tile": _tile, "repeat_elements": _repeat_elements,
    "pad": _pad, "gather": _gather,
    "expand_dims": lambda node, cts: [call("squeeze", cts[0], axis=node.attrs["axis"])],
    "squeeze": lambda node, cts: [call("expand_dims", cts[0], axis=node.attrs["axis"])],
    "reverse": lambda node, cts: [call("reverse", cts[0], axes=node.attrs["axes"])],
}.items():
    declare(_name, grad=_rule)
declare("one_hot", grad=NoGradient("integer operand (tf: None)"))
declare("shape", grad=NoGradient("its value is the operand's shape only (tf: None)"))
