"""The optimizer base: state as Variables, clipping, and symbolic update steps.

An optimizer turns gradients into *symbolic* updates: ``(Variable, new
value)`` pairs whose values are KerasTensors (the weights, the slots and the
iteration count), so a whole train step (forward, loss, gradients and the
update) is one graph that compiles to one kernel (``K.function(...,
updates=...)``). Its state lives in Variables: ``iterations`` (int64), the
``learning_rate`` (float32, unless a schedule computes it from
``iterations`` inside the step) and one slot per weight and kind (``m``,
``v``, ...), created on first use in the weights' order, so
``get_weights``/``set_weights`` and saving carry the state exactly.

The formulas, defaults and their order are tf_keras 2.x's (the optimizers of
``tf_keras.optimizers``): weight decay first (``w -= w * wd * lr``), then
clipping (``clipnorm`` per gradient, ``global_clipnorm`` over all of them,
``clipvalue`` elementwise; at most one of the norms), the update, then
``iterations += 1``.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..ir import KerasTensor, Variable
from . import schedules


class Optimizer:
    """The base class (see the module docstring). Subclasses define
    ``SLOTS`` (slot names), ``_defaults`` via ``__init__`` and :meth:`_step`."""

    SLOTS: tuple = ()

    def __init__(self, learning_rate=0.001, name="Optimizer", weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, **kwargs):
        kwargs.pop("is_legacy_optimizer", None)
        for ignored in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "jit_compile"):
            value = kwargs.pop(ignored, None)
            if ignored == "use_ema" and value:
                raise ValueError(f"{type(self).__name__}: use_ema=True is not supported")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{type(self).__name__}: give at most one of `clipnorm` and "
                             f"`global_clipnorm`; received clipnorm={clipnorm}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.iterations = K.variable(np.int64(0), dtype="int64", name=f"{name}/iteration")
        self.iterations.trainable = False
        if isinstance(learning_rate, dict):
            learning_rate = schedules.deserialize(learning_rate)
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            self._schedule = learning_rate
            self._learning_rate = None
        else:
            self._schedule = None
            self._learning_rate = K.variable(np.float32(_number(learning_rate, name,
                                                                "learning_rate")),
                                             name=f"{name}/learning_rate")
            self._learning_rate.trainable = False
        self._slots: dict = {}   # (id(weight), slot name) -> Variable
        self._weights: list = []  # the weights in the order their slots were made

    # -- the learning rate ----------------------------------------------------
    @property
    def learning_rate(self):
        """The rate Variable (``K.get_value``/``K.set_value``), or for a schedule
        its current value as a number."""
        if self._schedule is not None:
            return np.float32(self._schedule(int(self.iterations.numpy())))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if self._schedule is not None:
            raise TypeError(f"{self.name}: the learning rate follows a schedule "
                            f"({type(self._schedule).__name__}); it cannot be set")
        K.set_value(self._learning_rate, value)

    lr = learning_rate

    def _rate(self):
        """The rate inside the step's graph."""
        if self._schedule is not None:
            return self._schedule(self.iterations.tensor)
        return self._learning_rate.tensor

    # -- state ----------------------------------------------------------------
    def build(self, weights) -> None:
        """Create the slots of ``weights`` (once each), in order."""
        for w in weights:
            if any(id(w) == id(known) for known in self._weights):
                continue
            self._weights.append(w)
            for slot in self.SLOTS:
                base = w.name.split(":")[0]
                self._slots[(id(w), slot)] = K.variable(
                    np.full(w.shape, self._slot_initial(slot), dtype=w.dtype),
                    dtype=w.dtype, name=f"{self.name}/{base}/{slot}")
        self._build_extra()

    def _build_extra(self) -> None:
        """Optimizer-wide state besides the slots (Nadam's product)."""

    def _slot_initial(self, slot) -> float:
        return 0.0

    def slot(self, weight, name) -> Variable:
        """The slot Variable ``name`` of ``weight``."""
        return self._slots[(id(weight), name)]

    def variables(self) -> list:
        """The state Variables: ``iterations``, then each weight's slots in order."""
        out = [self.iterations]
        out += self._extra_variables()
        for w in self._weights:
            out += [self._slots[(id(w), s)] for s in self.SLOTS]
        return out

    def _extra_variables(self) -> list:
        return []

    def _keras_slot_groups(self) -> tuple:
        """The slots in tf_keras's order of creation: each group's slots for
        every weight in turn, then the next group (default: one group)."""
        return (self.SLOTS,)

    def keras_variables(self) -> list:
        """The state Variables in tf_keras's ``optimizer.variables`` order:
        ``iteration``, then the slots by :meth:`_keras_slot_groups` (the
        order of ``optimizer/vars`` in tf_keras's weights files).
        Optimizer-wide state that tf_keras does not keep in variables (Nadam's
        running product) is left out: :meth:`extra_variables` has it."""
        out = [self.iterations]
        for group in self._keras_slot_groups():
            for w in self._weights:
                out += [self._slots[(id(w), s)] for s in group if s in self.SLOTS]
        return out

    def extra_variables(self) -> list:
        """Optimizer-wide state besides ``iterations`` and the slots."""
        return self._extra_variables()

    def get_weights(self) -> list:
        """The state's values (see :meth:`variables`)."""
        return [v.numpy() for v in self.variables()]

    def set_weights(self, values) -> None:
        """Restore :meth:`get_weights`'s values (the slots must exist: :meth:`build`)."""
        variables = self.variables()
        if len(values) != len(variables):
            raise ValueError(f"{self.name}: set_weights expected {len(variables)} arrays "
                             f"(iterations and the slots), received {len(values)}")
        for v, value in zip(variables, values):
            v.assign(value)

    # -- the update -------------------------------------------------------------
    def get_updates(self, loss, params) -> list:
        """The symbolic updates minimising ``loss`` (a KerasTensor) over ``params``."""
        grads = K.gradients(loss, params)
        missing = [p.name for p, g in zip(params, grads) if g is None]
        if missing:
            raise ValueError(f"{self.name}: the loss does not depend on {missing}")
        return self.apply_gradients(list(zip(grads, params)))

    def apply_gradients(self, grads_and_vars) -> list:
        """Symbolic updates for ``(gradient KerasTensor, Variable)`` pairs.

        Returns:
            The ``assign`` KerasTensors for ``K.function(..., updates=...)``:
            each weight, each slot, and ``iterations``.
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        for i, (g, v) in enumerate(pairs):
            if not isinstance(g, KerasTensor) or not isinstance(v, Variable):
                raise TypeError(f"{self.name}: apply_gradients takes (gradient KerasTensor, "
                                f"Variable) pairs; pair {i} is ({type(g).__name__}, "
                                f"{type(v).__name__})")
        weights = [v for _, v in pairs]
        self.build(weights)
        grads = self._clip([g for g, _ in pairs])
        rate = self._rate()
        writes: dict = {}
        self._begin_step(writes)
        for g, w in zip(grads, weights):
            value = w.tensor
            if self.weight_decay:
                value = value - value * np.float32(self.weight_decay) * rate
            self._step(g, w, value, rate, writes)
        writes[id(self.iterations)] = (self.iterations, self.iterations.tensor + np.int64(1))
        return [K.update(v, K.cast(t, v.dtype) if t.dtype != v.dtype else t)
                for v, t in writes.values()]

    def _begin_step(self, writes) -> None:
        """Optimizer-wide updates of a step (Nadam's product)."""

    def _step(self, grad, weight, value, rate, writes) -> None:
        """Put the new values of ``weight`` (now ``value``) and its slots in ``writes``."""
        raise NotImplementedError

    def _step_count(self, offset=1):
        """``iterations + offset`` as float32, inside the step."""
        return K.cast(self.iterations.tensor + np.int64(offset), "float32")

    def _clip(self, grads) -> list:
        if self.clipnorm:
            return [_clip_by_norm(g, np.float32(self.clipnorm)) for g in grads]
        if self.global_clipnorm:
            norm = K.sqrt(sum(K.sum(K.square(g)) for g in grads))
            clip = np.float32(self.global_clipnorm)
            scale = clip * K.minimum(1.0 / norm, 1.0 / clip)
            return [g * scale for g in grads]
        if self.clipvalue:
            c = np.float32(self.clipvalue)
            return [K.clip(g, -c, c) for g in grads]
        return list(grads)

    # -- configuration -----------------------------------------------------------
    def get_config(self) -> dict:
        """tf_keras's keys: the base options, the rate, then the optimizer's own."""
        rate = schedules.serialize(self._schedule) if self._schedule is not None \
            else float(self._learning_rate.numpy())
        return {"name": self.name, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": False, "ema_momentum": 0.99,
                "ema_overwrite_frequency": None, "jit_compile": False,
                "is_legacy_optimizer": False, "learning_rate": rate, **self._own_config()}

    def _own_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _clip_by_norm(g, clip):
    """tf.clip_by_norm: ``g * clip / max(||g||, clip)`` (a zero gradient stays zero)."""
    norm = K.sqrt(K.sum(K.square(g)))
    return g * clip / K.maximum(norm, clip)


def _number(value, name, arg) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: `{arg}` must be a number or a LearningRateSchedule, "
                        f"received {type(value).__name__} {value!r}")
    return float(value)
