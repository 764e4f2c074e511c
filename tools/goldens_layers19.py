#!/usr/bin/env python
"""Generate ``tests/goldens/layers19.{json,npz}`` and
``tests/goldens/keras_files/layers19_volume.keras``: the layers added after
``layers18`` (Conv3DTranspose, DepthwiseConv1D, ZeroPadding3D, Cropping3D,
UpSampling3D, tf_keras's alias names, bilinear UpSampling2D at odd sizes)
from REAL tf_keras, with the case and model machinery of
``tools/goldens_layers18.py`` (same fields, same rules: a channels_first
case TensorFlow's CPU kernels refuse is computed by its channels_last twin).

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    TF_USE_LEGACY_KERAS=1 CUDA_VISIBLE_DEVICES=-1 /opt/tfenv/bin/python tools/goldens_layers19.py

``summaries``: the ``summary()`` text of models at the sizes of benchmarks
W6 (a CNN, both formats, and a Sequential one) and W7 (a Transformer encoder
block). ``models``: a channels_last network of the 3D layers and a Sequential stack
with DepthwiseConv1D (weights, an input, the predictions, the ``summary()``
text); the 3D network is also saved by tf_keras as a ``.keras`` file, with its
input and predictions in the npz (``volume/x``, ``volume/pred``).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldens_layers18 as base  # noqa: E402 (sets the TensorFlow environment first)

np, tf, keras, layers = base.np, base.tf, base.keras, base.layers

# (id, code with {df}, channels_last input shape): run in both formats
FORMAT_CASES = [
    ("conv3d_transpose", "layers.Conv3DTranspose(2, (2, 3, 2), strides=(2, 1, 3), "
     "data_format={df}, name='l')", (2, 3, 2, 3, 2)),
    ("conv3d_transpose_same_op", "layers.Conv3DTranspose(3, 3, strides=2, padding='same', "
     "output_padding=(1, 0, 1), data_format={df}, name='l')", (1, 2, 3, 2, 2)),
    ("conv3d_transpose_stride_gt_kernel", "layers.Conv3DTranspose(2, 2, strides=3, "
     "use_bias=False, activation='relu', data_format={df}, name='l')", (1, 2, 2, 3, 1)),
    ("depthwise1d", "layers.DepthwiseConv1D(3, depth_multiplier=2, data_format={df}, "
     "name='l')", (2, 7, 3)),
    ("depthwise1d_dilated_same", "layers.DepthwiseConv1D(2, dilation_rate=3, padding='same', "
     "activation='tanh', data_format={df}, name='l')", (1, 8, 2)),
    ("depthwise1d_stride_gt_kernel", "layers.DepthwiseConv1D(2, strides=3, use_bias=False, "
     "data_format={df}, name='l')", (2, 9, 2)),
    ("zeropad3d", "layers.ZeroPadding3D(((1, 0), (0, 2), 1), data_format={df}, name='l')",
     (2, 2, 3, 2, 2)),
    ("zeropad3d_ints", "layers.ZeroPadding3D((1, 0, 2), data_format={df}, name='l')",
     (1, 2, 2, 3, 1)),
    ("cropping3d", "layers.Cropping3D(((1, 0), (0, 2), 1), data_format={df}, name='l')",
     (2, 3, 4, 5, 2)),
    ("cropping3d_default", "layers.Cropping3D(data_format={df}, name='l')", (1, 3, 3, 4, 2)),
    ("upsampling3d", "layers.UpSampling3D((1, 2, 3), data_format={df}, name='l')",
     (2, 2, 3, 2, 2)),
    ("upsampling3d_default", "layers.UpSampling3D(data_format={df}, name='l')",
     (1, 2, 1, 2, 3)),
    ("upsampling2d_bilinear_odd", "layers.UpSampling2D((3, 2), interpolation='bilinear', "
     "data_format={df}, name='l')", (2, 3, 5, 2)),
    ("alias_maxpool2d", "layers.MaxPool2D((2, 3), strides=1, data_format={df}, name='l')",
     (1, 3, 5, 2)),
    ("alias_conv2d_transpose", "layers.Convolution2DTranspose(2, 2, strides=2, "
     "data_format={df}, name='l')", (1, 2, 3, 2)),
    ("alias_gavgpool3d", "layers.GlobalAvgPool3D(keepdims=True, data_format={df}, name='l')",
     (2, 2, 2, 3, 2)),
]

# (id, code, input shapes, call or None, options): one format
PLAIN_CASES = [
    ("alias_separable1d", "layers.SeparableConvolution1D(2, 3, padding='same', name='l')",
     [(2, 5, 3)], None, {}),
    ("alias_gmaxpool1d", "layers.GlobalMaxPool1D(name='l')", [(2, 4, 3)], None, {}),
]

VOLUME = """inp = Input((4, 5, 3, 2))
x = layers.Conv3D(3, 2, activation='relu')(inp)
x = layers.ZeroPadding3D(((1, 0), (0, 1), 1))(x)
x = layers.Conv3DTranspose(2, (2, 1, 2), strides=(1, 2, 1))(x)
x = layers.Cropping3D(((0, 1), (1, 2), (0, 1)))(x)
x = layers.UpSampling3D((2, 1, 1))(x)
x = layers.MaxPool3D((2, 2, 1))(x)
x = layers.GlobalAvgPool3D()(x)
model = Model(inp, layers.Dense(2)(x))"""

SEQUENTIAL = """model = Sequential([
    Input((9, 3)),
    layers.DepthwiseConv1D(3, depth_multiplier=2, padding='same', activation='relu'),
    layers.Convolution1D(4, 2, strides=2),
    layers.AvgPool1D(2, padding='same'),
    layers.Flatten(),
    layers.Dense(2),
])"""


# summary() text only, at the sizes of benchmarks W6 and W7 (params in the
# hundreds of thousands, MB sizes), both data formats and a Sequential CNN
W6 = """inp = Input({shape})
x = layers.Conv2D(32, 3, activation='relu', data_format={df})(inp)
x = layers.MaxPool2D(2, data_format={df})(x)
x = layers.Conv2D(64, 3, activation='relu', data_format={df})(x)
x = layers.MaxPool2D(2, data_format={df})(x)
x = layers.Flatten(data_format={df})(x)
model = Model(inp, layers.Dense(10)(x), name='w6')"""

W6_SEQUENTIAL = """model = Sequential([
    Input((32, 32, 3)),
    layers.Convolution2D(32, 3, activation='relu'),
    layers.MaxPooling2D(),
    layers.SeparableConv2D(64, 3, padding='same', use_bias=False),
    layers.BatchNormalization(),
    layers.GlobalAvgPool2D(),
    layers.Dense(10, activation='softmax'),
])"""

W7 = """inp = Input((128, 256))
att = layers.MultiHeadAttention(4, 64, dropout=0.1)(inp, inp)
x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([inp, layers.Dropout(0.1)(att)]))
ff = layers.Dense(1024, activation='relu')(x)
ff = layers.Dropout(0.1)(layers.Dense(256)(ff))
model = Model(inp, layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ff])),
              name='encoder_block')"""

SUMMARY_ONLY = [
    ("w6_cl", W6.format(shape=(32, 32, 3), df=repr(base.CL))),
    ("w6_cf", W6.format(shape=(3, 32, 32), df=repr(base.CF))),
    ("w6_sequential", W6_SEQUENTIAL),
    ("w7_encoder", W7),
]


def summaries():
    """``[{"id", "code", "summary"}]`` of the SUMMARY_ONLY models."""
    return [{"id": sid, "code": code, "summary": base._summary(base._model(code))}
            for sid, code in SUMMARY_ONLY]


def cases():
    """``(id, code, input shapes, call, options)``."""
    out = []
    for cid, code, shape in FORMAT_CASES:
        out.extend(base._formats(cid, code, shape))
    out += PLAIN_CASES
    return [(c, code, shapes, call or "out = layer(x0)", opts)
            for c, code, shapes, call, opts in out]


def models(rng, arrays, keras_dir):
    out = []
    for mid, code, shape in (("volume", VOLUME, (2, 4, 5, 3, 2)),
                             ("sequential_depthwise1d", SEQUENTIAL, (1, 9, 3))):
        model = base._model(code)
        weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                   for w in model.weights]
        model.set_weights(weights)
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        arrays[f"{mid}/x"] = x
        arrays[f"{mid}/pred"] = model.predict(x, verbose=0)
        for k, w in enumerate(weights):
            arrays[f"{mid}/w{k}"] = w
        if mid == "volume":
            model.save(os.path.join(keras_dir, "layers19_volume.keras"))
        out.append({"id": mid, "code": code, "n_weights": len(weights),
                    "summary": base._summary(base._model(code)),
                    "weight_names": [w.name for w in model.weights]})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(base.ROOT, "tests", "goldens"))
    args = parser.parse_args()
    rng = np.random.default_rng(19)
    arrays, entries = {}, []
    for cid, code, shapes, call, opts in cases():
        entries.append(base.one_case(cid, code, shapes, call, opts, rng, arrays))
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "cases": entries,
           "models": models(rng, arrays, os.path.join(args.out, "keras_files")),
           "summaries": summaries()}
    with open(os.path.join(args.out, "layers19.json"), "w") as f:
        json.dump(base.to_jsonable(doc), f, indent=1)
        f.write("\n")
    np.savez_compressed(os.path.join(args.out, "layers19.npz"), **arrays)
    print(f"{len(entries)} layer cases, {len(doc['models'])} models")


if __name__ == "__main__":
    main()
