"""Weight initialisers with tf_keras's names, aliases, defaults, configs and formulas.

Each initialiser is a callable ``(shape, dtype) -> np.ndarray``. The random
ones draw from numpy (``np.random.default_rng(seed)``), so a seed gives
reproducible values, though not tf's bits; the distributions are tf_keras's:

* fans (:func:`compute_fans`): rank 0 → ``(1, 1)``; rank 1 → ``(n, n)``;
  rank 2 → ``(rows, cols)``; higher ranks multiply both by the receptive
  field ``prod(shape[:-2])``;
* ``TruncatedNormal``: normal draws redrawn until within two standard
  deviations of the mean;
* ``VarianceScaling``: ``scale / max(1, n)`` with ``n`` the chosen fan; the
  truncated normal's standard deviation is divided by 0.87962566103423978
  (the std of a unit normal truncated at ±2) so the variance is the target;
* ``Orthogonal``: Q of the QR decomposition of a normal matrix, with the sign
  of R's diagonal, transposed for wide shapes, times ``gain``;
* ``Identity``: ``gain * eye(rows, cols)``, 2-D only.

:func:`get` accepts every name tf_keras accepts (``'glorot_uniform'``,
``'GlorotUniform'``, ``'GlorotUniformV2'``, ``'uniform'``, ``'normal'``,
``'one'``, ``'zero'``, ...), a ``{"class_name", "config"}`` dict, an
Initializer or a callable; :func:`serialize` writes tf_keras's dict.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend.session import to_snake_case
from ..ir import limits

_TRUNCATED_STDDEV = 0.87962566103423978  # std of a unit normal truncated at +-2


class Initializer:
    """Base class: callable ``(shape, dtype) -> np.ndarray``; ``get_config`` as tf_keras."""

    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        return np.random.default_rng(self.seed)

    def get_config(self) -> dict:
        """The constructor arguments (``from_config`` rebuilds the initialiser)."""
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config):
        """An initialiser from ``get_config``'s dict."""
        return cls(**config)

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


def compute_fans(shape) -> tuple:
    """``(fan_in, fan_out)`` of a weight of ``shape``, as tf_keras computes them.

    Args:
        shape: the weight's shape (a tuple of ints).

    Returns:
        ``(fan_in, fan_out)``: a 2-D kernel's rows and columns; higher ranks
        (convolution kernels) multiply both by ``prod(shape[:-2])``; a vector
        gives its length twice and a scalar ``(1, 1)``.
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng, shape, mean, stddev):
    """Normal draws redrawn until within two standard deviations (tf's rule)."""
    out = rng.normal(0.0, 1.0, shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + stddev * out


class Zeros(Initializer):
    """All zeros."""

    def __init__(self):
        super().__init__(None)

    def get_config(self):
        return {}

    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=dtype)


class Ones(Zeros):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    """Every entry ``value`` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value=0):
        super().__init__(None)
        self.value = value

    def get_config(self):
        return {"value": self.value}

    def __call__(self, shape, dtype="float32"):
        return np.array(np.broadcast_to(np.asarray(self.value, dtype=dtype), shape))


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}

    def __call__(self, shape, dtype="float32"):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype)


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}

    def __call__(self, shape, dtype="float32"):
        return self._rng().normal(self.mean, self.stddev, shape).astype(dtype)


class TruncatedNormal(RandomNormal):
    """Normal with ``mean`` and ``stddev``, values beyond two ``stddev`` redrawn."""

    def __call__(self, shape, dtype="float32"):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev).astype(dtype)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Draws whose variance is ``scale / n``, ``n`` the ``mode``'s fan (see the module).

    Args:
        scale: a positive float.
        mode: ``'fan_in'``, ``'fan_out'`` or ``'fan_avg'``.
        distribution: ``'truncated_normal'`` (``'normal'`` is read as it),
            ``'untruncated_normal'`` or ``'uniform'``.
        seed: the numpy seed.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of "
                             f"{list(_MODES)}.")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution}. Allowed "
                             f"distributions: {list(_DISTRIBUTIONS)}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, shape).astype(dtype)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(scale), shape).astype(dtype)
        stddev = math.sqrt(scale) / _TRUNCATED_STDDEV
        return _truncated_normal(rng, shape, 0.0, stddev).astype(dtype)


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed arguments; its config is the seed only."""

    _ARGS: tuple = ()

    def __init__(self, seed=None):
        super().__init__(*self._ARGS, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))``."""

    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))`` before truncation."""

    _ARGS = (1.0, "fan_avg", "truncated_normal")


