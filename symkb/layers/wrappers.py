"""Layer wrappers: Bidirectional (an RNN run both ways) and TimeDistributed."""
from __future__ import annotations

from .. import backend as K
from ..backend.nest import flatten
from ..ir import KerasTensor
from .base import Layer
from .recurrent import RNN
from .recurrent_cells import prefix_weight_names
from .serialization import deserialize as _deserialize_entry
from .serialization import serialize as _serialize_entry

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges them.

    Args:
        layer: an :class:`RNN` layer (``SimpleRNN``, ``LSTM``, ``GRU``, ``RNN``).
        merge_mode: ``'concat'`` (default), ``'sum'``, ``'mul'``, ``'ave'`` or
            ``None`` (return ``[forward, backward]``).
        backward_layer: an optional layer to use as the backward one (it must
            have ``go_backwards`` opposite to ``layer``'s).

    The sublayers are ``forward_<name>`` and ``backward_<name>``; the weights
    are the forward layer's, then the backward layer's. As in tf_keras, both
    sublayers output zeros at masked steps when they return sequences.

    Initial states are given as ``initial_state=[*forward, *backward]`` or, as
    a model config records such a call, in the inputs: ``[x, *states]``. The
    config holds ``layer`` as it was given and ``backward_layer`` (its config
    when it was given) only when one was given.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`tf.keras.layers.Layer` instance. Received: {layer}")
        if not isinstance(layer, RNN):
            raise ValueError("Bidirectional: `layer` must be a recurrent layer (RNN, "
                             f"SimpleRNN, LSTM, GRU); received {type(layer).__name__}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             "be one of {'sum', 'mul', 'ave', 'concat', None}")
        if backward_layer is not None and backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value. Received: "
                             f"forward_layer.go_backwards={layer.go_backwards}, "
                             f"backward_layer.go_backwards={backward_layer.go_backwards}")
        super().__init__(**kwargs)
        self.layer = layer
        self.forward_layer = _recreate(layer, "forward_" + layer.name)
        self._backward_layer_config = None
        if backward_layer is None:
            self.backward_layer = _recreate(layer, "backward_" + layer.name,
                                            go_backwards=not layer.go_backwards)
        else:
            # its config as given (before the name gets its prefix)
            self._backward_layer_config = _serialize_entry(backward_layer)
            self.backward_layer = backward_layer
            backward_layer.name = "backward_" + backward_layer.name
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.time_major = layer.time_major
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self.supports_masking = True
        self._initial_weights = weights

    def _sublayers(self) -> list:
        return [self.forward_layer, self.backward_layer]

    def _tracked_layers(self) -> list:
        return [self.layer, self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and \
                isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(input_shape))
                sub.built = True
            prefix_weight_names(sub.weights, self.name)
        super().build(input_shape)

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1 and initial_state is None \
                and constants is None:
            # [x, *initial_states]: how a model config records such a call
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is None and constants is None:
            return super().__call__(inputs, **kwargs)
        if initial_state is not None and len(flatten(initial_state)) % 2:
            raise ValueError(f"Bidirectional {self.name!r}: `initial_state` holds the forward "
                             "layer's states, then the backward layer's: an even number of "
                             f"tensors. Received: {len(flatten(initial_state))} states")
        states = [] if initial_state is None else list(initial_state)
        consts = [] if constants is None else list(constants)
        return super().__call__([inputs] + states + consts,
                                _split=(len(states), len(consts)), **kwargs)

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None,
             _split=None):
        if _split is not None:
            n_states, n_consts = _split
            flat = list(inputs)
            inputs = flat[0]
            initial_state = flat[1:1 + n_states] or None
            constants = flat[1 + n_states:] or None
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = initial_state[:half], initial_state[half:]
        kwargs = {"mask": mask, "training": training}
        y = self.forward_layer(inputs, initial_state=fw_state, constants=constants, **kwargs)
        y_rev = self.backward_layer(inputs, initial_state=bw_state, constants=constants,
                                    **kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = K.reverse(y_rev, 0 if self.time_major else 1)
        if self.merge_mode == "concat":
            output = K.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n_states = len(self.forward_layer.states) + len(self.backward_layer.states)
            return masks + [None] * n_states
        return masks if self.merge_mode is None else output_mask

    def _config_call_kwargs(self, call_kwargs) -> dict:
        # tf_keras records a call with states folded into the inputs so
        return {"initial_state": None, "constants": None} if "_split" in call_kwargs else {}

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize_entry(self.layer)
        config["merge_mode"] = self.merge_mode
        if self._backward_layer_config is not None:
            config["backward_layer"] = self._backward_layer_config
        return config

    @classmethod
    def from_config(cls, config):
        """The wrapper from ``get_config``'s (or tf_keras's) dict."""
        config = dict(config)
        layer = _deserialize_entry(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = _deserialize_entry(backward)
        return cls(layer, **config)


def _recreate(layer, name, **overrides):
    config = layer.get_config()
    config.update(overrides)
    config["name"] = name
    return type(layer).from_config(config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step of ``(batch, time, ...)`` inputs.

    With a known number of steps the steps are folded into the batch
    (one reshape each way); otherwise the layer runs inside ``K.rnn``.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`tf.keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _sublayers(self) -> list:
        return [self.layer]

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with "
                             f"at least 3 dimensions, received: {input_shape}")
        if not self.layer.built:
            self.layer.build((input_shape[0],) + input_shape[2:])
            self.layer.built = True
            inner = self.layer.name + "/"
            for w in self.layer.weights:
                if w.name.startswith(inner):
                    w.name = f"{self.name}/{w.name[len(inner):]}"
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        shape = K.int_shape(inputs)
        steps = shape[1]
        if steps is None:
            def step(x, states):
                return self.layer.call(x), []
            return K.rnn(step, inputs, [])[1]
        inner = K.reshape(inputs, (-1,) + tuple(shape[2:]))
        kwargs = {}
        accepts = getattr(self.layer, "_call_accepts", ())
        if "training" in accepts and training is not None:
            kwargs["training"] = training
        if "mask" in accepts and mask is not None:
            kwargs["mask"] = _fold_steps(mask)
        y = self.layer(inner, **kwargs)
        out_shape = K.int_shape(y) if isinstance(y, KerasTensor) else y.shape
        return K.reshape(y, (-1, steps) + tuple(out_shape[1:]))

    def compute_mask(self, inputs, mask=None):
        """The inner layer's mask of every step, as ``(batch, time, ...)``.

        As in tf_keras: the inner layer's ``compute_mask`` sees the steps
        folded into the batch; when it gives no mask, the input mask (reduced
        to ``(batch, time)``) passes through. With an unknown number of steps
        the input mask passes through unchanged.
        """
        shape = K.int_shape(inputs)
        steps = shape[1]
        if steps is None:
            return mask
        inner = K.reshape(inputs, (-1,) + tuple(shape[2:]))
        inner_mask = None if mask is None else _fold_steps(mask)
        out = self.layer.compute_mask(inner, inner_mask)
        if out is None:
            if mask is None:
                return None
            while K.ndim(mask) > 2:
                mask = K.any(mask, axis=-1)
            return mask
        return K.reshape(out, (-1, steps) + tuple(K.int_shape(out)[1:]))

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize_entry(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        """The wrapper from ``get_config``'s (or tf_keras's) dict."""
        config = dict(config)
        return cls(_deserialize_entry(config.pop("layer")), **config)


def _fold_steps(mask):
    """A ``(batch, time, ...)`` mask as ``(batch * time, ...)``."""
    return K.reshape(mask, (-1,) + tuple(K.int_shape(mask)[2:]))

