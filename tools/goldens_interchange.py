#!/usr/bin/env python
"""Golden reference for model JSON interchange with tf_keras, and for model
API details (built Sequentials, ``layer.output``, summary options).

Both directions of ``to_json`` interchange are recorded:

* tf_keras -> symkb: for every case below tf_keras builds the model from its
  ``code``, sets fixed weights, and records ``model.to_json()``, the weights
  (``get_weights()`` order), inputs and outputs;
* symkb -> tf_keras: for every ``tests/goldens/interchange/symkb_<id>.json``
  (JSON that symkb's ``to_json`` wrote for the same case, committed as an
  input to this script), tf_keras's ``model_from_json`` loads it (or the
  error is recorded), the same weights are set and the outputs recorded,
  with tf_keras's own ``to_json`` of the loaded model.

The ``model_api`` part records summaries (float64 weights, ``show_trainable``,
``expand_nested``, ``layer_range``), what ``Sequential([Embedding, GRU])``
builds, and ``.input``/``.output`` of a layer called twice.

How to run (from the repository root; TensorFlow is never a dependency of
symkb or of its tests)::

    # 1. symkb's JSON for every case (the symkb environment)
    PYTHONPATH=. .venv/bin/python tools/goldens_interchange.py --write-symkb-json
    # 2. the goldens (the environment with tensorflow-cpu and tf-keras)
    /opt/tfenv/bin/python tools/goldens_interchange.py

Files: ``tests/goldens/interchange.json`` (structure, JSON texts, summaries)
and ``tests/goldens/interchange.npz`` (arrays: ``<id>/input<i>``,
``<id>/weight<i>``, ``<id>/output<i>`` for tf_keras's model,
``<id>/symkb_json_output<i>`` for tf_keras's load of symkb's JSON). Weights are
``uniform(-0.5, 0.5)`` from ``numpy.random.default_rng(<case number>)``;
inputs are batch 3, float standard normal or int32 token ids in 1..9.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYMKB_JSON_DIR = os.path.join(ROOT, "tests", "goldens", "interchange")

# Each case: code that assigns ``model`` using ``layers``, ``Input``,
# ``Model``, ``Sequential`` only (run right after clear_session), and its
# inputs as (kind, shape without the batch axis).
CASES = [
    {"id": "nested_functional",
     "code": "inner_in = Input((4,))\n"
             "inner = Model(inner_in, layers.Dense(3, activation='tanh')(inner_in), "
             "name='inner')\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(2)(inner(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "nested_functional_shared",
     "code": "inner_in = Input((4,))\n"
             "inner = Model(inner_in, layers.Dense(3, activation='tanh')(inner_in), "
             "name='inner')\n"
             "a = Input((4,))\n"
             "b = Input((4,))\n"
             "model = Model([a, b], layers.Dense(2)(layers.Add()([inner(a), inner(b)])))\n",
     "inputs": [["float", [4]], ["float", [4]]]},
    {"id": "nested_sequential",
     "code": "inner = Sequential([Input((4,)), layers.Dense(3, activation='relu'), "
             "layers.Dense(2)])\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(1)(inner(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "nested_sequential_no_input",
     "code": "inner = Sequential([layers.Dense(3, activation='relu'), layers.Dense(2)])\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(1)(inner(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "sequential_in_sequential",
     "code": "inner = Sequential([layers.Dense(3, activation='relu', input_shape=(4,)), "
             "layers.Dense(2)])\n"
             "model = Sequential([inner, layers.Dense(1)])\n",
     "inputs": [["float", [4]]]},
    {"id": "bidirectional",
     "code": "x = Input((5, 4))\n"
             "model = Model(x, layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x))\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "bidirectional_backward_layer",
     "code": "x = Input((5, 4))\n"
             "forward = layers.LSTM(3, return_sequences=True)\n"
             "backward = layers.GRU(3, return_sequences=True, go_backwards=True)\n"
             "model = Model(x, layers.Bidirectional(forward, backward_layer=backward)(x))\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "bidirectional_sequential",
     "code": "model = Sequential([Input((5, 4)), "
             "layers.Bidirectional(layers.GRU(2), merge_mode='sum')])\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "stacked_cells_return_state",
     "code": "x = Input((5, 4))\n"
             "outs = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], "
             "return_state=True)(x)\n"
             "model = Model(x, outs)\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "bidirectional_initial_state",
     "code": "x = Input((5, 4))\n"
             "states = [Input((3,)) for _ in range(4)]\n"
             "y = layers.Bidirectional(layers.LSTM(3))(x, initial_state=states)\n"
             "model = Model([x] + states, y)\n",
     "inputs": [["float", [5, 4]], ["float", [3]], ["float", [3]], ["float", [3]],
                ["float", [3]]]},
    {"id": "lstm_initial_state",
     "code": "x = Input((5, 4))\n"
             "seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(x)\n"
             "model = Model(x, layers.LSTM(3)(seq, initial_state=[h, c]))\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "deep_nesting",
     "code": "a_in = Input((4,))\n"
             "a = Model(a_in, layers.Dense(3, activation='relu')(a_in), name='a')\n"
             "b_in = Input((4,))\n"
             "b = Model(b_in, layers.Dense(2)(a(b_in)), name='b')\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(1)(b(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "shared_dense_two_outputs",
     "code": "shared = layers.Dense(3, activation='sigmoid', "
             "kernel_initializer='he_uniform', bias_initializer='ones')\n"
             "a = Input((4,), name='left')\n"
             "b = Input((4,), name='right')\n"
             "model = Model([a, b], [shared(a), layers.Dense(2, use_bias=False)(shared(b))])\n",
     "inputs": [["float", [4]], ["float", [4]]]},
    {"id": "core_layers",
     "code": "x = Input((6,))\n"
             "h = layers.Reshape((3, 2))(x)\n"
             "h = layers.Permute((2, 1))(h)\n"
             "h = layers.Flatten()(h)\n"
             "h = layers.Dropout(0.5)(h)\n"
             "h = layers.Activation('softplus')(h)\n"
             "h = layers.RepeatVector(2)(h)\n"
             "h = layers.TimeDistributed(layers.Dense(2, kernel_initializer="
             "'truncated_normal'))(h)\n"
             "model = Model(x, layers.Flatten()(h))\n",
     "inputs": [["float", [6]]]},
    {"id": "merge_layers",
     "code": "a = Input((3,))\n"
             "b = Input((3,))\n"
             "outs = [layers.Subtract()([a, b]), layers.Multiply()([a, b]), "
             "layers.Average()([a, b]), layers.Maximum()([a, b]), layers.Minimum()([a, b])]\n"
             "model = Model([a, b], layers.Concatenate(axis=-1)(outs))\n",
     "inputs": [["float", [3]], ["float", [3]]]},
    {"id": "masked_recurrent",
     "code": "model = Sequential([Input((5,), dtype='int32'), "
             "layers.Embedding(10, 4, mask_zero=True), "
             "layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), "
             "merge_mode='ave'), layers.GRU(2, reset_after=False, go_backwards=True)])\n",
     "inputs": [["tokens", [5]]]},
    {"id": "masking_lstm_state",
     "code": "x = Input((5, 4))\n"
             "out, h, c = layers.LSTM(3, return_state=True, unroll=True)("
             "layers.Masking(0.0)(x))\n"
             "model = Model(x, [out, h, c])\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "bidirectional_return_state",
     "code": "x = Input((5, 4))\n"
             "outs = layers.Bidirectional(layers.GRU(2, return_state=True), "
             "merge_mode=None)(x)\n"
             "model = Model(x, outs)\n",
     "inputs": [["float", [5, 4]]]},
    {"id": "frozen_nested",
     "code": "inner = Sequential([layers.Dense(3, input_shape=(4,), "
             "kernel_regularizer='l2'), layers.Dense(3)], name='frozen')\n"
             "inner.trainable = False\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(1, trainable=False)(inner(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "embedding_gru",
     "code": "model = Sequential([layers.Embedding(10, 3), layers.GRU(2)])\n",
     "inputs": [["tokens", [5]]]},
    {"id": "implicit_input_sequential",
     "code": "model = Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])\n",
     "inputs": [["float", [4]]]},
]

# Summaries with options: code assigns ``model``; ``kwargs`` go to summary().
SUMMARIES = [
    {"id": "float64_dense",
     "code": "model = Sequential([Input((4,), dtype='float64'), "
             "layers.Dense(300, dtype='float64'), layers.Dense(2, dtype='float64')])\n",
     "kwargs": {}},
    {"id": "show_trainable",
     "code": "model = Sequential([Input((4,)), layers.Dense(3, name='a'), "
             "layers.Dense(2, name='b', trainable=False)])\n",
     "kwargs": {"show_trainable": True}},
    {"id": "show_trainable_functional",
     "code": "x = Input((4,))\n"
             "h = layers.Dense(3, name='a')(x)\n"
             "frozen = layers.Dense(3, name='b', trainable=False)\n"
             "model = Model(x, layers.Add()([h, frozen(x)]))\n",
     "kwargs": {"show_trainable": True}},
    {"id": "expand_nested_functional",
     "code": "inner_in = Input((4,))\n"
             "inner = Model(inner_in, layers.Dense(3)(layers.Dense(5)(inner_in)), "
             "name='inner')\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(2)(inner(x)))\n",
     "kwargs": {"expand_nested": True}},
    {"id": "expand_nested_sequential",
     "code": "inner = Sequential([Input((4,)), layers.Dense(5), layers.Dense(3)], "
             "name='inner')\n"
             "model = Sequential([Input((4,)), inner, layers.Dense(2)])\n",
     "kwargs": {"expand_nested": True}},
    {"id": "expand_nested_show_trainable",
     "code": "inner = Sequential([Input((4,)), layers.Dense(5), "
             "layers.Dense(3, trainable=False)], name='inner')\n"
             "model = Sequential([Input((4,)), inner, layers.Dense(2)])\n",
     "kwargs": {"expand_nested": True, "show_trainable": True}},
    {"id": "shared_different_shapes",
     "code": "d = layers.Dense(2)\n"
             "a = Input((3,))\n"
             "b = Input((5, 3))\n"
             "model = Model([a, b], [d(a), d(b)])\n",
     "kwargs": {}},
    {"id": "expand_nested_connected",
     "code": "inner_in = Input((4,))\n"
             "inner = Model(inner_in, layers.Dense(3)(inner_in), name='inner')\n"
             "a = Input((4,))\n"
             "b = Input((4,))\n"
             "model = Model([a, b], layers.Add()([inner(a), inner(b)]))\n",
     "kwargs": {"expand_nested": True, "show_trainable": True}},
    {"id": "not_expanded",
     "code": "inner = Sequential([Input((4,)), layers.Dense(5), layers.Dense(3)], "
             "name='inner')\n"
             "model = Sequential([Input((4,)), inner, layers.Dense(2)])\n",
     "kwargs": {}},
    {"id": "layer_range_sequential",
     "code": "model = Sequential([Input((4,)), layers.Dense(5), layers.Dense(4), "
             "layers.Dense(3), layers.Dense(2)])\n",
     "kwargs": {"layer_range": ["dense_1", "dense_2"]}},
    {"id": "layer_range_functional",
     "code": "x = Input((4,))\n"
             "h = layers.Dense(5)(x)\n"
             "h = layers.Dense(4)(h)\n"
             "model = Model(x, layers.Dense(2)(h))\n",
     "kwargs": {"layer_range": ["dense", "dense_1"]}},
    {"id": "layer_range_pattern",
     "code": "model = Sequential([Input((4,)), layers.Dense(5, name='enc_a'), "
             "layers.Dense(4, name='enc_b'), layers.Dense(3, name='dec_a'), "
             "layers.Dense(2, name='dec_b')])\n",
     "kwargs": {"layer_range": ["enc_b", "dec_*"]}},
    {"id": "line_length_positions",
     "code": "model = Sequential([Input((4,)), layers.Dense(5), layers.Dense(2)])\n",
     "kwargs": {"line_length": 80, "positions": [0.5, 0.8, 1.0], "show_trainable": True}},
]

SUMMARY_ERRORS = [
    {"id": "layer_range_unknown",
     "code": "model = Sequential([Input((4,)), layers.Dense(5), layers.Dense(2)])\n",
     "kwargs": {"layer_range": ["dense", "nope"]}},
    {"id": "layer_range_three",
     "code": "model = Sequential([Input((4,)), layers.Dense(5), layers.Dense(2)])\n",
     "kwargs": {"layer_range": ["dense", "dense_1", "dense"]}},
]

# The layer called twice: what ``.input``/``.output``/shapes give.
CALLED_TWICE = ("d = layers.Dense(2)\n"
                "x1 = Input((3,))\n"
                "x2 = Input((5, 3))\n"
                "y1 = d(x1)\n"
                "y2 = d(x2)\n")


def make_inputs(rng, specs):
    import numpy as np
    arrays = []
    for kind, shape in specs:
        if kind == "tokens":
            arrays.append(rng.integers(1, 10, size=(3, *shape)).astype(np.int32))
        else:
            arrays.append(rng.standard_normal((3, *shape)).astype(np.float32))
    return arrays


def write_symkb_json():
    """Write symkb's to_json of every case (run in the symkb environment)."""
    sys.path.insert(0, ROOT)
    import symkb
    from symkb import backend as K
    from symkb import layers
    os.makedirs(SYMKB_JSON_DIR, exist_ok=True)
    for case in CASES:
        K.clear_session()
        ns = {"layers": layers, "Input": layers.Input, "Model": symkb.Model,
              "Sequential": symkb.Sequential}
        exec(case["code"], ns)
        text = json.dumps(json.loads(ns["model"].to_json()), indent=1, sort_keys=True)
        path = os.path.join(SYMKB_JSON_DIR, f"symkb_{case['id']}.json")
        with open(path, "w") as f:
            f.write(text + "\n")
        print("wrote", path)


