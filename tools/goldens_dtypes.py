#!/usr/bin/env python
"""Golden files for dtype policies, float16, K.rnn lengths and K.print_tensor, from REAL tf_keras.

TensorFlow is only used here, never by symkb or its tests.

How to run
----------
From the repository root, in a Python environment with ``tensorflow-cpu``
and ``tf-keras`` (the same one ``tools/make_goldens.py`` uses)::

    /opt/tfenv/bin/python tools/goldens_dtypes.py
    /opt/tfenv/bin/python tools/goldens_dtypes.py --out /tmp/goldens

The script sets ``TF_USE_LEGACY_KERAS=1`` and hides GPUs itself. Inputs and
weights come from ``numpy.random.default_rng`` with fixed seeds.

Files written (default directory ``tests/goldens/``)
---------------------------------------------------
``dtypes.json`` + ``dtypes.npz``
    ``models``: small models, each given as a list of ``[layer class,
    kwargs]`` after one ``Input`` (shape, dtype), built under a ``floatx``
    and a global dtype policy (``null``: the default, which follows
    ``floatx``): for each, the symbolic output dtype of every layer, the
    weight dtypes, the layer configs' ``dtype`` entries, the predict result
    dtype, and in the npz ``<case>/x``, ``<case>/weight<i>`` (in
    ``get_weights()`` order) and ``<case>/y`` (``model.predict``).
    ``rnn_lengths``: ``K.rnn`` traced with an unknown time dimension and a
    per-sample ``input_length`` tensor (no mask), forwards and backwards:
    in the npz ``<case>/x``, ``<case>/h0``, ``<case>/lengths``,
    ``<case>/last``, ``<case>/outputs``, ``<case>/state``.
    ``print_tensor``: what ``K.print_tensor(x, message)`` prints inside a
    compiled function (``tf.print`` to stdout), for a few arrays
    (``<case>/x`` in the npz).
    ``interchange``: ``from_tf_keras``: a mixed_float16 model's ``to_json()``
    written by tf_keras, its layers' policy names, and in the npz
    ``from_tf_keras/weight<i>``, ``/x``, ``/y``; ``to_tf_keras``: the JSON
    symkb writes (``tests/goldens/dtypes_symkb_model.json``, read here)
    loaded by ``tf_keras.models.model_from_json``: the policy names tf_keras
    gives its layers, and ``to_tf_keras/weight<i>``, ``/x``, ``/y``.
"""

import argparse
import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import backend as K  # noqa: E402
from tf_keras import layers  # noqa: E402
from tf_keras import mixed_precision  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "goldens")
tf.get_logger().setLevel("ERROR")


def versions():
    return {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0]}


_WRAPPERS = [("Masking", {"mask_value": 0.0}),
             ("Bidirectional",
              {"layer": {"layer": ["LSTM", {"units": 3, "return_sequences": True}]}}),
             ("TimeDistributed", {"layer": {"layer": ["Dense", {"units": 2}]}}),
             ("Flatten", {}), ("Dropout", {"rate": 0.5}), ("Dense", {"units": 2})]

