#!/usr/bin/env python
"""Generate ``tests/goldens/gradients.{json,npz}``: real TF gradients of backend ops.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_gradients.py [--out DIR]

Each case calls one ``tf_keras.backend`` function on fixed inputs and records
the gradients of ``sum(fn(*args) * cotangent)`` with respect to each of its
tensor arguments (``tf.GradientTape``; ``None`` where TF answers ``None``).
The inputs hold the values where finite differences cannot check a rule:
kinks, ties and bounds (``relu`` at 0, ``maximum`` of equal values, ``clip``
at its bounds, ``max`` with tied maxima, ``abs`` at 0), so the goldens pin
TensorFlow's choice there. ``tests/test_gradient_goldens.py`` replays them.

JSON: ``{"versions": ..., "cases": [{"id", "fn", "args": [{"array": key} |
python value], "kwargs", "grads": [key | null per argument]}], "models":
[...]}``; arrays in the npz under ``<id>/arg<i>``, ``<id>/ct`` and
``<id>/grad<i>``. ``models``: small Sequential Dense and recurrent stacks (the layer code
both libraries run, the input shape, the loss ``mse``/``cce``/``bce``), their
weights ``<id>/w<k>``, inputs ``<id>/x``, targets ``<id>/t`` and the loss's
gradient for every weight ``<id>/grad<k>``.
"""
import argparse
import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import backend as K  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(16)
KINKS = np.array([[-1.5, -1.0, -0.5, 0.0], [0.0, 0.5, 1.0, 2.5], [-2.5, 0.3, 1.0, -0.0]],
                 np.float32)


