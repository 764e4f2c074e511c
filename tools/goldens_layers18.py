#!/usr/bin/env python
"""Generate ``tests/goldens/layers18.{json,npz}``: the convolution, pooling,
reshaping, normalisation, attention and noise layers from REAL tf_keras.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_layers18.py [--out DIR]

``cases``: one layer each, made by ``code`` (a ``layers.X(...)`` expression
with an explicit name) and called by ``call`` (a snippet that reads the
inputs ``x0``, ``x1``, ... and masks ``m0``, ``m1``, ..., the ``layer``, and
assigns ``out``). Recorded: the config without name/trainable/dtype, the
weight names and shapes (``get_weights()`` order), ``compute_output_shape`` of
the first input with an unknown batch, the parameter count, the weights
(``<id>/w<k>``, uniform values; moving variances positive), the inputs
(``<id>/x<i>``, ``<id>/m<i>``), the outputs (``<id>/out<k>``) and, for calls
in training (``training=True``), the non-trainable weights after the call
(``<id>/after<k>``). TensorFlow's CPU kernels refuse channels_first
convolutions and poolings: such a case (``via_channels_last``) is computed by
the same layer in channels_last on the transposed input, transposed back
(the weights' layout does not depend on the data format).

``models``: a small CNN in each data format, a Transformer encoder block and
a Sequential stack of the 1D layers (``code`` assigns ``model``), with weights, an input, the predictions and the
``summary()`` text. The channels_first CNN's predictions come from its
channels_last twin (same weights: Flatten puts the channels last first).
"""
import argparse
import json
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CF, CL = "channels_first", "channels_last"


def _formats(cid, code, shape, call="out = layer(x0)"):
    """The case in both data formats: ``shape`` is channels_last, ``{df}`` in code."""
    rank = len(shape) - 2
    first = (shape[0], shape[-1]) + tuple(shape[1:-1])
    return [(f"{cid}_cl", code.format(df=repr(CL)), [shape], call, {}),
            (f"{cid}_cf", code.format(df=repr(CF)), [first], call, {"rank": rank})]


