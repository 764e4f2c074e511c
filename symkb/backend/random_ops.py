"""Random tensors (numpy arrays) and randomly initialised variables.

Draws come from ``numpy.random.default_rng(seed)``: a seed makes them
reproducible. (``K.dropout`` is an op, in ``nn_ops.py``.)
"""
from __future__ import annotations

import numpy as np

from .config import floatx
from .variables import variable


def _rng(seed):
    return np.random.default_rng(seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Return a tensor with a uniform distribution of values in ``[minval, maxval)``.

    Args:
        shape: the shape, a tuple of ints.
        minval: the lower bound.
        maxval: the upper bound (excluded).
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    return _rng(seed).uniform(minval, maxval, size=tuple(shape)).astype(dtype or floatx())


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a normal distribution of values.

    Args:
        shape: the shape, a tuple of ints.
        mean: the mean.
        stddev: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    return _rng(seed).normal(mean, stddev, size=tuple(shape)).astype(dtype or floatx())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a truncated normal distribution of values.

    Values more than two standard deviations from the mean are redrawn.

    Args:
        shape: the shape, a tuple of ints.
        mean: the mean.
        stddev: the standard deviation before truncation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
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
        shape: the shape, a tuple of ints.
        p: the probability of a 1.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
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
        shape: the shape, a tuple of ints.
        mean: the mean.
        scale: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.
        seed: an int for reproducible draws.

    Returns:
        A Variable.
    """
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)
