"""The op table: every backend op, eager == symbolic, with shapes checked.

Each :class:`Case` names a ``K`` function (or a raw registered op), its
argument kinds and shapes, and its keyword arguments. For every case, dtype
(float32, float64) and placeholder style (static shapes, or ``None`` in the
dims marked ``B``), the test

* runs the function eagerly on numpy arrays (the result must be an
  ``np.ndarray``),
* builds it on placeholders (the result must be a ``KerasTensor`` whose
  static shape agrees with the eager result, ``None`` matching anything, and
  whose dtype equals the eager dtype),
* runs the graph with ``K.function`` (the interpreter) and compares it with
  the eager result,
* and, where the case gives one, compares the eager result with an
  independent numpy expectation.

``test_every_registered_op_has_a_case`` fails when an op is registered that
no case exercises.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, KerasTensor, Variable

B = "B"  # a batch dimension: size 2 when concrete, None in dynamic placeholders
BATCH = 2


@dataclasses.dataclass
class Case:
    """One row of the table.

    ``args`` items are ``(kind, shape)`` pairs or plain Python values. Kinds:
    ``f`` (normal floats of the case dtype), ``pos`` (positive floats),
    ``unit`` (floats in (0, 1)), ``i`` (int32 in [0, 4)), ``b`` (bool),
    ``var`` (a Variable of floats; the same object in both modes), and
    ``list`` (a list of ``(kind, shape)`` pairs, for concatenate/stack).
    """

    id: str
    fn: Callable
    args: list
    kwargs: dict = dataclasses.field(default_factory=dict)
    ref: Callable | None = None   # numpy expectation from the array arguments only
    floats: tuple = ("float32", "float64")
    dynamic: bool = True           # also run with None batch dims
    rtol: float = 1e-6


def raw(op, **attrs):
    """A function recording the registered op ``op`` directly."""
    def fn(*args):
        return ir.call(op, *args, **attrs)
    fn.__name__ = op
    return fn


CASES: list[Case] = []


def case(id, fn, *args, ref=None, **kwargs):
    CASES.append(Case(id, fn, list(args), kwargs, ref))
    return CASES[-1]


X = ("f", (B, 3, 4))
X2 = ("f", (B, 4))

# --- elementwise unary -------------------------------------------------------
for name, kind, ref in [
    ("abs", "f", np.abs), ("square", "f", np.square), ("sqrt", "f", lambda x: np.sqrt(np.maximum(x, 0))),
    ("exp", "f", np.exp), ("log", "pos", np.log), ("sign", "f", np.sign), ("round", "f", np.round),
    ("sin", "f", np.sin), ("cos", "f", np.cos), ("negative", "f", np.negative),
    ("identity", "f", lambda x: x), ("stop_gradient", "f", lambda x: x),
    ("tanh", "f", np.tanh), ("sigmoid", "f", lambda x: 1 / (1 + np.exp(-x))),
    ("hard_sigmoid", "f", lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("softplus", "f", lambda x: np.log1p(np.exp(x))), ("softsign", "f", lambda x: x / (1 + np.abs(x))),
    ("elu", "f", lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", "f", None), ("relu", "f", lambda x: np.maximum(x, 0)),
]:
    case(name, getattr(K, name), (kind, (B, 3, 4)), ref=ref)
for op, kind, ref in [("floor", "f", np.floor), ("ceil", "f", np.ceil), ("log1p", "pos", np.log1p),
                      ("expm1", "f", np.expm1), ("erf", "f", np.vectorize(math.erf))]:
    case(op, raw(op), (kind, (B, 5)), ref=ref)
case("logical_not", raw("logical_not"), ("b", (B, 3)), ref=np.logical_not)
case("relu_alpha", K.relu, X, alpha=0.1, ref=lambda x: np.where(x > 0, x, 0.1 * x))
case("relu_max", K.relu, X, max_value=0.5, ref=lambda x: np.clip(x, 0, 0.5))
case("relu_threshold", K.relu, X, threshold=0.3, ref=lambda x: np.where(x > 0.3, x, 0))
case("relu_all", K.relu, X, alpha=0.2, max_value=1.0, threshold=-0.5)
case("elu_alpha", K.elu, X, alpha=0.5)
case("abs_int", K.abs, ("i", (B, 3)), ref=np.abs)
case("square_int", K.square, ("i", (B, 3)), ref=np.square)
case("clip", K.clip, X, -0.5, 0.5, ref=lambda x: np.clip(x, -0.5, 0.5))
case("clip_none", K.clip, X, None, 0.2, ref=lambda x: np.minimum(x, 0.2))
case("clip_tensor_bounds", K.clip, X, ("f", (4,)), 1.0)
case("pow_scalar", K.pow, ("pos", (B, 3)), 1.5, ref=lambda x: x ** 1.5)
case("pow_tensor", K.pow, ("pos", (B, 3)), ("f", (3,)), ref=np.power)
case("cast_int", K.cast, X, "int32", ref=lambda x: x.astype(np.int32))
case("cast_bool", K.cast, ("b", (B, 3)), "float32", ref=lambda x: x.astype(np.float32))
case("cast_float16", K.cast, X, "float16")
case("zeros_like", K.zeros_like, X, ref=np.zeros_like)
case("ones_like_dtype", K.ones_like, X, dtype="int32", ref=lambda x: np.ones(x.shape, np.int32))

# --- elementwise binary, with broadcasting ------------------------------------
BINARY_SHAPES = {
    "same": [("f", (B, 3, 4)), ("f", (B, 3, 4))],
    "vector": [("f", (B, 3, 4)), ("f", (4,))],
    "outer": [("f", (B, 1, 4)), ("f", (3, 1))],
    "scalar": [("f", (B, 3)), 2.0],
    "rscalar": [0.5, ("f", (B, 3))],
}
for name, ref in [("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
                  ("divide", np.divide), ("maximum", np.maximum), ("minimum", np.minimum),
                  ("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
                  ("greater_equal", np.greater_equal), ("less", np.less),
                  ("less_equal", np.less_equal)]:
    for label, args in BINARY_SHAPES.items():
        r = ref
        if label == "scalar":
            r = (lambda x, _r=ref: _r(x, 2.0))
        elif label == "rscalar":
            r = (lambda y, _r=ref: _r(0.5, y))
        case(f"{name}_{label}", getattr(K, name), *args, ref=r)
for op, ref in [("floordiv", np.floor_divide), ("mod", np.mod)]:
    case(op, raw(op), ("f", (B, 3)), ("pos", (3,)), ref=ref)
for op, ref in [("logical_and", np.logical_and), ("logical_or", np.logical_or)]:
    case(op, raw(op), ("b", (B, 3)), ("b", (3,)), ref=ref)
case("divide_int", K.divide, ("i", (B, 3)), 2, ref=lambda x: x / 2)
case("operators", lambda x, y: (x + y) * 2 - y / 3 + (-x) ** 2, ("f", (B, 3)), ("f", (3,)))
case("compare_operators", lambda x, y: (x > y) & (x <= 1.0) | ~(y < 0), ("f", (B, 3)), ("f", (3,)))
case("switch_elementwise", K.switch, ("b", (B, 3)), ("f", (B, 3)), ("f", (B, 3)),
     ref=lambda c, a, b: np.where(c, a, b))
case("switch_rank2_cond", K.switch, ("b", (B, 3)), ("f", (B, 3, 4)), ("f", (B, 3, 4)),
     ref=lambda c, a, b: np.where(c[..., None], a, b))
case("switch_rank1_cond", K.switch, ("b", (4,)), ("f", (B, 4)), ("f", (B, 4)),
     ref=lambda c, a, b: np.where(c, a, b))

# --- reductions -------------------------------------------------------------------
AXES = [None, 0, 1, -1, (0, 2), [1, -1]]
for name in ["sum", "mean", "max", "min", "prod", "std", "var", "logsumexp"]:
    for axis, keepdims in itertools.product(AXES, [False, True]):
        ref = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
               "std": np.std, "var": np.var}.get(name)
        ref = None if ref is None else (
            lambda x, _r=ref, _a=axis, _k=keepdims: _r(x, axis=None if _a is None else tuple(
                _a) if isinstance(_a, list) else _a, keepdims=_k))
        case(f"{name}_axis{axis}_keep{int(keepdims)}", getattr(K, name), X,
             axis=axis, keepdims=keepdims, ref=ref).rtol = 1e-5
for name in ["any", "all"]:
    for axis in [None, 1, -1, (0, 2)]:
        case(f"{name}_axis{axis}", getattr(K, name), ("b", (B, 3, 4)), axis=axis)
    case(f"{name}_float", getattr(K, name), X, axis=-1, keepdims=True)
case("mean_bool", K.mean, ("b", (B, 3)), axis=1)
case("mean_int", K.mean, ("i", (B, 3)), axis=1)
case("sum_int", K.sum, ("i", (B, 3)), axis=0)
for name in ["argmax", "argmin"]:
    case(f"{name}_default", getattr(K, name), X, ref=lambda x, _n=name: getattr(np, _n)(x, -1))
    case(f"{name}_axis1", getattr(K, name), X, axis=1)
for name in ["cumsum", "cumprod"]:
    case(f"{name}_default", getattr(K, name), X, ref=lambda x, _n=name: getattr(np, _n)(x, 0))
    case(f"{name}_neg1", getattr(K, name), X, axis=-1)

# --- linear algebra ------------------------------------------------------------------
case("dot_2d", K.dot, ("f", (B, 4)), ("f", (4, 5)), ref=np.dot)
case("dot_variable", K.dot, ("f", (B, 4)), ("var", (4, 5)))
case("dot_3d_2d", K.dot, X, ("f", (4, 5)))
case("dot_3d_3d", K.dot, X, ("f", (2, 4, 5)), ref=lambda x, y: np.tensordot(x, y, ([2], [1])))
case("dot_2d_1d", K.dot, ("f", (B, 4)), ("f", (4,)), ref=np.dot)
case("matmul_batched", raw("matmul"), X, ("f", (4, 2)), ref=np.matmul)
case("matmul_operator", lambda x, y: x @ y, ("f", (B, 3, 4)), ("f", (B, 4, 2)))
case("batch_dot_default", K.batch_dot, ("f", (B, 3, 4)), ("f", (B, 4, 2)), ref=np.matmul)
case("batch_dot_2d", K.batch_dot, ("f", (B, 4)), ("f", (B, 4)),
     ref=lambda x, y: np.sum(x * y, axis=1, keepdims=True))
case("batch_dot_axes", K.batch_dot, ("f", (B, 3, 4)), ("f", (B, 5, 3)), axes=(1, 2))
case("batch_dot_neg_axes", K.batch_dot, ("f", (B, 3, 4)), ("f", (B, 4, 5)), axes=(-1, -2))
case("batch_dot_3d_2d", K.batch_dot, ("f", (B, 3, 4)), ("f", (B, 4)), axes=(2, 1))
case("transpose", K.transpose, X, ref=np.transpose)
case("bias_add", K.bias_add, X, ("f", (4,)), ref=np.add)
case("bias_add_channels_first", K.bias_add, X, ("f", (3,)), data_format="channels_first",
     ref=lambda x, b: x + b[:, None])
case("bias_add_nd_bias", K.bias_add, X, ("f", (3, 4)), ref=np.add)

# --- shapes ------------------------------------------------------------------------------
case("reshape", K.reshape, ("f", (2, 3, 4)), (4, -1), ref=lambda x: x.reshape(4, -1))
case("reshape_batch", K.reshape, X, (-1, 12), ref=lambda x: x.reshape(-1, 12))
case("permute_dimensions", K.permute_dimensions, X, (2, 0, 1),
     ref=lambda x: x.transpose(2, 0, 1))
case("expand_dims", K.expand_dims, X, ref=lambda x: x[..., None])
case("expand_dims_1", K.expand_dims, X, 1, ref=lambda x: x[:, None])
case("squeeze", K.squeeze, ("f", (B, 1, 4)), 1, ref=lambda x: x[:, 0])
case("squeeze_neg", K.squeeze, ("f", (B, 3, 1)), -1, ref=lambda x: x[..., 0])
case("concatenate", K.concatenate, ("list", [("f", (B, 3)), ("f", (B, 2))]),
     ref=lambda xs: np.concatenate(xs, -1))
case("concatenate_axis0", K.concatenate, ("list", [("f", (2, 3)), ("f", (B, 3))]), axis=0)
case("stack", K.stack, ("list", [("f", (B, 3)), ("f", (B, 3))]), ref=lambda xs: np.stack(xs))
case("stack_neg", K.stack, ("list", [("f", (B, 3)), ("f", (B, 3))]), axis=-1,
     ref=lambda xs: np.stack(xs, -1))
case("reverse", K.reverse, X, [0, -1], ref=lambda x: x[::-1, :, ::-1])
case("tile", K.tile, X, (1, 2, 3), ref=lambda x: np.tile(x, (1, 2, 3)))
case("repeat_elements", K.repeat_elements, X, 2, -1, ref=lambda x: np.repeat(x, 2, -1))
case("repeat", K.repeat, ("f", (B, 3)), 4, ref=lambda x: np.repeat(x[:, None], 4, 1))
case("flatten", K.flatten, X, ref=lambda x: x.ravel())
case("batch_flatten", K.batch_flatten, X, ref=lambda x: x.reshape(len(x), -1))
case("slice", K.slice, ("f", (4, 3, 4)), (1, 0, 1), (2, -1, 2), ref=lambda x: x[1:3, :, 1:3])
case("getitem", lambda x: x[:, 1, ::2], X, ref=lambda x: x[:, 1, ::2])
case("getitem_newaxis", lambda x: x[..., None, -1], X, ref=lambda x: x[..., None, -1])
case("temporal_padding", K.temporal_padding, X, (1, 2),
     ref=lambda x: np.pad(x, ((0, 0), (1, 2), (0, 0))))
case("spatial_2d_padding", K.spatial_2d_padding, ("f", (B, 3, 3, 2)))
case("spatial_2d_padding_cf", K.spatial_2d_padding, ("f", (B, 2, 3, 3)), ((1, 0), (0, 2)),
     data_format="channels_first")
case("spatial_3d_padding", K.spatial_3d_padding, ("f", (B, 2, 2, 2, 1)))
case("one_hot", K.one_hot, ("i", (B, 3)), 4, ref=lambda i: np.eye(4, dtype=np.float32)[i])
case("gather", K.gather, ("f", (5, 3)), ("i", (B, 2)), ref=lambda r, i: r[i])
case("shape", K.shape, X)
case("shape_in_math", lambda x: K.cast(K.shape(x)[0], "float32") * K.ones_like(x), X)

# --- nn ------------------------------------------------------------------------------------
case("softmax", K.softmax, X, ref=lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True))
case("softmax_axis1", K.softmax, X, axis=1)
case("log_softmax", K.log_softmax, X)
case("l2_normalize", K.l2_normalize, X, axis=-1,
     ref=lambda x: x / np.sqrt(np.maximum((x ** 2).sum(-1, keepdims=True), 1e-12)))
case("l2_normalize_all", K.l2_normalize, X)
case("dropout_seeded", K.dropout, ("f", (B, 8)), 0.5, seed=3)
case("dropout_noise_shape", K.dropout, ("f", (B, 3, 4)), 0.5, noise_shape=(None, 1, 4), seed=1)
# random draws shaped by a symbolic K.shape(x): seeded, the graph draws what numpy draws
case("random_uniform_of_shape", lambda x: x * 0 + K.random_uniform(K.shape(x), -1, 2, seed=3),
     ("f", (B, 4)))
case("random_normal_of_shape", lambda x: x * 0 + K.random_normal(K.shape(x), 1, 2, seed=4),
     ("f", (B, 4)))
case("truncated_normal_of_shape", lambda x: x * 0 + K.truncated_normal(K.shape(x), seed=5),
     ("f", (B, 4)))
case("random_bernoulli_of_shape", lambda x: x * 0 + K.random_bernoulli(K.shape(x), 0.3, seed=6),
     ("f", (B, 4)))
case("print_tensor", lambda x: K.print_tensor(x, "x ="), ("f", (B, 3)), ref=lambda x: x)
case("round_float16", lambda x: ir.call("round_float16", K.cast(x, "float32")),
     ("f", (B, 3)), ref=lambda x: x.astype("float16").astype("float32"))
case("categorical_crossentropy", K.categorical_crossentropy, ("unit", (B, 3)), ("unit", (B, 3)))
case("categorical_crossentropy_logits", K.categorical_crossentropy, ("unit", (B, 3)),
     ("f", (B, 3)), from_logits=True)
case("sparse_categorical_crossentropy", K.sparse_categorical_crossentropy, ("i", (B,)),
     ("unit", (B, 4)))
case("sparse_categorical_crossentropy_logits", K.sparse_categorical_crossentropy,
     ("i", (B, 3)), ("f", (B, 3, 4)), from_logits=True)
case("sparse_categorical_crossentropy_axis1", K.sparse_categorical_crossentropy,
     ("i", (B, 3)), ("f", (B, 4, 3)), from_logits=True, axis=1)
case("sparse_categorical_crossentropy_ignore", K.sparse_categorical_crossentropy,
     ("i", (B,)), ("unit", (B, 4)), ignore_class=1)
case("binary_crossentropy", K.binary_crossentropy, ("unit", (B, 3)), ("unit", (B, 3)))
case("binary_crossentropy_logits", K.binary_crossentropy, ("unit", (B, 3)), ("f", (B, 3)),
     from_logits=True)
case("binary_focal_crossentropy", K.binary_focal_crossentropy, ("unit", (B, 3)),
     ("unit", (B, 3)), apply_class_balancing=True)
case("categorical_focal_crossentropy", K.categorical_focal_crossentropy, ("unit", (B, 3)),
     ("f", (B, 3)), from_logits=True)
case("batch_normalization", K.batch_normalization, X, ("f", (4,)), ("pos", (4,)),
     ("f", (4,)), ("f", (4,)))
case("batch_normalization_axis1", K.batch_normalization, ("f", (B, 3, 2, 2)), ("f", (3,)),
     ("pos", (3,)), None, ("f", (3,)), axis=1)
case("normalize_batch_in_training", K.normalize_batch_in_training, X, ("f", (4,)),
     ("f", (4,)), [0, 1])
case("in_top_k", K.in_top_k, ("f", (B, 5)), ("i", (B,)), 2)
case("in_train_phase_symbolic", K.in_train_phase, ("f", (B, 3)), ("f", (B, 3)),
     training=("b", ()))
case("map_fn", lambda x: K.map_fn(lambda r: K.sum(r * r), x), ("f", (3, 4)),
     ref=lambda x: (x * x).sum(1))
case("foldl", lambda x: K.foldl(lambda a, r: a * 0.5 + r, x), ("f", (3, 4)))
case("foldr", lambda x: K.foldr(lambda a, r: a * 0.5 + r, x, initializer=K.zeros_like(x[0])),
     ("f", (3, 4)))
case("cast_to_floatx", K.cast_to_floatx, ("i", (B, 3)))


# --- convolutions and pooling (compositions of the ops above) ---------------------------------
def _np_pool2d_max_same(x, k, s):
    """Reference max pooling with TensorFlow's 'same' padding, channels_last."""
    b, h, w, c = x.shape
    oh, ow = -(-h // s), -(-w // s)
    ph = max((oh - 1) * s + k - h, 0)
    pw = max((ow - 1) * s + k - w, 0)
    padded = np.full((b, h + ph, w + pw, c), -np.inf, x.dtype)
    padded[:, ph // 2:ph // 2 + h, pw // 2:pw // 2 + w] = x
    out = np.empty((b, oh, ow, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = padded[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2))
    return out


def _np_conv1d_valid(x, k):
    n = x.shape[1] - k.shape[0] + 1
    return np.stack([np.tensordot(x[:, i:i + k.shape[0]], k, ([1, 2], [0, 1]))
                     for i in range(n)], axis=1)


def _np_conv2d_transpose(x, k, out_hw, s, same):
    b, h, w, _ = x.shape
    kh, kw, o, _ = k.shape
    full = np.zeros((b, (h - 1) * s + kh, (w - 1) * s + kw, o), np.float64)
    for i in range(h):
        for j in range(w):
            full[:, i * s:i * s + kh, j * s:j * s + kw] += np.einsum("bc,xyoc->bxyo", x[:, i, j],
                                                                   k)
    top = max((h - 1) * s + kh - out_hw[0], 0) // 2 if same else 0
    left = max((w - 1) * s + kw - out_hw[1], 0) // 2 if same else 0
    padded = np.pad(full, ((0, 0), (0, out_hw[0]), (0, out_hw[1]), (0, 0)))
    return padded[:, top:top + out_hw[0], left:left + out_hw[1]].astype(x.dtype)

case("conv1d", K.conv1d, ("f", (B, 6, 3)), ("f", (3, 3, 4)), ref=_np_conv1d_valid)
case("conv1d_same_stride", K.conv1d, ("f", (B, 7, 3)), ("f", (3, 3, 2)), strides=2,
     padding="same")
case("conv1d_causal_dilated", K.conv1d, ("f", (B, 7, 2)), ("f", (2, 2, 2)), padding="causal",
     dilation_rate=2)
case("conv2d", K.conv2d, ("f", (B, 5, 4, 2)), ("f", (3, 2, 2, 3)))
case("conv2d_same_channels_first", K.conv2d, ("f", (B, 2, 5, 4)), ("f", (3, 3, 2, 3)),
     padding="same", data_format="channels_first")
case("conv3d", K.conv3d, ("f", (B, 3, 3, 3, 1)), ("f", (2, 2, 2, 1, 2)))
case("depthwise_conv2d", K.depthwise_conv2d, ("f", (B, 4, 4, 2)), ("f", (2, 2, 2, 3)),
     padding="same")
case("separable_conv1d", K.separable_conv1d, ("f", (B, 5, 2)), ("f", (3, 2, 2)),
     ("f", (1, 4, 3)))
case("separable_conv2d", K.separable_conv2d, ("f", (B, 4, 4, 2)), ("f", (2, 2, 2, 1)),
     ("f", (1, 1, 2, 3)), strides=2)
case("conv2d_transpose_valid", K.conv2d_transpose, ("f", (2, 3, 2, 2)), ("f", (3, 2, 4, 2)),
     (2, 7, 5, 4), strides=(2, 2),
     ref=lambda x, k: _np_conv2d_transpose(x, k, (7, 5), 2, False))
case("conv2d_transpose_same", K.conv2d_transpose, ("f", (2, 3, 3, 2)), ("f", (3, 3, 1, 2)),
     (2, 6, 6, 1), strides=(2, 2), padding="same",
     ref=lambda x, k: _np_conv2d_transpose(x, k, (6, 6), 2, True))


def _np_conv3d_transpose(x, k, out, s):
    """Each input voxel scatters its kernel product (valid padding, stride ``s``)."""
    b, n = x.shape[0], x.shape[1:4]
    full = np.zeros((b,) + tuple((m - 1) * s + kk for m, kk in zip(n, k.shape[:3]))
                    + (k.shape[3],), np.float64)
    for i, j, l in np.ndindex(*n):
        full[:, i * s:i * s + k.shape[0], j * s:j * s + k.shape[1],
             l * s:l * s + k.shape[2]] += np.einsum("bc,xyzoc->bxyzo", x[:, i, j, l], k)
    full = np.pad(full, ((0, 0),) + tuple((0, max(o - f, 0)) for o, f in
                                          zip(out, full.shape[1:4])) + ((0, 0),))
    return full[:, :out[0], :out[1], :out[2]].astype(x.dtype)


case("conv3d_transpose", K.conv3d_transpose, ("f", (2, 2, 3, 2, 2)), ("f", (2, 3, 2, 3, 2)),
     (2, 5, 7, 5, 3), strides=2, ref=lambda x, k: _np_conv3d_transpose(x, k, (5, 7, 5), 2))
case("local_conv1d", K.local_conv1d, ("f", (B, 5, 2)), ("f", (2, 6, 3)), (3,), (2,))
case("local_conv2d", K.local_conv2d, ("f", (B, 4, 4, 1)), ("f", (4, 4, 2)), (2, 2), (2, 2),
     (2, 2))
case("pool2d_max_same", K.pool2d, ("f", (B, 5, 5, 2)), (3, 3), strides=(2, 2), padding="same",
     ref=lambda x: _np_pool2d_max_same(x, 3, 2))
case("pool2d_avg_same", K.pool2d, ("f", (B, 5, 4, 2)), (2, 2), strides=(2, 2), padding="same",
     pool_mode="avg")
case("pool2d_avg_channels_first", K.pool2d, ("f", (B, 2, 4, 4)), 2, strides=2,
     data_format="channels_first", pool_mode="avg",
     ref=lambda x: x.reshape(x.shape[0], 2, 2, 2, 2, 2).mean(axis=(3, 5)))
case("pool3d_avg", K.pool3d, ("f", (B, 4, 4, 4, 1)), (2, 2, 2), (2, 2, 2), pool_mode="avg")
# the gradient ops of the convolutions and pooling (tests/test_conv_ops.py checks their values)
case("conv_filter_grad", raw("conv_filter_grad", strides=(2, 1), dilation=(1, 1),
                             pads=((1, 0), (1, 1)), groups=1, kernel_size=(2, 3)),
     ("f", (B, 5, 4, 2)), ("f", (B, 3, 4, 3))).rtol = 1e-5
_POOL = dict(window=(2, 2), strides=(2, 2), pads=((0, 1), (0, 0)))
case("pool_grad_max", raw("pool_grad", mode="max", **_POOL), ("f", (B, 5, 4, 2)),
     ("f", (B, 3, 2, 2)))
case("pool_select", raw("pool_select", **_POOL), ("f", (B, 5, 4, 2)), ("f", (B, 5, 4, 2)))
case("resize_images_nearest", K.resize_images, ("f", (B, 2, 3, 2)), 2, 3, "channels_last",
     ref=lambda x: x.repeat(2, 1).repeat(3, 2))
case("resize_volumes", K.resize_volumes, ("f", (B, 2, 1, 2, 3)), 2, 3, 1, "channels_first",
     ref=lambda x: x.repeat(2, 2).repeat(3, 3))
case("resize_images_bilinear", K.resize_images, ("f", (B, 2, 3, 2)), 2, 2,
     "channels_last", interpolation="bilinear")

# ---------------------------------------------------------------------------------------------
def _concrete(shape):
    return tuple(BATCH if d == B else d for d in shape)


def _symbolic_shape(shape, dynamic):
    return tuple(None if (d == B and dynamic) else (BATCH if d == B else d) for d in shape)


def _value(kind, shape, dtype, rng):
    shape = _concrete(shape)
    if kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape).astype(dtype)
    if kind == "unit":
        return rng.uniform(0.05, 0.95, shape).astype(dtype)
    if kind == "i":
        return rng.integers(0, 4, shape).astype(np.int32)
    if kind == "b":
        return rng.random(shape) > 0.5
    raise AssertionError(kind)


def _is_spec(a):
    return isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str) and \
        isinstance(a[1], (tuple, list))


def build(c: Case, dtype: str, dynamic: bool, seed: int = 0):
    """Concrete values, the eager arguments and the symbolic arguments of a case."""
    rng = np.random.default_rng(seed)
    placeholders, feeds = [], []

    def convert(a):
        if _is_spec(a) and a[0] == "list":
            pairs = [convert(s) for s in a[1]]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if not _is_spec(a):
            return a, a
        kind, shape = a
        if kind == "var":
            v = K.variable(_value("f", shape, dtype, rng), dtype=dtype)
            return v, v
        value = _value(kind, shape, dtype, rng)
        p = K.placeholder(shape=_symbolic_shape(shape, dynamic), dtype=value.dtype.name)
        placeholders.append(p)
        feeds.append(value)
        return value, p

    pairs = [convert(a) for a in c.args]
    kw_pairs = {k: convert(v) for k, v in c.kwargs.items()}
    eager_args = [p[0] for p in pairs]
    sym_args = [p[1] for p in pairs]
    eager_kw = {k: p[0] for k, p in kw_pairs.items()}
    sym_kw = {k: p[1] for k, p in kw_pairs.items()}
    return eager_args, eager_kw, sym_args, sym_kw, placeholders, feeds


def _as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _shape_matches(static, concrete):
    return len(static) == len(concrete) and all(s is None or s == c for s, c in
                                                 zip(static, concrete))


PARAMS = [pytest.param(c, dtype, dynamic, id=f"{c.id}-{dtype}-{'dyn' if dynamic else 'static'}")
          for c in CASES for dtype in c.floats for dynamic in ([False, True] if c.dynamic
                                                                else [False])]


@pytest.mark.parametrize("c, dtype, dynamic", PARAMS)
def test_op(c, dtype, dynamic):
    eager_args, eager_kw, sym_args, sym_kw, placeholders, feeds = build(c, dtype, dynamic)
    eager = _as_list(c.fn(*eager_args, **eager_kw))
    for e in eager:
        assert isinstance(e, np.ndarray), f"{c.id}: eager result is {type(e).__name__}"
    symbolic = _as_list(c.fn(*sym_args, **sym_kw))
    assert len(symbolic) == len(eager)
    for s, e in zip(symbolic, eager):
        assert isinstance(s, KerasTensor), f"{c.id}: symbolic result is {type(s).__name__}"
        assert _shape_matches(K.int_shape(s), e.shape), \
            f"{c.id}: static shape {K.int_shape(s)} does not fit the eager shape {e.shape}"
        assert s.dtype == e.dtype.name, f"{c.id}: symbolic dtype {s.dtype}, eager {e.dtype}"
    results = _as_list(K.function(placeholders, symbolic, target="interpreter")(feeds))
    for r, e in zip(results, eager):
        assert r.shape == e.shape and r.dtype == e.dtype
        if e.dtype.kind == "f":
            tol = c.rtol if e.dtype != np.float16 else 1e-3
            np.testing.assert_allclose(r, e, rtol=tol, atol=tol, equal_nan=True, err_msg=c.id)
        else:
            np.testing.assert_array_equal(r, e, err_msg=c.id)
    if c.ref is not None:
        values = [[np.asarray(e) for e in v] if isinstance(v, list) else v
                  for a, v in zip(c.args, eager_args) if _is_spec(a)]
        want = np.asarray(c.ref(*values))
        got = eager[0]
        assert got.shape == want.shape, f"{c.id}: shape {got.shape}, numpy {want.shape}"
        if want.dtype.kind == "f":
            tol = 1e-5 if got.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=c.id)
        else:
            np.testing.assert_array_equal(got, want, err_msg=c.id)


