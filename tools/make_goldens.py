#!/usr/bin/env python
"""Generate golden reference files for symkb from REAL tf_keras.

symkb re-implements the ``tf_keras.backend`` programming model without
TensorFlow.  This script is the only place TensorFlow is used: it runs the
reference implementation once and writes small, reproducible golden files
that symkb's tests compare against.  TensorFlow is never a runtime or test
dependency of symkb.

How to run
----------
From the repository root, with a Python environment that has
``tensorflow-cpu`` and ``tf-keras`` installed (for example
``python3 -m venv /opt/tfenv && /opt/tfenv/bin/pip install tensorflow-cpu tf-keras``)::

    /opt/tfenv/bin/python tools/make_goldens.py            # all files
    /opt/tfenv/bin/python tools/make_goldens.py ops rnn    # only some groups
    /opt/tfenv/bin/python tools/make_goldens.py --out /tmp/goldens

i.e. ``python tools/make_goldens.py`` from a venv with tensorflow-cpu and
tf-keras.  The script sets ``TF_USE_LEGACY_KERAS=1`` and hides GPUs itself,
and re-executes itself with ``PYTHONHASHSEED=0`` (some recorded error
messages print a Python set, whose order depends on string hashing).
Every input and weight comes from ``numpy.random.default_rng`` with fixed
seeds, so re-running gives the same values (the .npz bytes differ only by
zip timestamps).

Files written (default directory ``tests/goldens/``; ``tests/goldens/README.md``
documents every key and convention precisely)
-----------------------------------------------------------------------------
``config.json``
    Backend config defaults (floatx, epsilon, image_data_format), ``get_uid``
    sequences, ``learning_phase`` before/after ``set_learning_phase(1)`` and
    ``clear_session()``, default layer/model/Input names (fresh after
    ``clear_session`` and as a sequence in one session), ``K.int_shape`` /
    ``K.dtype`` / ``.name`` of placeholders and Inputs, and the messages of
    a few config errors.
``dense.npz`` + ``dense.json``
    Four Dense models (Sequential with Input, lazily built Sequential,
    two-input/two-output functional model with Concatenate and Add, Dense
    without bias): the construction code, weights in ``get_weights()`` order,
    inputs (batch 7), predictions, per-layer summary rows, parameter counts
    and the full ``model.summary()`` text.
``ops.npz`` + ``ops.json``
    A list of ``tf_keras.backend`` op cases: function name, positional and
    keyword arguments (arrays in the npz as ``<id>/arg<i>`` or
    ``<id>/kw/<name>``, Python values in the json), expected outputs
    (``<id>/out``, or ``<id>/out0``, ``<id>/out1`` ... for tuple results)
    with dtype and shape; and the ops that failed in tf_keras.
``rnn.npz`` + ``rnn.json``
    ``K.rnn`` over the full option grid (go_backwards x mask x unroll x
    time_major x zero_output_for_mask x return_all_outputs x constants) for
    a SimpleRNN-style and an LSTM-style step function written in K ops;
    last_output, outputs and new states per case; the cases whose expected
    value is the ``unroll=False`` result (tf_keras bugs), and the error
    messages / behaviour of the documented error conditions.
``layers.npz`` + ``layers.json``
    Recurrent models (SimpleRNN, LSTM, GRU reset_after True/False with the
    common options, stacked RNN cells, Bidirectional, TimeDistributed,
    Masking, Embedding(mask_zero), LSTM states feeding initial_state): the
    construction code, weights, inputs, outputs, weight shapes/names,
    summary rows, parameter counts and summary text.
"""

import argparse
import itertools
import json
import os
import sys
import traceback
import warnings

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    # Error messages that print a Python set (set_floatx, ...) depend on
    # string hashing: re-run with a fixed hash seed so config.json is stable.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import backend as K  # noqa: E402
from tf_keras import layers  # noqa: E402

Input = keras.Input
Model = keras.Model
Sequential = keras.Sequential

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "goldens")

tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore", message=".*set_learning_phase.*deprecated")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def versions():
    return {
        "tensorflow": tf.__version__,
        "tf_keras": keras.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def to_jsonable(v):
    """Convert numpy / tf values to plain JSON values (tuples -> lists)."""
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tf.TensorShape):
        return None if v.rank is None else [d for d in v.as_list()]
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, tf.DType):
        return v.name
    return v


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(to_jsonable(obj), f, indent=1, sort_keys=False)
        f.write("\n")


def write_npz(path, arrays):
    for k, a in arrays.items():
        assert isinstance(a, np.ndarray), k
    np.savez_compressed(path, **arrays)


def to_numpy(t):
    if isinstance(t, np.ndarray):
        return t
    if hasattr(t, "numpy"):
        return np.asarray(t.numpy())
    return np.asarray(t)


def dtype_name(t):
    if hasattr(t, "dtype"):
        d = t.dtype
        return d.name if isinstance(d, tf.DType) else np.dtype(d).name
    return type(t).__name__


def capture_summary(model):
    lines = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s))
    return "\n".join(lines)


def layer_rows(model):
    rows = []
    for layer in model.layers:
        try:
            oshape = layer.output_shape
        except AttributeError:
            oshape = "multiple"
        except RuntimeError:
            oshape = "?"
        rows.append(
            {
                "name": layer.name,
                "class_name": layer.__class__.__name__,
                "output_shape": to_jsonable(oshape),
                "output_shape_str": str(oshape),
                "params": int(layer.count_params()),
                "weight_names": [w.name for w in layer.weights],
            }
        )
    return rows


def param_counts(model):
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(
        sum(np.prod(w.shape) for w in model.non_trainable_weights)
    )
    return {
        "total": trainable + non_trainable,
        "trainable": trainable,
        "non_trainable": non_trainable,
    }


def fill_weights(model, rng, scale=0.5):
    """Overwrite every weight with uniform(-scale, scale) float32 values."""
    ws = []
    for w in model.get_weights():
        if np.issubdtype(w.dtype, np.floating):
            ws.append(rng.uniform(-scale, scale, size=w.shape).astype(w.dtype))
        else:
            ws.append(w)
    model.set_weights(ws)
    return model.get_weights()


def build_from_code(code):
    ns = {
        "keras": keras,
        "layers": layers,
        "Input": Input,
        "Model": Model,
        "Sequential": Sequential,
        "K": K,
        "np": np,
    }
    exec(code, ns)
    return ns["model"]


def as_list(x):
    """Flatten a (possibly nested) model output into a list of leaves."""
    return list(tf.nest.flatten(x))


def nesting(x, keys):
    """The nesting of x with its leaves replaced by the given npz keys."""
    return to_jsonable(tf.nest.pack_sequence_as(
        tf.nest.map_structure(lambda _: 0, x), list(keys)))


