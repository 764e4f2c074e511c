"""Layers that make masks: Embedding (``mask_zero=True``) and Masking.

The mask they compute travels with their output (see ``Layer.compute_mask``)
into the next layers, so a recurrent layer after them skips the padded steps.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from . import initializers
from .base import Layer


class Embedding(Layer):
    """Turns integer ids ``(batch, ...)`` into vectors ``(batch, ..., output_dim)``.

    Args:
        input_dim: vocabulary size (ids are ``0 .. input_dim - 1``).
        output_dim: size of each vector.
        embeddings_initializer: default ``'uniform'`` (uniform in [-0.05, 0.05]).
        mask_zero: id 0 is padding: the output carries the mask ``ids != 0``.
        input_length: the sequence length (informational).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            # as tf_keras: an Embedding always knows its input (ids of any
            # length), so a Sequential starting with one is built at once
            if input_length is None:
                kwargs["input_shape"] = (None,)
            else:
                kwargs["input_shape"] = (input_length,) if isinstance(input_length, int) \
                    else tuple(input_length)
        # no autocast: float indices go to int32 in call, not through float16 first
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        for label, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Both `input_dim` and `output_dim` should be positive, "
                                 f"Received {label}={value!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        if embeddings_initializer == "uniform":
            embeddings_initializer = initializers.RandomUniform(-0.05, 0.05)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self._keep_specs(embeddings_regularizer=embeddings_regularizer,
                         activity_regularizer=activity_regularizer,
                         embeddings_constraint=embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer)
        super().build(input_shape)

    def call(self, inputs):
        if K.dtype(inputs) not in ("int32", "int64"):
            inputs = K.cast(inputs, "int32")
        return K.gather(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return K.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "mask_zero": self.mask_zero, "input_length": self.input_length,
        })
        config.update(self._specs)
        return config


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``.

    The output is the input with those steps zeroed; its mask
    ``any(inputs != mask_value, axis=-1)`` goes to the next layers.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return K.any(K.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        # the mask itself with its last axis back: one reduction in the graph
        # for the outputs and the mask (tf_keras reduces twice, keepdims and not)
        keep = K.expand_dims(self.compute_mask(inputs), -1)
        return inputs * K.cast(keep, K.dtype(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