# (case id, floatx, global policy, (input shape, input dtype), [(layer, kwargs)])
MODEL_CASES = [
    ("f64_input_dense", "float32", None, ((3,), "float64"), [("Dense", {"units": 4})]),
    ("f64_input_dense_relu_dense", "float32", None, ((3,), "float64"),
     [("Dense", {"units": 4, "activation": "relu"}), ("Dense", {"units": 2})]),
    ("f64_input_activation", "float32", None, ((3,), "float64"),
     [("Activation", {"activation": "tanh"})]),
    ("int_input_dense", "float32", None, ((3,), "int32"), [("Dense", {"units": 2})]),
    ("f64_input_lstm", "float32", None, ((4, 3), "float64"), [("LSTM", {"units": 2})]),
    ("f32_input_dense_f64", "float32", None, ((3,), "float32"),
     [("Dense", {"units": 2, "dtype": "float64"})]),
    ("floatx64_dense", "float64", None, ((3,), None), [("Dense", {"units": 2})]),
    ("floatx16_dense", "float16", None, ((5,), None),
     [("Dense", {"units": 8, "activation": "tanh"}),
      ("Dense", {"units": 3, "activation": "softmax"})]),
    ("floatx16_simple_rnn", "float16", None, ((6, 3), None),
     [("SimpleRNN", {"units": 4}), ("Dense", {"units": 2})]),
    ("floatx16_lstm", "float16", None, ((6, 3), None),
     [("LSTM", {"units": 4, "return_sequences": True})]),
    ("floatx16_gru", "float16", None, ((6, 3), None), [("GRU", {"units": 4})]),
    ("mixed_dense_softmax", "float32", "mixed_float16", ((5,), None),
     [("Dense", {"units": 8, "activation": "relu"}), ("Dense", {"units": 3}),
      ("Activation", {"activation": "softmax"})]),
    ("mixed_final_float32", "float32", "mixed_float16", ((5,), None),
     [("Dense", {"units": 8, "activation": "relu"}),
      ("Dense", {"units": 3, "activation": "softmax", "dtype": "float32"})]),
    ("mixed_simple_rnn", "float32", "mixed_float16", ((6, 3), None),
     [("SimpleRNN", {"units": 4, "return_sequences": True})]),
    ("mixed_lstm", "float32", "mixed_float16", ((6, 3), None),
     [("LSTM", {"units": 4}), ("Dense", {"units": 2})]),
    ("mixed_gru", "float32", "mixed_float16", ((6, 3), None), [("GRU", {"units": 4})]),
    ("mixed_embedding_lstm", "float32", "mixed_float16", ((6,), "int32"),
     [("Embedding", {"input_dim": 10, "output_dim": 3}), ("LSTM", {"units": 4})]),
    # a {"layer": [class, kwargs]} value is a wrapped layer; these inputs have zero steps
    ("mixed_wrappers", "float32", "mixed_float16", ((5, 3), None), _WRAPPERS),
    ("floatx16_wrappers", "float16", None, ((5, 3), None), _WRAPPERS),
]


def make_layer(name, kwargs):
    """``layers.<name>(**kwargs)``, a ``{"layer": [class, kwargs]}`` value built first."""
    kwargs = {k: make_layer(*v["layer"]) if isinstance(v, dict) and "layer" in v else v
              for k, v in kwargs.items()}
    return getattr(layers, name)(**kwargs)


def _input_array(rng, shape, dtype, batch=5):
    if dtype == "int32":
        return rng.integers(0, 10 if len(shape) == 1 and shape[0] == 6 else 5,
                            size=(batch,) + shape).astype("int32")
    return rng.standard_normal((batch,) + shape).astype(dtype)


def model_cases(arrays):
    out = []
    for k, (cid, floatx, policy, (shape, in_dtype), specs) in enumerate(MODEL_CASES):
        K.clear_session()
        K.set_floatx(floatx)
        mixed_precision.set_global_policy(policy)  # None: follow floatx
        inp = keras.Input(shape, dtype=in_dtype)
        t, outs = inp, []
        built = []
        for name, kwargs in specs:
            layer = make_layer(name, kwargs)
            t = layer(t)
            outs.append(t.dtype.name)
            built.append(layer)
        model = keras.Model(inp, t)
        rng = np.random.default_rng(100 + k)
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype.as_numpy_dtype)
                   for w in model.weights]
        model.set_weights(weights)
        x = _input_array(rng, shape, in_dtype or floatx)
        if "wrappers" in cid:
            x[1, 3:] = 0
            x[2, 0] = 0
        y = model.predict(x, verbose=0)
        arrays[f"{cid}/x"] = x
        for i, w in enumerate(weights):
            arrays[f"{cid}/weight{i}"] = w
        arrays[f"{cid}/y"] = np.asarray(y)
        out.append({
            "id": cid, "floatx": floatx, "policy": policy,
            "input": {"shape": list(shape), "dtype": in_dtype},
            "layers": [[n, kw] for n, kw in specs],
            "input_dtype": inp.dtype.name,
            "output_dtypes": outs,
            "weight_dtypes": [w.dtype.name for w in model.weights],
            "config_dtypes": [layer.get_config()["dtype"] for layer in built],
            "compute_dtypes": [layer.compute_dtype for layer in built],
            "variable_dtypes": [layer.dtype for layer in built],
            "predict_dtype": np.asarray(y).dtype.name,
        })
        mixed_precision.set_global_policy(None)
        K.set_floatx("float32")
    return out


