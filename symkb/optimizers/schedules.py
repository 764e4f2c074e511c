"""Learning-rate schedules: the rate as a function of the optimizer's step.

A schedule is called on the step count, either a number (the rate as a
numpy float32, for callbacks and inspection) or the iterations Variable's
KerasTensor inside a train step (the rate becomes part of the step's graph,
so the step needs no host work per call). The formulas are tf_keras 2.x's,
in float32 as TensorFlow computes them.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend as K


class LearningRateSchedule:
    """The base class: ``schedule(step) -> rate``; ``get_config``/``from_config``."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _f32(step):
    """The step as float32 (a KerasTensor is cast; a number becomes np.float32)."""
    return K.cast(step, "float32") if _symbolic(step) else np.float32(step)


def _floor(x):
    """``floor(x)`` of a non-negative float32 (truncation through int64)."""
    return K.cast(K.cast(x, "int64"), "float32") if _symbolic(x) else np.floor(x)


class _RateDecay(LearningRateSchedule):
    """A schedule of ``initial_learning_rate``, ``decay_steps``, ``decay_rate``
    and ``staircase`` (the arguments and config of two tf_keras schedules)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = _positive(decay_steps, type(self).__name__, "decay_steps")
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}

    def _progress(self, step):
        """``step / decay_steps`` as float32, floored when ``staircase``."""
        p = _f32(step) / np.float32(self.decay_steps)
        return _floor(p) if self.staircase else p


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored
    exponent when ``staircase``)."""

    def __call__(self, step):
        p = self._progress(step)
        return np.float32(self.initial_learning_rate) * K.pow(np.float32(self.decay_rate), p) \
            if _symbolic(p) else np.float32(self.initial_learning_rate) * np.power(
                np.float32(self.decay_rate), np.float32(p))


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored
    when ``staircase``)."""

    def __call__(self, step):
        p = self._progress(step)
        return np.float32(self.initial_learning_rate) / (1.0 + np.float32(self.decay_rate) * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to ``boundaries[0]`` (inclusive), ``values[1]`` up to
    ``boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: expected one more value than "
                             f"boundaries; received {len(boundaries)} boundaries and "
                             f"{len(values)} values")
        self.boundaries = [float(b) for b in boundaries]
        self.values = [float(v) for v in values]
        self.name = name

    def __call__(self, step):
        s = _f32(step)
        rate = np.float32(self.values[0])
        for boundary, before, after in zip(self.boundaries, self.values, self.values[1:]):
            # adds (after - before) once the step passes the boundary
            passed = K.cast(K.greater(s, np.float32(boundary)), "float32") if _symbolic(s) \
                else np.float32(s > boundary)
            rate = rate + passed * np.float32(after - before) if _symbolic(s) else \
                (np.float32(after) if passed else rate)
        return rate

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (after an optional linear
    warmup to ``warmup_target``) down to ``alpha`` times it over ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = _positive(decay_steps, "CosineDecay", "decay_steps")
        self.alpha = float(alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else float(warmup_target)
        self.warmup_steps = int(warmup_steps)

    def _decay(self, step, start):
        fraction = step / np.float32(self.decay_steps)
        cosine = np.float32(0.5) * (1.0 + (K.cos(np.float32(math.pi) * fraction)
                                           if _symbolic(fraction) else
                                           np.cos(np.float32(math.pi) * fraction)))
        return np.float32(start) * ((1 - np.float32(self.alpha)) * cosine
                                    + np.float32(self.alpha))

    def __call__(self, step):
        s = _f32(step)
        minimum = K.minimum if _symbolic(s) else np.minimum
        if self.warmup_target is None:
            return self._decay(minimum(s, np.float32(self.decay_steps)),
                               self.initial_learning_rate)
        s = minimum(s, np.float32(self.decay_steps + self.warmup_steps))
        delta = np.float32(self.warmup_target - self.initial_learning_rate)
        warm = delta * (s / np.float32(self.warmup_steps)) + np.float32(self.initial_learning_rate)
        decayed = self._decay(s - np.float32(self.warmup_steps), self.warmup_target)
        if not _symbolic(s):
            return np.float32(warm if s < self.warmup_steps else decayed)
        return K.switch(K.less(s, np.float32(self.warmup_steps)), warm, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def _symbolic(x) -> bool:
    from ..ir import KerasTensor
    return isinstance(x, KerasTensor)


def _positive(value, cls, arg):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or value <= 0:
        raise ValueError(f"{cls}: `{arg}` must be a positive number, received {value!r}")
    return value


SCHEDULES = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay,
                                     PiecewiseConstantDecay, CosineDecay)}


def serialize(schedule) -> dict:
    """``{"class_name": ..., "config": ...}`` of a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """A schedule from :func:`serialize`'s dict."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in SCHEDULES:
        raise ValueError(f"schedules.deserialize: unknown schedule {name!r}; expected one of "
                         f"{sorted(SCHEDULES)}")
    return SCHEDULES[name].from_config(config.get("config", {}))