# --------------------------------------------------------------------------
# 1. config.json
# --------------------------------------------------------------------------
def make_config(out_dir):
    cfg = {"versions": versions()}
    K.clear_session()
    cfg["floatx"] = K.floatx()
    cfg["epsilon"] = K.epsilon()
    cfg["image_data_format"] = K.image_data_format()

    K.clear_session()
    cfg["get_uid_dense"] = [K.get_uid("dense") for _ in range(3)]
    cfg["get_uid_empty"] = [K.get_uid("") for _ in range(3)]
    cfg["get_uid_default_arg_after_empty"] = K.get_uid()
    K.reset_uids()
    cfg["get_uid_dense_after_reset_uids"] = K.get_uid("dense")
    K.clear_session()
    cfg["get_uid_dense_after_clear_session"] = K.get_uid("dense")

    # learning phase
    K.clear_session()
    lp0 = K.learning_phase()
    K.set_learning_phase(1)
    lp1 = K.learning_phase()
    K.clear_session()
    lp2 = K.learning_phase()
    cfg["learning_phase"] = {
        "default": to_jsonable(to_numpy(lp0)),
        "default_type": type(lp0).__name__,
        "after_set_learning_phase_1": to_jsonable(to_numpy(lp1)),
        "after_set_learning_phase_1_type": type(lp1).__name__,
        "after_clear_session": to_jsonable(to_numpy(lp2)),
        "after_clear_session_type": type(lp2).__name__,
    }
    # leave a clean state behind
    K.set_learning_phase(0)
    K.clear_session()

    # Dense name sequence
    K.clear_session()
    cfg["dense_names_11"] = [layers.Dense(2).name for _ in range(11)]
    K.clear_session()
    cfg["dense_name_after_clear_session"] = layers.Dense(2).name
    K.clear_session()
    uids = [K.get_uid("dense"), K.get_uid("dense")]
    cfg["get_uid_shift"] = {
        "doc": "after clear_session: get_uid('dense') twice, then Dense(2)",
        "get_uid_values": uids,
        "dense_name": layers.Dense(2).name,
    }

    # default names, each made right after clear_session()
    fresh = []

    def rec(expr, extra=None):
        K.clear_session()
        ns = {"layers": layers, "Input": Input, "Model": Model,
              "Sequential": Sequential, "K": K}
        exec(expr, ns)
        obj = ns["obj"]
        entry = {"code": expr, "name": obj.name}
        if extra:
            entry.update(extra(ns))
        fresh.append(entry)

    rec("obj = Sequential()")
    rec("first = Sequential()\nobj = Sequential()",
        lambda ns: {"first_name": ns["first"].name})
    rec("inp = Input((3,))\nobj = Model(inp, layers.Dense(2)(inp))",
        lambda ns: {"layer_names": [l.name for l in ns["obj"].layers]})
    rec("obj = Input((3,))",
        lambda ns: {"input_layer_name": ns["obj"]._keras_history[0].name,
                    "note": "obj.name is the Input KerasTensor's .name"})
    rec("first = Input((3,))\nobj = Input((3,))",
        lambda ns: {"input_layer_name": ns["obj"]._keras_history[0].name,
                    "first_name": ns["first"].name})
    rec("obj = Input((3,), name='x')",
        lambda ns: {"input_layer_name": ns["obj"]._keras_history[0].name})
    for expr in [
        "layers.Dense(2)", "layers.SimpleRNN(3)", "layers.LSTM(3)",
        "layers.GRU(3)", "layers.Embedding(10, 4)", "layers.Masking()",
        "layers.Activation('relu')", "layers.Dropout(0.5)",
        "layers.Flatten()", "layers.Reshape((2, 2))", "layers.Concatenate()",
        "layers.Add()", "layers.SimpleRNNCell(3)", "layers.LSTMCell(3)",
        "layers.GRUCell(3)", "layers.InputLayer((3,))",
    ]:
        rec("obj = " + expr)
    rec("obj = layers.RNN(layers.LSTMCell(3))",
        lambda ns: {"cell_name": ns["obj"].cell.name})
    rec("obj = layers.RNN([layers.LSTMCell(3), layers.GRUCell(3)])",
        lambda ns: {"cell_name": ns["obj"].cell.name,
                    "cell_cell_names": [c.name for c in ns["obj"].cell.cells]})
    rec("obj = layers.Bidirectional(layers.LSTM(3))",
        lambda ns: {"forward_layer_name": ns["obj"].forward_layer.name,
                    "backward_layer_name": ns["obj"].backward_layer.name})
    rec("obj = layers.Bidirectional(layers.GRU(3))",
        lambda ns: {"forward_layer_name": ns["obj"].forward_layer.name,
                    "backward_layer_name": ns["obj"].backward_layer.name})
    rec("obj = layers.TimeDistributed(layers.Dense(2))",
        lambda ns: {"inner_layer_name": ns["obj"].layer.name})
    cfg["default_names_fresh"] = {
        "doc": "each code snippet run right after K.clear_session(); "
               "'name' is obj.name",
        "cases": fresh,
    }

    # one long sequence in a single session (shows the per-class counters)
    K.clear_session()
    seq = []
    exprs = [
        "Sequential()", "Sequential()", "Input((3,))", "Input((3,))",
        "layers.Dense(2)", "layers.Dense(2)", "layers.SimpleRNN(3)",
        "layers.LSTM(3)", "layers.LSTM(3)", "layers.GRU(3)",
        "layers.Bidirectional(layers.LSTM(3))", "layers.LSTM(3)",
        "layers.TimeDistributed(layers.Dense(2))", "layers.Dense(2)",
        "layers.LSTMCell(3)", "layers.RNN(layers.LSTMCell(3))",
        "layers.Embedding(10, 4)", "layers.Masking()",
        "layers.Activation('tanh')", "layers.Dropout(0.1)",
        "layers.Flatten()", "layers.Reshape((4,))",
        "layers.Concatenate()", "layers.Add()",
    ]
    for e in exprs:
        obj = eval(e, {"layers": layers, "Input": Input,
                       "Sequential": Sequential})
        entry = {"code": e, "name": obj.name}
        if e.startswith("Input"):
            entry["input_layer_name"] = obj._keras_history[0].name
        if e.startswith("layers.Bidirectional"):
            entry["forward_layer_name"] = obj.forward_layer.name
            entry["backward_layer_name"] = obj.backward_layer.name
        if e.startswith("layers.TimeDistributed"):
            entry["inner_layer_name"] = obj.layer.name
        if e.startswith("layers.RNN"):
            entry["cell_name"] = obj.cell.name
        seq.append(entry)
    inp = Input((3,))
    m = Model(inp, layers.Dense(2)(inp))
    seq.append({"code": "inp = Input((3,)); Model(inp, layers.Dense(2)(inp))",
                "name": m.name, "input_name": inp.name,
                "layer_names": [l.name for l in m.layers]})
    inp = Input((3,))
    m = Model(inp, layers.Dense(2)(inp))
    seq.append({"code": "inp = Input((3,)); Model(inp, layers.Dense(2)(inp))",
                "name": m.name, "input_name": inp.name,
                "layer_names": [l.name for l in m.layers]})
    cfg["default_names_one_session"] = {
        "doc": "after one K.clear_session(), each code is evaluated in order "
               "in the same session",
        "cases": seq,
    }

    # shapes / dtypes / names of symbolic tensors
    K.clear_session()
    inp10 = Input([10])
    ph = K.placeholder(shape=(2, 4, 5))
    ph3 = K.placeholder(ndim=3)
    ph_named = K.placeholder(shape=(2, 3), name="my_ph")
    dense_out = layers.Dense(10)(inp10)
    var = K.variable(np.array([1.0, 2.0]))
    cfg["int_shape"] = {
        "Input([10])": K.int_shape(inp10),
        "placeholder(shape=(2, 4, 5))": K.int_shape(ph),
        "placeholder(ndim=3)": K.int_shape(ph3),
        "Dense(10)(Input([10]))": K.int_shape(dense_out),
    }
    cfg["dtype"] = {
        "placeholder(shape=(2, 4, 5))": K.dtype(ph),
        "placeholder(shape=(2, 3), dtype='int32')":
            K.dtype(K.placeholder(shape=(2, 3), dtype="int32")),
        "Input([10])": K.dtype(inp10),
        "variable([1.0, 2.0])": K.dtype(var),
    }
    cfg["ndim"] = {
        "placeholder(shape=(2, 4, 5))": K.ndim(ph),
        "placeholder(ndim=3)": K.ndim(ph3),
        "Input([10])": K.ndim(inp10),
    }
    cfg["tensor_names_informational"] = {
        "doc": "what tf_keras gives; informational only (symkb need not match)",
        "placeholder(shape=(2, 4, 5)).name": ph.name,
        "placeholder(ndim=3).name": ph3.name,
        "placeholder(shape=(2, 3), name='my_ph').name": ph_named.name,
        "Input([10]).name (first Input after clear_session)": inp10.name,
        "Dense(10)(Input([10])).name": dense_out.name,
        "variable([1.0, 2.0]).name": var.name,
    }
    cfg["is_keras_tensor"] = {
        "placeholder": K.is_keras_tensor(ph),
        "Input": K.is_keras_tensor(inp10),
        "Dense output": K.is_keras_tensor(dense_out),
        "variable": K.is_keras_tensor(var),
    }

    # error messages
    errors = {}

    def err(key, fn):
        try:
            fn()
            errors[key] = {"raises": False}
        except Exception as e:  # noqa: BLE001
            errors[key] = {"raises": True, "type": type(e).__name__,
                           "message": str(e)}

    err("is_keras_tensor(np.array([1, 2]))",
        lambda: K.is_keras_tensor(np.array([1, 2])))
    err("is_keras_tensor([1, 2])", lambda: K.is_keras_tensor([1, 2]))
    err("is_keras_tensor(3.0)", lambda: K.is_keras_tensor(3.0))
    err("set_floatx('int32')", lambda: K.set_floatx("int32"))
    err("set_image_data_format('channels_middle')",
        lambda: K.set_image_data_format("channels_middle"))
    err("set_learning_phase(2)", lambda: K.set_learning_phase(2))
    cfg["errors"] = errors
    K.set_floatx("float32")
    K.set_image_data_format("channels_last")

    # setters round trip
    K.set_epsilon(1e-5)
    e5 = K.epsilon()
    K.set_epsilon(1e-7)
    K.set_floatx("float64")
    f64 = K.floatx()
    K.set_floatx("float32")
    K.set_image_data_format("channels_first")
    cf = K.image_data_format()
    K.set_image_data_format("channels_last")
    cfg["setters"] = {"epsilon_after_set_1e-5": e5,
                      "floatx_after_set_float64": f64,
                      "image_data_format_after_set_channels_first": cf}
    K.clear_session()
    write_json(os.path.join(out_dir, "config.json"), cfg)
    return cfg


# --------------------------------------------------------------------------
# 2. dense.npz / dense.json
# --------------------------------------------------------------------------
DENSE_MODELS = [
    (
        "seq_input",
        "Sequential with an Input first and three Dense layers",
        "model = Sequential([\n"
        "    Input((5,)),\n"
        "    layers.Dense(8, activation='relu'),\n"
        "    layers.Dense(4, activation='tanh'),\n"
        "    layers.Dense(3, activation='softmax'),\n"
        "])\n",
        [(5,)],
    ),
    (
        "seq_lazy",
        "Sequential without input shape, built by calling predict on the "
        "input (shape (7, 4)); weights are set after that first predict",
        "model = Sequential([\n"
        "    layers.Dense(6),\n"
        "    layers.Dense(2, activation='sigmoid'),\n"
        "])\n",
        [(4,)],
    ),
    (
        "functional_two_io",
        "functional model: two inputs concatenated, Dense elu, an Add of "
        "two Dense branches, two outputs",
        "a = Input((4,))\n"
        "b = Input((3,))\n"
        "x = layers.Concatenate()([a, b])\n"
        "h = layers.Dense(5, activation='elu')(x)\n"
        "p = layers.Dense(5)(h)\n"
        "q = layers.Dense(5, activation='tanh')(h)\n"
        "s = layers.Add()([p, q])\n"
        "out1 = layers.Dense(2)(s)\n"
        "out2 = layers.Dense(1, activation='sigmoid')(h)\n"
        "model = Model([a, b], [out1, out2])\n",
        [(4,), (3,)],
    ),
    (
        "no_bias",
        "Sequential with Input and one Dense(use_bias=False)",
        "model = Sequential([\n"
        "    Input((4,)),\n"
        "    layers.Dense(3, use_bias=False),\n"
        "])\n",
        [(4,)],
    ),
]


def make_dense(out_dir):
    arrays = {}
    cases = []
    for idx, (cid, desc, code, in_shapes) in enumerate(DENSE_MODELS):
        rng = np.random.default_rng(1000 + idx)
        K.clear_session()
        model = build_from_code(code)
        xs = [rng.standard_normal((7,) + s).astype(np.float32)
              for s in in_shapes]
        feed = xs if len(xs) > 1 else xs[0]
        if not model.built:
            model.predict(feed, verbose=0)
        weights = fill_weights(model, rng)
        preds = as_list(model.predict(feed, verbose=0))
        direct = as_list(model(feed if len(xs) == 1 else
                               [tf.constant(x) for x in xs],
                               training=False))
        for p, d in zip(preds, direct):
            np.testing.assert_allclose(p, to_numpy(d), rtol=1e-5, atol=1e-6)
        in_keys, w_keys, out_keys = [], [], []
        for i, x in enumerate(xs):
            k = f"{cid}/input{i}"
            arrays[k] = x
            in_keys.append(k)
        for i, w in enumerate(weights):
            k = f"{cid}/weight{i}"
            arrays[k] = w
            w_keys.append(k)
        for i, p in enumerate(preds):
            k = f"{cid}/output{i}"
            arrays[k] = np.asarray(p)
            out_keys.append(k)
        cases.append(
            {
                "id": cid,
                "description": desc,
                "code": code,
                "built_by_predict": cid == "seq_lazy",
                "model_name": model.name,
                "model_class": model.__class__.__name__,
                "input_keys": in_keys,
                "input_shapes": [list(x.shape) for x in xs],
                "weight_keys": w_keys,
                "weight_shapes": [list(w.shape) for w in weights],
                "weight_names": [w.name for w in model.weights],
                "output_keys": out_keys,
                "output_shapes": [list(np.shape(p)) for p in preds],
                "output_structure": nesting(model.outputs if len(preds) > 1
                                            else model.outputs[0], out_keys),
                "layers": layer_rows(model),
                "params": param_counts(model),
                "summary": capture_summary(model),
            }
        )
    K.clear_session()
    write_npz(os.path.join(out_dir, "dense.npz"), arrays)
    write_json(
        os.path.join(out_dir, "dense.json"),
        {"versions": versions(), "batch": 7, "cases": cases},
    )
    return cases


