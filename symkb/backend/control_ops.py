"""``map_fn``, ``foldl`` and ``foldr``: Python functions applied along axis 0.

Eagerly they loop over the first axis of numpy arrays. Symbolically the
first dimension must be static: the loop is unrolled into the graph (one
``getitem`` per element, the function traced once per element), so the
result is an ordinary graph of ``K`` ops. For loops over an unknown length,
use :func:`symkb.backend.rnn`, which records a single loop node.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ._util import shape_of

call = ir.call


def _length(elems, op):
    if ir.is_symbolic(elems):
        n = shape_of(elems)[0] if shape_of(elems) else None
        if n is None:
            raise ValueError(
                f"{op}: the first dimension of a symbolic `elems` must be known to unroll the "
                f"loop; received shape {shape_of(elems)}. Use K.rnn for loops over an unknown "
                "number of steps.")
        return n
    if np.ndim(elems) == 0:
        raise ValueError(f"{op}: `elems` must have rank >= 1, received a scalar {elems!r}")
    return len(ir.build.to_array(elems))


def _element(elems, i):
    if ir.is_symbolic(elems):
        return elems[i]
    return np.asarray(ir.build.to_array(elems))[i]


def _stack(values):
    if any(ir.is_symbolic(v) for v in values):
        return call("stack", *values, axis=0)
    return np.stack([np.asarray(v) for v in values])


def map_fn(fn, elems, name=None, dtype=None):
    """Map ``fn`` over the elements of ``elems`` along its first axis.

    Args:
        fn: a callable taking one element (``elems[i]``) and returning a tensor.
        elems: a tensor of rank >= 1 (symbolic: its first dimension must be known).
        name: unused (kept for tf_keras compatibility).
        dtype: the result dtype (``None``: whatever ``fn`` returns).

    Returns:
        ``stack([fn(elems[0]), fn(elems[1]), ...])``.

    Raises:
        ValueError: for a scalar, or a symbolic tensor of unknown length.
    """
    n = _length(elems, "map_fn")
    if n == 0:
        raise ValueError("map_fn: `elems` is empty (first dimension 0); nothing to map over")
    out = _stack([fn(_element(elems, i)) for i in range(n)])
    if dtype is not None:
        out = call("cast", out, dtype=ir.types.canonical_dtype(dtype))
    return out


def foldl(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` from left to right with ``fn(accumulator, element)``.

    Args:
        fn: a callable ``(acc, x) -> acc``.
        elems: a tensor of rank >= 1 (symbolic: its first dimension must be known).
        initializer: the first accumulator; ``None`` uses ``elems[0]`` and
            folds the rest.
        name: unused (kept for tf_keras compatibility).

    Returns:
        The final accumulator.

    Raises:
        ValueError: for a scalar, a symbolic tensor of unknown length, or an
            empty ``elems`` without an initializer.
    """
    return _fold(fn, elems, initializer, range(_length(elems, "foldl")), "foldl")


def foldr(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` from right to left with ``fn(accumulator, element)``.

    Args:
        fn: a callable ``(acc, x) -> acc``.
        elems: a tensor of rank >= 1 (symbolic: its first dimension must be known).
        initializer: the first accumulator; ``None`` uses ``elems[-1]`` and
            folds the rest.
        name: unused (kept for tf_keras compatibility).

    Returns:
        The final accumulator.

    Raises:
        ValueError: as for :func:`foldl`.
    """
    return _fold(fn, elems, initializer, reversed(range(_length(elems, "foldr"))), "foldr")


def _fold(fn, elems, initializer, order, op):
    order = list(order)
    if initializer is None:
        if not order:
            raise ValueError(f"{op}: `elems` is empty and no `initializer` was given")
        acc, order = _element(elems, order[0]), order[1:]
    else:
        acc = initializer
    for i in order:
        acc = fn(acc, _element(elems, i))
    return acc
