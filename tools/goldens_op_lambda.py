#!/usr/bin/env python
"""Generate ``tests/goldens/op_lambda.{json,npz}`` and
``tests/goldens/keras_files/op_lambda_{arith,residual}.tfk.{keras,h5}``:
functional models whose tensors are combined with Python's ``+``, ``-``,
``*``, ``/`` and unary ``-`` (tf_keras's TFOpLambda layers), from REAL
tf_keras.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_op_lambda.py [--out DIR]

``models``: per model, its ``to_json()`` text, ``summary()`` text and layer
names; arrays ``<id>/w<k>`` (``get_weights()`` after uniform values were set),
``<id>/x`` (an input batch) and ``<id>/pred`` (``predict``). The models:
``arith`` (a tensor plus a tensor, times a constant, a constant minus it, its
negation, a quotient of two tensors, a constant first operand, an array
constant) and ``residual`` (a small post-norm encoder block written with
``+`` for its residual connections).
"""
import argparse
import io
import json
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arith():
    x = keras.Input((4,), name="x")
    d = layers.Dense(4, name="d")(x)
    a = d + x
    b = a * 0.5
    c = 2.0 - b
    n = -c
    e = n / (d + 3.0)
    f = 1.5 * e
    g = f * np.array([1.0, -2.0, 0.5, 3.0], "float32")
    return keras.Model(x, layers.Dense(2, name="out")(g - d)), (5, 4)


def residual():
    x = keras.Input((6, 8), name="tokens")
    att = layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    h = layers.LayerNormalization(name="ln1")(x + att)
    f = layers.Dense(8, name="ffn2")(layers.Dense(16, activation="relu", name="ffn1")(h))
    y = layers.LayerNormalization(name="ln2")(h + f * 0.5)
    return keras.Model(x, y), (3, 6, 8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays, models = {}, {}
    for k, (mid, make) in enumerate((("arith", arith), ("residual", residual))):
        keras.backend.clear_session()
        model, shape = make()
        rng = np.random.default_rng(300 + k)
        weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype("float32")
                   for w in model.get_weights()]
        model.set_weights(weights)
        x = rng.normal(size=shape).astype("float32")
        pred = model.predict(x, verbose=0)
        text = io.StringIO()
        model.summary(print_fn=lambda line: text.write(line + "\n"))
        models[mid] = {"json": model.to_json(), "summary": text.getvalue(),
                       "layers": [layer.name for layer in model.layers],
                       "weights": len(weights)}
        for i, w in enumerate(weights):
            arrays[f"{mid}/w{i}"] = w
        arrays[f"{mid}/x"], arrays[f"{mid}/pred"] = x, pred
        folder = os.path.join(args.out, "keras_files")
        os.makedirs(folder, exist_ok=True)
        model.save(os.path.join(folder, f"op_lambda_{mid}.tfk.keras"))
        model.save(os.path.join(folder, f"op_lambda_{mid}.tfk.h5"))
    np.savez_compressed(os.path.join(args.out, "op_lambda.npz"), **arrays)
    with open(os.path.join(args.out, "op_lambda.json"), "w") as f:
        json.dump({"tf_keras": keras.__version__, "models": models}, f, indent=1)
    print(f"{len(models)} models written to {args.out}")


if __name__ == "__main__":
    main()