@pytest.mark.parametrize("c", [c for c in CASES if any(_is_spec(a) and a[0] == "f" for a in c.args)],
                         ids=lambda c: c.id)
def test_float32_in_float32_out(c):
    """Python scalars are weakly typed: float32 operands give float32 results."""
    eager_args, eager_kw, *_ = build(c, "float32", False)
    for out in _as_list(c.fn(*eager_args, **eager_kw)):
        if out.dtype.kind == "f":
            assert out.dtype == np.float32 or c.id.startswith(("cast_", "divide_int")), c.id


def test_variables_work_eagerly_and_symbolically():
    w = K.variable(np.eye(3) * 2)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(K.dot(x, w), 2 * x)
    p = K.placeholder(shape=(None, 3))
    y = K.dot(p, w) + w[0]  # a Variable indexes like its value
    assert isinstance(y, KerasTensor)
    f = K.function([p], y)
    np.testing.assert_allclose(f([x]), 2 * x + np.array([2, 0, 0]))
    assert isinstance(K.sum(w), np.ndarray)


# Ops that no K function records: sources (fed or read, not computed), loops
# (owned by K.rnn and its tests) and whatever compilers add (fused kernels).
# assign writes a Variable after the call (no value to compare eagerly): tests/test_updates.py
NOT_OPS = {"input", "param", "const", "assign"}
EXERCISED_ELSEWHERE_KINDS = {"source", "control"}