# --------------------------------------------------------------------------
# 3. ops.npz / ops.json
# --------------------------------------------------------------------------
class Arr:
    """Marks an argument that is passed to K as a tf.constant."""

    def __init__(self, a):
        self.a = np.asarray(a)


def _encode_value(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, tf.DType):
        v = v.name
    if v is None:
        return {"value": None, "type": "none"}
    if isinstance(v, bool):
        return {"value": v, "type": "bool"}
    if isinstance(v, int):
        return {"value": v, "type": "int"}
    if isinstance(v, float):
        return {"value": v, "type": "float"}
    if isinstance(v, str):
        return {"value": v, "type": "str"}
    if isinstance(v, tuple):
        return {"value": to_jsonable(v), "type": "tuple"}
    if isinstance(v, list):
        return {"value": to_jsonable(v), "type": "list"}
    raise TypeError(f"cannot encode {v!r}")


def op_cases():
    """Yield (id, fn_name, args, kwargs, note)."""
    rng = np.random.default_rng(2024)

    def f(*shape, lo=None, hi=None):
        if lo is not None:
            return Arr(rng.uniform(lo, hi, size=shape).astype(np.float32))
        return Arr(rng.standard_normal(shape).astype(np.float32))

    def i(*shape, lo=0, hi=5):
        return Arr(rng.integers(lo, hi, size=shape).astype(np.int32))

    C = []

    def c(cid, fn, *args, note=None, **kwargs):
        C.append((cid, fn, list(args), kwargs, note))

    # --- linear algebra
    c("dot_2d", "dot", f(3, 4), f(4, 5))
    c("dot_3d_2d", "dot", f(2, 3, 4), f(4, 5))
    c("dot_3d_3d", "dot", f(2, 3, 4), f(5, 4, 6),
      note="tf_keras: (2,3,4) . (5,4,6) -> (2,3,5,6), contracts x's last "
           "axis with y's second-to-last")
    c("dot_2d_3d", "dot", f(3, 4), f(2, 4, 5))
    c("dot_1d_2d", "dot", f(4), f(4, 5))
    c("dot_2d_1d", "dot", f(3, 4), f(4))
    c("batch_dot_2d_2d", "batch_dot", f(3, 4), f(3, 4))
    c("batch_dot_2d_2d_axes1", "batch_dot", f(3, 4), f(3, 4), axes=1)
    c("batch_dot_3d_3d", "batch_dot", f(3, 4, 5), f(3, 5, 6))
    c("batch_dot_3d_3d_axes_2_1", "batch_dot", f(3, 4, 5), f(3, 5, 6),
      axes=(2, 1))
    c("batch_dot_3d_3d_axes_1_2", "batch_dot", f(3, 4, 5), f(3, 6, 4),
      axes=(1, 2))
    c("batch_dot_3d_3d_axes_2_2", "batch_dot", f(3, 4, 5), f(3, 6, 5),
      axes=[2, 2])
    c("batch_dot_3d_3d_axes_1_1", "batch_dot", f(3, 4, 5), f(3, 4, 6),
      axes=1)
    c("batch_dot_2d_3d", "batch_dot", f(3, 4), f(3, 4, 5), axes=(1, 1))
    c("batch_dot_3d_2d", "batch_dot", f(3, 4, 5), f(3, 5), axes=(2, 1))
    c("batch_dot_4d_3d", "batch_dot", f(2, 3, 4, 5), f(2, 5, 6), axes=(3, 1))
    c("transpose_2d", "transpose", f(3, 4))
    c("transpose_3d", "transpose", f(2, 3, 4))
    c("bias_add_2d", "bias_add", f(3, 4), f(4))
    c("bias_add_3d", "bias_add", f(2, 3, 4), f(4))
    c("bias_add_3d_channels_first", "bias_add", f(2, 3, 4), f(3),
      data_format="channels_first")
    c("bias_add_4d", "bias_add", f(2, 3, 4, 2), f(2))

    # --- reductions
    x3 = f(2, 3, 4)
    for fn in ["sum", "mean", "max", "min", "prod", "std", "var"]:
        c(f"{fn}_axis_none", fn, x3)
        c(f"{fn}_axis_1", fn, x3, axis=1)
        c(f"{fn}_axis_neg1", fn, x3, axis=-1)
        c(f"{fn}_axis_tuple_0_2", fn, x3, axis=(0, 2))
        c(f"{fn}_axis_list_0_neg1", fn, x3, axis=[0, -1])
        c(f"{fn}_axis_1_keepdims", fn, x3, axis=1, keepdims=True)
        c(f"{fn}_axis_none_keepdims", fn, x3, keepdims=True)
    c("logsumexp_axis_1", "logsumexp", x3, axis=1,
      note="tf_keras 2.x has no K.logsumexp (recorded as failed)")
    bmask = Arr(rng.uniform(size=(2, 3, 4)) > 0.4)
    for fn in ["any", "all"]:
        c(f"{fn}_bool_axis_none", fn, bmask)
        c(f"{fn}_bool_axis_1", fn, bmask, axis=1)
        c(f"{fn}_bool_axis_neg1_keepdims", fn, bmask, axis=-1, keepdims=True)
        c(f"{fn}_bool_axis_tuple", fn, bmask, axis=(0, 2))
        xz = rng.standard_normal((3, 4)).astype(np.float32)
        xz[0, :] = 0.0
        xz[1, 1] = 0.0
        c(f"{fn}_float_axis_1", fn, Arr(xz), axis=1)
    c("sum_int", "sum", i(3, 4, hi=10))
    c("sum_bool", "sum", bmask, axis=1)
    c("mean_int", "mean", Arr(np.array([[1, 2, 4], [3, 3, 4]], np.int32)),
      axis=1, note="integer mean: tf truncates")
    c("mean_int_axis_none", "mean",
      Arr(np.array([[1, 2, 4], [3, 3, 4]], np.int32)))
    c("mean_bool", "mean", bmask, axis=-1)
    c("max_int", "max", i(3, 4, hi=10), axis=0)
    c("argmax_default", "argmax", f(3, 4))
    c("argmax_axis0", "argmax", f(3, 4), axis=0)
    c("argmax_3d_axis1", "argmax", x3, axis=1)
    c("argmin_default", "argmin", f(3, 4))
    c("argmin_axis0", "argmin", f(3, 4), axis=0)
    c("argmax_ties", "argmax",
      Arr(np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32)),
      note="ties: first index")

    # --- elementwise math
    c("square", "square", f(3, 4))
    c("abs", "abs", f(3, 4))
    c("abs_int", "abs", Arr(np.array([[-3, 0, 2], [5, -1, -7]], np.int32)))
    c("sqrt", "sqrt", f(3, 4, lo=0.0, hi=4.0))
    c("sqrt_negative", "sqrt",
      Arr(np.array([-1.0, 0.0, 4.0, -0.0], np.float32)),
      note="tf_keras clips to [0, inf) before sqrt")
    c("exp", "exp", f(3, 4))
    c("log", "log", f(3, 4, lo=0.1, hi=5.0))
    c("pow_2", "pow", f(3, 4), 2)
    c("pow_frac", "pow", f(3, 4, lo=0.1, hi=3.0), 0.5)
    c("pow_neg", "pow", f(3, 4, lo=0.5, hi=3.0), -1.5)
    c("clip", "clip", f(3, 4), -0.5, 0.5)
    c("clip_none_min", "clip", f(3, 4), None, 0.3)
    c("clip_none_max", "clip", f(3, 4), -0.3, None)
    c("clip_max_below_min", "clip", f(3, 4), 0.5, 0.1,
      note="tf_keras sets max_value = min_value when max < min")
    c("sign", "sign",
      Arr(np.array([[-2.0, 0.0, 3.5], [-0.0, 1e-8, -1e-8]], np.float32)))
    c("round", "round",
      Arr(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -0.7, 1.49, 2.51],
                   np.float32)),
      note="half to even")
    c("maximum", "maximum", f(3, 4), f(3, 4))
    c("minimum", "minimum", f(3, 4), f(3, 4))
    c("maximum_broadcast", "maximum", f(3, 4), f(4))
    c("minimum_broadcast", "minimum", f(2, 3, 4), f(3, 1))
    ca = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)
    cb = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)
    for fn in ["equal", "not_equal", "greater", "greater_equal", "less",
               "less_equal"]:
        c(fn, fn, Arr(ca), Arr(cb))
    c("greater_broadcast", "greater", f(3, 4), f(4))
    c("equal_int", "equal", i(3, 4, hi=3), i(3, 4, hi=3))
    c("sin", "sin", f(3, 4))
    c("cos", "cos", f(3, 4))

    # --- activations
    xr = Arr((rng.standard_normal((3, 5)) * 2).astype(np.float32))
    c("relu", "relu", xr)
    c("relu_alpha", "relu", xr, alpha=0.1)
    c("relu_max_value", "relu", xr, max_value=1.0)
    c("relu_threshold", "relu", xr, threshold=0.5)
    c("relu_alpha_max_value", "relu", xr, alpha=0.2, max_value=1.5)
    c("relu_alpha_threshold", "relu", xr, alpha=0.2, threshold=0.5)
    c("relu_all", "relu", xr, alpha=0.3, max_value=2.0, threshold=-0.5)
    c("relu_max_value_0", "relu", xr, max_value=0.0)
    c("relu_threshold_max_value", "relu", xr, max_value=2.0, threshold=0.5)
    c("elu", "elu", xr)
    c("elu_alpha", "elu", xr, alpha=0.5)
    c("sigmoid", "sigmoid", xr)
    c("sigmoid_large", "sigmoid",
      Arr(np.array([-100.0, -20.0, 0.0, 20.0, 100.0], np.float32)))
    c("hard_sigmoid", "hard_sigmoid",
      Arr(np.array([-5.0, -2.5, -1.0, 0.0, 1.0, 2.5, 5.0], np.float32)))
    c("tanh", "tanh", xr)
    c("softmax", "softmax", xr)
    c("softmax_axis_neg1_3d", "softmax", x3, axis=-1)
    c("softmax_axis_1_3d", "softmax", x3, axis=1)
    c("softplus", "softplus", xr)
    c("softsign", "softsign", xr)

    # --- shape manipulation
    c("concatenate_axis_neg1", "concatenate", [f(2, 3), f(2, 4)])
    c("concatenate_axis_0", "concatenate", [f(2, 3), f(1, 3), f(3, 3)],
      axis=0)
    c("concatenate_3d_axis_1", "concatenate", [f(2, 3, 4), f(2, 2, 4)],
      axis=1)
    c("reshape", "reshape", f(2, 3, 4), (6, 4))
    c("reshape_neg1", "reshape", f(2, 3, 4), (-1, 2))
    c("reshape_flat", "reshape", f(2, 3, 4), (-1,))
    c("permute_dimensions", "permute_dimensions", f(2, 3, 4), (2, 0, 1))
    c("permute_dimensions_list", "permute_dimensions", f(2, 3, 4), [1, 0, 2])
    c("expand_dims_default", "expand_dims", f(2, 3))
    c("expand_dims_0", "expand_dims", f(2, 3), 0)
    c("expand_dims_1", "expand_dims", f(2, 3), axis=1)
    c("squeeze", "squeeze", f(2, 1, 3), 1)
    c("squeeze_neg", "squeeze", f(2, 3, 1), -1)
    c("stack_0", "stack", [f(2, 3), f(2, 3), f(2, 3)])
    c("stack_1", "stack", [f(2, 3), f(2, 3)], axis=1)
    c("stack_neg1", "stack", [f(2, 3), f(2, 3)], axis=-1)
    c("reverse_0", "reverse", f(3, 4), 0)
    c("reverse_list", "reverse", f(2, 3, 4), [0, 2])
    c("reverse_neg1", "reverse", f(2, 3, 4), -1)
    c("one_hot", "one_hot", Arr(np.array([0, 2, 1, 3], np.int32)), 4)
    c("one_hot_2d", "one_hot",
      Arr(np.array([[0, 2], [1, 1], [3, 0]], np.int32)), 5)
    c("gather", "gather", f(5, 3), Arr(np.array([4, 0, 2, 2], np.int32)))
    c("gather_2d_indices", "gather", f(5, 3),
      Arr(np.array([[0, 1], [4, 3]], np.int32)))
    c("cast_int32", "cast",
      Arr(np.array([-1.7, -0.5, 0.0, 0.5, 1.7, 2.9], np.float32)), "int32",
      note="truncation toward zero")
    c("cast_float16", "cast", f(3, 4), "float16")
    c("cast_float64", "cast", f(3, 4), "float64")
    c("cast_bool_to_float32", "cast", bmask, "float32")
    c("cast_int_to_float32", "cast", i(3, 4, lo=-5, hi=5), "float32")
    c("cast_float_to_bool", "cast",
      Arr(np.array([0.0, 1.0, -2.0, 0.5], np.float32)), "bool")
    c("repeat", "repeat", f(2, 3), 4)
    c("repeat_elements_axis1", "repeat_elements", f(2, 3), 2, 1)
    c("repeat_elements_axis0", "repeat_elements", f(2, 3), 3, axis=0)
    c("repeat_elements_3d", "repeat_elements", f(2, 3, 2), 2, -1)
    c("tile_list", "tile", f(2, 3), [2, 3])
    c("tile_tuple_3d", "tile", f(2, 1, 3), (1, 4, 2))
    c("flatten", "flatten", f(2, 3, 4))
    c("batch_flatten", "batch_flatten", f(2, 3, 4))
    c("batch_flatten_4d", "batch_flatten", f(2, 3, 2, 2))
    c("l2_normalize", "l2_normalize", f(3, 4))
    c("l2_normalize_axis0", "l2_normalize", f(3, 4), axis=0)
    c("l2_normalize_axis_none", "l2_normalize", f(3, 4), axis=None)
    c("l2_normalize_zeros", "l2_normalize",
      Arr(np.zeros((2, 3), np.float32)), axis=-1)

    # --- losses
    logits = (rng.standard_normal((4, 3)) * 2).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    soft_t = rng.dirichlet(np.ones(3), size=4).astype(np.float32)
    sparse = np.array([0, 2, 1, 2], np.int32)
    c("cce_probs", "categorical_crossentropy", Arr(onehot), Arr(probs))
    c("cce_unnormalized", "categorical_crossentropy", Arr(onehot),
      Arr((probs * 3.0).astype(np.float32)),
      note="output is renormalised to sum 1 along axis")
    c("cce_probs_with_zero", "categorical_crossentropy", Arr(onehot),
      Arr(np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 0, 1], [0.2, 0.3, 0.5]],
                   np.float32)), note="clipped by epsilon")
    c("cce_logits", "categorical_crossentropy", Arr(onehot), Arr(logits),
      from_logits=True)
    c("cce_soft_targets_logits", "categorical_crossentropy", Arr(soft_t),
      Arr(logits), from_logits=True)
    c("cce_soft_targets_probs", "categorical_crossentropy", Arr(soft_t),
      Arr(probs))
    c("cce_axis0", "categorical_crossentropy", Arr(onehot.T.copy()),
      Arr(probs.T.copy()), axis=0)
    c("scce_probs", "sparse_categorical_crossentropy", Arr(sparse),
      Arr(probs))
    c("scce_logits", "sparse_categorical_crossentropy", Arr(sparse),
      Arr(logits), from_logits=True)
    c("scce_probs_float_target", "sparse_categorical_crossentropy",
      Arr(sparse.astype(np.float32)), Arr(probs))
    c("scce_3d_logits", "sparse_categorical_crossentropy",
      Arr(np.array([[0, 1], [2, 2]], np.int32)),
      f(2, 2, 3), from_logits=True)
    bt = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    blog = (rng.standard_normal((4, 3)) * 2).astype(np.float32)
    bprob = (1 / (1 + np.exp(-blog))).astype(np.float32)
    c("bce_probs", "binary_crossentropy", Arr(bt), Arr(bprob))
    c("bce_logits", "binary_crossentropy", Arr(bt), Arr(blog),
      from_logits=True)
    c("bce_probs_extreme", "binary_crossentropy",
      Arr(np.array([[1, 0, 1, 0]], np.float32)),
      Arr(np.array([[1, 0, 0, 1]], np.float32)), note="clipped by epsilon")
    c("bce_soft_targets", "binary_crossentropy",
      Arr(rng.uniform(size=(4, 3)).astype(np.float32)), Arr(bprob))
    c("binary_focal_crossentropy", "binary_focal_crossentropy", Arr(bt),
      Arr(bprob))
    c("binary_focal_crossentropy_logits", "binary_focal_crossentropy",
      Arr(bt), Arr(blog), gamma=1.5, from_logits=True)
    c("binary_focal_crossentropy_alpha", "binary_focal_crossentropy",
      Arr(bt), Arr(bprob), apply_class_balancing=True, alpha=0.3)
    c("categorical_focal_crossentropy", "categorical_focal_crossentropy",
      Arr(onehot), Arr(probs))
    c("categorical_focal_crossentropy_logits",
      "categorical_focal_crossentropy", Arr(onehot), Arr(logits),
      from_logits=True)

    # --- scans, ranges, control
    c("cumsum_default", "cumsum", f(3, 4))
    c("cumsum_axis1", "cumsum", f(3, 4), axis=1)
    c("cumprod_default", "cumprod", f(3, 4))
    c("cumprod_axis1", "cumprod", f(3, 4), 1)
    c("arange_stop", "arange", 5)
    c("arange_start_stop", "arange", 2, 7)
    c("arange_step", "arange", 1, 10, 3)
    c("arange_float", "arange", 0.0, 2.0, 0.5, dtype="float32")
    c("arange_neg_step", "arange", 5, 0, -2)
    c("arange_float_dtype_default", "arange", 0.5, 3.0)
    c("switch_scalar_true", "switch", Arr(np.array(True)), f(2, 3), f(2, 3))
    c("switch_scalar_false", "switch", Arr(np.array(False)), f(2, 3),
      f(2, 3))
    c("switch_scalar_int", "switch", Arr(np.array(0, np.int32)), f(2, 3),
      f(2, 3))
    c("switch_elementwise", "switch", Arr(rng.uniform(size=(2, 3)) > 0.5),
      f(2, 3), f(2, 3))
    c("switch_cond_rank1", "switch",
      Arr(np.array([True, False], dtype=bool)), f(2, 3), f(2, 3),
      note="rank-1 condition goes straight to tf.where (numpy-style "
           "trailing broadcast): (2,) vs (2, 3) fails")
    c("switch_cond_rank1_trailing", "switch",
      Arr(np.array([True, False, True], dtype=bool)), f(2, 3), f(2, 3),
      note="rank-1 condition broadcasts against the LAST axis")
    c("switch_cond_rank2_expr_rank3", "switch",
      Arr(rng.uniform(size=(2, 3)) > 0.5), f(2, 3, 4), f(2, 3, 4),
      note="condition of rank >= 2 is reshaped with trailing 1s and tiled, "
           "i.e. aligned with the LEADING axes")
    c("in_train_phase_1", "in_train_phase", f(2, 3), f(2, 3), training=1)
    c("in_train_phase_0", "in_train_phase", f(2, 3), f(2, 3), training=0)
    c("in_test_phase_1", "in_test_phase", f(2, 3), f(2, 3), training=1)
    c("in_test_phase_0", "in_test_phase", f(2, 3), f(2, 3), training=0)

    # --- padding
    c("spatial_2d_padding_default", "spatial_2d_padding", f(2, 3, 3, 2))
    c("spatial_2d_padding", "spatial_2d_padding", f(2, 3, 3, 2),
      ((1, 0), (2, 1)))
    c("spatial_2d_padding_channels_first", "spatial_2d_padding",
      f(2, 2, 3, 3), ((1, 2), (0, 1)), data_format="channels_first")
    c("spatial_3d_padding", "spatial_3d_padding", f(1, 2, 2, 2, 1),
      ((1, 0), (0, 1), (1, 1)))
    c("temporal_padding_default", "temporal_padding", f(2, 3, 2))
    c("temporal_padding", "temporal_padding", f(2, 3, 2), (2, 1))

    # --- constructors
    c("zeros", "zeros", (2, 3))
    c("zeros_int32", "zeros", (2, 3), dtype="int32")
    c("ones", "ones", (2, 3))
    c("ones_float64", "ones", (3,), dtype="float64")
    c("eye_3", "eye", 3)
    c("eye_2x4", "eye", (2, 4))
    c("eye_int32", "eye", 2, dtype="int32")
    c("zeros_like", "zeros_like", f(2, 3))
    c("ones_like", "ones_like", f(2, 3))
    c("zeros_like_int", "zeros_like", i(2, 3))
    c("ones_like_dtype", "ones_like", f(2, 3), dtype="int32")
    c("constant_scalar_shape", "constant", 2.5, shape=(2, 3))
    c("constant_list", "constant", [[1, 2], [3, 4]])
    c("constant_list_dtype", "constant", [[1, 2], [3, 4]], dtype="float32")
    c("cast_to_floatx", "cast_to_floatx",
      Arr(np.array([1, 2, 3], np.int32)))

    # --- normalisation
    xb = f(4, 3)
    c("normalize_batch_in_training", "normalize_batch_in_training",
      xb, f(3), f(3), [0])
    c("normalize_batch_in_training_eps", "normalize_batch_in_training",
      xb, f(3), f(3), [0], epsilon=0.01)
    c("normalize_batch_in_training_3d", "normalize_batch_in_training",
      f(2, 3, 4), f(4), f(4), [0, 1])
    # ([0, 1, 2] of a 4-D input goes to TensorFlow's fused float32 kernel, whose
    # rounding differs from a two-pass variance by ~2e-5 relative: its rules,
    # unbiased variance and floored epsilon, are tested in test_backend_ops.)
    c("normalize_batch_in_training_nchw", "normalize_batch_in_training",
      f(2, 4, 3, 3), f(4), f(4), [0, 2, 3], epsilon=1e-6)
    c("normalize_batch_in_training_3d_axis1", "normalize_batch_in_training",
      f(2, 3, 4), f(2, 4), f(2, 4), [1])
    c("batch_normalization", "batch_normalization", xb, f(3),
      f(3, lo=0.5, hi=2.0), f(3), f(3))
    c("batch_normalization_eps", "batch_normalization", xb, f(3),
      f(3, lo=0.5, hi=2.0), f(3), f(3), epsilon=0.1)
    c("batch_normalization_none_gamma", "batch_normalization", xb, f(3),
      f(3, lo=0.5, hi=2.0), None, None)

    # --- misc deterministic ops
    c("stop_gradient", "stop_gradient", f(2, 3))
    c("in_top_k", "in_top_k", f(4, 5),
      Arr(np.array([0, 1, 2, 3], np.int32)), 2)
    c("shape", "shape", f(2, 3, 4))
    c("ndim", "ndim", f(2, 3, 4))
    c("int_shape", "int_shape", f(2, 3, 4))
    c("dtype", "dtype", f(2, 3))
    c("count_params", "count_params", f(2, 3))
    c("conv1d", "conv1d", f(2, 6, 3), f(3, 3, 4))
    c("conv1d_same_stride2", "conv1d", f(2, 6, 3), f(3, 3, 4), strides=2,
      padding="same")
    c("conv1d_causal", "conv1d", f(2, 6, 3), f(2, 3, 4), padding="causal")
    c("conv1d_dilation", "conv1d", f(2, 7, 3), f(2, 3, 2), dilation_rate=2)
    c("conv2d", "conv2d", f(2, 5, 5, 3), f(3, 3, 3, 2))
    c("conv2d_same_strides", "conv2d", f(2, 5, 5, 3), f(3, 3, 3, 2),
      strides=(2, 2), padding="same")
    c("depthwise_conv2d", "depthwise_conv2d", f(1, 4, 4, 2), f(2, 2, 2, 3))
    c("separable_conv2d", "separable_conv2d", f(1, 4, 4, 2), f(2, 2, 2, 2),
      f(1, 1, 4, 3))
    c("conv2d_transpose", "conv2d_transpose", f(1, 3, 3, 2), f(2, 2, 4, 2),
      (1, 4, 4, 4))
    c("pool2d_max", "pool2d", f(2, 4, 4, 3), (2, 2))
    c("pool2d_avg_same", "pool2d", f(2, 5, 5, 3), (2, 2), strides=(2, 2),
      padding="same", pool_mode="avg")
    c("pool3d_max", "pool3d", f(1, 4, 4, 4, 2), (2, 2, 2), (2, 2, 2))
    c("resize_images_nearest", "resize_images", f(1, 2, 3, 2), 2, 3,
      "channels_last")
    c("resize_images_bilinear", "resize_images", f(1, 2, 3, 2), 2, 2,
      "channels_last", interpolation="bilinear")
    c("local_conv1d", "local_conv1d", f(2, 4, 3), f(3, 6, 2), (2,), (1,))
    c("local_conv1d_channels_first", "local_conv1d", f(2, 3, 4), f(3, 6, 2), (2,), (1,),
      "channels_first")
    c("local_conv2d", "local_conv2d", f(2, 4, 5, 3), f(12, 12, 2), (2, 2), (1, 1), (3, 4),
      "channels_last")
    c("local_conv2d_channels_first", "local_conv2d", f(2, 3, 4, 5), f(12, 12, 2), (2, 2),
      (1, 1), (3, 4), "channels_first")
    return C


