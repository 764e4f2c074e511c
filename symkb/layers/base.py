"""The Layer base class.

A layer owns weights (:class:`symkb.ir.Variable`, in tf_keras order and
layout) and a ``call``. Calling a layer on KerasTensors records graph nodes
(inside a ``layer_scope`` so they print with the layer's name); calling it on
numpy arrays computes eagerly. The first call builds the layer from the input
shapes. Masks travel beside the tensors (``get_mask``/``set_mask``); each
symbolic output remembers the call that made it (``history``), which the
functional Model uses to find its layers.

Default names come from the thread's session object-name counter (``dense``,
``dense_1``, ...), reset by ``K.clear_session()``.

Each layer takes a dtype policy at construction (``symkb.mixed_precision``:
its ``dtype`` argument, else the global policy, which follows ``K.floatx()``).
Weights are made in the policy's variable dtype; a call casts floating-point
inputs to its compute dtype and, under a mixed policy, reads floating-point
weights in it, as tf_keras does.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from .. import backend as K
from ..backend.session import lookup, session_table, to_snake_case, unique_object_name
from ..ir import KerasTensor, Variable, autocast_variables, layer_scope, limits
from ..ir.variable import checked_value
from ..mixed_precision.policy import get_policy
from ..mixed_precision.policy import serialize as serialize_policy
from . import initializers
from .specs import serialize_spec
from . import regularization
from ..backend.nest import flatten, map_structure, pack_as

# Masks and call records travel beside the tensors, in the tables of the
# calling thread's session: ``K.clear_session()`` in a thread forgets that
# thread's (models keep their own copy of the records), never another's.
_MASKS = "masks"
_HISTORY = "history"


@dataclass(frozen=True)
class CallRecord:
    """How a symbolic tensor was made: ``layer`` called on ``inputs``."""

    layer: "Layer"
    inputs: object  # the nested structure of input KerasTensors
    kwargs: dict
    index: int  # which flat output of the call
    output_shapes: object = ()  # the call's outputs with each leaf replaced by its shape


def get_mask(tensor):
    """The mask travelling with ``tensor`` (or None)."""
    if isinstance(tensor, KerasTensor):
        return lookup(_MASKS, tensor)
    return None


def set_mask(tensor, mask) -> None:
    if isinstance(tensor, KerasTensor) and mask is not None:
        session_table(_MASKS)[tensor] = mask


def history(tensor):
    """The :class:`CallRecord` of a layer output or Input tensor, or None."""
    if isinstance(tensor, KerasTensor):
        return lookup(_HISTORY, tensor)
    return None


def set_history(tensor, record) -> None:
    session_table(_HISTORY)[tensor] = record


def _shape_of(x):
    if isinstance(x, (KerasTensor, Variable)):
        return tuple(x.shape)
    return tuple(np.shape(x))


def _own_outputs(outputs, inputs):
    """``outputs`` with each input tensor a layer returns unchanged (Dropout in
    inference, a linear Activation) replaced by an ``identity`` node, so that
    every output records the layer that made it (as tf_keras does)."""
    ids = {id(x) for x in inputs if isinstance(x, KerasTensor)}
    if not any(id(t) in ids for t in flatten(outputs)):
        return outputs
    return map_structure(lambda t: K.identity(t) if id(t) in ids else t, outputs)


class Layer:
    """Base class of layers (see the module docstring)."""

    # how tf_keras names the class in a config entry (see ``serialization``)
    _config_module = "keras.layers"
    _config_registered_name = None

    @classmethod
    def _config_class_name(cls) -> str:
        return cls.__name__

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False,
                 input_shape=None, batch_input_shape=None, batch_size=None,
                 input_dim=None, **kwargs):
        for key in kwargs:
            if key not in ("autocast", "input_length", "weights", "activity_regularizer"):
                raise TypeError(f"{type(self).__name__}: unexpected keyword argument {key!r}")
        self.name = name or unique_object_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype_policy = get_policy(dtype)
        self._autocast = bool(kwargs.get("autocast", True))
        self.built = False
        self.supports_masking = False
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._initial_weights = kwargs.get("weights")
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None
        self._build_input_shape = None  # what ``build`` was given (``build_config``)
        self._call_accepts = set(inspect.signature(self.call).parameters)
        self._inbound: list = []  # (inputs, outputs) of each symbolic call
        self._specs: dict = {}
        self._keep_specs(activity_regularizer=kwargs.get("activity_regularizer"))

    # ------------------------------------------------------------------ dtypes
    @property
    def dtype_policy(self):
        """The layer's :class:`symkb.mixed_precision.Policy`."""
        return self._dtype_policy

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (the policy's variable dtype)."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value) -> None:
        self._dtype_policy = get_policy(value)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in; floating-point inputs are cast to it."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (alias of :attr:`dtype`)."""
        return self._dtype_policy.variable_dtype

    def _autocast_inputs(self, inputs):
        """Floating-point KerasTensors among ``inputs`` cast to the compute dtype
        (tf_keras's autocast; layers built with ``autocast=False`` skip it)."""
        target = self.compute_dtype
        if not self._autocast or not target.startswith("float"):
            return inputs

        def convert(x):
            if isinstance(x, KerasTensor) and x.dtype.startswith("float") and x.dtype != target:
                return K.cast(x, target)
            return x
        return map_structure(convert, inputs)

    def _variable_scope(self):
        """Floating-point weights read as the compute dtype under a mixed policy."""
        mixed = self.compute_dtype != self.variable_dtype
        return autocast_variables(self.compute_dtype if mixed else None)

    def _keep_specs(self, **specs) -> None:
        """Remember regularizers and constraints for ``get_config``, as tf_keras
        serialises them (see :mod:`symkb.layers.specs`)."""
        for key, value in specs.items():
            self._specs[key] = serialize_spec(key, value)
        regularization.keep_regularizers(self, specs)  # the losses use them (training)

    # ------------------------------------------------------------ connectivity
    def _call_at(self, node_index: int, what: str):
        if not self._inbound:
            raise AttributeError(f"Layer {self.name!r} is not connected, no {what} to return.")
        if not isinstance(node_index, int) or not 0 <= node_index < len(self._inbound):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer "
                             f"{self.name!r} has only {len(self._inbound)} inbound nodes.")
        return self._inbound[node_index]

    @property
    def input(self):
        """The input tensor(s) of the layer's first symbolic call (tf_keras)."""
        return self._call_at(0, "input")[0]

    @property
    def output(self):
        """The output tensor(s) of the layer's first symbolic call (tf_keras)."""
        return self._call_at(0, "output")[1]

    def get_input_at(self, node_index: int):
        """The input tensor(s) of the layer's call number ``node_index``."""
        return self._call_at(node_index, "input")[0]

    def get_output_at(self, node_index: int):
        """The output tensor(s) of the layer's call number ``node_index``."""
        return self._call_at(node_index, "output")[1]

    def get_input_shape_at(self, node_index: int):
        """The input shape(s) of the layer's call number ``node_index``."""
        return map_structure(lambda t: tuple(t.shape), self.get_input_at(node_index))

    def get_output_shape_at(self, node_index: int):
        """The output shape(s) of the layer's call number ``node_index``."""
        return map_structure(lambda t: tuple(t.shape), self.get_output_at(node_index))

    def _shape_of_calls(self, which: int, what: str):
        if not self._inbound:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has "
                                 f"no defined {what} shape.")
        shapes = [map_structure(lambda t: tuple(t.shape), call[which])
                  for call in self._inbound]
        if any(s != shapes[0] for s in shapes[1:]):
            raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, with '
                                 f'different {what} shapes. Hence the notion of "{what} '
                                 'shape" is ill-defined for the layer. Use '
                                 f"`get_{what}_shape_at(node_index)` instead.")
        return shapes[0]

    @property
    def input_shape(self):
        """The shape of the layer's input (a list of shapes for several inputs)."""
        return self._shape_of_calls(0, "input")

    @property
    def output_shape(self):
        """The shape of the layer's output (a list of shapes for several outputs)."""
        return self._shape_of_calls(1, "output")

    # ----------------------------------------------------------------- weights
    def add_weight(self, name, shape, dtype=None, initializer="glorot_uniform",
                   trainable=True, **kwargs):
        """Create a weight Variable named ``<layer>/<name>`` and track it."""
        init = initializers.get(initializer) or initializers.Zeros()
        dtype = dtype or self.dtype
        # while a file is being loaded its sizes are untrusted: checked before allocating
        limits.check_array(shape, f"layer {self.name!r} weight {name!r}")
        value = init(tuple(int(d) for d in shape), dtype)
        var = Variable(value, dtype, name=f"{self.name}/{name}:0", trainable=trainable)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    def add_update(self, updates) -> None:
        """Record state updates to run with a training step: ``(variable,
        new value)`` pairs (or a list of them), as tf_keras's ``add_update``
        collects the assignments a layer makes in training (BatchNormalization's
        moving statistics). Layers called eagerly assign at once instead."""
        pairs = [updates] if isinstance(updates, tuple) else list(updates)
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2
                    and isinstance(pair[0], Variable)):
                raise ValueError(f"Layer {self.name!r}: add_update takes (variable, value) "
                                 f"pairs; received {pair!r}")
        self.__dict__.setdefault("_updates", []).extend(pairs)

    @property
    def updates(self) -> list:
        """The ``(variable, new value)`` pairs recorded by symbolic calls in
        training (see :meth:`add_update`), this layer's then its sublayers'."""
        own = list(self.__dict__.get("_updates", []))
        return own + [u for layer in self._sublayers() for u in layer.updates]

    def add_loss(self, losses) -> None:
        """Add loss terms to train with (tf_keras's ``add_loss``): a tensor (a
        function of the model's inputs or of Variables), a callable with no
        argument, or a list of them; ``fit`` adds them to the loss."""
        regularization.add_loss(self, losses)

    @property
    def losses(self) -> list:
        """The regularization losses (scalar tensors): weight penalties, activity
        penalties of this layer's (or model's own) calls and ``add_loss`` terms,
        its sublayers' included (``symkb/layers/regularization.py``)."""
        return regularization.collect(self, regularization.activity_keys(self))

    def _sublayers(self) -> list:
        """Layers whose weights this layer owns too (a cell, a wrapped layer)."""
        return []

    def _tracked_layers(self) -> list:
        """The layers a ``trainable`` change reaches (tf_keras's sublayers)."""
        return self._sublayers()

    @property
    def trainable(self) -> bool:
        """Whether the weights are trainable; setting it sets every sublayer's
        too (a model's layers, a recurrent layer's cell), as in tf_keras."""
        return self._trainable

    @trainable.setter
    def trainable(self, value) -> None:
        self._trainable = bool(value)
        for layer in self._tracked_layers():
            layer.trainable = value

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        return list(self._trainable_weights) + [
            w for layer in self._sublayers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        subs = self._sublayers()
        if self.trainable:
            return list(self._non_trainable_weights) + [
                w for layer in subs for w in layer.non_trainable_weights]
        return list(self._trainable_weights) + list(self._non_trainable_weights) + [
            w for layer in subs for w in layer.weights]

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> list:
        return self.weights

    def get_weights(self) -> list:
        """The weights' values (copies), in tf_keras order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Assign values to the weights, in the order of :meth:`get_weights`."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name!r} expects {len(params)} weight(s) "
                f"({[tuple(p.shape) for p in params]}), but the provided list has "
                f"{len(weights)} (shapes {[np.shape(w) for w in weights]})")
        checked = []
        for p, w in zip(params, weights):
            w = checked_value(w, p.dtype, f"Layer {self.name!r}: weight {p.name}")
            if tuple(p.shape) != tuple(w.shape):
                raise ValueError(
                    f"Layer {self.name!r}: weight {p.name} has shape {tuple(p.shape)}, which "
                    f"is not compatible with the provided weight shape {tuple(w.shape)}")
            checked.append(w)
        for p, w in zip(params, checked):   # all checked first: a refusal assigns nothing
            p.assign(w)

    def count_params(self) -> int:
        """The number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name!r}, but "
                             "the layer isn't built. Call it on an input (or build it) first.")
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    # ------------------------------------------------------------------- calls
    def build(self, input_shape) -> None:
        """Create the weights for ``input_shape`` (override; call ``super().build``)."""
        if self._build_input_shape is None:
            self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The computation (override). ``inputs`` may be symbolic or numpy."""
        return inputs

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: passed through when the layer supports masking."""
        if not self.supports_masking:
            return None
        return mask

    def compute_output_shape(self, input_shape):
        """The output shape, found by running ``call`` on placeholders (the layer
        is built for ``input_shape`` if it was not; no call is recorded)."""
        several = isinstance(input_shape, list) and input_shape and \
            isinstance(input_shape[0], (tuple, list))
        ph = [K.placeholder(shape=tuple(s), dtype=self.dtype) for s in input_shape] if several \
            else K.placeholder(shape=tuple(input_shape), dtype=self.dtype)
        self._maybe_build(ph)
        with layer_scope(self.name):
            out = self.call(ph)
        return tuple(out.shape) if isinstance(out, KerasTensor) else [tuple(o.shape) for o in out]

    def _maybe_build(self, inputs) -> None:
        if self.built:
            return
        shapes = [_shape_of(x) for x in flatten(inputs)]
        input_shape = shapes[0] if not isinstance(inputs, (list, tuple, dict)) else \
            [s for s in shapes]
        before = (list(self._trainable_weights), list(self._non_trainable_weights))
        self._build_input_shape = input_shape
        try:
            self.build(input_shape)
        except Exception:
            self._trainable_weights, self._non_trainable_weights = before
            self._build_input_shape = None
            self.built = False
            raise
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, inputs, *args, **kwargs):
        leaves = flatten(inputs)
        symbolic = any(isinstance(x, KerasTensor) for x in leaves)
        # The masks travelling with the inputs: given to ``call`` when it takes
        # one, and to ``compute_mask`` in any case (tf_keras).
        input_mask = kwargs.get("mask")
        if input_mask is None:
            masks = [get_mask(x) for x in leaves]
            if any(m is not None for m in masks):
                input_mask = masks[0] if not isinstance(inputs, (list, tuple)) else masks
                if "mask" in self._call_accepts:
                    kwargs["mask"] = input_mask
        if "training" in self._call_accepts and kwargs.get("training") is None:
            kwargs["training"] = bool(K.learning_phase())
        if not symbolic:
            inputs = _to_arrays(inputs, self.compute_dtype if self._autocast else None)
        try:
            self._maybe_build(inputs)
            with layer_scope(self.name), self._variable_scope():
                cast_inputs = self._autocast_inputs(inputs) if symbolic else inputs
                outputs = self.call(cast_inputs, *args, **kwargs)
                if symbolic:
                    outputs = _own_outputs(outputs, leaves)
                out_mask = self.compute_mask(inputs, input_mask) if symbolic else None
        except (ValueError, TypeError) as exc:
            raise _with_layer_context(exc, self, inputs) from exc
        if symbolic:
            flat_out = flatten(outputs)
            masks = flatten(out_mask) if isinstance(out_mask, (list, tuple)) else \
                [out_mask] * len(flat_out)
            shapes = pack_as(outputs, [tuple(getattr(t, "shape", ())) for t in flat_out])
            for i, (t, m) in enumerate(zip(flat_out, masks)):
                if isinstance(t, KerasTensor):
                    set_history(t, CallRecord(self, inputs, dict(kwargs), i, shapes))
                    set_mask(t, m)
            self._inbound.append((inputs, outputs))
            if self.__dict__.get("_raw_regularizers", {}).get("activity_regularizer"):
                regularization.record_activity(self, outputs)
        return outputs

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The layer's constructor arguments as plain data (``from_config`` rebuilds it)."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": serialize_policy(self._dtype_policy)}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        """The layer from ``get_config``'s dict."""
        return cls(**config)

    def _config_call_kwargs(self, call_kwargs) -> dict:
        """The keyword arguments a model config records for a call of this
        layer made with ``call_kwargs`` (tf_keras records none for most layers)."""
        return {}

    def _replayed_call_kwargs(self, recorded) -> dict:
        """The keyword arguments a model config's inbound node (``recorded``,
        a dict or None) gives back to a call of this layer when the model is
        rebuilt: none for most layers; the attention layers take back their
        boolean options (``use_causal_mask``)."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def _to_arrays(inputs, dtype):
    def convert(x):
        if isinstance(x, Variable):
            return x.value()
        x = np.asarray(x)
        # floats follow the layer's compute dtype (unless it does not autocast)
        return x.astype(dtype) if dtype and x.dtype.kind == "f" and dtype[0] == "f" else x
    return map_structure(convert, inputs)


def _with_layer_context(exc, layer, inputs):
    shapes = [_shape_of(x) for x in flatten(inputs)]
    shown = shapes[0] if len(shapes) == 1 else shapes
    message = (f"{exc}\n\nException encountered when calling layer {layer.name!r} "
               f"(type {type(layer).__name__}) on inputs of shape {shown}.")
    try:
        new = type(exc)(message)
    except Exception:
        return exc
    return new