def _ops_of(c):
    _, _, sym_args, sym_kw, placeholders, _ = build(c, c.floats[0], False)
    outs = _as_list(c.fn(*sym_args, **sym_kw))
    return {node.op for _, node in Graph(placeholders, outs).walk()}


def test_every_registered_op_has_a_case():
    covered = set()
    for c in CASES:
        covered |= _ops_of(c)
    wanted = {name for name, opdef in ir.REGISTRY.items()
              if opdef.kind not in EXERCISED_ELSEWHERE_KINDS and name not in NOT_OPS
              and not name.startswith("fused")}
    missing = sorted(wanted - covered)
    assert not missing, f"registered ops with no case in tests/test_backend_ops.py: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# --- property tests: random shapes, axes and broadcasting --------------------------------------

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _run_both(fn, arrays, dynamic_mask):
    """Eager result, symbolic static type and interpreted result of ``fn(*arrays)``."""
    eager = fn(*arrays)
    placeholders = [K.placeholder(shape=tuple(None if dyn else d for d, dyn in zip(a.shape, m)),
                                  dtype=a.dtype.name) for a, m in zip(arrays, dynamic_mask)]
    symbolic = fn(*placeholders)
    run = K.function(placeholders, symbolic, target="interpreter")(list(arrays))
    return eager, symbolic, run


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    max_side=3))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    arrays = [draw(hnp.arrays(dtype, s, elements=st.floats(-10, 10, width=32)))
              for s in shapes.input_shapes]
    masks = [draw(st.lists(st.booleans(), min_size=len(s), max_size=len(s)))
             for s in shapes.input_shapes]
    return arrays, masks, shapes.result_shape