# (id, code with {df} or {axis}, channels_last input shape): run in both formats
FORMAT_CASES = [
    ("conv1d", "layers.Conv1D(3, 3, data_format={df}, name='l')", (2, 7, 4)),
    ("conv1d_stride_gt_kernel", "layers.Conv1D(2, 2, strides=3, data_format={df}, "
     "name='l')", (1, 9, 3)),
    ("conv1d_dilated_same", "layers.Conv1D(2, 3, dilation_rate=2, padding='same', "
     "activation='relu', data_format={df}, name='l')", (2, 8, 3)),
    ("conv1d_groups", "layers.Conv1D(4, 2, groups=2, data_format={df}, name='l')",
     (2, 6, 4)),
    ("conv2d", "layers.Conv2D(3, (2, 3), data_format={df}, name='l')", (2, 5, 6, 2)),
    ("conv2d_same_stride", "layers.Conv2D(2, 3, strides=2, padding='same', "
     "data_format={df}, name='l')", (1, 7, 5, 3)),
    ("conv2d_1x1", "layers.Conv2D(4, 1, use_bias=False, data_format={df}, name='l')",
     (2, 3, 4, 3)),
    ("conv2d_dilated", "layers.Conv2D(2, 2, dilation_rate=(2, 1), activation='tanh', "
     "data_format={df}, name='l')", (2, 6, 5, 2)),
    ("conv2d_stride_gt_kernel", "layers.Conv2D(2, 2, strides=3, data_format={df}, "
     "name='l')", (1, 8, 7, 2)),
    ("conv3d", "layers.Conv3D(2, (2, 1, 2), strides=(1, 2, 1), data_format={df}, "
     "name='l')", (2, 3, 4, 5, 2)),
    ("conv1d_transpose", "layers.Conv1DTranspose(2, 3, strides=2, data_format={df}, "
     "name='l')", (2, 5, 3)),
    ("conv1d_transpose_same_op", "layers.Conv1DTranspose(3, 3, strides=2, "
     "padding='same', output_padding=1, data_format={df}, name='l')", (1, 4, 2)),
    ("conv2d_transpose", "layers.Conv2DTranspose(2, (3, 2), strides=(2, 3), "
     "data_format={df}, name='l')", (2, 3, 4, 2)),
    ("conv2d_transpose_same", "layers.Conv2DTranspose(3, 3, strides=2, padding='same', "
     "data_format={df}, name='l')", (1, 4, 3, 2)),
    ("conv2d_transpose_dilated", "layers.Conv2DTranspose(2, 2, dilation_rate=2, "
     "data_format={df}, name='l')", (2, 3, 3, 2)),
    ("depthwise", "layers.DepthwiseConv2D(3, depth_multiplier=2, data_format={df}, "
     "name='l')", (2, 5, 4, 3)),
    ("depthwise_same_stride", "layers.DepthwiseConv2D((2, 3), strides=2, padding='same', "
     "data_format={df}, name='l')", (1, 5, 6, 2)),
    ("separable1d", "layers.SeparableConv1D(3, 2, depth_multiplier=2, data_format={df}, "
     "name='l')", (2, 6, 2)),
    ("separable2d", "layers.SeparableConv2D(3, 3, padding='same', strides=2, "
     "data_format={df}, name='l')", (2, 5, 5, 2)),
    ("maxpool1d", "layers.MaxPooling1D(3, strides=2, data_format={df}, name='l')",
     (2, 8, 3)),
    ("avgpool1d_same", "layers.AveragePooling1D(3, padding='same', data_format={df}, "
     "name='l')", (2, 7, 2)),
    ("maxpool2d", "layers.MaxPooling2D(data_format={df}, name='l')", (2, 5, 6, 3)),
    ("maxpool2d_same", "layers.MaxPooling2D((3, 2), strides=(2, 3), padding='same', "
     "data_format={df}, name='l')", (1, 5, 7, 2)),
    ("avgpool2d_same", "layers.AveragePooling2D(3, strides=2, padding='same', "
     "data_format={df}, name='l')", (2, 5, 4, 2)),
    ("maxpool3d", "layers.MaxPooling3D(2, data_format={df}, name='l')", (1, 4, 4, 5, 2)),
    ("avgpool3d", "layers.AveragePooling3D((1, 2, 2), strides=1, data_format={df}, "
     "name='l')", (2, 2, 3, 3, 2)),
    ("gmaxpool1d", "layers.GlobalMaxPooling1D(data_format={df}, name='l')", (2, 5, 3)),
    ("gavgpool1d_keep", "layers.GlobalAveragePooling1D(keepdims=True, data_format={df}, "
     "name='l')", (2, 5, 3)),
    ("gmaxpool2d", "layers.GlobalMaxPooling2D(data_format={df}, name='l')", (2, 3, 4, 2)),
    ("gavgpool2d_keep", "layers.GlobalAveragePooling2D(keepdims=True, "
     "data_format={df}, name='l')", (2, 3, 4, 2)),
    ("gmaxpool3d_keep", "layers.GlobalMaxPooling3D(keepdims=True, data_format={df}, "
     "name='l')", (1, 2, 3, 2, 2)),
    ("gavgpool3d", "layers.GlobalAveragePooling3D(data_format={df}, name='l')",
     (2, 2, 3, 2, 3)),
    ("zeropad2d", "layers.ZeroPadding2D(((1, 0), (2, 1)), data_format={df}, name='l')",
     (2, 3, 2, 2)),
    ("cropping2d", "layers.Cropping2D(((1, 0), (0, 2)), data_format={df}, name='l')",
     (2, 4, 5, 2)),
    ("upsampling2d", "layers.UpSampling2D((2, 3), data_format={df}, name='l')",
     (2, 2, 3, 2)),
    ("upsampling2d_bilinear", "layers.UpSampling2D(2, interpolation='bilinear', "
     "data_format={df}, name='l')", (1, 3, 2, 2)),
    ("flatten", "layers.Flatten(data_format={df}, name='l')", (2, 3, 2, 4)),
    ("batchnorm", "layers.BatchNormalization(axis={axis}, name='l')", (2, 3, 4, 5)),
    ("batchnorm_train", "layers.BatchNormalization(axis={axis}, momentum=0.9, "
     "name='l')", (3, 2, 3, 4)),
]

