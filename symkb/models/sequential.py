"""Sequential: a linear stack of layers.

With a known input (an ``Input`` tensor or an ``InputLayer`` first, or a first
layer given ``input_shape``) the graph is built as layers are added; otherwise
it is built on the first call or ``predict``, from the data's shape.
"""
from __future__ import annotations

from ..ir import Graph, KerasTensor
from ..layers.base import Layer
from ..layers.core import InputLayer, input_layer_of
from .config import sequential_config, sequential_from_config
from .functional import Model, _collect_layers, _default_name


class Sequential(Model):
    """A linear stack of layers (tf_keras semantics)."""

    _config_module = "keras"
    _config_registered_name = None

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name or _default_name(Sequential), trainable=trainable)
        self._autocast = False  # a model's layers cast their own inputs (tf_keras)
        self._stack: list = []
        self._own_calls: list = []  # (layer, inbound entry) the last build added
        self._input_layer = None
        self.inputs, self.outputs = [], []
        self._nested_inputs = self._nested_outputs = None
        self.graph = None
        self._calls, self._records = [], {}
        self._predict_fn = None
        self._training_call_fn = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        """Append a layer (or set the input with an Input tensor / InputLayer)."""
        if isinstance(layer, KerasTensor):
            origin = input_layer_of(layer)
            if origin is None:
                raise TypeError("Sequential.add: a KerasTensor may only be added when it comes "
                                f"from Input(); received {layer.name}")
            layer = origin
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. Received: "
                            f"layer={layer} of type {type(layer)}.")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("Sequential: an InputLayer/Input may only be the first element")
            self._input_layer = layer
            return
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name {layer.name!r} is already the name of a layer in this model.")
        previous_input = self._input_layer
        self._stack.append(layer)
        try:
            if self._input_layer is None and len(self._stack) == 1:
                shape, dtype = layer._batch_input_shape, layer.dtype
                if shape is None and isinstance(layer, Model) and len(layer.inputs) == 1:
                    # a built model first: its input is the stack's (tf_keras)
                    shape, dtype = tuple(layer.inputs[0].shape), layer.inputs[0].dtype
                if shape is not None:
                    self._input_layer = _implicit_input(layer, shape, dtype)
            if self._input_layer is not None:
                self._build_graph(self._input_layer.output)
        except BaseException:
            # a layer that cannot be added leaves the model as it was
            self._stack.pop()
            self._input_layer = previous_input
            raise
        self._predict_fn = None
        self._training_call_fn = None

    def pop(self) -> None:
        """Remove the last layer (the graph is rebuilt without it)."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        self._predict_fn = None
        self._training_call_fn = None
        if self._input_layer is not None:
            self._build_graph(self._input_layer.output)

    def _build_graph(self, input_tensor) -> None:
        # The stack is called anew (after add, pop, a first batch): the calls
        # of the previous build leave the layers' connectivity. A build that
        # fails puts every layer's connectivity and the model back as they were.
        touched = {id(layer): (layer, list(layer._inbound))
                   for layer in [*self._stack, *(layer for layer, _ in self._own_calls)]}
        previous = self._own_calls
        for layer, entry in self._own_calls:
            layer._inbound = [e for e in layer._inbound if e is not entry]
        self._own_calls = []
        try:
            x = input_tensor
            for layer in self._stack:
                before = len(layer._inbound)
                x = layer(x)
                self._own_calls.extend((layer, e) for e in layer._inbound[before:])
                if not isinstance(x, KerasTensor):
                    raise TypeError(f"Sequential: layer {layer.name!r} returned "
                                    f"{type(x).__name__}; every layer of a Sequential model "
                                    "must return a single tensor")
            self._set_graph(input_tensor, x)
        except BaseException:
            for layer, inbound in touched.values():
                layer._inbound = inbound
            self._own_calls = previous
            raise

    def _set_graph(self, inp, out) -> None:
        graph = Graph([inp], [out], name=self.name)
        _, calls, records = _collect_layers([inp], [out])   # may refuse (duplicate names)
        self._nested_inputs, self._nested_outputs = inp, out
        self.inputs, self.outputs = [inp], [out]
        self.graph = graph
        self._calls, self._records = calls, records
        self._build_input_shape = tuple(inp.shape)
        self.built = True
        self._predict_fn = None
        self._training_call_fn = None

    def build(self, input_shape=None) -> None:
        """Build the graph for ``input_shape`` (batch dimension included)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument.")
            return
        if self._input_layer is None:
            if not self._stack:
                raise ValueError(f"Sequential {self.name!r}: there are no layers to build. "
                                 f"Received: input_shape={input_shape}")
            self._input_layer = _implicit_input(self._stack[0], tuple(input_shape), self.dtype)
        self._build_graph(self._input_layer.output)

    def _ensure_built(self, data) -> None:
        if not self.built:
            import numpy as np
            shape = tuple(data.shape) if isinstance(data, KerasTensor) else np.shape(data)
            dtype = data.dtype if isinstance(data, KerasTensor) else \
                (np.asarray(data).dtype.name if np.asarray(data).dtype.kind in "iu"
                 else self.dtype)
            self._input_layer = _implicit_input(self._stack[0], (None,) + tuple(shape[1:]),
                                                dtype)
            self._build_graph(self._input_layer.output)

    @property
    def layers(self) -> list:
        return list(self._stack)

    @property
    def _layers(self) -> list:
        return list(self._stack)

    def call(self, inputs, training=None, mask=None):
        if isinstance(inputs, KerasTensor):
            # called on a tensor before it has an input: it builds on that
            # tensor's shape first, as tf_keras does (so its config and
            # summary show the input it inferred)
            self._ensure_built(inputs)
            x = inputs
            for layer in self._stack:
                x = layer(x, training=True) if training and "training" in \
                    layer._call_accepts else layer(x)
            return x
        self._ensure_built(inputs)
        if training:
            from .training_forward import call_in_training
            outs = call_in_training(self, [inputs])
            if outs is not None:
                return outs[0]
        return self._compiled()(inputs)

    def _check_built(self) -> None:
        if not self.built:
            raise ValueError(
                f"Model {self.name!r}: this model has not yet been built. Build the model first "
                "by calling `build()` or by calling the model on a batch of data.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the Keras-style summary table (an error before the model is built);
        the arguments are :meth:`Model.summary`'s."""
        self._check_built()
        super().summary(line_length, positions, print_fn, expand_nested=expand_nested,
                        show_trainable=show_trainable, layer_range=layer_range)

    def _summary_has_connections(self) -> bool:
        return False

    def count_params(self) -> int:
        """The number of scalars in the model's weights (an error before it is built)."""
        self._check_built()
        return super().count_params()

    def get_config(self) -> dict:
        """The model's name and its layers' configs, in order (``from_config``)."""
        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return sequential_from_config(config, custom_objects)



def _implicit_input(first_layer, batch_shape, dtype) -> InputLayer:
    """The InputLayer a Sequential makes for itself: named ``<first layer>_input``
    as in tf_keras."""
    return InputLayer(batch_input_shape=tuple(batch_shape), dtype=dtype,
                      name=f"{first_layer.name}_input")