@PROPERTY
@given(broadcastable_pair(), st.sampled_from(["add", "subtract", "multiply", "maximum",
                                              "minimum", "greater", "equal"]))
def test_property_binary_broadcasting(pair, name):
    arrays, masks, result_shape = pair
    fn = getattr(K, name)
    eager, symbolic, run = _run_both(fn, arrays, masks)
    assert eager.shape == result_shape
    assert _shape_matches(symbolic.shape, result_shape)
    assert symbolic.dtype == eager.dtype.name
    np.testing.assert_array_equal(run, eager)
    np.testing.assert_array_equal(eager, getattr(np, name)(*arrays))


@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    x = draw(hnp.arrays(dtype, shape, elements=st.floats(-3, 3, width=32)))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                   unique_by=lambda a: a % nd).map(tuple)))
    mask = draw(st.lists(st.booleans(), min_size=nd, max_size=nd))
    return x, axis, draw(st.booleans()), mask


@PROPERTY
@given(array_and_axis(), st.sampled_from(["sum", "mean", "max", "min", "prod", "var", "std"]))
def test_property_reductions(data, name):
    x, axis, keepdims, mask = data
    fn = getattr(K, name)
    eager, symbolic, run = _run_both(lambda t: fn(t, axis=axis, keepdims=keepdims), [x], [mask])
    want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert eager.shape == want.shape and eager.dtype == x.dtype
    assert _shape_matches(symbolic.shape, want.shape)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(eager, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(run, eager, rtol=tol, atol=tol)


@PROPERTY
@given(array_and_axis())
def test_property_shape_ops(data):
    x, axis, _, mask = data
    nd = x.ndim
    ax = 0 if axis is None else (axis[0] if isinstance(axis, tuple) else axis)
    cases = [
        (lambda t: K.expand_dims(t, ax), np.expand_dims(x, ax % (nd + 1) if ax < 0 else ax)),
        (lambda t: K.reverse(t, ax), np.flip(x, ax)),
        (lambda t: K.repeat_elements(t, 2, ax), np.repeat(x, 2, ax)),
        (lambda t: K.concatenate([t, t], ax), np.concatenate([x, x], ax)),
        (lambda t: K.stack([t, t], ax), np.stack([x, x], ax)),
        (lambda t: K.softmax(t, ax) if nd > 1 else K.exp(t), None),
        (lambda t: K.cumsum(t, ax), np.cumsum(x, ax)),
        (lambda t: K.argmax(t, ax), np.argmax(x, ax)),
    ]
    for fn, want in cases:
        eager, symbolic, run = _run_both(fn, [x], [mask])
        if want is not None:
            np.testing.assert_allclose(eager, want, rtol=1e-6)
        assert _shape_matches(symbolic.shape, eager.shape)
        np.testing.assert_allclose(run, eager, rtol=1e-6)


# --- dtype rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("symbolic", [False, True])
def test_python_numbers_take_the_tensor_dtype(dtype, symbolic):
    x = K.placeholder(shape=(3,), dtype=dtype) if symbolic else np.ones(3, dtype)
    mask = K.placeholder(shape=(3,), dtype="bool") if symbolic else np.ones(3, bool)
    results = [x + 1, 2 * x, K.maximum(x, 0), K.minimum(1, x), x - 1, K.pow(x, 2),
               K.switch(mask, x, 1)]
    if dtype.startswith("float"):
        results += [x * 0.5, K.switch(mask, x, 0.5), K.clip(x, 0.1, 0.9)]
    for r in results:
        assert K.dtype(r) == dtype


@pytest.mark.parametrize("symbolic", [False, True])
def test_result_dtypes_follow_tf_keras(symbolic):
    def t(shape, dtype):
        return K.placeholder(shape=shape, dtype=dtype) if symbolic else np.ones(shape, dtype)

    x, i, b = t((2, 3), "float32"), t((2, 3), "int32"), t((2, 3), "bool")
    assert K.dtype(K.argmax(x)) == "int64" and K.dtype(K.argmin(x, 0)) == "int64"
    assert K.dtype(K.greater(x, 0.0)) == "bool" and K.dtype(K.any(x)) == "bool"
    assert K.dtype(K.mean(b)) == "float32"            # bool averages as floatx
    assert K.dtype(K.mean(i)) == "int32"              # integer mean stays integer
    assert K.dtype(K.shape(x)) == "int32"
    assert K.dtype(K.one_hot(i, 4)) == "float32"
    assert K.dtype(K.divide(i, i)) == "float64"       # true division of ints, as TensorFlow
    assert K.dtype(K.cast(x, "int32")) == "int32"
    assert K.dtype(K.sum(i)) == "int32"
    assert K.dtype(K.zeros_like(i)) == "int32" and K.dtype(K.ones_like(x, dtype="int32")) == "int32"


def test_default_float_type_applies_to_python_data():
    assert K.dtype(K.exp([0.0, 1.0])) == "float32"
    assert K.dtype(K.sum([1, 2, 3])) == "int32"
    K.set_floatx("float64")
    assert K.constant([1, 2]).dtype == np.float64
    assert K.mean(np.array([True, False])).dtype == np.float64


def test_switch_checks_only_the_then_rank_like_tf_keras():
    """tf_keras compares the condition's rank with ``then_expression``'s only."""
    mask, x = np.array([True, False]), np.array([1.0, 2.0], np.float32)
    np.testing.assert_array_equal(K.switch(mask, x, 0.0), [1.0, 0.0])
    with pytest.raises(ValueError, match="ndim\\(then_expression\\)=0"):
        K.switch(mask, 0.0, x)


# --- variables, random tensors and the small helpers ---------------------------------------------
def test_variable_values_and_updates():
    v = K.variable([[1.0, 2.0]], name="w")
    assert v.name == "w" and v.dtype == "float32" and K.int_shape(v) == (1, 2)
    assert K.count_params(v) == 2 and K.ndim(v) == 2 and K.dtype(v) == "float32"
    np.testing.assert_array_equal(K.get_value(v), [[1.0, 2.0]])
    np.testing.assert_array_equal(K.eval(v), [[1.0, 2.0]])
    K.set_value(v, [[3, 4]])
    K.update_add(v, 1.0)
    K.update_sub(v, [[0.5, 0.5]])
    np.testing.assert_array_equal(v.numpy(), [[3.5, 4.5]])
    K.update(v, np.zeros((1, 2)))
    K.moving_average_update(v, np.ones((1, 2)), momentum=0.75)
    np.testing.assert_allclose(v.numpy(), [[0.25, 0.25]])
    u = K.variable(np.zeros(3), dtype="float64")
    K.batch_set_value([(v, [[1, 1]]), (u, [1, 2, 3])])
    a, b = K.batch_get_value([v, u])
    np.testing.assert_array_equal(a, [[1, 1]])
    assert b.dtype == np.float64
    assert K.get_value(np.arange(3)).tolist() == [0, 1, 2]


def test_variable_constructors():
    for fn, fill in ((K.zeros, 0.0), (K.ones, 1.0)):
        v = fn((2, 3), dtype="int32", name="c")
        assert isinstance(v, Variable) and v.dtype == "int32" and v.name == "c"
        assert (v.numpy() == fill).all()
    np.testing.assert_array_equal(K.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(K.eye((2, 4)).numpy(), np.eye(2, 4, dtype=np.float32))
    assert K.variable(np.array([True])).dtype == "bool"
    assert not K.is_keras_tensor(K.zeros(2))


def test_updates_are_seen_by_compiled_graphs():
    v = K.variable(np.ones(2))
    p = K.placeholder(shape=(2,))
    f = K.function([p], p * v, target="interpreter")
    np.testing.assert_array_equal(f([np.ones(2)]), [1, 1])
    K.update_add(v, 1.0)
    np.testing.assert_array_equal(f([np.ones(2)]), [2, 2])


@pytest.mark.parametrize("fn, kwargs", [
    (K.random_uniform, {"minval": -1.0, "maxval": 2.0}),
    (K.random_normal, {"mean": 1.0, "stddev": 0.5}),
    (K.truncated_normal, {"mean": 0.0, "stddev": 2.0}),
    (K.random_bernoulli, {"p": 0.3}),
    (K.random_binomial, {"p": 0.7}),
])
def test_random_tensors(fn, kwargs):
    a = fn((200, 50), seed=7, **kwargs)
    assert isinstance(a, np.ndarray) and a.shape == (200, 50) and a.dtype == np.float32
    np.testing.assert_array_equal(a, fn((200, 50), seed=7, **kwargs))
    assert fn((3,), dtype="float64", seed=1, **kwargs).dtype == np.float64
    if fn is K.random_uniform:
        assert a.min() >= -1.0 and a.max() < 2.0
    elif fn is K.random_normal:
        assert abs(a.mean() - 1.0) < 0.05 and abs(a.std() - 0.5) < 0.05
    elif fn is K.truncated_normal:
        assert np.abs(a).max() <= 4.0 + 1e-6
    else:
        assert set(np.unique(a)) <= {0.0, 1.0} and abs(a.mean() - kwargs["p"]) < 0.05


def test_random_variables():
    u = K.random_uniform_variable((3, 4), 0.0, 1.0, seed=2, name="u")
    n = K.random_normal_variable((3, 4), 0.0, 1.0, seed=2)
    assert isinstance(u, Variable) and isinstance(n, Variable) and u.name == "u"
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    np.testing.assert_array_equal(u.numpy(), K.random_uniform_variable((3, 4), 0, 1, seed=2).numpy())


def test_tensor_predicates_and_helpers(capsys):
    p = K.placeholder(ndim=2, name="p")
    assert K.int_shape(p) == (None, None) and p.name == "p"
    assert K.is_placeholder(p) and not K.is_placeholder(p + 1) and not K.is_placeholder(1.0)
    assert K.is_tensor(p) and K.is_tensor(np.ones(2)) and K.is_tensor(K.variable(1.0))
    assert not K.is_tensor([1, 2])
    assert K.is_sparse(p) is False and K.to_dense(p) is p
    assert K.stop_gradient(p).node.op == "stop_gradient" and K.stop_gradient(p).node.inputs == (p,)
    same = K.identity(p)
    assert same is not p and same.node.op == "identity" and K.int_shape(same) == (None, None)
    a = np.ones(2)
    copy = K.identity(a)
    assert copy is not a and (copy == a).all()
    assert K.print_tensor(a, message="value:") is a
    assert "value:" in capsys.readouterr().out
    printed = K.print_tensor(p)  # prints when the graph runs (tests/test_random_ops.py)
    assert printed.node.op == "print_tensor" and printed.node.inputs == (p,)
    with K.name_scope("block") as scope:
        assert scope == "block"
    K.manual_variable_initialization(True)
    assert K.int_shape(np.zeros((2, 3))) == (2, 3) and K.int_shape(K.variable(0.0)) == ()
    assert K.ndim(p) == 2 and K.dtype(K.placeholder(shape=(1,), dtype="int32")) == "int32"


def test_placeholder_variants():
    assert K.placeholder(shape=3).shape == (3,)
    assert K.placeholder(shape=(None, 2), dtype="int64").dtype == "int64"
    assert K.placeholder(shape=(2,), name="a").name == "a"
    with pytest.raises(ValueError):
        K.placeholder(shape=(2,), sparse=True)


# Functions whose behaviour is tested in the other files named here.
TESTED_ELSEWHERE = {
    "clear_session": "test_config_session", "epsilon": "test_config_session",
    "floatx": "test_config_session", "image_data_format": "test_config_session",
    "learning_phase": "test_config_session", "learning_phase_scope": "test_config_session",
    "reset_uids": "test_config_session", "get_uid": "test_config_session",
    "set_epsilon": "test_config_session", "set_floatx": "test_config_session",
    "set_image_data_format": "test_config_session", "set_learning_phase": "test_config_session",
    "normalize_data_format": "test_config_session", "is_keras_tensor": "test_seed_examples",
    "function": "test_errors", "rnn": "test_rnn", "variable": "this file (above)",
    "get_value": "this file", "eval": "this file", "set_value": "this file",
    "batch_get_value": "this file", "batch_set_value": "this file", "update": "this file",
    "update_add": "this file", "update_sub": "this file", "moving_average_update": "this file",
    "random_uniform": "this file", "random_normal": "this file", "truncated_normal": "this file",
    "random_bernoulli": "this file", "random_binomial": "this file",
    "random_uniform_variable": "this file", "random_normal_variable": "this file",
    "is_placeholder": "this file", "is_tensor": "this file", "is_sparse": "this file",
    "to_dense": "this file", "identity": "this file", "print_tensor": "this file",
    "name_scope": "this file", "manual_variable_initialization": "this file",
    "placeholder": "this file", "map_fn": "CASES", "foldl": "CASES", "foldr": "CASES",
    "backend": "this file", "gradients": "test_gradients",
}


def test_every_backend_function_is_tested():
    import json
    import pathlib

    public = {n for n in dir(K) if not n.startswith("_") and callable(getattr(K, n))
              and n not in ("KerasTensor", "Variable")}
    covered = {getattr(c.fn, "__name__", "") for c in CASES} | set(TESTED_ELSEWHERE)
    golden = pathlib.Path(__file__).resolve().parent / "goldens" / "ops.json"
    if golden.exists():
        covered |= {c["fn"] for c in json.loads(golden.read_text())["cases"]}
    missing = sorted(public - covered)
    assert not missing, f"backend functions without a test: {missing}"


@pytest.mark.parametrize("loss, activation", [
    (K.binary_crossentropy, K.sigmoid),
    (K.categorical_crossentropy, K.softmax),
    (K.sparse_categorical_crossentropy, K.softmax),
])
def test_symbolic_losses_use_the_logits_behind_an_activation(loss, activation):
    """As tf_keras in graph mode: loss(t, sigmoid(z)) is computed from z, unclipped."""
    z = np.array([[-30.0, 0.5, 25.0], [2.0, -1.0, 0.0]], np.float32)
    if loss is K.sparse_categorical_crossentropy:
        t = np.array([0, 1], np.int32)
        tp = K.placeholder(shape=(None,), dtype="int32")
    else:
        t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
        tp = K.placeholder(shape=(None, 3))
    zp = K.placeholder(shape=(None, 3))
    symbolic = K.function([tp, zp], loss(tp, activation(zp)), target="interpreter")([t, z])
    exact = loss(t, z, from_logits=True)
    np.testing.assert_allclose(symbolic, exact, rtol=1e-5)
    clipped = loss(t, activation(z))  # eager: the clipped probability formula
    assert np.abs(clipped - exact).max() > 1.0


def test_references_return_their_type_rules_dtype_uncast():
    """Each op's numpy reference yields the inferred dtype by itself (the registry's
    final cast is a safety net, not part of an op's meaning)."""
    wrong = {}
    for c in CASES:
        for dtype in c.floats:
            _, _, sym_args, sym_kw, placeholders, feeds = build(c, dtype, False)
            graph = Graph(placeholders, _as_list(c.fn(*sym_args, **sym_kw)))
            env = dict(zip(graph.inputs, feeds))
            for node in graph.nodes:
                if any(o in env for o in node.outputs):
                    continue
                arrays = [env[t] for t in node.inputs]
                opdef = ir.get_op(node.op)
                with np.errstate(all="ignore"):
                    raw = opdef.impl(*arrays, **node.attrs)
                for r, t in zip(raw if isinstance(raw, tuple) else (raw,), node.out_types):
                    if np.asarray(r).dtype.name != t.dtype:
                        wrong[(node.op, t.dtype)] = np.asarray(r).dtype.name
                env.update(zip(node.outputs, opdef.run(arrays, node.attrs, node.out_types)))
    assert not wrong, f"references whose dtype differs from the type rule: {wrong}"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_normalize_batch_in_training_4d_follows_tf_on_the_cpu(data_format):
    """On the CPU tf_keras sends 4-D NHWC statistics ([0, 1, 2]) to TensorFlow's fused
    kernel (epsilon floored at 1.001e-5, unbiased variance); NCHW ones ([0, 2, 3]) take
    the broadcast path (epsilon as given, biased variance)."""
    fused = data_format == "channels_last"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float64)
    axes = [0, 1, 2] if data_format == "channels_last" else [0, 2, 3]
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    normed, mean, var = K.normalize_batch_in_training(x, gamma, beta, axes, epsilon=1e-6)
    m = x.mean(axis=tuple(axes), keepdims=True)
    v = x.var(axis=tuple(axes), keepdims=True)
    shape = (1, 1, 1, 4) if data_format == "channels_last" else (1, 4, 1, 1)
    eps = 1.001e-5 if fused else 1e-6
    want = (x - m) / np.sqrt(v + eps) * gamma.reshape(shape) + beta.reshape(shape)
    np.testing.assert_allclose(normed, want, rtol=1e-10)
    np.testing.assert_allclose(mean, m.ravel())
    n = x.size // 4
    np.testing.assert_allclose(var, v.ravel() * n / (n - 1) if fused else v.ravel())
    # symbolic, with an unknown batch: the same numbers
    p = K.placeholder(shape=(None,) + x.shape[1:], dtype="float64")
    f = K.function([p], list(K.normalize_batch_in_training(p, gamma, beta, axes, epsilon=1e-6)))
    for got, ref in zip(f([x]), (normed, mean, var)):
        np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_batch_normalization_4d_floors_epsilon_like_the_fused_kernel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 3, 4))
    mean, var = rng.standard_normal(4), rng.uniform(0.0, 1e-4, 4)
    out = K.batch_normalization(x, mean, var, None, None, axis=-1, epsilon=1e-8)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1.001e-5))
    out3d = K.batch_normalization(x[0], mean, var, None, None, axis=-1, epsilon=1e-8)
    np.testing.assert_allclose(out3d, (x[0] - mean) / np.sqrt(var + 1e-8))