def f(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def cases():
    """``(id, fn, args, kwargs)``: arrays are inputs, other values pass as they are."""
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32)
    out = [
        ("relu", "relu", [KINKS], {}),
        ("relu_alpha", "relu", [KINKS], {"alpha": 0.1}),
        ("relu_max", "relu", [KINKS], {"max_value": 1.0}),
        ("relu_threshold", "relu", [KINKS], {"threshold": 0.5}),
        ("relu_all", "relu", [KINKS], {"alpha": 0.2, "max_value": 1.0, "threshold": 0.5}),
        ("elu", "elu", [KINKS], {}), ("elu_alpha", "elu", [KINKS], {"alpha": 0.5}),
        ("selu", "selu", [KINKS], {}), ("hard_sigmoid", "hard_sigmoid", [KINKS], {}),
        ("abs", "abs", [KINKS], {}), ("sign", "sign", [KINKS], {}),
        ("round", "round", [KINKS], {}), ("softplus", "softplus", [KINKS], {}),
        ("softsign", "softsign", [KINKS], {}), ("sigmoid", "sigmoid", [KINKS], {}),
        ("tanh", "tanh", [KINKS], {}), ("square", "square", [KINKS], {}),
        ("exp", "exp", [KINKS], {}), ("sqrt", "sqrt", [f(2, 3, lo=0.2)], {}),
        ("log", "log", [f(2, 3, lo=0.2)], {}), ("pow", "pow", [f(2, 3, lo=0.2), 3], {}),
        ("clip", "clip", [KINKS, -0.5, 1.0], {}),
        ("maximum", "maximum", [KINKS, np.full((3, 4), 0.5, np.float32)], {}),
        ("maximum_ties", "maximum", [ties, np.float32([2.0, 3.0, 1.0])], {}),
        ("minimum_ties", "minimum", [ties, np.float32([2.0, 3.0, 1.0])], {}),
        ("max_ties", "max", [ties], {"axis": 1}), ("min_ties", "min", [ties], {"axis": 0}),
        ("max_all", "max", [ties], {}),
        ("sum", "sum", [f(2, 3, 4)], {"axis": 1, "keepdims": True}),
        ("mean", "mean", [f(2, 3, 4)], {"axis": [0, 2]}),
        ("prod_zero", "prod", [np.float32([[1.0, 0.0, 2.0], [3.0, 0.0, 0.0]])], {"axis": 1}),
        ("prod", "prod", [f(2, 3)], {}),
        ("cumsum", "cumsum", [f(2, 3)], {"axis": 1}), ("cumprod", "cumprod", [f(2, 3)], {"axis": 0}),
        ("softmax", "softmax", [f(2, 4)], {}),
        ("std", "std", [f(3, 4)], {"axis": 0}), ("l2_normalize", "l2_normalize", [f(3, 4)],
                                                 {"axis": 1}),
        ("dot", "dot", [f(3, 4), f(4, 2)], {}), ("dot_3d", "dot", [f(2, 3, 4), f(4, 2)], {}),
        ("dot_3d_3d", "dot", [f(2, 3, 4), f(5, 4, 2)], {}),
        ("batch_dot", "batch_dot", [f(2, 3, 4), f(2, 4, 5)], {"axes": (2, 1)}),
        ("batch_dot_vec", "batch_dot", [f(3, 4), f(3, 4)], {"axes": 1}),
        ("bias_add", "bias_add", [f(2, 3, 4), f(4)], {}),
        ("switch", "switch", [KINKS > 0, KINKS, f(3, 4)], {}),
        ("transpose", "transpose", [f(2, 3)], {}),
        ("permute_dimensions", "permute_dimensions", [f(2, 3, 4)], {"pattern": (2, 0, 1)}),
        ("reshape", "reshape", [f(2, 3, 4)], {"shape": (4, 6)}),
        ("expand_dims", "expand_dims", [f(2, 3)], {"axis": 1}),
        ("squeeze", "squeeze", [f(2, 1, 3)], {"axis": 1}),
        ("concatenate", "concatenate", [[f(2, 3), f(2, 2)]], {"axis": -1}),
        ("stack", "stack", [[f(2, 3), f(2, 3)]], {"axis": 1}),
        ("reverse", "reverse", [f(2, 3, 4)], {"axes": (0, 2)}),
        ("tile", "tile", [f(2, 3)], {"n": (2, 3)}),
        ("repeat_elements", "repeat_elements", [f(2, 3)], {"rep": 3, "axis": 1}),
        ("temporal_padding", "temporal_padding", [f(2, 3, 4)], {"padding": (1, 2)}),
        ("gather", "gather", [f(4, 3), np.int32([[0, 2], [2, 2]])], {}),
        ("one_hot", "one_hot", [np.int32([0, 2, 1])], {"num_classes": 3}),
        ("cast_int", "cast", [KINKS, "int32"], {}), ("cast_f16", "cast", [KINKS, "float16"], {}),
        ("stop_gradient", "stop_gradient", [KINKS], {}),
        ("categorical_crossentropy", "categorical_crossentropy",
         [np.float32([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]), f(2, 3, lo=0.1, hi=1.0)], {}),
        ("binary_crossentropy", "binary_crossentropy",
         [np.float32([[0.0, 1.0], [1.0, 0.0]]), f(2, 2, lo=0.1, hi=0.9)], {}),
    ]
    return out


def _flat_tensors(args):
    """Positions ``(i, j)`` of the arrays in ``args`` (``j``: index in a list arg)."""
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            yield (i, None), a
        elif isinstance(a, list):
            for j, b in enumerate(a):
                yield (i, j), b