def _k_call(fn_name, args, kwargs):
    fn = getattr(K, fn_name)

    def conv(v):
        if isinstance(v, Arr):
            return tf.constant(v.a)
        if isinstance(v, list) and v and all(isinstance(x, Arr) for x in v):
            return [tf.constant(x.a) for x in v]
        return v

    return fn(*[conv(a) for a in args],
              **{k: conv(v) for k, v in kwargs.items()})


def make_ops(out_dir):
    arrays = {}
    cases = []
    failed = []
    seen = set()
    for cid, fn_name, args, kwargs, note in op_cases():
        assert cid not in seen, cid
        seen.add(cid)
        K.clear_session()
        try:
            res = _k_call(fn_name, args, kwargs)
        except Exception as e:  # noqa: BLE001
            failed.append({"id": cid, "fn": fn_name,
                           "error_type": type(e).__name__,
                           "message": str(e).splitlines()[0][:500]})
            continue
        enc_args = []
        case_arrays = {}
        for n, a in enumerate(args):
            if isinstance(a, Arr):
                key = f"{cid}/arg{n}"
                case_arrays[key] = a.a
                enc_args.append({"array": key, "dtype": a.a.dtype.name,
                                 "shape": list(a.a.shape)})
            elif isinstance(a, list) and a and all(isinstance(x, Arr)
                                                   for x in a):
                keys = []
                for m, x in enumerate(a):
                    key = f"{cid}/arg{n}/{m}"
                    case_arrays[key] = x.a
                    keys.append(key)
                enc_args.append({"array_list": keys})
            else:
                enc_args.append(_encode_value(a))
        enc_kwargs = {}
        for k, v in kwargs.items():
            if isinstance(v, Arr):
                key = f"{cid}/kw/{k}"
                case_arrays[key] = v.a
                enc_kwargs[k] = {"array": key, "dtype": v.a.dtype.name,
                                 "shape": list(v.a.shape)}
            else:
                enc_kwargs[k] = _encode_value(v)
        multi = isinstance(res, (tuple, list)) and not fn_name == "int_shape"
        outs = list(res) if multi else [res]
        enc_outs = []
        for n, o in enumerate(outs):
            if isinstance(o, (tf.Tensor, tf.Variable, np.ndarray)):
                key = f"{cid}/out{n}" if multi else f"{cid}/out"
                val = to_numpy(o)
                case_arrays[key] = val
                enc_outs.append({"array": key, "dtype": dtype_name(o),
                                 "shape": list(val.shape)})
            else:
                enc_outs.append(_encode_value(o))
        arrays.update(case_arrays)
        entry = {"id": cid, "fn": fn_name, "args": enc_args,
                 "kwargs": enc_kwargs, "multi_output": multi,
                 "outputs": enc_outs}
        if note:
            entry["note"] = note
        cases.append(entry)
    K.clear_session()
    write_npz(os.path.join(out_dir, "ops.npz"), arrays)
    write_json(
        os.path.join(out_dir, "ops.json"),
        {"versions": versions(), "n_cases": len(cases), "cases": cases,
         "failed": failed},
    )
    return cases, failed


