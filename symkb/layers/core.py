"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Permute,
RepeatVector, Lambda."""
from __future__ import annotations

import inspect

import numpy as np

from .. import backend as K
from ..backend.session import unique_object_name
from ..ir import KerasTensor
from . import activations, initializers, regularization
from .base import CallRecord, Layer, history, set_history


class InputLayer(Layer):
    """The layer behind an ``Input`` tensor: it holds the placeholder."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, name=None,
                 batch_input_shape=None, sparse=False, ragged=False, optional=False, **kwargs):
        if sparse or ragged or optional:
            raise ValueError("Input: sparse, ragged and optional inputs are not supported. "
                             f"Received: sparse={sparse}, ragged={ragged}, optional={optional}")
        name = name or unique_object_name("input", zero_based=False)
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("Input: give `shape` (without the batch dimension) or "
                                 "`batch_shape`")
            batch_input_shape = (batch_size,) + tuple(input_shape)
        super().__init__(name=name, dtype=dtype or K.floatx(),
                         batch_input_shape=tuple(batch_input_shape))
        self.built = True
        tensor = K.placeholder(shape=self._batch_input_shape, dtype=self.dtype, name=self.name)
        set_history(tensor, CallRecord(self, (), {}, 0))
        # As in tf_keras: ``input`` and ``output`` are the tensor, the shapes
        # a list of one shape.
        self._inbound = [([tensor], [tensor])]

    @property
    def input(self):
        return self._inbound[0][0][0]

    @property
    def output(self):
        return self._inbound[0][1][0]

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name, "optional": False}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
          ragged=None, batch_shape=None, **kwargs):
    """A symbolic model input: a KerasTensor of shape ``(batch_size, *shape)``.

    Example:
        >>> Input([10]).shape
        (None, 10)
    """
    if tensor is not None:
        raise ValueError("Input: `tensor=` is not supported; use the KerasTensor directly")
    if kwargs:
        raise TypeError(f"Input: unexpected keyword arguments {sorted(kwargs)}")
    if shape is not None and isinstance(shape, int):
        shape = (shape,)
    layer = InputLayer(input_shape=None if shape is None else tuple(shape),
                       batch_size=batch_size, dtype=dtype, name=name,
                       batch_input_shape=batch_shape, sparse=bool(sparse), ragged=bool(ragged))
    return layer.output


def input_layer_of(tensor):
    """The InputLayer that made ``tensor``, or None."""
    record = history(tensor)
    return record.layer if record is not None and isinstance(record.layer, InputLayer) else None