def policy_facts():
    """Policy names, their dtypes, reprs and error messages."""
    facts = {}
    for name in ("float32", "float16", "float64", "mixed_float16", "mixed_bfloat16"):
        p = mixed_precision.Policy(name)
        facts[name] = {"name": p.name, "compute_dtype": p.compute_dtype,
                       "variable_dtype": p.variable_dtype, "repr": repr(p)}
    try:
        mixed_precision.Policy("bogus")
    except ValueError as exc:
        facts["bogus_error"] = str(exc)
    K.set_floatx("float16")
    facts["default_after_floatx16"] = mixed_precision.global_policy().name
    K.set_floatx("float32")
    mixed_precision.set_global_policy("mixed_float16")
    facts["floatx_under_mixed"] = K.floatx()
    facts["input_dtype_under_mixed"] = keras.Input((2,)).dtype.name
    mixed_precision.set_global_policy(None)
    facts["default_after_reset"] = mixed_precision.global_policy().name
    # a model called as a layer does not cast its inputs; its layers do
    inner_in = keras.Input((3,), dtype="float64")
    inner = keras.Model(inner_in, layers.Activation("linear", dtype="float64")(inner_in))
    outer_in = keras.Input((3,), dtype="float64")
    facts["nested_model_keeps_float64"] = inner(outer_in).dtype.name
    inner = keras.Model(inner_in, layers.Activation("linear")(inner_in))
    facts["nested_model_default_layer"] = inner(outer_in).dtype.name
    return facts


def _simple_step(kernel, recurrent):
    kernel, recurrent = tf.constant(kernel), tf.constant(recurrent)

    def step(x, states):
        h = K.tanh(K.dot(x, kernel) + K.dot(states[0], recurrent))
        return h, [h]
    return step


def rnn_length_cases(arrays):
    out = []
    rng = np.random.default_rng(7)
    F, U, B, T = 3, 4, 4, 6
    kernel = rng.uniform(-0.5, 0.5, (F, U)).astype("float32")
    recurrent = rng.uniform(-0.5, 0.5, (U, U)).astype("float32")
    arrays["rnn/kernel"], arrays["rnn/recurrent"] = kernel, recurrent
    grid = [("forward_full", False, [6, 3, 1, 4]), ("forward_short", False, [5, 3, 1, 4]),
            ("backward_full", True, [6, 3, 1, 4]), ("backward_short", True, [5, 3, 2, 4])]
    for cid, backwards, lengths in grid:
        x = rng.standard_normal((B, T, F)).astype("float32")
        h0 = rng.standard_normal((B, U)).astype("float32")
        lens = np.array(lengths, dtype="int32")

        @tf.function(input_signature=[tf.TensorSpec((None, None, F), tf.float32),
                                      tf.TensorSpec((None, U), tf.float32),
                                      tf.TensorSpec((None,), tf.int32)])
        def run(xs, h, n):
            return K.rnn(_simple_step(kernel, recurrent), xs, [h], input_length=n,
                         go_backwards=backwards)

        last, outputs, states = run(x, h0, lens)
        for key, value in (("x", x), ("h0", h0), ("lengths", lens), ("last", last),
                           ("outputs", outputs), ("state", states[0])):
            arrays[f"{cid}/{key}"] = np.asarray(value)
        out.append({"id": cid, "go_backwards": backwards})
    return out