def test_special_values():
    """NaN, infinities and -0.0: the interpreter's (numpy's) behaviour, pinned."""
    nan, inf = np.float32(np.nan), np.float32(np.inf)
    x = np.array([nan, inf, -inf, -0.0, 0.0, 1.0], np.float32)
    assert np.isnan(K.maximum(x, 0.0)[0]) and np.isnan(K.minimum(x, 0.0)[0])
    assert np.isnan(K.relu(x)[0]) and K.relu(x)[1] == inf and K.relu(x)[2] == 0
    assert np.isnan(K.clip(x, -1, 1)[0]) and K.clip(x, -1, 1)[1:3].tolist() == [1, -1]
    assert np.isnan(K.max(x)) and np.isnan(K.sum(x))
    np.testing.assert_array_equal(K.sigmoid(x)[1:3], [1, 0])
    np.testing.assert_array_equal(K.softplus(x)[1:3], [inf, 0])
    np.testing.assert_array_equal(K.tanh(x)[1:3], [1, -1])
    np.testing.assert_array_equal(K.exp(x)[1:3], [inf, 0])
    assert K.log(np.float32(0.0)) == -inf
    assert K.sqrt(np.float32(-1.0)) == 0.0 and np.isnan(K.sqrt(nan))
    sign = K.sign(x)
    assert np.isnan(sign[0]) and sign[1:].tolist() == [1, -1, 0, 0, 1]
    np.testing.assert_array_equal(K.softmax(np.array([[0.0, -inf]], np.float32)), [[1, 0]])
    assert K.argmax(np.array([1.0, 3.0, 3.0], np.float32)) == 1