class Dense(Layer):
    """``activation(dot(x, kernel) + bias)``; kernel ``(input_dim, units)``."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        # tf_keras takes int(units) (2.0 is 2); a value that is not a whole
        # positive number is an error
        if isinstance(units, bool) or not isinstance(units, (int, float, np.integer,
                                                              np.floating)) \
                or not np.isfinite(units) or units != int(units) or units <= 0:
            raise ValueError(f"Dense: `units` must be a positive integer, received {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._keep_specs(kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self.supports_masking = True
        self._input_dim = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected min_ndim=2, found ndim={len(input_shape)}. Full shape "
                             f"received: {input_shape}")
        last = input_shape[-1]
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             f"defined. Found None. Full input shape received: {input_shape}")
        self._input_dim = last
        self.kernel = self.add_weight("kernel", (last, self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer) \
            if self.use_bias else None
        super().build(input_shape)

    def call(self, inputs):
        shape = K.int_shape(inputs)
        if len(shape) < 2 or shape[-1] != self._input_dim:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected axis "
                f"-1 of input shape to have value {self._input_dim}, but received input with "
                f"shape {shape}")
        if K.dtype(inputs) != self.compute_dtype:  # integer inputs too (tf_keras)
            inputs = K.cast(inputs, self.compute_dtype)
        outputs = K.dot(inputs, self.kernel)
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        config.update(self._specs)
        return config


class Activation(Layer):
    """Applies an activation function."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class ActivityRegularization(Layer):
    """Returns its input; in training, adds ``l1 * sum(|x|) + l2 * sum(x ** 2)``
    over the batch, divided by the batch size, to the loss (an activity
    regularizer, as tf_keras's)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        from . import regularizers
        super().__init__(**kwargs)
        self.l1, self.l2 = l1, l2
        self.supports_masking = True
        regularization.keep_regularizers(
            self, {"activity_regularizer": regularizers.L1L2(l1=l1, l2=l2)})

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config


class Dropout(Layer):
    """Drops inputs with probability ``rate`` in training; identity in inference."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: invalid value received for `rate`, expected a value "
                             f"between 0 and 1, got: {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if isinstance(inputs, KerasTensor):
            return self._symbolic_dropout(inputs)
        return K.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed)

    def _symbolic_dropout(self, inputs):
        """``inputs * keep / (1 - rate)``, ``keep`` drawn when the graph runs: a
        product, so a train step differentiates through it (the mask is fixed)."""
        shape = K.shape(inputs)
        if self.noise_shape is not None:
            shape = [shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]
            shape = K.stack([K.cast(d, "int32") for d in shape])
        draw = K.random_uniform(shape, dtype=inputs.dtype, seed=self.seed)
        keep = K.cast(K.greater_equal(draw, self.rate), inputs.dtype)
        return inputs * keep * (1.0 / (1.0 - self.rate))

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class Flatten(Layer):
    """``(batch, ...)`` -> ``(batch, prod(...))``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def call(self, inputs):
        if K.ndim(inputs) == 1:
            return K.expand_dims(inputs, 1)
        if self.data_format == "channels_first" and K.ndim(inputs) > 2:
            perm = (0,) + tuple(range(2, K.ndim(inputs))) + (1,)
            inputs = K.permute_dimensions(inputs, perm)
        return K.batch_flatten(inputs)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshape to ``(batch,) + target_shape``."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        return K.reshape(inputs, (-1,) + self._resolved(K.int_shape(inputs)))

    def _resolved(self, input_shape) -> tuple:
        """``target_shape`` with its ``-1`` (at most one) worked out from the
        input's static shape, and the sizes checked (tf_keras's rules)."""
        target = self.target_shape
        unknown = [i for i, d in enumerate(target) if d == -1]
        if len(unknown) > 1 or any(d < -1 or d == 0 for d in target if d is not None):
            raise ValueError(f"Reshape: there must be at most one unknown (-1) dimension and "
                             f"the others positive in `target_shape`, received {target}")
        rest = input_shape[1:]
        if any(d is None for d in rest):
            if unknown:
                raise ValueError(f"Reshape: cannot infer the -1 of `target_shape` {target} "
                                 f"from an input of shape {tuple(input_shape)} (its "
                                 "non-batch dimensions must be known)")
            return target
        size = int(np.prod(rest, dtype=np.int64))
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        if unknown and known and size % known == 0:
            target = target[:unknown[0]] + (size // known,) + target[unknown[0] + 1:]
        elif unknown or known != size:
            raise ValueError(f"Reshape: total size of new array must be unchanged, "
                             f"input_shape = {list(rest)}, output_shape = {list(target)}")
        return target

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` are 1-based."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: invalid permutation argument `dims` {self.dims}; "
                             "expected a permutation of 1..n")

    def call(self, inputs):
        return K.permute_dimensions(inputs, (0,) + self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """``(batch, features)`` -> ``(batch, n, features)``."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, inputs):
        return K.repeat(inputs, self.n)

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Lambda(Layer):
    """Wraps a function of K ops as a layer (not serialisable to JSON)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            self._function_takes_mask = "mask" in inspect.signature(function).parameters
        except (TypeError, ValueError):
            self._function_takes_mask = False

    def call(self, inputs, mask=None):
        kwargs = dict(self.arguments)
        if self._function_takes_mask:
            kwargs["mask"] = mask
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """``mask(inputs, mask)`` when the layer was given a callable, else the
        ``mask`` it was given (tf_keras)."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        raise ValueError(f"Lambda layer {self.name!r} wraps a Python function and cannot be "
                         "serialised (symkb never stores code)")


def is_input_tensor(x) -> bool:
    return isinstance(x, KerasTensor) and input_layer_of(x) is not None