# (id, code, input shapes, call or None, options): one format
PLAIN_CASES = [
    ("zeropad1d", "layers.ZeroPadding1D((2, 1), name='l')", [(2, 3, 2)], None, {}),
    ("cropping1d", "layers.Cropping1D((0, 2), name='l')", [(2, 5, 2)], None, {}),
    ("upsampling1d", "layers.UpSampling1D(3, name='l')", [(2, 2, 3)], None, {}),
    ("conv1d_causal", "layers.Conv1D(2, 3, padding='causal', dilation_rate=2, "
     "name='l')", [(2, 6, 3)], None, {}),
    ("gavgpool1d_masked", "layers.GlobalAveragePooling1D(name='l')", [(3, 5, 2)],
     "out = layer(x0, mask=m0)", {"masks": [(3, 5)]}),
    ("batchnorm_2d", "layers.BatchNormalization(center=False, epsilon=0.01, name='l')",
     [(4, 3)], None, {}),
    ("batchnorm_2d_train", "layers.BatchNormalization(momentum=0.8, scale=False, "
     "name='l')", [(5, 3)], "out = layer(x0, training=True)", {}),
    ("batchnorm_3d_train", "layers.BatchNormalization(name='l')", [(2, 4, 3)],
     "out = layer(x0, training=True)", {}),
    ("layernorm", "layers.LayerNormalization(name='l')", [(2, 3, 5)], None, {}),
    ("layernorm_axes", "layers.LayerNormalization(axis=[1, 2], epsilon=0.01, "
     "center=False, name='l')", [(2, 3, 4)], None, {}),
    ("layernorm_axis1", "layers.LayerNormalization(axis=1, scale=False, name='l')",
     [(2, 4, 3)], None, {}),
    ("groupnorm", "layers.GroupNormalization(groups=2, name='l')", [(2, 3, 4)], None, {}),
    ("groupnorm_cf", "layers.GroupNormalization(groups=3, axis=1, name='l')",
     [(2, 6, 2, 2)], None, {}),
    ("groupnorm_all", "layers.GroupNormalization(groups=-1, epsilon=0.01, name='l')",
     [(2, 5, 3)], None, {}),
    ("attention", "layers.Attention(name='l')", [(2, 3, 4), (2, 5, 4)],
     "out = layer([x0, x1])", {}),
    ("attention_key_scale", "layers.Attention(use_scale=True, name='l')",
     [(2, 3, 4), (2, 5, 4), (2, 5, 4)], "out = layer([x0, x1, x2])", {}),
    ("attention_concat_masks", "layers.Attention(score_mode='concat', name='l')",
     [(2, 3, 4), (2, 5, 4)],
     "out = layer([x0, x1], mask=[m0, m1], return_attention_scores=True)",
     {"masks": [(2, 3), (2, 5)]}),
    ("attention_causal", "layers.Attention(name='l')", [(2, 4, 3), (2, 4, 3)],
     "out = layer([x0, x1], use_causal_mask=True, return_attention_scores=True)", {}),
    ("additive", "layers.AdditiveAttention(name='l')", [(2, 3, 4), (2, 5, 4)],
     "out = layer([x0, x1])", {}),
    ("additive_noscale_masks", "layers.AdditiveAttention(use_scale=False, name='l')",
     [(2, 3, 4), (2, 5, 4), (2, 5, 4)], "out = layer([x0, x1, x2], mask=[m0, m1])",
     {"masks": [(2, 3), (2, 5)]}),
    ("additive_causal", "layers.AdditiveAttention(name='l')", [(1, 4, 3), (1, 4, 3)],
     "out = layer([x0, x1], use_causal_mask=True)", {}),
    ("mha", "layers.MultiHeadAttention(2, 3, name='l')", [(2, 4, 5), (2, 6, 5)],
     "out = layer(x0, x1)", {}),
    ("mha_key_scores", "layers.MultiHeadAttention(3, 2, value_dim=4, output_shape=7, "
     "name='l')", [(2, 4, 5), (2, 6, 3), (2, 6, 5)],
     "out = layer(x0, x1, key=x2, return_attention_scores=True)", {}),
    ("mha_nobias_mask", "layers.MultiHeadAttention(2, 3, use_bias=False, name='l')",
     [(2, 4, 5), (2, 3, 5)], "out = layer(x0, x1, attention_mask=m0)",
     {"masks": [(2, 4, 3)]}),
    ("mha_causal", "layers.MultiHeadAttention(2, 2, name='l')", [(1, 4, 3)],
     "out = layer(x0, x0, use_causal_mask=True, return_attention_scores=True)", {}),
    ("spatial_dropout1d", "layers.SpatialDropout1D(0.5, name='l')", [(2, 3, 4)],
     None, {}),
    ("spatial_dropout2d", "layers.SpatialDropout2D(0.5, data_format='channels_first', "
     "name='l')", [(2, 3, 4, 2)], None, {}),
    ("gaussian_noise", "layers.GaussianNoise(0.3, name='l')", [(2, 3)], None, {}),
    ("gaussian_dropout", "layers.GaussianDropout(0.3, name='l')", [(2, 3)], None, {}),
]


