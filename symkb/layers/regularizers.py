"""Weight and activity regularizers (tf_keras 2.x's ``L1``, ``L2``, ``L1L2``).

A regularizer maps a tensor to a scalar penalty: ``L1``: ``l1 * sum(|x|)``,
``L2``: ``l2 * sum(x ** 2)``, ``L1L2``: both. Layers take them as
``kernel_regularizer``, ``bias_regularizer``, ``recurrent_regularizer``,
``activity_regularizer``, ... (an object, a name ``'l1'``, ``'l2'``,
``'l1_l2'`` with tf_keras's default factor 0.01, or a serialised dict); the
penalties appear in ``layer.losses`` / ``model.losses`` and ``fit`` adds
them to the training loss, as tf_keras does (``layers/regularization.py``).
Also reachable as ``symkb.regularizers``.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K

_DEFAULT = 0.01


class Regularizer:
    """Base class: ``regularizer(x)`` is the penalty of ``x`` (a scalar tensor)."""

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} defines no penalty")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _factor(value, name, cls) -> float:
    value = _DEFAULT if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{cls}: `{name}` must be a finite number >= 0; received {value!r}")
    return float(value)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)`` (tf_keras: both factors default to 0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1", type(self).__name__)
        self.l2 = _factor(l2, "l2", type(self).__name__)

    def __call__(self, x):
        penalty = None
        if self.l1:
            penalty = np.float32(self.l1) * K.sum(K.abs(x))
        if self.l2:
            term = np.float32(self.l2) * K.sum(K.square(x))
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else K.sum(x) * np.float32(0.0)

    def get_config(self) -> dict:
        return {"l1": float(np.float32(self.l1)), "l2": float(np.float32(self.l2))}


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=_DEFAULT, **kwargs):
        self.l1 = _factor(kwargs.pop("l", l1), "l1", "L1")

    def __call__(self, x):
        return np.float32(self.l1) * K.sum(K.abs(x))

    def get_config(self) -> dict:
        return {"l1": float(np.float32(self.l1))}


class L2(Regularizer):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2=_DEFAULT, **kwargs):
        self.l2 = _factor(kwargs.pop("l", l2), "l2", "L2")

    def __call__(self, x):
        return np.float32(self.l2) * K.sum(K.square(x))

    def get_config(self) -> dict:
        return {"l2": float(np.float32(self.l2))}


def l1_l2(l1=_DEFAULT, l2=_DEFAULT) -> L1L2:
    """tf_keras's ``l1_l2``: both factors default to 0.01 (``L1L2``'s to 0)."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
ALL = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2}


def serialize(regularizer) -> dict:
    """tf_keras's serialised form ``{"module", "class_name", "config", "registered_name"}``."""
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def deserialize(config) -> Regularizer:
    """A regularizer from :func:`serialize`'s dict (or tf_keras's)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = ALL.get(name) or _NAMES.get(str(name))
    if cls is None:
        raise ValueError(f"regularizers.deserialize: unknown or unsupported regularizer "
                         f"{name!r}; symkb applies {sorted(ALL)}")
    return cls(**dict(config.get("config") or {}))


def get(identifier):
    """A regularizer from ``None``, a name, a serialised dict or a callable.

    Raises:
        ValueError: an unknown name or class.
        TypeError: anything else.
    """
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _NAMES:
            return _NAMES[identifier]()
        if identifier in ALL:
            return ALL[identifier]()
        raise ValueError(f"regularizers.get: unknown or unsupported regularizer "
                         f"{identifier!r}; symkb applies {sorted(_NAMES) + sorted(ALL)}, their "
                         "serialised dicts or a callable")
    raise TypeError(f"regularizers.get: expected a name, dict or callable, received "
                    f"{type(identifier).__name__}")