# --------------------------------------------------------------------------
# 4. rnn.npz / rnn.json
# --------------------------------------------------------------------------
RNN_B, RNN_T, RNN_I, RNN_U = 3, 5, 4, 3
RNN_MASKS = {
    "trailing": np.array([[1, 1, 1, 1, 1],
                          [1, 1, 1, 0, 0],
                          [1, 1, 1, 1, 0]], dtype=bool),
    "middle": np.array([[1, 1, 0, 1, 1],
                        [1, 1, 1, 1, 1],
                        [0, 1, 1, 0, 1]], dtype=bool),
}


def rnn_data():
    rng = np.random.default_rng(4242)
    B, T, I, U = RNN_B, RNN_T, RNN_I, RNN_U

    def r(*shape, s=0.5):
        return rng.uniform(-s, s, size=shape).astype(np.float32)

    d = {
        "x": rng.standard_normal((B, T, I)).astype(np.float32),
        "mask/trailing": RNN_MASKS["trailing"],
        "mask/middle": RNN_MASKS["middle"],
        "simple/W": r(I, U),
        "simple/U": r(U, U),
        "simple/b": r(U),
        "simple/h0": r(B, U),
        "simple/const": r(B, U),
        "lstm/W": r(I, 4 * U),
        "lstm/U": r(U, 4 * U),
        "lstm/b": r(4 * U),
        "lstm/h0": r(B, U),
        "lstm/c0": r(B, U),
        "lstm/const": r(B, 4 * U),
    }
    return d