def test_gather_takes_python_indices_as_int32():
    r = np.arange(15.0, dtype="float32").reshape(5, 3)
    np.testing.assert_array_equal(K.gather(r, [0, 2, 4]), r[[0, 2, 4]])
    np.testing.assert_array_equal(K.gather(r, 2), r[2])
    np.testing.assert_array_equal(K.gather(r, [[0, 1], [3, 4]]), r[[[0, 1], [3, 4]]])
    p = K.placeholder(shape=(None, 3))
    picked = K.gather(p, [1, 0])
    assert K.int_shape(picked) == (2, 3)
    np.testing.assert_array_equal(K.function([p], [picked])([r])[0], r[[1, 0]])


def test_backend_names_itself():
    assert K.backend() == "symkb"


def test_numpy_operands_take_the_tensor_dtype_in_elementwise_ops():
    x = K.placeholder(shape=(None, 4))
    assert K.dtype(x * np.full(4, 2.0)) == "float32"
    assert K.dtype(x * np.float64(2)) == "float32"
    assert K.dtype(x + np.arange(4)) == "float32"
    assert K.dtype(K.bias_add(x, np.ones(4))) == "float32"
    assert (K.variable(np.ones(2)) * np.ones(2)).dtype == np.float32
    n = K.placeholder(shape=(None, 4), dtype="int32")
    assert K.dtype(n + np.arange(4, dtype="int64")) == "int32"
    # without a tensor operand numpy's own promotion holds
    assert (np.ones(2, "float32") * np.ones(2)).dtype == np.float64
    assert K.dtype(K.maximum(np.ones(2, "float32"), np.ones(2))) == "float64"
    f = K.function([x], [x * np.full(4, 0.1)])
    out = f([np.ones((2, 4), "float32")])[0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.full((2, 4), 0.1, "float32"))


