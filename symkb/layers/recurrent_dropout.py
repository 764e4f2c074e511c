"""Dropout of the recurrent cells in training: one mask per sequence.

tf_keras's cells draw their dropout masks once per call of the recurrent
layer (``ones_like`` the step's inputs, or the previous output, through
dropout), cache them and reuse them at every time step: a sample keeps the
same dropped input features and the same dropped recurrent units for the
whole sequence. ``RNN.call`` draws them here before the loop, so that the
loop body captures them (they are computed once per run, and the gradient
of the loop reads the same masks), and the cells read them from
``cell._dropout_masks`` while they trace their step.

LSTM and GRU cells draw one mask per gate (4 or 3) when they run
tf_keras's ``implementation=1``, which tf_keras selects whenever
``recurrent_dropout`` is set; otherwise one input mask serves every gate.
Masks exist only in training (``training`` true): inference computes exactly
what it computed before.
"""
from __future__ import annotations

from .. import backend as K
from ..ir import KerasTensor


def _rate(cell, what) -> float:
    rate = getattr(cell, what, 0.0)
    return float(rate) if isinstance(rate, (int, float)) and 0.0 < rate < 1.0 else 0.0


def has_dropout(cell) -> bool:
    """Whether ``cell`` (or a cell of a stack) drops inputs or recurrent units."""
    cells = getattr(cell, "cells", None) or [cell]
    return any(_rate(c, "dropout") or _rate(c, "recurrent_dropout") for c in cells)


def _mask_count(cell) -> int:
    gates = getattr(cell, "_gates", 1)
    per_gate = getattr(cell, "implementation", 2) == 1 or _rate(cell, "recurrent_dropout")
    return gates if per_gate else 1


def _keep(ones, rate):
    """``ones`` dropped at ``rate`` and scaled by ``1 / (1 - rate)`` (tf's dropout)."""
    if not isinstance(ones, KerasTensor):
        return K.dropout(ones, rate)
    draw = K.random_uniform(K.shape(ones), dtype=ones.dtype)
    return K.cast(K.greater_equal(draw, rate), ones.dtype) * (1.0 / (1.0 - rate))


def _ones(column, width):
    """``(batch, width)`` ones from a ``(batch, 1)`` column of ones."""
    return K.tile(column, [1, int(width)])


def draw_masks(cell, inputs, training, time_major) -> None:
    """Set ``cell._dropout_masks`` (and each stacked cell's) for one layer call.

    Args:
        cell: the layer's cell, or a ``StackedRNNCells``.
        inputs: the layer's ``(batch, time, features)`` inputs (time first with
            ``time_major``).
        training: whether the call is in training; without it, no masks.
        time_major: whether the time axis comes first.
    """
    cells = getattr(cell, "cells", None) or [cell]
    if not training or not has_dropout(cell):
        for c in cells:
            c._dropout_masks = None
        return
    step = inputs[0] if time_major else inputs[:, 0]
    column = K.ones_like(step[:, :1])
    width = K.int_shape(step)[-1]
    for c in cells:
        count = _mask_count(c)
        rate, recurrent = _rate(c, "dropout"), _rate(c, "recurrent_dropout")
        dp = [_keep(_ones(column, width), rate) for _ in range(count)] if rate else None
        units = getattr(c, "units", None)
        rdp = [_keep(_ones(column, units), recurrent) for _ in range(count)] \
            if recurrent and units else None
        c._dropout_masks = (dp, rdp) if dp or rdp else None
        width = getattr(c, "output_size", units)


def masks_of(cell, training) -> tuple:
    """``(input masks or None, recurrent masks or None)`` for a step in training."""
    masks = cell.__dict__.get("_dropout_masks") if training else None
    return masks if masks is not None else (None, None)


def project(x, kernel, masks, units, readable):
    """``x @ kernel`` with dropout: one masked product, or one per gate block.

    Args:
        x: the step's inputs or previous output ``(batch, n)``.
        kernel: the ``(n, gates * units)`` kernel (a Variable).
        masks: ``None``, one mask for every gate, or one mask per gate.
        units: the units of one gate.
        readable: turns the kernel into something that slices at run time.
    """
    if not masks:
        return K.dot(x, kernel)
    if len(masks) == 1:
        return K.dot(x * masks[0], kernel)
    w = readable(kernel, x)
    parts = [K.dot(x * m, w[:, g * units:(g + 1) * units]) for g, m in enumerate(masks)]
    return K.concatenate(parts, axis=-1)