def make_step(kind, d, with_const):
    if kind == "simple":
        W, Uw, b = (tf.constant(d["simple/W"]), tf.constant(d["simple/U"]),
                    tf.constant(d["simple/b"]))

        def step(x, states):
            h_prev = states[0]
            z = K.dot(x, W) + K.dot(h_prev, Uw) + b
            if with_const:
                z = z + states[1]
            h = K.tanh(z)
            return h, [h]

        return step
    W, Uw, b = (tf.constant(d["lstm/W"]), tf.constant(d["lstm/U"]),
                tf.constant(d["lstm/b"]))
    u = RNN_U

    def step(x, states):
        h_prev, c_prev = states[0], states[1]
        z = K.dot(x, W) + K.dot(h_prev, Uw) + b
        if with_const:
            z = z + states[2]
        zi, zf, zc, zo = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        i_g = K.sigmoid(zi)
        f_g = K.sigmoid(zf)
        c = f_g * c_prev + i_g * K.tanh(zc)
        o_g = K.sigmoid(zo)
        h = o_g * K.tanh(c)
        return h, [h, c]

    return step


def run_k_rnn(d, kind, go_backwards, mask_name, unroll, time_major,
              zero_output_for_mask, return_all_outputs, const):
    step = make_step(kind, d, const)
    x = d["x"]
    if time_major:
        x = np.transpose(x, (1, 0, 2))
    mask = None
    if mask_name != "none":
        mask = d[f"mask/{mask_name}"]
        if time_major:
            mask = mask.T
        mask = tf.constant(mask)
    if kind == "simple":
        init = [tf.constant(d["simple/h0"])]
        constants = [tf.constant(d["simple/const"])] if const else None
    else:
        init = [tf.constant(d["lstm/h0"]), tf.constant(d["lstm/c0"])]
        constants = [tf.constant(d["lstm/const"])] if const else None
    last, outs, states = K.rnn(
        step, tf.constant(x), init, go_backwards=go_backwards, mask=mask,
        constants=constants, unroll=unroll, time_major=time_major,
        zero_output_for_mask=zero_output_for_mask,
        return_all_outputs=return_all_outputs)
    return to_numpy(last), to_numpy(outs), [to_numpy(s) for s in states]


def rnn_case_id(kind, gb, mask, unroll, tm, zofm, rao, const):
    return (f"{kind}-gb{int(gb)}-mask_{mask}-unroll{int(unroll)}-tm{int(tm)}"
            f"-zofm{int(zofm)}-rao{int(rao)}-const{int(const)}")


def make_rnn(out_dir):
    K.clear_session()
    d = rnn_data()
    arrays = dict(d)
    cases = []
    substituted = []
    mismatch_other = []
    grid = itertools.product(
        ["simple", "lstm"], [False, True], ["none", "trailing", "middle"],
        [False, True], [False, True], [False, True], [False, True],
        [False, True])
    for kind, gb, mask, unroll, tm, zofm, rao, const in grid:
        cid = rnn_case_id(kind, gb, mask, unroll, tm, zofm, rao, const)
        opts = dict(go_backwards=gb, mask_name=mask, unroll=unroll,
                    time_major=tm, zero_output_for_mask=zofm,
                    return_all_outputs=rao, const=const)
        ref = run_k_rnn(d, kind, **dict(opts, unroll=False))
        sub = False
        info = None
        if unroll:
            try:
                got = run_k_rnn(d, kind, **opts)
                err = None
            except Exception as e:  # noqa: BLE001
                got, err = None, f"{type(e).__name__}: {str(e)[:300]}"
            same = (got is not None and got[0].shape == ref[0].shape
                    and got[1].shape == ref[1].shape
                    and np.allclose(got[0], ref[0], atol=1e-6)
                    and np.allclose(got[1], ref[1], atol=1e-6)
                    and all(np.allclose(a, b, atol=1e-6)
                            for a, b in zip(got[2], ref[2])))
            known_bug = (mask != "none" and zofm and (gb or not rao))
            if known_bug:
                if not same:
                    sub = True
                    info = {"id": cid, "tf_unroll_true_error": err}
                    if got is not None:
                        info.update({
                            "tf_unroll_true_last_output_shape":
                                list(got[0].shape),
                            "tf_unroll_true_outputs_shape":
                                list(got[1].shape),
                            "max_abs_diff_last_output":
                                float(np.max(np.abs(got[0] - ref[0])))
                                if got[0].shape == ref[0].shape else None,
                            "max_abs_diff_outputs":
                                float(np.max(np.abs(got[1] - ref[1])))
                                if got[1].shape == ref[1].shape else None,
                            "states_equal": all(
                                np.allclose(a, b, atol=1e-6)
                                for a, b in zip(got[2], ref[2])),
                        })
                    substituted.append(info)
                result = ref
            else:
                if not same:
                    mismatch_other.append({"id": cid, "error": err})
                result = got if got is not None else ref
        else:
            result = ref
        last, outs, states = result
        keys = {"last_output": f"{cid}/last_output",
                "outputs": f"{cid}/outputs",
                "states": [f"{cid}/state{n}" for n in range(len(states))]}
        arrays[keys["last_output"]] = last
        arrays[keys["outputs"]] = outs
        for k, s in zip(keys["states"], states):
            arrays[k] = s
        cases.append({
            "id": cid, "step": kind, "go_backwards": gb, "mask": mask,
            "unroll": unroll, "time_major": tm,
            "zero_output_for_mask": zofm, "return_all_outputs": rao,
            "constants": const, "substituted_with_unroll_false": sub,
            "keys": keys,
            "shapes": {"last_output": list(last.shape),
                       "outputs": list(outs.shape),
                       "states": [list(s.shape) for s in states]},
        })

    # ---- error conditions
    errors = {}
    step = make_step("simple", d, False)
    h0 = tf.constant(d["simple/h0"])

    @tf.function(input_signature=[tf.TensorSpec([RNN_B, None, RNN_I],
                                                tf.float32)])
    def unknown_time(x):
        return K.rnn(step, x, [h0], unroll=True)[0]

    try:
        unknown_time.get_concrete_function()
        errors["unroll_unknown_time"] = {"raises": False}
    except Exception as e:  # noqa: BLE001
        full = str(e)
        core = [ln.strip() for ln in full.splitlines() if ln.strip()][-1]
        if core.startswith(type(e).__name__ + ": "):
            core = core[len(type(e).__name__) + 2:]
        errors["unroll_unknown_time"] = {
            "raises": True, "type": type(e).__name__, "message": core,
            "message_full_tf_function_trace": full,
            "how": "tf.function(input_signature=[TensorSpec([3, None, 4])]) "
                   "calling K.rnn(step, x, [h0], unroll=True)"}

    def no_state_step(x, states):
        return K.dot(x, tf.constant(d["simple/W"])), []

    for unroll in (False, True):
        key = f"mask_no_states_unroll{int(unroll)}"
        try:
            last, outs, st = K.rnn(
                no_state_step, tf.constant(d["x"]), [],
                mask=tf.constant(RNN_MASKS["trailing"]), unroll=unroll)
            errors[key] = {
                "raises": False,
                "note": "tf_keras 2.x does not raise here although its "
                        "docstring says ValueError; symkb raises ValueError "
                        "regardless",
                "last_output_shape": list(np.shape(last)),
                "outputs_shape": list(np.shape(outs)),
                "n_states": len(st)}
        except Exception as e:  # noqa: BLE001
            errors[key] = {"raises": True, "type": type(e).__name__,
                           "message": str(e)}
    try:
        K.rnn(step, tf.constant(d["x"][:, 0, :]), [h0])
        errors["input_rank_2"] = {"raises": False}
    except Exception as e:  # noqa: BLE001
        errors["input_rank_2"] = {"raises": True, "type": type(e).__name__,
                                  "message": str(e)}

    K.clear_session()
    write_npz(os.path.join(out_dir, "rnn.npz"), arrays)
    write_json(os.path.join(out_dir, "rnn.json"), {
        "versions": versions(),
        "batch": RNN_B, "time": RNN_T, "input_dim": RNN_I, "units": RNN_U,
        "masks": {k: v.astype(int).tolist() for k, v in RNN_MASKS.items()},
        "grid": {"step": ["simple", "lstm"], "go_backwards": [False, True],
                 "mask": ["none", "trailing", "middle"],
                 "unroll": [False, True], "time_major": [False, True],
                 "zero_output_for_mask": [False, True],
                 "return_all_outputs": [False, True],
                 "constants": [False, True]},
        "shared_keys": {
            "x": "float32 (batch=3, time=5, input=4), batch-major; "
                 "transpose to (1, 0, 2) for time_major=True",
            "mask/<name>": "bool (batch, time); transpose for time_major",
            "simple/W, simple/U, simple/b": "(4, 3), (3, 3), (3,)",
            "simple/h0": "initial state h (3, 3)",
            "simple/const": "the one constant (3, 3), added to the "
                            "pre-activation",
            "lstm/W, lstm/U, lstm/b": "(4, 12), (3, 12), (12,); gate "
                                      "columns i, f, c, o",
            "lstm/h0, lstm/c0": "initial states (3, 3) each",
            "lstm/const": "the one constant (3, 12), added to the "
                          "pre-activation z",
        },
        "step_functions": {
            "simple": "h_prev = states[0]; z = K.dot(x, W) + K.dot(h_prev, U)"
                      " + b; [if constants: z = z + states[1]]; "
                      "h = K.tanh(z); return h, [h]",
            "lstm": "h_prev, c_prev = states[0], states[1]; z = K.dot(x, W) "
                    "+ K.dot(h_prev, U) + b; [if constants: z = z + "
                    "states[2]]; i = K.sigmoid(z[:, :3]); f = K.sigmoid(z[:, "
                    "3:6]); c = f * c_prev + i * K.tanh(z[:, 6:9]); o = "
                    "K.sigmoid(z[:, 9:]); h = o * K.tanh(c); return h, [h, c]",
        },
        "n_cases": len(cases),
        "substituted": [s["id"] for s in substituted],
        "substituted_details": substituted,
        "unroll_true_mismatches_not_substituted": mismatch_other,
        "errors": errors,
        "cases": cases,
    })
    return cases, substituted, mismatch_other, errors


