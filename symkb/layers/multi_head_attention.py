"""MultiHeadAttention with tf_keras's weights and call.

Weights, in tf_keras's order and layout (its EinsumDense kernels):
``query/kernel`` ``(query_dim, num_heads, key_dim)`` and ``query/bias``
``(num_heads, key_dim)``, the same for ``key`` (``key_dim``) and ``value``
(``value_dim``), then ``attention_output/kernel`` ``(num_heads, value_dim,
output_dim)`` and ``attention_output/bias`` ``(output_dim,)``; biases only
with ``use_bias``. Each projection runs as one ``dot`` with the kernel seen as
a matrix; the heads are folded into the batch for the two batched products.

On 3-D ``(batch, steps, dim)`` inputs attention runs over axis 1 (tf_keras's
default ``attention_axes``). The mask combines ``attention_mask`` ``(batch,
Tq, Tv)``, the masks travelling with query, value and key, and
``use_causal_mask``; masked scores are lowered by 1e9 before the softmax.

Inputs of higher rank ``(batch, *spatial, dim)`` attend over
``attention_axes`` (by default every spatial axis), jointly, as tf_keras
does: the other spatial axes act as batch axes, the scores (and the returned
attention scores) have tf_keras's shape ``(batch, *other, heads,
*query_attention, *key_attention)``, and an ``attention_mask`` is broadcast
against them after tf_keras's expansion before the heads axis. The masks
travelling with the inputs and ``use_causal_mask`` are for 3-D inputs.
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
            raise ValueError(f"{cls}: `output_shape` must be an int or a 1-tuple; "
                             f"received output_shape={output_shape!r}")
        self._output_shape = output_shape
        axes = [attention_axes] if isinstance(attention_axes, int) else attention_axes
        if axes is not None:
            try:
                axes = [int(a) for a in axes]
            except (TypeError, ValueError):
                raise ValueError(f"{cls}: `attention_axes` must be None, an int or a sequence "
                                 f"of ints; received attention_axes={attention_axes!r}") from None
            axes = [1] if axes == [-2] else axes
            if not axes or min(axes) < 1 or len(set(axes)) != len(axes):
                raise ValueError(f"{cls}: `attention_axes` must be distinct axes of the inputs "
                                 "between the batch axis and the feature axis (1, 2, ...); "
                                 f"received attention_axes={attention_axes!r}")
        self.attention_axes = axes
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
        rank = len(shapes[0])
        for s in shapes:
            if len(s) != rank or rank < 3 or s[-1] is None:
                raise ValueError(f"MultiHeadAttention {self.name!r}: expected inputs of one rank "
                                 "(3 or more: batch, steps or spatial axes, features) with a "
                                 f"known last dimension; received shapes {shapes}")
        if self.attention_axes is None:
            self.attention_axes = list(range(1, rank - 1))
        elif max(self.attention_axes) > rank - 2:
            raise ValueError(f"MultiHeadAttention {self.name!r}: attention_axes "
                             f"{self.attention_axes} must lie between the batch axis and the "
                             f"feature axis of inputs of rank {rank}; received shapes {shapes}")
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        self._shapes = (list(q), list(k), list(v))
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
        if len(K.int_shape(query)) != 3:
            return self._call_spatial(query, key, value, attention_mask, return_attention_scores,
                                      training, use_causal_mask, mask)
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

    def _call_spatial(self, query, key, value, attention_mask, return_attention_scores,
                      training, use_causal_mask, mask):
        """Attention over ``attention_axes`` of inputs of rank 4 or more (see the
        module docstring): each projection is moved to ``(batch, *other, heads,
        *attention, size)`` and its attention axes flattened, so both products
        are the 3-D path's batched products."""
        name = f"MultiHeadAttention {self.name!r}"
        if use_causal_mask or (mask is not None and any(m is not None for m in mask)):
            raise ValueError(f"{name}: use_causal_mask and the masks travelling with the inputs "
                             "need 3-D inputs; pass an `attention_mask` instead")
        rank = len(K.int_shape(query))
        attn = list(self.attention_axes)
        other = [a for a in range(1, rank - 1) if a not in attn]
        shapes = {n: K.int_shape(t) for n, t in (("query", query), ("key", key), ("value", value))}
        for n, shape in shapes.items():
            if any(d is None for d in shape[1:]):
                raise ValueError(f"{name}: the {n}'s axes past the batch must be known; "
                                 f"received shape {shape}")
            if [shape[a] for a in other] != [shapes["query"][a] for a in other]:
                raise ValueError(f"{name}: the axes {other} that attention does not run over "
                                 f"must match the query's; received {n} shape {shape} and query "
                                 f"shape {shapes['query']}")
        if [shapes["key"][a] for a in attn] != [shapes["value"][a] for a in attn]:
            raise ValueError(f"{name}: key and value must have the same attention axes "
                             f"{attn}; received key shape {shapes['key']} and value shape "
                             f"{shapes['value']}")
        heads = self.num_heads
        # projected axes: 0 batch, 1..rank-2 spatial, rank-1 heads, rank size
        perm = (0, *other, rank - 1, *attn, rank)
        other_dims = [shapes["query"][a] for a in other]

        def project(x, kernel, bias, size, scale=None):
            kernel = K.reshape(read_weight(kernel, x), (K.int_shape(kernel)[0], heads * size))
            y = K.dot(x, kernel)
            if bias is not None:
                y = K.bias_add(y, K.reshape(read_weight(bias, x), (heads * size,)))
            if scale is not None:
                y = y * scale
            y = K.reshape(y, (-1, *K.int_shape(x)[1:-1], heads, size))
            return K.reshape(K.permute_dimensions(y, perm), (-1, int(np.prod(
                [K.int_shape(x)[a] for a in attn])), size))

        q = project(query, self._query_kernel, self._query_bias, self.key_dim,
                    1.0 / float(np.sqrt(self.key_dim)))
        k = project(key, self._key_kernel, self._key_bias, self.key_dim)
        v = project(value, self._value_kernel, self._value_bias, self.value_dim)
        q_attn = [shapes["query"][a] for a in attn]
        k_attn = [shapes["key"][a] for a in attn]
        full_shape = (-1, *other_dims, heads, *q_attn, *k_attn)
        scores = K.reshape(K.batch_dot(q, k, axes=(2, 2)), full_shape)
        if attention_mask is not None:
            # tf_keras's expansion: new axes go in before the heads axis
            at = -2 * len(attn) - 1
            while len(K.int_shape(attention_mask)) < len(full_shape):
                attention_mask = K.expand_dims(attention_mask, at)
            scores = masked_scores(scores, attention_mask)
        pq, pk = int(np.prod(q_attn)), int(np.prod(k_attn))
        probs = K.softmax(K.reshape(scores, (-1, pq, pk)))
        if training and self.dropout > 0:
            probs = K.dropout(probs, self.dropout)
        out = K.reshape(K.batch_dot(probs, v, axes=(2, 1)),
                        (-1, *other_dims, heads, *q_attn, self.value_dim))
        out = K.permute_dimensions(out, tuple(int(i) for i in np.argsort(perm)))
        merged = K.reshape(out, (-1, *shapes["query"][1:-1], heads * self.value_dim))
        kernel = K.reshape(read_weight(self._output_kernel, merged),
                           (heads * self.value_dim, self._out_dim))
        out = K.dot(merged, kernel)
        if self._output_bias is not None:
            out = K.bias_add(out, self._output_bias)
        return [out, K.reshape(probs, full_shape)] if return_attention_scores else out

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