def cases():
    """``(id, code, input shapes, call, options)``."""
    out = []
    for cid, code, shape in FORMAT_CASES:
        call = "out = layer(x0, training=True)" if cid.endswith("_train") else "out = layer(x0)"
        if "{axis}" in code:
            out.append((f"{cid}_cl", code.format(axis=-1), [shape], call, {}))
            first = (shape[0], shape[-1]) + tuple(shape[1:-1])
            out.append((f"{cid}_cf", code.format(axis=1), [first], call, {}))
        else:
            out.extend(_formats(cid, code, shape, call))
    out += PLAIN_CASES
    return [(c, code, shapes, call or "out = layer(x0)", opts)
            for c, code, shapes, call, opts in out]


def _fill(layer, rng):
    values = []
    for w in layer.weights:
        lo, hi = (0.5, 1.5) if "variance" in w.name else (-0.5, 0.5)
        values.append(rng.uniform(lo, hi, size=tuple(w.shape)).astype(np.float32))
    layer.set_weights(values)
    return values


def _inputs(cid, shapes, opts, rng, arrays):
    ns = {}
    for i, shape in enumerate(shapes):
        ns[f"x{i}"] = rng.uniform(-1, 1, size=shape).astype(np.float32)
        arrays[f"{cid}/x{i}"] = ns[f"x{i}"]
    for i, shape in enumerate(opts.get("masks", [])):
        m = rng.uniform(size=shape) > 0.35
        m[..., 0] = True  # every row keeps one element: no all-masked softmax
        ns[f"m{i}"] = m
        arrays[f"{cid}/m{i}"] = m
    return ns


def _compute(code, call, ns, rng, weights=None):
    """The layer called once (to build it), given weights, called again."""
    layer = eval(code, {"layers": layers})
    exec(call, {}, dict(ns, layer=layer))
    if weights is None:
        weights = _fill(layer, rng)
    else:
        layer.set_weights(weights)
    local = dict(ns, layer=layer)
    exec(call, {}, local)  # a training call updates the statistics just set
    return layer, weights, local["out"]


def _via_channels_last(code, call, ns, shapes, rank, rng):
    """A channels_first conv/pool case: the channels_last twin on transposed inputs."""
    layer = eval(code, {"layers": layers})
    layer(keras.Input(tuple(shapes[0][1:])))  # builds (weight names in the layer's scope)
    weights = _fill(layer, rng)
    to_last = (0,) + tuple(range(2, rank + 2)) + (1,)
    to_first = (0, rank + 1) + tuple(range(1, rank + 1))
    twin_ns = dict(ns, x0=np.transpose(ns["x0"], to_last))
    _, _, out = _compute(code.replace(repr(CF), repr(CL)), call, twin_ns, rng, weights)
    return layer, weights, np.transpose(np.asarray(out), to_first)


def one_case(cid, code, shapes, call, opts, rng, arrays):
    keras.backend.clear_session()
    ns = _inputs(cid, shapes, opts, rng, arrays)
    entry = {"id": cid, "code": code, "call": call, "n_inputs": len(shapes),
             "n_masks": len(opts.get("masks", [])), "via_channels_last": False}
    try:
        layer, weights, out = _compute(code, call, ns, rng)
    except Exception as exc:  # noqa: BLE001 (tf's CPU kernels refuse NCHW)
        if "rank" not in opts:
            raise
        keras.backend.clear_session()
        layer, weights, out = _via_channels_last(code, call, ns, shapes, opts["rank"], rng)
        entry["via_channels_last"] = True
        entry["tf_error"] = type(exc).__name__
    outs = out if isinstance(out, (list, tuple)) else [out]
    for k, o in enumerate(outs):
        arrays[f"{cid}/out{k}"] = np.asarray(o)
    for k, w in enumerate(weights):
        arrays[f"{cid}/w{k}"] = w
    if "training=True" in call:
        for k, w in enumerate(layer.non_trainable_weights):
            arrays[f"{cid}/after{k}"] = w.numpy()
    config = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key, None)
    entry.update({
        "n_outputs": len(outs), "config": config, "params": int(layer.count_params()),
        "weight_names": [w.name for w in layer.weights],
        "weight_shapes": [list(w.shape) for w in layer.weights],
        "n_after": len(layer.non_trainable_weights) if "training=True" in call else 0,
    })
    if len(shapes) == 1 and "mask" not in call:
        shape = layer.compute_output_shape((None,) + tuple(shapes[0][1:]))
        entry["output_shape"] = list(tf.TensorShape(shape).as_list())
    return entry