# --------------------------------------------------------------------------
# 5. layers.npz / layers.json
# --------------------------------------------------------------------------
def _rnn_layer_variants():
    out = []
    specs = [
        ("simple_rnn", "layers.SimpleRNN(3{opts})"),
        ("lstm", "layers.LSTM(4{opts})"),
        ("gru_ra1", "layers.GRU(3, reset_after=True{opts})"),
        ("gru_ra0", "layers.GRU(3, reset_after=False{opts})"),
    ]
    variants = [
        ("default", ""),
        ("seq", ", return_sequences=True"),
        ("state", ", return_state=True"),
        ("seq_state", ", return_sequences=True, return_state=True"),
        ("backwards", ", go_backwards=True"),
        ("backwards_seq", ", go_backwards=True, return_sequences=True"),
        ("unroll_seq", ", unroll=True, return_sequences=True"),
        ("unroll_state", ", unroll=True, return_state=True"),
        ("time_major_seq", ", time_major=True, return_sequences=True"),
        ("time_major_state", ", time_major=True, return_state=True"),
    ]
    for base, tmpl in specs:
        for vname, opts in variants:
            layer = tmpl.format(opts=opts)
            if "time_major" in vname:
                code = ("inp = Input((3, 4))  # time_major: (time, batch=3, 4)\n"
                        f"out = {layer}(inp)\n"
                        "model = Model(inp, out)\n")
                shape = "time_major"
            else:
                code = ("inp = Input((5, 4))\n"
                        f"out = {layer}(inp)\n"
                        "model = Model(inp, out)\n")
                shape = "float"
            out.append((f"{base}_{vname}", code, shape))
    return out


LAYER_MODELS_EXTRA = [
    ("stacked_cells",
     "inp = Input((5, 4))\n"
     "out = layers.RNN([layers.LSTMCell(3), layers.GRUCell(4)])(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("stacked_cells_seq_state",
     "inp = Input((5, 4))\n"
     "out = layers.RNN([layers.LSTMCell(3), layers.GRUCell(4)],\n"
     "                 return_sequences=True, return_state=True)(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("rnn_lstmcell",
     "inp = Input((5, 4))\n"
     "out = layers.RNN(layers.LSTMCell(3), return_sequences=True)(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_concat",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.LSTM(3, return_sequences=True),\n"
     "                           merge_mode='concat')(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_sum",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.LSTM(3, return_sequences=True),\n"
     "                           merge_mode='sum')(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_none",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.LSTM(3, return_sequences=True),\n"
     "                           merge_mode=None)(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_mul_last",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.LSTM(3), merge_mode='mul')(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_ave_gru",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.GRU(3, return_sequences=True),\n"
     "                           merge_mode='ave')(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("bidir_concat_state",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.LSTM(3, return_state=True))(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("time_distributed_dense",
     "inp = Input((5, 4))\n"
     "out = layers.TimeDistributed(layers.Dense(2))(inp)\n"
     "model = Model(inp, out)\n", "float"),
    ("masking_lstm_seq",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.LSTM(3, return_sequences=True),\n"
     "])\n", "padded"),
    ("masking_lstm",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.LSTM(3),\n"
     "])\n", "padded"),
    ("masking_gru_seq",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.GRU(3, return_sequences=True),\n"
     "])\n", "padded"),
    ("masking_gru",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.GRU(3),\n"
     "])\n", "padded"),
    ("masking_simple_rnn_seq",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.SimpleRNN(3, return_sequences=True),\n"
     "])\n", "padded"),
    ("masking_lstm_backwards_seq",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.LSTM(3, return_sequences=True, go_backwards=True),\n"
     "])\n", "padded"),
    ("masking_gru_unroll_seq",
     "model = Sequential([\n"
     "    Input((5, 4)),\n"
     "    layers.Masking(0.0),\n"
     "    layers.GRU(3, return_sequences=True, unroll=True),\n"
     "])\n", "padded"),
    ("embedding_gru_seq",
     "model = Sequential([\n"
     "    Input((5,), dtype='int32'),\n"
     "    layers.Embedding(10, 4, mask_zero=True),\n"
     "    layers.GRU(3, return_sequences=True),\n"
     "])\n", "tokens"),
    ("embedding_gru",
     "model = Sequential([\n"
     "    Input((5,), dtype='int32'),\n"
     "    layers.Embedding(10, 4, mask_zero=True),\n"
     "    layers.GRU(3),\n"
     "])\n", "tokens"),
    ("embedding_simple_rnn_seq",
     "model = Sequential([\n"
     "    Input((5,), dtype='int32'),\n"
     "    layers.Embedding(10, 4, mask_zero=True),\n"
     "    layers.SimpleRNN(3, return_sequences=True),\n"
     "])\n", "tokens"),
    ("embedding_simple_rnn",
     "model = Sequential([\n"
     "    Input((5,), dtype='int32'),\n"
     "    layers.Embedding(10, 4, mask_zero=True),\n"
     "    layers.SimpleRNN(3),\n"
     "])\n", "tokens"),
    ("lstm_state_to_initial_state",
     "inp = Input((5, 4))\n"
     "seq, h, c = layers.LSTM(4, return_sequences=True,\n"
     "                        return_state=True)(inp)\n"
     "out = layers.LSTM(4)(seq, initial_state=[h, c])\n"
     "model = Model(inp, out)\n", "float"),
    ("lstm_state_to_initial_state_all_outputs",
     "inp = Input((5, 4))\n"
     "seq, h, c = layers.LSTM(4, return_sequences=True,\n"
     "                        return_state=True)(inp)\n"
     "out, h2, c2 = layers.LSTM(4, return_state=True)(\n"
     "    seq, initial_state=[h, c])\n"
     "model = Model(inp, [out, h2, c2, seq])\n", "float"),
]


def layer_inputs(rng, kind):
    if kind == "float":
        return rng.standard_normal((3, 5, 4)).astype(np.float32)
    if kind == "time_major":
        return rng.standard_normal((5, 3, 4)).astype(np.float32)
    if kind == "padded":
        x = rng.standard_normal((3, 5, 4)).astype(np.float32)
        x[1, 3:, :] = 0.0   # sample 1: two trailing padded steps
        x[2, 2, :] = 0.0    # sample 2: one padded step in the middle
        x[2, 4, :] = 0.0    # ... and the last step
        return x
    if kind == "tokens":
        t = rng.integers(1, 10, size=(3, 5)).astype(np.int32)
        t[1, 3:] = 0        # sample 1: two trailing pads
        t[2, 2] = 0         # sample 2: a pad in the middle
        return t
    raise ValueError(kind)


INPUT_DOC = {
    "float": "float32 (batch=3, time=5, features=4), standard normal",
    "time_major": "float32 (time=5, batch=3, features=4), standard normal; "
                  "the model's Input is (None, 3, 4) and axis 0 is time",
    "padded": "float32 (3, 5, 4); sample 0 unpadded, sample 1 steps 3,4 "
              "all-zero, sample 2 steps 2 and 4 all-zero",
    "tokens": "int32 (3, 5) token ids in 1..9, 0 = padding; sample 1 "
              "steps 3,4 are 0, sample 2 step 2 is 0",
}


def make_layers(out_dir):
    arrays = {}
    cases = []
    models = _rnn_layer_variants() + LAYER_MODELS_EXTRA
    for idx, (cid, code, in_kind) in enumerate(models):
        rng = np.random.default_rng(5000 + idx)
        K.clear_session()
        model = build_from_code(code)
        x = layer_inputs(rng, in_kind)
        weights = fill_weights(model, rng)
        res = model(tf.constant(x), training=False)
        outs = [to_numpy(o) for o in as_list(res)]
        # sanity: predict agrees for batch-major models
        if in_kind != "time_major":
            pred = as_list(model.predict(x, verbose=0))
            for a, b in zip(outs, pred):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        arrays[f"{cid}/input"] = x
        w_keys, o_keys = [], []
        for n, w in enumerate(weights):
            arrays[f"{cid}/weight{n}"] = w
            w_keys.append(f"{cid}/weight{n}")
        for n, o in enumerate(outs):
            arrays[f"{cid}/output{n}"] = o
            o_keys.append(f"{cid}/output{n}")
        cases.append({
            "id": cid,
            "code": code,
            "input_key": f"{cid}/input",
            "input_kind": in_kind,
            "input_shape": list(x.shape),
            "input_dtype": x.dtype.name,
            "weight_keys": w_keys,
            "weight_shapes": [list(w.shape) for w in weights],
            "weight_names": [w.name for w in model.weights],
            "output_keys": o_keys,
            "output_shapes": [list(o.shape) for o in outs],
            "output_is_list": isinstance(res, (list, tuple)),
            "output_structure": nesting(res, o_keys),
            "model_name": model.name,
            "model_class": model.__class__.__name__,
            "layers": layer_rows(model),
            "params": param_counts(model),
            "summary": capture_summary(model),
        })
    K.clear_session()
    write_npz(os.path.join(out_dir, "layers.npz"), arrays)
    write_json(os.path.join(out_dir, "layers.json"), {
        "versions": versions(),
        "input_kinds": INPUT_DOC,
        "n_cases": len(cases),
        "cases": cases,
    })
    return cases


