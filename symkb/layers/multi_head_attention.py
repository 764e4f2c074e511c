"""MultiHeadAttention with tf_keras's weights and call.

Weights, in tf_keras's order and layout (its EinsumDense kernels):
``query/kernel`` ``(query_dim, num_heads, key_dim)`` and ``query/bias``
``(num_heads, key_dim)``, the same for ``key`` (``key_dim``) and ``value``
(``value_dim``), then ``attention_output/kernel`` ``(num_heads, value_dim,
output_dim)`` and ``attention_output/bias`` ``(output_dim,)``; biases only
with ``use_bias``. Each projection runs as one ``dot`` with the kernel seen as
a matrix; the heads are folded into the batch for the two batched products.

Attention runs over axis 1 of 3-D ``(batch, steps, dim)`` inputs (tf_keras's
default ``attention_axes``). The mask combines ``attention_mask`` ``(batch,
Tq, Tv)``, the masks travelling with query, value and key, and
``use_causal_mask``; masked scores are lowered by 1e9 before the softmax.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from . import initializers
from .attention import causal_mask, mask_and, masked_scores
from .base import Layer
from .conv_utils import read_weight
from .convolutional import positive_int


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (see the module docstring)."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 query_shape=None, key_shape=None, value_shape=None,
                 softmax_robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        cls = "MultiHeadAttention"
        self.num_heads = positive_int(num_heads, "num_heads", cls)
        self.key_dim = positive_int(key_dim, "key_dim", cls)
        self.value_dim = positive_int(value_dim, "value_dim", cls) if value_dim else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, (list, tuple)) and len(output_shape) != 1:
            raise ValueError(f"{cls}: `output_shape` must be an int or a 1-tuple (3-D inputs); "
                             f"received output_shape={output_shape!r}")
        self._output_shape = output_shape
        axes = [attention_axes] if isinstance(attention_axes, int) else attention_axes
        if axes is not None and list(axes) not in ([1], [-2]):
            raise ValueError(f"{cls}: attention over axes {attention_axes!r} is not supported; "
                             "symkb attends over axis 1 of 3-D inputs (attention_axes=None)")
        self.attention_axes = None if axes is None else [1]
        if softmax_robust_masking:
            raise ValueError(f"{cls}: softmax_robust_masking=True is not supported")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._keep_specs(kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._shapes = (query_shape, key_shape, value_shape)
        self.supports_masking = True

    def __call__(self, query, value=None, key=None, **kwargs):
        """``layer(query, value, key=None, attention_mask=None, ...)``; a list
        ``[query, value(, key)]`` (how a model config replays the call) also works."""
        if value is None and isinstance(query, (list, tuple)):
            query, value, key = (list(query) + [None])[:3]
        if value is None:
            raise ValueError(f"MultiHeadAttention {self.name!r}: `value` is required; call the "
                             "layer as layer(query, value, key=None, ...)")
        inputs = [query, value] + ([key] if key is not None else [])
        return super().__call__(inputs, **kwargs)

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        for s in shapes:
            if len(s) != 3 or s[-1] is None:
                raise ValueError(f"MultiHeadAttention {self.name!r}: expected 3-D inputs with a "
                                 f"known last dimension; received shapes {shapes}")
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        self._shapes = (list(q), list(k), list(v))
        self.attention_axes = [1]
        heads = self.num_heads
        out = self._output_shape
        out_dim = q[-1] if out is None else (out[0] if isinstance(out, (list, tuple)) else out)
        self._out_dim = int(out_dim)
        for name, dim, size in (("query", q[-1], self.key_dim), ("key", k[-1], self.key_dim),
                                ("value", v[-1], self.value_dim)):
            setattr(self, f"_{name}_kernel", self.add_weight(
                f"{name}/kernel", (dim, heads, size), initializer=self.kernel_initializer))
            setattr(self, f"_{name}_bias", self.add_weight(
                f"{name}/bias", (heads, size), initializer=self.bias_initializer)
                if self.use_bias else None)
        self._output_kernel = self.add_weight("attention_output/kernel",
                                              (heads, self.value_dim, self._out_dim),
                                              initializer=self.kernel_initializer)
        self._output_bias = self.add_weight("attention_output/bias", (self._out_dim,),
                                            initializer=self.bias_initializer) \
            if self.use_bias else None
        super().build(input_shape)

    def _keras_weight_paths(self) -> dict:
        """Where tf_keras's ``.weights.h5`` keeps these weights: in the four
        EinsumDense sublayers of its MultiHeadAttention."""
        out = {}
        for name in ("key", "output", "query", "value"):
            kernel = getattr(self, f"_{name}_kernel")
            bias = getattr(self, f"_{name}_bias")
            for i, var in enumerate(v for v in (kernel, bias) if v is not None):
                out[f"_{name}_dense/vars/{i}"] = var
        return out

    def _project(self, x, kernel, bias, size, scale=None):
        """``x`` ``(batch, T, dim)`` -> ``(batch * heads, T, size)``, times ``scale``
        (applied to the projection, where a dense epilogue takes it)."""
        steps = K.int_shape(x)[1]
        if steps is None:
            raise ValueError(f"MultiHeadAttention {self.name!r}: the sequence lengths must be "
                             f"known; received shape {K.int_shape(x)}")
        kernel = K.reshape(read_weight(kernel, x), (K.int_shape(kernel)[0],
                                                    self.num_heads * size))
        y = K.dot(x, kernel)
        if bias is not None:
            y = K.bias_add(y, K.reshape(read_weight(bias, x), (self.num_heads * size,)))
        if scale is not None:
            y = y * scale
        y = K.permute_dimensions(K.reshape(y, (-1, steps, self.num_heads, size)), (0, 2, 1, 3))
        return K.reshape(y, (-1, steps, size))

    def call(self, inputs, attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False, mask=None):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        tq, tk = K.int_shape(query)[1], K.int_shape(key)[1]
        q = self._project(query, self._query_kernel, self._query_bias, self.key_dim,
                          1.0 / float(np.sqrt(self.key_dim)))
        k = self._project(key, self._key_kernel, self._key_bias, self.key_dim)
        v = self._project(value, self._value_kernel, self._value_bias, self.value_dim)
        scores = K.reshape(K.batch_dot(q, k, axes=(2, 2)), (-1, self.num_heads, tq, tk))
        full = self._mask(attention_mask, mask, use_causal_mask, tq, tk)
        full = None if full is None else K.expand_dims(full, 1)
        probs = K.softmax(masked_scores(scores, full))
        if training and self.dropout > 0:
            probs = K.dropout(probs, self.dropout)
        heads = K.batch_dot(K.reshape(probs, (-1, tq, tk)), v, axes=(2, 1))
        heads = K.permute_dimensions(K.reshape(heads, (-1, self.num_heads, tq, self.value_dim)),
                                     (0, 2, 1, 3))
        merged = K.reshape(heads, (-1, tq, self.num_heads * self.value_dim))
        kernel = K.reshape(read_weight(self._output_kernel, merged),
                           (self.num_heads * self.value_dim, self._out_dim))
        out = K.dot(merged, kernel)
        if self._output_bias is not None:
            out = K.bias_add(out, self._output_bias)
        return [out, probs] if return_attention_scores else out

    def _mask(self, attention_mask, masks, causal, tq, tk):
        """The ``(batch, Tq, Tk)`` mask (or None) from every source, as tf_keras combines them."""
        full = attention_mask
        if masks is not None:
            masks = list(masks) + [None] * (3 - len(masks))
            q_mask, v_mask, k_mask = masks[0], masks[1], masks[2]
            if k_mask is None:
                k_mask = v_mask
            if q_mask is not None:
                full = mask_and(full, K.expand_dims(q_mask, -1))
            if k_mask is not None:
                full = mask_and(full, K.expand_dims(k_mask, 1))
        if causal:
            full = mask_and(full, causal_mask(tq, tk))
        return full

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        """The output shape for ``query_shape`` (tf_keras's signature; a list
        ``[query, value(, key)]`` of shapes also works)."""
        several = value_shape is None and isinstance(query_shape, list) and query_shape \
            and isinstance(query_shape[0], (list, tuple))
        q = tuple(query_shape[0] if several else query_shape)
        out = self._output_shape
        if out is None:
            return q
        return q[:-1] + (tuple(out) if isinstance(out, (list, tuple)) else (out,))

    # tf_keras's model config records the query by position, value and key by keyword
    _config_keyword_inputs = ("value", "key")

    def _config_call_kwargs(self, call_kwargs) -> dict:
        return {k: bool(call_kwargs[k]) for k in ("use_causal_mask", "return_attention_scores")
                if call_kwargs.get(k)}

    def _replayed_call_kwargs(self, recorded) -> dict:
        return {k: bool(recorded[k]) for k in ("use_causal_mask", "return_attention_scores")
                if isinstance(recorded, dict) and recorded.get(k)}

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
            "dropout": self.dropout, "use_bias": self.use_bias,
            "output_shape": self._output_shape, "attention_axes": self.attention_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "query_shape": self._shapes[0], "key_shape": self._shapes[1],
            "value_shape": self._shapes[2], "softmax_robust_masking": False,
        })
        config.update(self._specs)
        return config
