"""Watching one logged quantity for improvement (EarlyStopping,
ModelCheckpoint, ReduceLROnPlateau)."""
from __future__ import annotations

import warnings

import numpy as np

MODES = ("auto", "min", "max")


def check_mode(mode, owner: str) -> str:
    """``mode`` if it is auto/min/max, else a ValueError naming ``owner``."""
    if mode not in MODES:
        raise ValueError(f"{owner}: unknown `mode` {mode!r}; expected one of {list(MODES)}")
    return mode


def greater_is_better(monitor: str, mode: str, auto_rule) -> bool:
    """Whether larger values of ``monitor`` are improvements."""
    if mode == "auto":
        return auto_rule(monitor)
    return mode == "max"


def logged(logs, monitor: str, owner: str):
    """``logs[monitor]`` as a float, or None with a warning listing what was logged."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on `{monitor}`, which is not among the "
                      f"logged quantities: {', '.join(logs or {}) or 'none'}", stacklevel=3)
        return None
    return float(np.asarray(value))