CNN = """inp = Input({shape})
x = layers.Conv2D(4, 3, activation='relu', data_format={df})(inp)
x = layers.MaxPooling2D(data_format={df})(x)
x = layers.Conv2D(6, 2, padding='same', use_bias=False, data_format={df})(x)
x = layers.BatchNormalization(axis={axis})(x)
x = layers.Activation('relu')(x)
x = layers.Flatten(data_format={df})(x)
model = Model(inp, layers.Dense(3, activation='softmax')(x))"""

TRANSFORMER = """inp = Input((6, 8))
att = layers.MultiHeadAttention(2, 4)(inp, inp)
x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([inp, layers.Dropout(0.1)(att)]))
ff = layers.Dense(8)(layers.Dense(16, activation='relu')(x))
out = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ff]))
model = Model(inp, layers.GlobalAveragePooling1D()(out))"""


SEQUENTIAL = """model = Sequential([
    Input((9, 3)),
    layers.Conv1D(4, 3, padding='causal', activation='relu'),
    layers.SeparableConv1D(4, 2, padding='same'),
    layers.ZeroPadding1D(1),
    layers.MaxPooling1D(2),
    layers.UpSampling1D(2),
    layers.Cropping1D((1, 0)),
    layers.LayerNormalization(),
    layers.GlobalMaxPooling1D(),
    layers.Dense(2),
])"""


def _model(code):
    keras.backend.clear_session()
    ns = {"layers": layers, "Input": keras.Input, "Model": keras.Model,
          "Sequential": keras.Sequential}
    exec(code, ns)
    return ns["model"]


def _summary(model):
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s))
    return "\n".join(lines)


def models(rng, arrays):
    out = []
    cnn_cl = CNN.format(shape=(7, 6, 3), df=repr(CL), axis=-1)
    cnn_cf = CNN.format(shape=(3, 7, 6), df=repr(CF), axis=1)
    x = rng.uniform(-1, 1, size=(2, 7, 6, 3)).astype(np.float32)
    for mid, code, xin in (("cnn_cl", cnn_cl, x), ("cnn_cf", cnn_cf, x.transpose(0, 3, 1, 2)),
                           ("transformer", TRANSFORMER, None),
                           ("sequential_1d", SEQUENTIAL, "seq")):
        model = _model(code)
        weights = [rng.uniform(0.5, 1.5, size=w.shape).astype(np.float32)
                   if "variance" in w.name else
                   rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                   for w in model.weights]
        model.set_weights(weights)
        if xin is None:
            xin = rng.uniform(-1, 1, size=(3, 6, 8)).astype(np.float32)
        elif isinstance(xin, str):
            xin = rng.uniform(-1, 1, size=(1, 9, 3)).astype(np.float32)
        if mid == "cnn_cf":  # NCHW kernels refused on CPU: the channels_last twin
            twin = _model(cnn_cl)
            twin.set_weights(weights)
            pred = twin.predict(x, verbose=0)
        else:
            pred = model.predict(xin, verbose=0)
        summary = _summary(_model(code))
        arrays[f"{mid}/x"] = xin
        arrays[f"{mid}/pred"] = pred
        for k, w in enumerate(weights):
            arrays[f"{mid}/w{k}"] = w
        out.append({"id": mid, "code": code, "n_weights": len(weights), "summary": summary,
                    "weight_names": [w.name for w in model.weights]})
    return out


def to_jsonable(v):
    if isinstance(v, tf.TensorShape):
        return None if v.rank is None else v.as_list()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    return v


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    rng = np.random.default_rng(18)
    arrays, entries = {}, []
    for cid, code, shapes, call, opts in cases():
        entries.append(one_case(cid, code, shapes, call, opts, rng, arrays))
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "cases": entries, "models": models(rng, arrays)}
    with open(os.path.join(args.out, "layers18.json"), "w") as f:
        json.dump(to_jsonable(doc), f, indent=1)
        f.write("\n")
    np.savez_compressed(os.path.join(args.out, "layers18.npz"), **arrays)
    print(f"{len(entries)} layer cases, {len(doc['models'])} models")


if __name__ == "__main__":
    main()
