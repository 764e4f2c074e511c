"""Recurrent layers: the generic RNN over a cell (or a stack of cells), SimpleRNN,
LSTM and GRU.

An :class:`RNN` runs its cell over the time axis with ``K.rnn``: on
KerasTensors that records one ``loop`` node whose body is the cell's step
(``unroll=True`` inlines the steps instead); on numpy arrays it computes
eagerly. Masks arrive from ``Masking``/``Embedding(mask_zero=True)`` through
the Layer base and are handed to ``K.rnn``. Weights are the cell's, named as
tf_keras names them (``lstm/lstm_cell/kernel:0``).
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..ir import KerasTensor
from .base import Layer
from ..backend.nest import flatten, pack_as
from .serialization import serialize as serialize_entry
from .recurrent_dropout import draw_masks
from .recurrent_cells import (GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells,
                              deserialize_cell, prefix_weight_names)

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "time_major", "zero_output_for_mask")
_LAYER_ARGS = ("name", "trainable", "dtype", "dynamic", "input_shape", "batch_input_shape",
               "batch_size", "input_dim", "input_length", "weights", "autocast",
               "activity_regularizer")


def _top_level(state_size) -> list:
    """The state entries K.rnn carries for ``state_size`` (an int, or a list of them)."""
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


class RNN(Layer):
    """Runs a recurrent cell (or a list of cells, stacked) over a sequence.

    Args:
        cell: a cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, any layer
            with ``call(inputs, states)`` and ``state_size``) or a list of
            cells (wrapped in :class:`StackedRNNCells`).
        return_sequences: return the whole output sequence, not only the last.
        return_state: also return the final states (``[output, *states]``).
        go_backwards: process the sequence backwards (outputs in processing
            order).
        stateful: not supported (symkb runs stateless inference).
        unroll: inline every step instead of a loop (needs a known length).
        time_major: inputs and outputs are ``(time, batch, ...)``.
        zero_output_for_mask: masked steps output zeros instead of repeating the
            previous output.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, zero_output_for_mask=False,
                 **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError("RNN: the argument `cell` should have a `call` method and a "
                             f"`state_size` attribute. Received: cell={cell!r}")
        if stateful:
            raise ValueError(f"{type(self).__name__}: stateful=True is not supported (symkb "
                             "runs stateless inference and keeps no state between calls); "
                             "pass the previous final states as `initial_state` instead. "
                             "Received: stateful=True")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True

    # ---------------------------------------------------------------- weights
    @property
    def states(self):
        return [None] * len(flatten(self.cell.state_size))

    def _sublayers(self) -> list:
        return [self.cell]

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and \
                isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        vector_cells = all(isinstance(c, (SimpleRNNCell, LSTMCell, GRUCell)) for c in cells)
        if len(input_shape) < 3 or (vector_cells and len(input_shape) != 3):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim=3, found ndim={len(input_shape)}. Full shape "
                             f"received: {input_shape}")
        t_axis = 0 if self.time_major else 1
        step_shape = input_shape[:t_axis] + input_shape[t_axis + 1:]
        if not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        prefix_weight_names(self.cell.weights, self.name)
        super().build(input_shape)

    # ------------------------------------------------------------------ calls
    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, list) and len(inputs) > 1 and initial_state is None \
                and constants is None:
            # tf_keras reads a list as [inputs, *initial_states, *constants]
            # (how a model config records an ``initial_state`` call)
            n_consts = getattr(self, "_num_constants", 0)
            if n_consts:
                inputs, constants = inputs[:-n_consts], inputs[-n_consts:]
            inputs, initial_state = inputs[0], (inputs[1:] or None)
        if initial_state is None and constants is None:
            return super().__call__(inputs, **kwargs)
        if constants is not None:
            self._num_constants = len(flatten(constants))
        # states and constants travel with the inputs, so that a model built on
        # them finds the layers that made them (tf_keras does the same)
        states = [] if initial_state is None else flatten(initial_state)
        consts = [] if constants is None else flatten(constants)
        return super().__call__([inputs] + states + consts,
                                _split=(len(states), len(consts)), **kwargs)

    def get_initial_state(self, inputs):
        """Zero states, one per entry of the cell's ``state_size``."""
        x = flatten(inputs)[0]
        dtype = x.dtype if K.dtype(x).startswith("float") else self.dtype
        sizes = flatten(self.cell.state_size)
        t_axis = 0 if self.time_major else 1
        if isinstance(x, KerasTensor):
            index = [slice(None)] * x.ndim
            index[t_axis] = 0
            for axis in range(2, x.ndim - 1):
                index[axis] = 0
            index[-1] = slice(0, 1)
            column = K.zeros_like(x[tuple(index)], dtype=dtype)  # (batch, 1)
            zeros = [K.tile(column, [1, int(s)]) for s in sizes]
        else:
            batch = np.shape(x)[1 - t_axis]
            zeros = [np.zeros((batch, int(s)), dtype=dtype) for s in sizes]
        return pack_as(_top_level(self.cell.state_size), zeros)

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None,
             _split=None):
        if _split is not None:
            n_states, n_consts = _split
            flat = list(inputs)
            inputs = flat[0]
            if n_states:
                initial_state = flat[1:1 + n_states]
            if n_consts:
                constants = flat[1 + n_states:]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        top = _top_level(self.cell.state_size)
        if initial_state is None:
            initial_state = self.get_initial_state(inputs)
        else:
            flat_states = flatten(initial_state)
            want = flatten(self.cell.state_size)
            if len(flat_states) != len(want):
                raise ValueError(
                    f"Layer {self.name!r} expects {len(want)} state(s), but it received "
                    f"{len(flat_states)} initial state(s). Input received: "
                    f"{[getattr(s, 'shape', None) for s in flat_states]}")
            initial_state = pack_as(top, flat_states)
        n_top = len(top)
        cell = self.cell
        accepts_constants = "constants" in getattr(cell, "_call_accepts", ())

        def step(x, states):
            cell_states = list(states[:n_top])
            extra = {"training": training} if "training" in getattr(
                cell, "_call_accepts", ()) else {}
            if states[n_top:] and accepts_constants:
                extra["constants"] = list(states[n_top:])
            output, new_states = cell.call(x, cell_states, **extra)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            return output, list(new_states)

        shape = K.int_shape(flatten(inputs)[0])
        timesteps = shape[0] if self.time_major else shape[1]
        # dropout masks: drawn once here, the same at every step (training only)
        draw_masks(cell, flatten(inputs)[0], training, self.time_major)
        last_output, outputs, states = K.rnn(
            step, inputs, list(initial_state), constants=constants,
            go_backwards=self.go_backwards, mask=mask, unroll=self.unroll,
            input_length=timesteps, time_major=self.time_major,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            # one entry per cell of a stack (a list for a cell of several states)
            return [output] + list(pack_as(top, flatten(_distinct(output, list(states)))))
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(flatten(self.cell.state_size))
        return output_mask

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        config = super().get_config()
        config.update({k: getattr(self, k) for k in _RNN_ARGS if k != "zero_output_for_mask"})
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        if type(self) is RNN:
            config["cell"] = serialize_entry(self.cell)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is RNN:
            return cls(deserialize_cell(config.pop("cell")), **config)
        return cls(**config)


def _distinct(output, states):
    """``states`` with any tensor that is also the output (or an earlier state)
    replaced by an identity of it: an unrolled step returns one tensor as both
    output and state, but each result of a layer call must be its own tensor."""
    seen = {id(t) for t in flatten(output) if isinstance(t, KerasTensor)}
    flat = []
    for t in flatten(states):
        if isinstance(t, KerasTensor) and id(t) in seen:
            t = t[(slice(None),) * t.ndim]  # a getitem node: a tensor of its own
        if isinstance(t, KerasTensor):
            seen.add(id(t))
        flat.append(t)
    return pack_as(states, flat)


def _split_kwargs(kwargs):
    layer = {k: kwargs.pop(k) for k in list(kwargs) if k in _RNN_ARGS or k in _LAYER_ARGS}
    return kwargs, layer


class _CellLayer(RNN):
    """An RNN whose cell is built from the layer's own arguments."""

    _cell_class = None
    _cell_name = None
    _cell_attrs = ("units", "activation", "use_bias", "kernel_initializer",
                   "recurrent_initializer", "bias_initializer", "dropout", "recurrent_dropout")

    def __init__(self, units, **kwargs):
        cell_kwargs, layer_kwargs = _split_kwargs(dict(kwargs))
        cell = self._cell_class(units, name=self._cell_name, dtype=layer_kwargs.get("dtype"),
                                trainable=layer_kwargs.get("trainable", True), **cell_kwargs)
        super().__init__(cell, **layer_kwargs)

    def __getattr__(self, name):
        # units, activation, reset_after, ... read through to the cell
        if name in type(self)._cell_attrs and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self) -> dict:
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = self._specs.get("activity_regularizer")
        return config


class SimpleRNN(_CellLayer):
    """Fully-connected RNN: ``h_t = activation(x_t W + h_{t-1} U + b)``."""

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"


class LSTM(_CellLayer):
    """Long short-term memory (tf_keras layout: gates i, f, c, o)."""

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"
    _cell_attrs = _CellLayer._cell_attrs + ("recurrent_activation", "unit_forget_bias",
                                            "implementation")


class GRU(_CellLayer):
    """Gated recurrent unit (tf_keras layout: gates z, r, h; ``reset_after=True``)."""

    _cell_class = GRUCell
    _cell_name = "gru_cell"
    _cell_attrs = _CellLayer._cell_attrs + ("recurrent_activation", "reset_after",
                                            "implementation")