class LecunUniform(_Preset):
    """Uniform in ``±sqrt(3 / fan_in)``."""

    _ARGS = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(1 / fan_in)`` before truncation."""

    _ARGS = (1.0, "fan_in", "truncated_normal")


class HeUniform(_Preset):
    """Uniform in ``±sqrt(6 / fan_in)``."""

    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(2 / fan_in)`` before truncation."""

    _ARGS = (2.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """An orthogonal matrix (rows or columns orthonormal) times ``gain``.

    Shapes of rank > 2 are initialised as ``(prod(shape[:-1]), shape[-1])``.
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        # a QR decomposition: rows * cols * min(rows, cols) work, bounded while loading
        limits.check_work(rows * cols * min(rows, cols), f"Orthogonal initializer of shape {shape}")
        a = self._rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular allowed)."""

    def __init__(self, gain=1.0):
        super().__init__(None)
        self.gain = gain

    def get_config(self):
        return {"gain": self.gain}

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(dtype)


_CLASS_LIST = (Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal,
               VarianceScaling, Orthogonal, Identity, GlorotUniform, GlorotNormal,
               LecunUniform, LecunNormal, HeUniform, HeNormal)
_CLASSES = {cls.__name__: cls for cls in _CLASS_LIST}


def _aliases() -> dict:
    """Every name tf_keras's ``initializers.get`` accepts: class names, their
    snake-case forms, the ``V2`` names old configs hold, and the short aliases."""
    table = {}
    for name, cls in _CLASSES.items():
        table[name] = table[name + "V2"] = table[to_snake_case(name)] = cls
    for name in ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
                 "lecun_normal", "lecun_uniform"):
        table[name + "V2"] = table[name]
    table.update(normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros)
    return table


_ALIASES = _aliases()


def names() -> list:
    """The names :func:`get` accepts, sorted."""
    return sorted(_ALIASES)


def get(identifier) -> Initializer:
    """An initialiser from a name, a config dict, an Initializer or a callable.

    Args:
        identifier: ``None`` (gives ``None``), a name or alias (see
            :func:`names`), a ``{"class_name", "config"}`` dict (tf_keras's
            serialised form), an :class:`Initializer` or any callable
            ``(shape, dtype)``.

    Raises:
        ValueError: for an unknown name or class, naming what was received.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and \
            not isinstance(identifier, (str, dict, type)):
        return identifier
    if isinstance(identifier, str) and identifier in _ALIASES:
        return _ALIASES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _ALIASES:
        cls = _ALIASES[identifier["class_name"]]
        return cls.from_config(dict(identifier.get("config") or {}))
    shown = identifier.get("class_name") if isinstance(identifier, dict) else identifier
    raise ValueError(f"Unknown initializer: {shown!r}. Expected a name among {names()}, a "
                     "{'class_name': ..., 'config': ...} dict or an Initializer.")


def serialize(init) -> dict | None:
    """tf_keras's serialised form of ``init`` (``None`` stays ``None``).

    Raises:
        ValueError: for a plain function, which has no config.
    """
    if init is None:
        return None
    if isinstance(init, Initializer):
        return {"module": "keras.initializers", "class_name": type(init).__name__,
                "config": init.get_config(), "registered_name": None}
    raise ValueError(f"cannot serialize the initializer {init!r} (a plain function); use an "
                     "Initializer subclass")
