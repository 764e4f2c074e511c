"""Recurrent cells: one time step of SimpleRNN, LSTM and GRU, and stacks of cells.

A cell is a layer whose ``call(inputs, states, training=None)`` returns
``(output, new_states)`` for one time step; :class:`symkb.layers.RNN` runs it
over a sequence with ``K.rnn``. Weights have tf_keras's layout and gate order
(LSTM: i, f, c, o; GRU: z, r, h), so ``set_weights`` with a tf_keras cell's
weights gives the same results. ``dropout`` and ``recurrent_dropout`` act in
training only, with masks drawn once per sequence (``recurrent_dropout.py``).
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..ir import KerasTensor
from ..ir.build import as_tensor, to_array
from . import activations, initializers
from .base import Layer
from .recurrent_dropout import masks_of, project
from .serialization import serialize as serialize_entry
from ..backend.nest import flatten, pack_as

def _positive_units(cls, units) -> int:
    if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
        raise ValueError(f"{cls}: `units` must be a positive integer, received {units!r}")
    return int(units)


def prefix_weight_names(weights, prefix: str) -> None:
    """Rename weights ``a/b:0`` to ``prefix/a/b:0`` (tf_keras's nested name scopes)."""
    for w in weights:
        w.name = f"{prefix}/{w.name}"


class _Cell(Layer):
    """What the three cells share: units, activations, initialisers, config."""

    _has_recurrent_activation = False

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_units(type(self).__name__, units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._keep_specs(kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))

    @property
    def output_size(self) -> int:
        return self.units

    def _add_weights(self, input_dim, gates, bias_shape=None, bias_initializer=None):
        self.kernel = self.add_weight("kernel", (input_dim, gates * self.units),
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel",
                                                (self.units, gates * self.units),
                                                initializer=self.recurrent_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", bias_shape or (gates * self.units,),
                                        initializer=bias_initializer or self.bias_initializer)
        else:
            self.bias = None

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states ``(batch_size, size)`` for each entry of ``state_size``
        (the batch size is read from ``inputs`` when not given)."""
        if batch_size is None:
            if inputs is None or K.int_shape(inputs)[0] is None:
                raise ValueError(f"{type(self).__name__}.get_initial_state: give `batch_size` "
                                 "or concrete `inputs`")
            batch_size = K.int_shape(inputs)[0]
        sizes = flatten(self.state_size)
        zeros = [np.zeros((batch_size, s), dtype=dtype or self.dtype) for s in sizes]
        return pack_as(self.state_size, zeros) if len(sizes) > 1 else zeros[0]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
        })
        config.update({k: v for k, v in self._specs.items() if k != "activity_regularizer"})
        if self._has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


def _input_dim(cell, input_shape) -> int:
    input_shape = tuple(input_shape)
    if not input_shape or input_shape[-1] is None:
        raise ValueError(f"{type(cell).__name__} {cell.name!r}: the last dimension of the "
                         f"inputs must be known; received input shape {input_shape}")
    return int(input_shape[-1])


def _readable(variable, inputs):
    """``variable`` as something to slice: its graph tensor when ``inputs`` are
    symbolic (so the graph reads the current value), else its array."""
    return as_tensor(variable) if isinstance(inputs, KerasTensor) else to_array(variable)


def _single(states):
    return states[0] if isinstance(states, (list, tuple)) else states


class SimpleRNNCell(_Cell):
    """``h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)``."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    @property
    def state_size(self) -> int:
        return self.units

    def build(self, input_shape):
        self._add_weights(_input_dim(self, input_shape), 1)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        prev = _single(states)
        dp, rdp = masks_of(self, training)
        if dp:
            inputs = inputs * dp[0]
        if rdp:
            prev = prev * rdp[0]
        h = K.dot(inputs, self.kernel)
        if self.bias is not None:
            h = K.bias_add(h, self.bias)
        output = self.activation(h + K.dot(prev, self.recurrent_kernel))
        return output, ([output] if isinstance(states, (list, tuple)) else output)


