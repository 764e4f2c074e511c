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
both libraries run, the input shape, the loss ``mse``/``cce``/``bce``, the input
kind: floats, floats with zero steps for ``Masking``, int ids with zeros for
``Embedding(mask_zero)``), their weights ``<id>/w<k>``, inputs ``<id>/x``,
targets ``<id>/t`` and the loss's gradient for every weight ``<id>/grad<k>``.

``gradients_rnn.{json,npz}``: ``K.rnn`` on an option grid (masks at the end,
in the middle, at the start or none; go_backwards; time_major;
zero_output_for_mask; return_all_outputs; constants) for three step kinds (a
tanh recurrence, an LSTM-style step with two states, nested inputs): the
gradients of ``sum(results * cotangents)`` (last output, outputs, states)
with respect to every operand (inputs, initial states, constants) and every
weight the step closes over, ``<id>/grad/<name>``; operands ``<id>/<name>``,
cotangents ``<id>/ct<i>``. ``tests/test_rnn_gradient_goldens.py`` replays them.
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


# masked stacks and other layer kinds: input kind "masked" (steps of zeros for
# Masking), "ids" (int ids with zeros for Embedding(mask_zero))
MORE_MODELS = {
    "simple_rnn_backwards_mse": ("[layers.SimpleRNN(3, go_backwards=True, "
                                 "return_sequences=True)]", (4, 2), "mse", "floats"),
    "gru_v1_mse": ("[layers.GRU(3, reset_after=False)]", (4, 2), "mse", "floats"),
    "bidirectional_lstm_mse": ("[layers.Bidirectional(layers.LSTM(2, return_sequences=True), "
                               "merge_mode='sum')]", (3, 2), "mse", "floats"),
    "time_distributed_dense_mse": ("[layers.TimeDistributed(layers.Dense(3, activation="
                                   "'tanh')), layers.SimpleRNN(2)]", (4, 2), "mse", "floats"),
    "masking_lstm_dense_mse": ("[layers.Masking(0.0), layers.LSTM(3, return_sequences=True), "
                               "layers.Dense(2)]", (5, 2), "mse", "masked"),
    "embedding_masked_gru_mse": ("[layers.Embedding(6, 3, mask_zero=True), "
                                 "layers.GRU(2, return_sequences=True)]", (5,), "mse", "ids"),
}


def _model_input(shape, kind):
    if kind == "ids":
        ids = RNG.integers(1, 6, size=(5,) + shape).astype(np.int32)
        ids[0, 3:] = 0          # padding at the end
        ids[1, 0] = 0           # and a masked first step
        ids[2, 2] = 0           # and one in the middle
        return ids
    x = f(5, *shape)
    if kind == "masked":
        x[0, 3:] = 0.0
        x[1, 0] = 0.0
        x[2, 2] = 0.0
    return x


def model_case(cid, code, shape, loss_name, arrays, input_kind="floats"):
    """A Sequential model's loss gradients with respect to every weight."""
    layers = keras.layers  # noqa: F841  (read by ``code``)
    dtype = "int32" if input_kind == "ids" else "float32"
    model = keras.Sequential([keras.Input(shape, dtype=dtype)] + eval(code))
    weights = [RNG.normal(scale=0.7, size=w.shape).astype(np.float32) for w in model.weights]
    model.set_weights(weights)
    x = _model_input(shape, input_kind)
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
    assert len(grads) == len(weights), cid
    for k, (w, g) in enumerate(zip(weights, grads)):
        # an Embedding's gradient is IndexedSlices: densified
        arrays[f"{cid}/w{k}"], arrays[f"{cid}/grad{k}"] = w, np.asarray(tf.convert_to_tensor(g))
    arrays[f"{cid}/x"], arrays[f"{cid}/t"] = x, t
    return {"id": cid, "layers": code, "input_shape": list(shape), "loss": loss_name,
            "weights": len(weights), "value": float(loss), "input": input_kind}


# -- K.rnn: gradients on the option grid (tests/goldens/gradients_rnn.*) --

RNN_MASKS = {"none": None,
             "end": [[1, 1, 1, 0], [1, 1, 0, 0]],
             "middle": [[1, 0, 1, 1], [1, 1, 0, 1]],
             "start": [[0, 1, 1, 1], [0, 0, 1, 1]]}


def rnn_grid():
    """``(id, kind, options)``: every mask with and without go_backwards, per step
    kind, twice, the other options (time_major, zero_output_for_mask,
    return_all_outputs, constants) switched so each is on and off with every
    mask and direction."""
    out = []
    for kind in ("simple", "lstm", "nested"):
        for m, mask in enumerate(RNN_MASKS):
            for gb in (False, True):
                for v in (0, 1):
                    opts = {"mask": mask, "go_backwards": gb, "time_major": bool(v),
                            "zero_output_for_mask": not v, "return_all_outputs": bool(v ^ gb),
                            "constants": bool((m + v) % 2)}
                    cid = (f"{kind}-{mask}-gb{int(gb)}-tm{v}-zofm{1 - v}-rao{v ^ gb}"
                           f"-const{(m + v) % 2}")
                    out.append((cid, kind, opts))
    return out


