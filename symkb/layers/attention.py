"""Dot-product and additive attention layers: Attention, AdditiveAttention.

Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to
``value``), shapes ``(batch, Tq, dim)`` and ``(batch, Tv, dim)``, with
optional masks ``[query_mask, value_mask]`` (``(batch, Tq)`` and ``(batch,
Tv)``, True where a step is real), ``use_causal_mask`` (query step ``i``
sees value steps ``j <= i``; the constructor's ``causal`` is the older
spelling) and ``return_attention_scores``. As in tf_keras, masked scores are
lowered by 1e9 before the softmax and the result is zeroed where the query
is masked. Weights: Attention's scalar ``scale`` (``use_scale``) and
``concat_score_weight`` (``score_mode='concat'``); AdditiveAttention's
``scale`` of shape ``(dim,)`` (``use_scale``).
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from .base import Layer

_MASKED = 1e9  # what tf_keras subtracts from a masked score (float32)


def causal_mask(tq, tk):
    """``(1, tq, tk)`` bool: query step ``i`` may see key steps ``j <= i``."""
    if tq is None or tk is None:
        raise ValueError("use_causal_mask: the query and key lengths must be known; "
                         f"received {tq} and {tk}")
    return np.tril(np.ones((tq, tk), dtype=bool))[None]


def masked_scores(scores, mask):
    """``scores`` lowered by 1e9 where ``mask`` (broadcast against them) is False."""
    if mask is None:
        return scores
    return scores - _MASKED * (1.0 - K.cast(mask, K.dtype(scores)))


def mask_and(a, b):
    """Two optional bool masks combined (broadcast); None when both are None."""
    if a is None:
        return b
    if b is None:
        return a
    return K.cast(K.cast(a, "float32") * K.cast(b, "float32"), "bool")


class _BaseAttention(Layer):
    """The shared call of the two layers; subclasses give ``_scores``."""

    def __init__(self, use_scale=False, dropout=0.0, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.dropout = float(dropout)
        if not 0.0 <= self.dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: `dropout` must be in [0, 1]. "
                             f"Received: dropout={dropout}")
        self._causal = bool(causal)
        self.supports_masking = True

    def _split(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(f"{type(self).__name__} layer must be called on a list of inputs, "
                             "namely [query, value] or [query, value, key]. "
                             f"Received: {inputs!r}")
        q, v = inputs[0], inputs[1]
        return q, v, inputs[2] if len(inputs) == 3 else v

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        q, v, k = self._split(inputs)
        q_mask = v_mask = None
        if mask is not None:
            if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
                raise ValueError(f"{type(self).__name__}: `mask` must be a list [query_mask, "
                                 f"value_mask]. Received: {mask!r}")
            q_mask, v_mask = mask[0], mask[1]
        scores = self._scores(q, k)
        score_mask = None if v_mask is None else K.expand_dims(v_mask, 1)
        if use_causal_mask or self._causal:
            score_mask = mask_and(score_mask, causal_mask(K.int_shape(q)[1], K.int_shape(k)[1]))
        weights = K.softmax(masked_scores(scores, score_mask))
        if training and self.dropout > 0:
            weights = K.dropout(weights, self.dropout)
        result = K.batch_dot(weights, v, axes=(2, 1))
        if q_mask is not None:
            result = result * K.expand_dims(K.cast(q_mask, K.dtype(result)), -1)
        return [result, weights] if return_attention_scores else result

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def _config_call_kwargs(self, call_kwargs) -> dict:
        return {k: bool(call_kwargs[k]) for k in ("use_causal_mask", "return_attention_scores")
                if call_kwargs.get(k)}

    def _replayed_call_kwargs(self, recorded) -> dict:
        return {k: bool(recorded[k]) for k in ("use_causal_mask", "return_attention_scores")
                if isinstance(recorded, dict) and recorded.get(k)}

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout, "use_scale": self.use_scale})
        return config


class Attention(_BaseAttention):
    """Dot-product (``score_mode='dot'``) or tanh-concat (``'concat'``) attention."""

    def __init__(self, use_scale=False, score_mode="dot", **kwargs):
        super().__init__(use_scale=use_scale, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError("Attention: `score_mode` must be 'dot' or 'concat'. "
                             f"Received: score_mode={score_mode!r}")
        self.score_mode = score_mode

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (), initializer="ones") if self.use_scale \
            else None
        self.concat_score_weight = self.add_weight("concat_score_weight", (),
                                                   initializer="ones") \
            if self.score_mode == "concat" else None
        super().build(input_shape)

    def _scores(self, q, k):
        if self.score_mode == "dot":
            scores = K.batch_dot(q, k, axes=(2, 2))
            return scores * self.scale if self.scale is not None else scores
        summed = K.expand_dims(q, 2) + K.expand_dims(k, 1)   # (batch, Tq, Tv, dim)
        if self.scale is not None:
            summed = summed * self.scale
        return self.concat_score_weight * K.sum(K.tanh(summed), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["score_mode"] = self.score_mode
        return config


class AdditiveAttention(_BaseAttention):
    """Bahdanau-style attention: ``sum(scale * tanh(query + key))`` scores."""

    def __init__(self, use_scale=True, **kwargs):
        super().__init__(use_scale=use_scale, **kwargs)

    def build(self, input_shape):
        dim = tuple(input_shape[2 if len(input_shape) == 3 else 1])[-1]
        self.scale = self.add_weight("scale", (dim,), initializer="glorot_uniform") \
            if self.use_scale else None
        super().build(input_shape)

    def _scores(self, q, k):
        summed = K.tanh(K.expand_dims(q, 2) + K.expand_dims(k, 1))   # (batch, Tq, Tv, dim)
        if self.scale is not None:
            summed = summed * self.scale
        return K.sum(summed, axis=-1)