def run_case(cid, fn, args, kwargs, arrays):
    tensors = {pos: tf.constant(a) for pos, a in _flat_tensors(args)}
    call_args = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            call_args.append(tensors[(i, None)])
        elif isinstance(a, list):
            call_args.append([tensors[(i, j)] for j in range(len(a))])
        else:
            call_args.append(a)
    with tf.GradientTape(persistent=True) as tape:
        for t in tensors.values():
            if t.dtype.is_floating:
                tape.watch(t)
        out = getattr(K, fn, None) or getattr(keras.activations, fn)
        out = out(*call_args, **kwargs)
        ct = RNG.normal(size=out.shape).astype(out.dtype.as_numpy_dtype) \
            if out.dtype.is_floating else None
        loss = tf.reduce_sum(tf.cast(out, tf.float32) * ct) if ct is not None else None
    grads = []
    for k, (pos, a) in enumerate(_flat_tensors(args)):
        arrays[f"{cid}/arg{k}"] = a
        g = tape.gradient(loss, tensors[pos]) if loss is not None else None
        if g is None:
            grads.append(None)
        else:
            arrays[f"{cid}/grad{k}"] = np.asarray(tf.convert_to_tensor(g))  # IndexedSlices too
            grads.append(f"{cid}/grad{k}")
    if ct is not None:
        arrays[f"{cid}/ct"] = ct
    spec = []
    k = 0
    for a in args:
        if isinstance(a, np.ndarray):
            spec.append({"array": f"{cid}/arg{k}"})
            k += 1
        elif isinstance(a, list):
            spec.append({"list": [f"{cid}/arg{k + j}" for j in range(len(a))]})
            k += len(a)
        else:
            spec.append({"value": list(a) if isinstance(a, tuple) else a})
    kw = {key: list(v) if isinstance(v, tuple) else v for key, v in kwargs.items()}
    return {"id": cid, "fn": fn, "args": spec, "kwargs": kw, "grads": grads,
            "ct": f"{cid}/ct" if ct is not None else None}


MODELS = {
    # id: (layer constructors as code both libraries run, input shape, loss)
    "dense_tanh_mse": ("[layers.Dense(4, activation='tanh'), layers.Dense(2)]", (3,), "mse"),
    "dense_relu_softmax_cce": ("[layers.Dense(5, activation='relu'), "
                               "layers.Dense(3, activation='softmax')]", (4,), "cce"),
    "dense_3d_sigmoid_bce": ("[layers.Dense(3, activation='sigmoid', use_bias=False)]",
                             (2, 4), "bce"),
    # recurrent layers: the gradient through the loop, every weight
    "lstm_sequences_mse": ("[layers.LSTM(3, return_sequences=True)]", (4, 2), "mse"),
    "gru_mse": ("[layers.GRU(3)]", (4, 2), "mse"),
    "bidirectional_gru_v1_mse": ("[layers.Bidirectional(layers.GRU(2, reset_after=False, "
                                 "return_sequences=True))]", (3, 2), "mse"),
}


def model_case(cid, code, shape, loss_name, arrays):
    """A Sequential model's loss gradients with respect to every weight."""
    layers = keras.layers  # noqa: F841  (read by ``code``)
    model = keras.Sequential([keras.Input(shape)] + eval(code))
    weights = [RNG.normal(scale=0.7, size=w.shape).astype(np.float32) for w in model.weights]
    model.set_weights(weights)
    x = f(5, *shape)
    out_shape = model.output_shape[1:]
    if loss_name == "cce":
        t = np.eye(out_shape[-1], dtype=np.float32)[RNG.integers(0, out_shape[-1], 5)]
    elif loss_name == "bce":
        t = (RNG.random((5,) + out_shape) < 0.5).astype(np.float32)
    else:
        t = f(5, *out_shape)
    with tf.GradientTape() as tape:
        y = model(x)
        loss = {"mse": lambda: K.mean(K.square(y - t)),
                "cce": lambda: K.mean(K.categorical_crossentropy(t, y)),
                "bce": lambda: K.mean(K.binary_crossentropy(t, y))}[loss_name]()
    grads = tape.gradient(loss, model.trainable_weights)
    for k, (w, g) in enumerate(zip(weights, grads)):
        arrays[f"{cid}/w{k}"], arrays[f"{cid}/grad{k}"] = w, np.asarray(g)
    arrays[f"{cid}/x"], arrays[f"{cid}/t"] = x, t
    return {"id": cid, "layers": code, "input_shape": list(shape), "loss": loss_name,
            "weights": len(weights), "value": float(loss)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    opts = parser.parse_args(argv)
    arrays, records = {}, []
    for cid, fn, args, kwargs in cases():
        records.append(run_case(cid, fn, args, kwargs, arrays))
    models = [model_case(cid, *spec, arrays) for cid, spec in MODELS.items()]
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "cases": records, "models": models}
    with open(os.path.join(opts.out, "gradients.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    np.savez_compressed(os.path.join(opts.out, "gradients.npz"), **arrays)
    print(f"{len(records)} cases written to {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