def test_function_takes_a_dict_of_outputs_and_a_scalar_input():
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], {"double": x * 2, "total": K.sum(x, axis=1)})
    out = f([np.ones((3, 2), "float32")])
    assert sorted(out) == ["double", "total"]
    np.testing.assert_array_equal(out["double"], np.full((3, 2), 2.0))
    np.testing.assert_array_equal(out["total"], np.full(3, 2.0))
    p = K.placeholder(shape=())
    np.testing.assert_array_equal(K.function([p], [p * 2])([2.0])[0], 4.0)


def test_repeated_axes_and_integer_variance_are_clear_errors():
    x = np.ones((2, 3), "float32")
    for fn in (K.sum, K.mean, K.max, K.min, K.prod, K.any, K.all, K.var, K.std):
        with pytest.raises(ValueError, match=r"more than once in axis=\(0, 0\)"):
            fn(x, axis=(0, 0))
    with pytest.raises(ValueError, match="more than once"):
        K.reverse(x, (1, -1))
    for fn in (K.var, K.std):
        with pytest.raises(TypeError, match="floating-point tensor, received dtype int32"):
            fn(np.ones((2, 3), "int32"))
    np.testing.assert_array_equal(K.reverse(np.arange(6).reshape(2, 3), [-1, 0]),
                                  np.arange(6).reshape(2, 3)[::-1, ::-1])


def test_in_top_k_of_a_target_outside_the_classes_is_false_and_eye_checks_size():
    pred = np.array([[0.1, 0.5, 0.2], [0.3, 0.2, 0.1]], "float32")
    np.testing.assert_array_equal(K.in_top_k(pred, np.array([5, -1], "int32"), 2), [False, False])
    np.testing.assert_array_equal(K.in_top_k(pred, np.array([1, 0], "int32"), 1), [True, True])
    with pytest.raises(TypeError, match="an int or a pair of ints"):
        K.eye(2.0)
    assert K.eye((2, 3)).shape == (2, 3)


def test_padding_arguments_of_the_wrong_shape_say_what_is_expected():
    x = np.ones((1, 2, 2, 1), "float32")
    with pytest.raises(ValueError, match=r"a \(before, after\) pair of ints, received 1"):
        K.spatial_2d_padding(x, (1, 2))
    with pytest.raises(ValueError, match=r"\(\(top, bottom\), \(left, right\)\), received 3"):
        K.spatial_2d_padding(x, 3)
