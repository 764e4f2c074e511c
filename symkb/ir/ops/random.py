"""Random ops: tensors of random values whose shape is known at run time.

Each op takes one operand, the shape (a 1-D int tensor of static length, such
as ``K.shape(x)``); the attribute ``dims`` holds what is known of the result's
shape at build time (``None`` for the sizes only the run knows). They are
``random`` ops: passes never merge, fold, move or duplicate them, so two calls
of ``K.random_uniform(K.shape(x))`` are two draws.

Seeds: with an int ``seed`` a node draws the same values at every run (the
reference uses ``numpy.random.default_rng(seed)``); with ``seed=None`` every
run draws new values. Each target has its own generator (the cpu target uses
Numba's), so targets agree on the distribution, not on the values.
"""
from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..registry import register
from ..types import TensorType, is_float, is_int


def _rule(name):
    def rule(types, *, dims, dtype, seed=None, **params):
        (shape,) = types
        if not is_int(shape.dtype) or shape.ndim != 1:
            raise ShapeError(f"{name}: the shape must be a 1-D int tensor; received "
                             f"{shape.dtype}{list(shape.shape)}")
        if shape.shape[0] is None or shape.shape[0] != len(dims):
            raise ShapeError(f"{name}: the shape tensor must have a static length equal to "
                             f"the rank ({len(dims)}); received {list(shape.shape)}")
        if not is_float(dtype):
            raise DTypeError(f"{name}: expected a floating-point dtype, received {dtype!r}")
        return TensorType(tuple(dims), dtype)
    return rule


def _size(shape) -> tuple:
    size = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    if any(d < 0 for d in size):
        raise ValueError(f"random op: a negative size in shape {list(size)}")
    return size


@register("random_uniform", type_rule=_rule("random_uniform"), kind="random", random=True)
def random_uniform(shape, *, dims, dtype, seed=None, minval=0.0, maxval=1.0):
    """Uniform values in ``[minval, maxval)``."""
    rng = np.random.default_rng(seed)
    return rng.uniform(minval, maxval, size=_size(shape)).astype(dtype)


@register("random_normal", type_rule=_rule("random_normal"), kind="random", random=True)
def random_normal(shape, *, dims, dtype, seed=None, mean=0.0, stddev=1.0):
    """Normal values of mean ``mean`` and standard deviation ``stddev``."""
    rng = np.random.default_rng(seed)
    return rng.normal(mean, stddev, size=_size(shape)).astype(dtype)


@register("truncated_normal", type_rule=_rule("truncated_normal"), kind="random", random=True)
def truncated_normal(shape, *, dims, dtype, seed=None, mean=0.0, stddev=1.0):
    """Normal values, those more than two standard deviations out redrawn."""
    rng = np.random.default_rng(seed)
    out = rng.normal(0.0, 1.0, size=_size(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * stddev + mean).astype(dtype)


@register("random_bernoulli", type_rule=_rule("random_bernoulli"), kind="random", random=True)
def random_bernoulli(shape, *, dims, dtype, seed=None, p=0.5):
    """1 with probability ``p``, else 0."""
    rng = np.random.default_rng(seed)
    return (rng.random(_size(shape)) < p).astype(dtype)