class LSTMCell(_Cell):
    """Long short-term memory; gates i, f, c, o in the kernels' column blocks."""

    _has_recurrent_activation = True
    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation

    @property
    def state_size(self) -> list:
        return [self.units, self.units]

    def build(self, input_shape):
        bias_init = None
        if self.use_bias and self.unit_forget_bias:
            base, units = self.bias_initializer, self.units

            class _ForgetBias(initializers.Initializer):
                def __call__(self, shape, dtype="float32"):
                    return np.concatenate([base((units,), dtype), np.ones((units,), dtype),
                                           base((2 * units,), dtype)]).astype(dtype)
            bias_init = _ForgetBias()
        self._add_weights(_input_dim(self, input_shape), 4, bias_initializer=bias_init)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states[0], states[1]
        u = self.units
        dp, rdp = masks_of(self, training)
        z = project(inputs, self.kernel, dp, u, _readable) + \
            project(h_prev, self.recurrent_kernel, rdp, u, _readable)
        if self.bias is not None:
            z = K.bias_add(z, self.bias)
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        c = f * c_prev + i * self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"unit_forget_bias": self.unit_forget_bias,
                       "implementation": self.implementation})
        return config


class GRUCell(_Cell):
    """Gated recurrent unit; gates z, r, h. With ``reset_after`` (the default) the
    bias is ``(2, 3 * units)``: row 0 for the input, row 1 for the recurrent part."""

    _has_recurrent_activation = True
    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.reset_after = bool(reset_after)
        self.implementation = implementation

    @property
    def state_size(self) -> int:
        return self.units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_weights(_input_dim(self, input_shape), 3, bias_shape=bias_shape)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h_prev = _single(states)
        u = self.units
        dp, rdp = masks_of(self, training)
        # slices of a Variable must read it at run time: index its graph tensor
        recurrent_kernel = _readable(self.recurrent_kernel, inputs)
        bias = None if self.bias is None else _readable(self.bias, inputs)
        x = project(inputs, self.kernel, dp, u, _readable)
        if bias is not None:
            x = K.bias_add(x, bias[0] if self.reset_after else bias)
        if self.reset_after:
            inner = project(h_prev, recurrent_kernel, rdp, u, _readable)
            if bias is not None:
                inner = K.bias_add(inner, bias[1])
        else:
            inner = project(h_prev, recurrent_kernel[:, :2 * u], rdp and rdp[:2], u,
                            _readable)
        z = self.recurrent_activation(x[:, :u] + inner[:, :u])
        r = self.recurrent_activation(x[:, u:2 * u] + inner[:, u:2 * u])
        if self.reset_after:
            recurrent_h = r * inner[:, 2 * u:]
        else:
            h_h = h_prev * rdp[2] if rdp else h_prev
            recurrent_h = K.dot(r * h_h, recurrent_kernel[:, 2 * u:])
        hh = self.activation(x[:, 2 * u:] + recurrent_h)
        h = z * h_prev + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        config = super().get_config()
        config.update({"reset_after": self.reset_after, "implementation": self.implementation})
        return config


class StackedRNNCells(Layer):
    """Several cells run one after the other at each time step, as one cell.

    Its state is the tuple of the cells' states; its output the last cell's.
    """

    def __init__(self, cells, **kwargs):
        cells = list(cells)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError("StackedRNNCells: every cell needs `call` and `state_size`; "
                                 f"received {cell!r}")
        super().__init__(**kwargs)
        self.cells = cells

    @property
    def state_size(self) -> tuple:
        return tuple(c.state_size for c in self.cells)

    @property
    def output_size(self):
        cell = self.cells[-1]
        return getattr(cell, "output_size", flatten(cell.state_size)[0])

    def _sublayers(self) -> list:
        return list(self.cells)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                _build_cell(cell, shape)
            out = getattr(cell, "output_size", flatten(cell.state_size)[0])
            shape = shape[:-1] + (int(out),)
        for cell in self.cells:
            prefix_weight_names(cell.weights, self.name)
        super().build(input_shape)

    def call(self, inputs, states, constants=None, training=None):
        nested = pack_as(self.state_size, flatten(states))
        new_states = []
        for cell, cell_states in zip(self.cells, nested):
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            inputs, cell_states = cell.call(inputs, cell_states, training=training)
            new_states.append(cell_states)
        return inputs, pack_as(self.state_size, flatten(new_states))

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_entry(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [deserialize_cell(c) for c in config.pop("cells")]
        return cls(cells, **config)


def _build_cell(cell, input_shape) -> None:
    cell.build(tuple(input_shape))
    cell.built = True


def deserialize_cell(config):
    """A cell from ``{"class_name", "config"}``."""
    classes = {c.__name__: c for c in (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells)}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"Unknown recurrent cell class {name!r}; expected one of "
                         f"{sorted(classes)}")
    return classes[name].from_config(config["config"])