def _captured_stdout(fn):
    """What ``fn()`` writes to file descriptor 1 (tf.print writes there from C++)."""
    import tempfile
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            fn()
            sys.stdout.flush()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode()


def print_cases(arrays):
    out = []
    cases = [("matrix", "x =", np.arange(6, dtype="float32").reshape(2, 3) / 4),
             ("long_vector", "v:", np.arange(10, dtype="float32")),
             ("large_matrix", "", np.arange(30, dtype="float32").reshape(5, 6) - 10.5),
             ("ints", "ints", np.array([3, -1, 7], dtype="int32")),
             ("scalar", "s", np.array(2.5, dtype="float32")),
             ("cube", "cube", np.arange(2 * 7 * 8, dtype="int32").reshape(2, 7, 8)),
             ("specials", "f32", np.array([1 / 3, 1e20, -np.inf, np.nan, 1e-7, -0.0], "float32")),
             ("float64", "f64", np.array([1 / 3, 0.1, 2.0], "float64")),
             ("bools", "b", np.array([True, False, True]))]
    for cid, message, x in cases:
        @tf.function(input_signature=[tf.TensorSpec(x.shape, tf.as_dtype(x.dtype))])
        def run(v):
            return K.print_tensor(tf.identity(v), message=message)

        text = _captured_stdout(lambda: run(x))
        arrays[f"{cid}/x"] = x
        out.append({"id": cid, "message": message, "printed": text})
    return out


def _policies(model):
    return {layer.name: layer.dtype_policy.name for layer in model.layers}


def _weights_and_predict(model, arrays, key, seed, features):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype.as_numpy_dtype)
               for w in model.weights]
    model.set_weights(weights)
    x = rng.standard_normal((6, features)).astype("float32")
    for i, w in enumerate(weights):
        arrays[f"{key}/weight{i}"] = w
    arrays[f"{key}/x"] = x
    arrays[f"{key}/y"] = np.asarray(model.predict(x, verbose=0))
    return len(weights)


def interchange_cases(arrays):
    K.clear_session()
    mixed_precision.set_global_policy("mixed_float16")
    inp = keras.Input((4,), name="inputs")
    h = layers.Dense(6, activation="relu", name="hidden")(inp)
    h = layers.Activation("sigmoid", name="gate")(h)
    out = layers.Dense(2, name="logits")(h)
    model = keras.Model(inp, out, name="tf_mixed")
    mixed_precision.set_global_policy(None)
    from_tf = {"json": model.to_json(), "policies": _policies(model),
               "n_weights": _weights_and_predict(model, arrays, "from_tf_keras", 31, 4)}
    K.clear_session()
    with open(os.path.join(REPO_ROOT, "tests", "goldens", "dtypes_symkb_model.json")) as f:
        loaded = keras.models.model_from_json(f.read())
    to_tf = {"policies": _policies(loaded),
             "n_weights": _weights_and_predict(loaded, arrays, "to_tf_keras", 32, 5)}
    return {"from_tf_keras": from_tf, "to_tf_keras": to_tf}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    arrays = {}
    data = {"versions": versions(), "models": model_cases(arrays),
            "policies": policy_facts(), "rnn_lengths": rnn_length_cases(arrays),
            "print_tensor": print_cases(arrays), "interchange": interchange_cases(arrays)}
    with open(os.path.join(args.out, "dtypes.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    np.savez_compressed(os.path.join(args.out, "dtypes.npz"), **arrays)
    print(f"wrote {len(data['models'])} model cases, {len(arrays)} arrays to {args.out}")


if __name__ == "__main__":
    main()