# --------------------------------------------------------------------------
# 6. rnn_extra.json / rnn_extra.npz: masks through wrappers, stacked and
#    state-returning layers; K.rnn with nested structures and other masks
# --------------------------------------------------------------------------
RNN_EXTRA_MODELS = [
    ("bidir_masked_concat_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.Bidirectional(layers.LSTM(3, return_sequences=True))])\n",
     "padded"),
    ("bidir_masked_none_seq",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.GRU(3, return_sequences=True),\n"
     "                           merge_mode=None)(layers.Masking(0.0)(inp))\n"
     "model = Model(inp, out)\n", "padded"),
    ("bidir_masked_gru_last",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.Bidirectional(layers.GRU(3), merge_mode='sum')])\n", "padded"),
    ("bidir_masked_simple_seq_state",
     "inp = Input((5, 4))\n"
     "out = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True,\n"
     "                                            return_state=True))(layers.Masking(0.0)(inp))\n"
     "model = Model(inp, out)\n", "padded"),
    ("masking_lstm_state",
     "inp = Input((5, 4))\n"
     "out = layers.LSTM(3, return_state=True)(layers.Masking(0.0)(inp))\n"
     "model = Model(inp, out)\n", "padded"),
    ("masking_stacked_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)],\n"
     "                               return_sequences=True)])\n", "padded"),
    ("masking_simple_backwards_seq_state",
     "inp = Input((5, 4))\n"
     "out = layers.SimpleRNN(3, go_backwards=True, return_sequences=True,\n"
     "                       return_state=True)(layers.Masking(0.0)(inp))\n"
     "model = Model(inp, out)\n", "padded"),
    ("masking_lstm_unroll_backwards_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.LSTM(3, unroll=True, go_backwards=True,\n"
     "                                return_sequences=True)])\n", "padded"),
    ("masking_gru_ra0_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.GRU(3, reset_after=False, return_sequences=True)])\n",
     "padded"),
    ("masking_simple_zero_output_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0),\n"
     "                    layers.SimpleRNN(3, return_sequences=True,\n"
     "                                     zero_output_for_mask=True)])\n", "padded"),
    ("embedding_bidir_lstm_seq",
     "model = Sequential([Input((5,), dtype='int32'),\n"
     "                    layers.Embedding(10, 4, mask_zero=True),\n"
     "                    layers.Bidirectional(layers.LSTM(2, return_sequences=True))])\n",
     "tokens"),
    ("embedding_time_distributed_gru_seq",
     "model = Sequential([Input((5,), dtype='int32'),\n"
     "                    layers.Embedding(10, 4, mask_zero=True),\n"
     "                    layers.TimeDistributed(layers.Dense(3)),\n"
     "                    layers.GRU(3, return_sequences=True)])\n", "tokens"),
    ("time_distributed_masking_lstm_seq",
     "model = Sequential([Input((5, 4)),\n"
     "                    layers.TimeDistributed(layers.Masking(0.0)),\n"
     "                    layers.LSTM(3, return_sequences=True)])\n", "padded"),
    ("time_distributed_masking_dense_gru",
     "inp = Input((5, 4))\n"
     "seq = layers.TimeDistributed(layers.Masking(0.0))(inp)\n"
     "seq = layers.TimeDistributed(layers.Dense(3))(seq)\n"
     "out = layers.GRU(3)(seq)\n"
     "model = Model(inp, out)\n", "padded"),
    # masks pass through Dense, Activation and Dropout, and merge layers
    # combine them; layers that return their input still count as layers
    ("embedding_dense_lstm",
     "model = Sequential([Input((5,), dtype='int32'),\n"
     "                    layers.Embedding(10, 4, mask_zero=True),\n"
     "                    layers.Dense(4), layers.LSTM(3)])\n", "tokens"),
    ("masking_dense_activation_dropout_gru_seq",
     "model = Sequential([Input((5, 4)), layers.Masking(0.0), layers.Dense(4),\n"
     "                    layers.Activation('tanh'), layers.Dropout(0.5),\n"
     "                    layers.GRU(3, return_sequences=True)])\n", "padded"),
    ("masking_concatenate_unmasked_gru",
     "inp = Input((5, 4))\n"
     "a = layers.Masking(0.0)(inp)\n"
     "b = layers.Dense(2)(inp)\n"
     "out = layers.GRU(3)(layers.Concatenate()([a, b]))\n"
     "model = Model(inp, out)\n", "padded"),
    ("masking_add_lstm_seq",
     "inp = Input((5, 4))\n"
     "a = layers.Masking(0.0)(inp)\n"
     "b = layers.Dense(4)(a)\n"
     "out = layers.LSTM(3, return_sequences=True)(layers.Add()([a, b]))\n"
     "model = Model(inp, out)\n", "padded"),
    ("dropout_and_linear_activation_keep_their_layers",
     "inp = Input((5, 4))\n"
     "h = layers.Dropout(0.5)(layers.Activation('linear')(inp))\n"
     "seq = layers.LSTM(3, return_sequences=True)(h)\n"
     "out = layers.Dense(2)(layers.Dropout(0.2)(seq))\n"
     "model = Model(inp, out)\n", "float"),
    ("stacked_cells_return_state",
     "inp = Input((5, 4))\n"
     "outs = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)(inp)\n"
     "model = Model(inp, outs)\n", "float"),
    # the activations tf_keras 2.x accepts by name beyond backend's
    ("activations_by_name",
     "inp = Input((5, 4))\n"
     "names = ['gelu', 'silu', 'mish', 'relu6', 'leaky_relu', 'log_softmax', 'swish']\n"
     "outs = [layers.Dense(3, activation=a)(layers.Dense(4)(inp)) for a in names]\n"
     "model = Model(inp, outs)\n", "float"),
    # functional layer order (and so weight order) is by depth, as in tf_keras
    ("branches_ordered_by_depth",
     "a = Input((5, 4))\n"
     "b1 = layers.Dense(4)(a)\n"
     "b2 = layers.Dense(4)(layers.Dense(4)(a))\n"
     "out = layers.GRU(3)(layers.Add()([b1, b2]))\n"
     "model = Model(a, out)\n", "float"),
]

# K.rnn calls written as code run by both frameworks: `K`, the npz arrays of
# the case (by their short name) and `step` defined by `step_code`.
RNN_EXTRA_CALLS = [
    ("nested_dict_inputs_tuple_states",
     "def step(x, states):\n"
     "    (h, c), = states\n"
     "    z = K.dot(x['a'], Wa) + K.dot(x['b'], Wb) + K.dot(h, U)\n"
     "    h2 = K.tanh(z + c)\n"
     "    return h2, [(h2, c * 0.5 + h2)]\n",
     "K.rnn(step, {'b': xb, 'a': xa}, [(h0, c0)], mask=mask_middle)"),
    ("nested_dict_inputs_tuple_states_backwards",
     None,
     "K.rnn(step, {'b': xb, 'a': xa}, [(h0, c0)], mask=mask_middle, go_backwards=True,\n"
     "      zero_output_for_mask=True)"),
    ("mask_3d_float",
     "def step(x, states):\n"
     "    h = K.tanh(K.dot(x, Wa) + K.dot(states[0], U))\n"
     "    return h, [h]\n",
     "K.rnn(step, xa, [h0], mask=mask_3d_float)"),
    ("input_length_lengths",
     None,
     "K.rnn(step, xa, [h0], input_length=lengths)"),
    ("input_length_lengths_backwards",
     None,
     "K.rnn(step, xa, [h0], input_length=lengths, go_backwards=True)"),
    ("nested_output",
     "def step(x, states):\n"
     "    h = K.tanh(K.dot(x, Wa) + K.dot(states[0], U))\n"
     "    return (h, h * 2.0), [h]\n",
     "K.rnn(step, xa, [h0], mask=mask_middle, return_all_outputs=False)"),
]


def rnn_extra_arrays():
    rng = np.random.default_rng(777)
    mask_middle = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], bool)
    return {
        "xa": rng.standard_normal((3, 5, 4)).astype(np.float32),
        "xb": rng.standard_normal((3, 5, 2)).astype(np.float32),
        "Wa": (rng.standard_normal((4, 3)) * 0.5).astype(np.float32),
        "Wb": (rng.standard_normal((2, 3)) * 0.5).astype(np.float32),
        "U": (rng.standard_normal((3, 3)) * 0.5).astype(np.float32),
        "h0": rng.standard_normal((3, 3)).astype(np.float32),
        "c0": rng.standard_normal((3, 3)).astype(np.float32),
        "mask_middle": mask_middle,
        "mask_3d_float": mask_middle[..., None].astype(np.float32),
        "lengths": np.array([5, 3, 4], np.int32),
    }


def make_rnn_extra(out_dir):
    arrays, model_cases, call_cases = {}, [], []
    for idx, (cid, code, in_kind) in enumerate(RNN_EXTRA_MODELS):
        rng = np.random.default_rng(9000 + idx)
        K.clear_session()
        model = build_from_code(code)
        x = layer_inputs(rng, in_kind)
        weights = fill_weights(model, rng)
        res = model(tf.constant(x), training=False)
        outs = [to_numpy(o) for o in as_list(res)]
        pred = as_list(model.predict(x, verbose=0))
        for a, b in zip(outs, pred):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        arrays[f"{cid}/input"] = x
        for n, w in enumerate(weights):
            arrays[f"{cid}/weight{n}"] = w
        for n, o in enumerate(outs):
            arrays[f"{cid}/output{n}"] = o
        model_cases.append({
            "id": cid, "code": code, "input_key": f"{cid}/input", "input_kind": in_kind,
            "weight_keys": [f"{cid}/weight{n}" for n in range(len(weights))],
            "weight_names": [w.name for w in model.weights],
            "output_keys": [f"{cid}/output{n}" for n in range(len(outs))],
            "output_shapes": [list(o.shape) for o in outs],
            "output_structure": nesting(res, [f"{cid}/output{n}" for n in range(len(outs))]),
        })
    K.clear_session()
    shared = rnn_extra_arrays()
    for k, v in shared.items():
        arrays[f"shared/{k}"] = v
    step_code = None
    for cid, code, call in RNN_EXTRA_CALLS:
        step_code = code or step_code
        ns = {"K": K, "np": np}
        ns.update({k: tf.constant(v) for k, v in shared.items()})
        exec(step_code, ns)
        last, outputs, states = eval(call, ns)
        leaves = ([to_numpy(t) for t in tf.nest.flatten(last)],
                  [to_numpy(t) for t in tf.nest.flatten(outputs)],
                  [to_numpy(t) for t in tf.nest.flatten(states)])
        keys = {}
        for part, values in zip(("last_output", "outputs", "states"), leaves):
            keys[part] = []
            for n, v in enumerate(values):
                arrays[f"{cid}/{part}{n}"] = v
                keys[part].append(f"{cid}/{part}{n}")
        call_cases.append({"id": cid, "step_code": step_code, "call": call, "keys": keys})
    write_npz(os.path.join(out_dir, "rnn_extra.npz"), arrays)
    write_json(os.path.join(out_dir, "rnn_extra.json"), {
        "versions": versions(),
        "input_kinds": INPUT_DOC,
        "models": model_cases,
        "shared_keys": {k: f"shared/{k}" for k in shared},
        "calls": call_cases,
    })
    return model_cases + call_cases


# --------------------------------------------------------------------------
GROUPS = {
    "config": make_config,
    "dense": make_dense,
    "ops": make_ops,
    "rnn": make_rnn,
    "layers": make_layers,
    "rnn_extra": make_rnn_extra,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("groups", nargs="*",
                   help="which files to (re)generate, any of "
                        + ", ".join(GROUPS) + "; default all")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="output directory (default tests/goldens)")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    groups = a.groups or list(GROUPS)
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        p.error(f"unknown group(s) {bad}; choose from {list(GROUPS)}")
    np.set_printoptions(precision=4, suppress=True)
    for g in groups:
        print(f"[make_goldens] {g} ...", flush=True)
        try:
            res = GROUPS[g](a.out)
        except Exception:
            traceback.print_exc()
            return 1
        if g == "ops":
            print(f"  {len(res[0])} cases, {len(res[1])} failed:",
                  [f["id"] for f in res[1]])
        elif g == "rnn":
            cases, sub, mism, errs = res
            print(f"  {len(cases)} cases, {len(sub)} substituted, "
                  f"{len(mism)} other unroll mismatches")
        elif g in ("dense", "layers", "rnn_extra"):
            print(f"  {len(res)} models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