def make_goldens(out_dir):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras
    from tf_keras import Input, Model, Sequential, layers
    K = keras.backend

    def build(code):
        ns = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential}
        exec(code, ns)
        return ns["model"], ns

    def run(model, inputs):
        out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        return [np.asarray(t.numpy()) for t in tf.nest.flatten(out)]

    arrays, cases = {}, []
    for number, case in enumerate(CASES):
        K.clear_session()
        rng = np.random.default_rng(number)
        model, _ = build(case["code"])
        inputs = make_inputs(rng, case["inputs"])
        built_at_construction = bool(model.built)
        if not model.built:
            model.build((None,) + inputs[0].shape[1:])
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype)
                   for w in model.get_weights()]
        model.set_weights(weights)
        outputs = run(model, inputs)
        lines = []
        model.summary(print_fn=lambda s, *a, **k: lines.append(s))
        cid = case["id"]
        entry = {"id": cid, "code": case["code"], "tf_json": json.loads(model.to_json()),
                 "built_at_construction": built_at_construction,
                 "summary": "\n".join(lines),
                 "input_keys": [f"{cid}/input{i}" for i in range(len(inputs))],
                 "weight_keys": [f"{cid}/weight{i}" for i in range(len(weights))],
                 "weight_names": [w.name for w in model.weights],
                 "output_keys": [f"{cid}/output{i}" for i in range(len(outputs))]}
        for i, a in enumerate(inputs):
            arrays[f"{cid}/input{i}"] = a
        for i, w in enumerate(weights):
            arrays[f"{cid}/weight{i}"] = w
        for i, o in enumerate(outputs):
            arrays[f"{cid}/output{i}"] = o
        # tf_keras reads back its own JSON: the same outputs
        K.clear_session()
        again = keras.models.model_from_json(model.to_json())
        again.set_weights(weights)
        np.testing.assert_allclose(run(again, inputs)[0], outputs[0], rtol=1e-6, atol=1e-6)
        path = os.path.join(SYMKB_JSON_DIR, f"symkb_{cid}.json")
        if os.path.exists(path):
            entry["symkb_json"] = load_symkb_json(keras, path, weights, inputs, run, arrays, cid)
        cases.append(entry)

    summaries = []
    for case in SUMMARIES:
        K.clear_session()
        model, _ = build(case["code"])
        lines = []
        model.summary(print_fn=lambda s, *a, **k: lines.append(s), **case["kwargs"])
        summaries.append({**case, "summary": "\n".join(lines)})
    errors = []
    for case in SUMMARY_ERRORS:
        K.clear_session()
        model, _ = build(case["code"])
        try:
            model.summary(print_fn=lambda *a, **k: None, **case["kwargs"])
            errors.append({**case, "raises": False})
        except Exception as exc:  # noqa: BLE001 (recording what tf_keras raises)
            errors.append({**case, "raises": True, "type": type(exc).__name__,
                           "message": str(exc)})

    K.clear_session()
    _, ns = build(CALLED_TWICE + "model = None\n")
    d = ns["d"]
    called_twice = {"code": CALLED_TWICE,
                    "output_is_first_call": d.output is ns["y1"],
                    "input_is_first_call": d.input is ns["x1"],
                    "output_shape_of_output": list(d.output.shape)}
    for attr in ("input_shape", "output_shape"):
        try:
            called_twice[attr] = {"raises": False, "value": list(getattr(d, attr))}
        except Exception as exc:  # noqa: BLE001
            called_twice[attr] = {"raises": True, "type": type(exc).__name__,
                                  "message": str(exc)}

    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                        "numpy": np.__version__},
           "cases": cases, "summaries": summaries, "summary_errors": errors,
           "called_twice": called_twice}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "interchange.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    np.savez_compressed(os.path.join(out_dir, "interchange.npz"), **arrays)
    print("wrote", os.path.join(out_dir, "interchange.json"))


def load_symkb_json(keras, path, weights, inputs, run, arrays, cid):
    """tf_keras loads symkb's JSON; the outputs with the same weights."""
    import numpy as np
    with open(path) as f:
        text = f.read()
    keras.backend.clear_session()
    try:
        model = keras.models.model_from_json(text)
        model.set_weights(weights)
        outputs = run(model, inputs)
    except Exception as exc:  # noqa: BLE001 (recording what tf_keras raises)
        return {"file": os.path.basename(path), "loaded": False,
                "error": f"{type(exc).__name__}: {exc}"}
    for i, o in enumerate(outputs):
        arrays[f"{cid}/symkb_json_output{i}"] = np.asarray(o)
    return {"file": os.path.basename(path), "loaded": True, "text": json.loads(text),
            "output_keys": [f"{cid}/symkb_json_output{i}" for i in range(len(outputs))],
            "tf_json_after_load": json.loads(model.to_json())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    parser.add_argument("--write-symkb-json", action="store_true",
                        help="write symkb's JSON of every case (symkb environment)")
    args = parser.parse_args(argv)
    if args.write_symkb_json:
        write_symkb_json()
    else:
        make_goldens(args.out)


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
