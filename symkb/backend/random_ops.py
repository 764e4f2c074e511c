"""Random tensors and randomly initialised variables.

A static shape (a tuple of ints) draws at once, from
``numpy.random.default_rng(seed)``, and returns an ``np.ndarray``. A symbolic
shape (``K.shape(x)``, or a tuple holding symbolic sizes) records a random
op (``symkb/ir/ops/random.py``) that draws when the graph runs: with a
``seed`` the same values at every run, without one new values at every run;
each call records its own node, never merged with another. (``K.dropout`` is
an op, in ``nn_ops.py``.)
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..ir import KerasTensor
from .config import floatx
from .variables import variable


def _rng(seed):
    return np.random.default_rng(seed)


def _symbolic_shape(shape, op):
    """``(shape tensor, dims)`` for a symbolic ``shape``, else ``None``.

    ``dims`` is what is known at build time: the sizes of a ``K.shape(x)``
    that ``x``'s type knows, the ints of a tuple."""
    if isinstance(shape, KerasTensor):
        if shape.ndim != 1 or shape.shape[0] is None or not shape.dtype.startswith("int"):
            raise ValueError(f"{op}: a symbolic `shape` must be a 1-D int tensor of known "
                             f"length. Received: shape={shape!r}")
        dims = (None,) * shape.shape[0]
        if shape.node.op == "shape":
            dims = tuple(shape.node.inputs[0].shape)
        return ir.call("cast", shape, dtype="int32"), dims
    if isinstance(shape, (list, tuple)) and any(isinstance(d, KerasTensor) for d in shape):
        parts, dims = [], []
        for d in shape:
            if isinstance(d, KerasTensor):
                if d.ndim != 0 or not d.dtype.startswith("int"):
                    raise ValueError(f"{op}: every size in `shape` must be an int or an int "
                                     f"scalar tensor. Received: {d!r}")
                parts.append(ir.call("cast", d, dtype="int32"))
                dims.append(None)
            else:
                parts.append(ir.const(np.int32(d)))
                dims.append(int(d))
        return ir.call("stack", *parts, axis=0), tuple(dims)
    return None


def _draw(op, shape, dtype, seed, **params):
    """Record ``op`` when ``shape`` is symbolic; ``None`` when it is static."""
    symbolic = _symbolic_shape(shape, op)
    if symbolic is None:
        return None
    tensor, dims = symbolic
    if seed is not None:
        seed = int(seed)
    return ir.call(op, tensor, dims=dims, dtype=dtype or floatx(), seed=seed,
                   **{k: float(v) for k, v in params.items()})


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Return a tensor with a uniform distribution of values in ``[minval, maxval)``.

    Args:
        shape: the shape: a tuple of ints, or symbolic (``K.shape(x)``, a
            tuple holding scalar tensors) to draw when the graph runs.
        minval: the lower bound.
        maxval: the upper bound (excluded).
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``, or a KerasTensor for a symbolic shape.
    """
    drawn = _draw("random_uniform", shape, dtype, seed, minval=minval, maxval=maxval)
    if drawn is not None:
        return drawn
    return _rng(seed).uniform(minval, maxval, size=tuple(shape)).astype(dtype or floatx())


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a normal distribution of values.

    Args:
        shape: the shape (a tuple of ints, or symbolic as in
            :func:`random_uniform`).
        mean: the mean.
        stddev: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``, or a KerasTensor for a symbolic shape.
    """
    drawn = _draw("random_normal", shape, dtype, seed, mean=mean, stddev=stddev)
    if drawn is not None:
        return drawn
    return _rng(seed).normal(mean, stddev, size=tuple(shape)).astype(dtype or floatx())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a truncated normal distribution of values.

    Values more than two standard deviations from the mean are redrawn.

    Args:
        shape: the shape (a tuple of ints, or symbolic as in
            :func:`random_uniform`).
        mean: the mean.
        stddev: the standard deviation before truncation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``, or a KerasTensor for a symbolic shape.
    """
    drawn = _draw("truncated_normal", shape, dtype, seed, mean=mean, stddev=stddev)
    if drawn is not None:
        return drawn
    rng = _rng(seed)
    out = rng.normal(0.0, 1.0, size=tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * stddev + mean).astype(dtype or floatx())


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """Return a tensor of 1s with probability ``p`` and 0s otherwise.

    ``random_binomial`` is the same function (its old tf_keras name).

    Args:
        shape: the shape (a tuple of ints, or symbolic as in
            :func:`random_uniform`).
        p: the probability of a 1.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``, or a KerasTensor for a symbolic shape.
    """
    drawn = _draw("random_bernoulli", shape, dtype, seed, p=p)
    if drawn is not None:
        return drawn
    return (_rng(seed).random(tuple(shape)) < p).astype(dtype or floatx())


random_binomial = random_bernoulli


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """Instantiate a variable with values drawn from a uniform distribution.

    Args:
        shape: the shape, a tuple of ints.
        low: the lower bound.
        high: the upper bound.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.
        seed: an int for reproducible draws.

    Returns:
        A Variable.
    """
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """Instantiate a variable with values drawn from a normal distribution.

    Args:
        shape: the shape (a tuple of ints, or symbolic as in
            :func:`random_uniform`).
        mean: the mean.
        scale: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.
        seed: an int for reproducible draws.

    Returns:
        A Variable.
    """
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)