def rnn_arrays(rng, kind, const):
    """The operands of a case: ``{name: array}`` (B=2, T=4, 3 features, 2 units)."""
    def r(*shape):
        return rng.uniform(-0.8, 0.8, size=shape).astype(np.float32)
    gates = 4 if kind == "lstm" else 1
    a = {"x": r(2, 4, 3), "h0": r(2, 2), "W": r(3, 2 * gates), "U": r(2, 2 * gates),
         "b": r(2 * gates)}
    if kind == "lstm":
        a["c0"] = r(2, 2)
    if kind == "nested":
        a["x2"] = r(2, 4, 2)
        a["V"] = r(2, 2)
    if const:
        a["k"] = r(2, 2 * gates)
    return a


def rnn_step(kind, t, const, ops):
    """The step function, in the ops of ``ops`` (tf_keras.backend here, symkb's
    K in the test): the same code for both."""
    def step(x, states):
        if kind == "nested":
            z = ops.dot(x[0], t["W"]) + ops.dot(x[1], t["V"])
        else:
            z = ops.dot(x, t["W"])
        z = z + ops.dot(states[0], t["U"]) + t["b"]
        if const:
            z = z * states[-1]
        if kind != "lstm":
            h = ops.tanh(z)
            return h, [h]
        i, f_, c_, o = z[:, :2], z[:, 2:4], z[:, 4:6], z[:, 6:]
        c = ops.sigmoid(f_) * states[1] + ops.sigmoid(i) * ops.tanh(c_)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]
    return step


def rnn_case(cid, kind, opts, arrays):
    """One K.rnn call's gradients of ``sum(results * cotangents)``."""
    rng = np.random.default_rng(len(arrays))  # a seed per case, fixed by the grid order
    a = rnn_arrays(rng, kind, opts["constants"])
    t = {k: tf.constant(v) for k, v in a.items()}
    tm = opts["time_major"]
    mask = None if RNN_MASKS[opts["mask"]] is None else np.array(RNN_MASKS[opts["mask"]], bool)
    with tf.GradientTape(persistent=True) as tape:
        for v in t.values():
            tape.watch(v)
        xs = t["x"] if not tm else tf.transpose(t["x"], (1, 0, 2))
        if kind == "nested":
            xs = [xs, t["x2"] if not tm else tf.transpose(t["x2"], (1, 0, 2))]
        init = [t["h0"]] + ([t["c0"]] if kind == "lstm" else [])
        last, outs, states = K.rnn(
            rnn_step(kind, t, opts["constants"], K), xs, init,
            mask=None if mask is None else tf.constant(mask.T if tm else mask),
            go_backwards=opts["go_backwards"], time_major=tm,
            constants=[t["k"]] if opts["constants"] else None,
            zero_output_for_mask=opts["zero_output_for_mask"],
            return_all_outputs=opts["return_all_outputs"])
        results = [last, outs] + list(states)
        cts = [rng.normal(size=r.shape).astype(np.float32) for r in results]
        loss = tf.add_n([tf.reduce_sum(r * c) for r, c in zip(results, cts)])
    names = sorted(a)
    for name in names:
        g = tape.gradient(loss, t[name])
        assert g is not None, (cid, name)
        arrays[f"{cid}/{name}"] = a[name]
        arrays[f"{cid}/grad/{name}"] = np.asarray(g)
    for i, c in enumerate(cts):
        arrays[f"{cid}/ct{i}"] = c
    return {"id": cid, "kind": kind, "options": opts, "operands": names,
            "cotangents": len(cts)}


def rnn_goldens(out_dir) -> int:
    arrays, records = {}, []
    for cid, kind, opts in rnn_grid():
        records.append(rnn_case(cid, kind, opts, arrays))
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "masks": RNN_MASKS, "cases": records}
    with open(os.path.join(out_dir, "gradients_rnn.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    np.savez_compressed(os.path.join(out_dir, "gradients_rnn.npz"), **arrays)
    return len(records)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    opts = parser.parse_args(argv)
    arrays, records = {}, []
    for cid, fn, args, kwargs in cases():
        records.append(run_case(cid, fn, args, kwargs, arrays))
    models = [model_case(cid, *spec, arrays) for cid, spec in MODELS.items()]
    models += [model_case(cid, *spec[:3], arrays, spec[3])
               for cid, spec in MORE_MODELS.items()]
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "cases": records, "models": models}
    with open(os.path.join(opts.out, "gradients.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    np.savez_compressed(os.path.join(opts.out, "gradients.npz"), **arrays)
    rnn = rnn_goldens(opts.out)
    print(f"{len(records)} cases, {len(models)} models, {rnn} K.rnn cases written to "
          f"{opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
