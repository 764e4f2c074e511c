"""Regularizer and constraint arguments, kept for ``get_config`` as tf_keras writes them.

Constraints have no effect (a layer keeps them only to give them back in its
config); regularizers add their penalties to the training loss
(``regularization.py``). A name tf_keras accepts
(``"l2"``, ``"L1L2"``, ``"max_norm"``, ``"nonneg"``, ...) becomes tf_keras's
serialised object with tf_keras's defaults (``{"module":
"keras.regularizers", "class_name": "L2", "config": {"l2": 0.01...},
"registered_name": None}``, the factor as the float32 tf_keras stores); a
serialised dict is kept as given, so a config read from tf_keras goes back
out unchanged; a regularizer object with ``get_config`` is serialised as
tf_keras serialises it; another Python callable has no config form and is kept
as ``None``.
"""
from __future__ import annotations

import numpy as np

_F = float(np.float32(0.01))  # tf_keras keeps its default factors as float32

_REGULARIZERS = {
    "L1": {"l1": _F}, "L2": {"l2": _F}, "L1L2": {"l1": 0.0, "l2": 0.0},
    "OrthogonalRegularizer": {"factor": _F, "mode": "rows"},
}
_REGULARIZER_NAMES = {"l1": ("L1", None), "l2": ("L2", None),
                      "l1_l2": ("L1L2", {"l1": _F, "l2": _F}),
                      "orthogonal_regularizer": ("OrthogonalRegularizer", None)}
_CONSTRAINTS = {
    "MaxNorm": {"max_value": 2, "axis": 0}, "NonNeg": {}, "UnitNorm": {"axis": 0},
    "MinMaxNorm": {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
    "RadialConstraint": {},
}
_CONSTRAINT_NAMES = {"max_norm": "MaxNorm", "maxnorm": "MaxNorm", "non_neg": "NonNeg",
                     "nonneg": "NonNeg", "unit_norm": "UnitNorm", "unitnorm": "UnitNorm",
                     "min_max_norm": "MinMaxNorm", "radial_constraint": "RadialConstraint"}


def _entry(module, class_name, config) -> dict:
    return {"module": module, "class_name": class_name, "config": dict(config),
            "registered_name": None}


def serialize_spec(argument: str, value):
    """What ``get_config`` holds for a regularizer or constraint argument.

    Args:
        argument: the argument's name (``kernel_regularizer``,
            ``bias_constraint``, ...): its ending says which kind it is.
        value: ``None``, a name, a serialised dict or a callable.

    Raises:
        ValueError: for a name tf_keras does not know, naming the argument.
    """
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):
        config = getattr(value, "get_config", None)
        if config is None or not argument.endswith("_regularizer"):
            return None
        return _entry("keras.regularizers", type(value).__name__, config())
    if argument.endswith("_regularizer"):
        if value in _REGULARIZERS:
            return _entry("keras.regularizers", value, _REGULARIZERS[value])
        if value in _REGULARIZER_NAMES:
            cls, config = _REGULARIZER_NAMES[value]
            return _entry("keras.regularizers", cls, config or _REGULARIZERS[cls])
        known = sorted(_REGULARIZERS) + sorted(_REGULARIZER_NAMES)
    else:
        cls = value if value in _CONSTRAINTS else _CONSTRAINT_NAMES.get(value)
        if cls is not None:
            return _entry("keras.constraints", cls, _CONSTRAINTS[cls])
        known = sorted(_CONSTRAINTS) + sorted(_CONSTRAINT_NAMES)
    raise ValueError(f"Unknown {argument.split('_')[-1]} for `{argument}`: {value!r}. "
                     f"Expected one of {known}, a serialised dict or None. "
                     f"Received: {argument}={value!r}")
