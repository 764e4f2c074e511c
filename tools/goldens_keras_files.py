#!/usr/bin/env python
"""Golden model files written by real tf_keras, Keras 3 and torch, for
``tests/test_keras_files.py`` and ``tests/test_onnx.py``.

Every case below is built by the writing library from its ``code``, given
fixed weights (``uniform(-0.5, 0.5)`` from ``numpy.random.default_rng(<case
number>)``), saved, and run on fixed inputs (batch 3; floats standard normal
with the last two steps of sequences zeroed, so masking has work; int ids in
0..9 with trailing zeros). Recorded under ``tests/goldens/keras_files/``:

* ``<id>.tfk.keras`` and ``<id>.tfk.h5``: tf_keras 2.x's ``.keras`` archive
  and legacy HDF5 model (run with ``TF_USE_LEGACY_KERAS=1``);
* ``<id>.k3.keras``: Keras 3's ``.keras`` archive (run without it);
* ``<writer>.npz``: ``<id>/input<i>`` and ``<id>/output<i>``, the writer's
  predictions, and ``keras_files.json`` naming the cases (merged by writer);
* ``torch_<id>.onnx`` with ``torch.npz``: small LSTM and GRU exported by
  ``torch.onnx.export`` and their outputs (``--torch``).

How to run (from the repository root; TensorFlow and torch are never
dependencies of symkb or of its tests)::

    TF_USE_LEGACY_KERAS=1 CUDA_VISIBLE_DEVICES=-1 /opt/tfenv/bin/python tools/goldens_keras_files.py
    CUDA_VISIBLE_DEVICES=-1 /opt/tfenv/bin/python tools/goldens_keras_files.py
    /opt/tfenv/bin/python tools/goldens_keras_files.py --torch

``--check-saved DIR`` (with ``TF_USE_LEGACY_KERAS=1``) loads every file
``DIR/<case id>.*.keras`` / ``.h5`` (files symkb's ``model.save`` wrote from
the golden models) with tf_keras's ``load_model`` and checks its predictions
against the recorded ones (1e-5); it prints one line per file and exits 1 on
any difference.
"""
import argparse
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "goldens", "keras_files")

# Each case: code assigning ``model`` from ``layers``, ``Input``, ``Model``,
# ``Sequential``; inputs as (kind, shape without batch).
CASES = [
    {"id": "dense_stack",
     "code": "model = Sequential([Input((4,)), layers.Dense(8, activation='relu'),\n"
             "    layers.Dropout(0.5), layers.Dense(5, activation='tanh'),\n"
             "    layers.Dense(3, activation='softmax')])\n",
     "inputs": [["float", [4]]]},
    {"id": "simple_rnn",
     "code": "model = Sequential([Input((5, 3)), layers.SimpleRNN(4, return_sequences=True),\n"
             "    layers.Dense(2)])\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "lstm",
     "code": "model = Sequential([Input((5, 3)), layers.LSTM(4), layers.Dense(2)])\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "gru",
     "code": "x = Input((5, 3))\n"
             "h = layers.GRU(4, return_sequences=True)(x)\n"
             "model = Model(x, layers.GRU(3, reset_after=False, go_backwards=True)(h))\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "bidirectional",
     "code": "model = Sequential([Input((5, 3)),\n"
             "    layers.Bidirectional(layers.LSTM(3, return_sequences=True)),\n"
             "    layers.Bidirectional(layers.GRU(2), merge_mode='sum')])\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "masking",
     "code": "model = Sequential([Input((5, 3)), layers.Masking(0.0),\n"
             "    layers.LSTM(4, return_sequences=True), layers.SimpleRNN(2)])\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "embedding_mask",
     "code": "model = Sequential([Input((6,), dtype='int32'),\n"
             "    layers.Embedding(10, 4, mask_zero=True), layers.GRU(3)])\n",
     "inputs": [["int", [6]]]},
    {"id": "multi_io",
     "code": "a = Input((4,), name='a')\n"
             "b = Input((5, 3), name='b')\n"
             "h = layers.Concatenate()([layers.Dense(3, activation='relu')(a),\n"
             "    layers.LSTM(3)(b)])\n"
             "model = Model([a, b], [layers.Dense(2, name='out1')(h),\n"
             "    layers.Dense(1, activation='sigmoid', name='out2')(h)])\n",
     "inputs": [["float", [4]], ["float", [5, 3]]]},
    {"id": "nested_sequential",
     "code": "inner = Sequential([Input((4,)), layers.Dense(3, activation='relu'),\n"
             "    layers.Dense(2)], name='inner')\n"
             "x = Input((4,))\n"
             "model = Model(x, layers.Dense(1)(inner(x)))\n",
     "inputs": [["float", [4]]]},
    {"id": "shared_layers",
     "code": "a = Input((4,))\n"
             "b = Input((4,))\n"
             "shared = layers.Dense(3, activation='tanh')\n"
             "s = layers.Add()([shared(a), shared(b)])\n"
             "m = layers.Multiply()([shared(a), shared(b)])\n"
             "model = Model([a, b], layers.Dense(2)(layers.Concatenate()([s, m])))\n",
     "inputs": [["float", [4]], ["float", [4]]]},
    {"id": "time_distributed",
     "code": "model = Sequential([Input((5, 3)), layers.SimpleRNN(4, return_sequences=True,\n"
             "    activation='relu'), layers.TimeDistributed(layers.Dense(2)),\n"
             "    layers.Flatten(), layers.Dense(2)])\n",
     "inputs": [["float", [5, 3]]]},
    {"id": "reshapes",
     "code": "model = Sequential([Input((6,)), layers.Reshape((3, 2)), layers.Permute((2, 1)),\n"
             "    layers.Flatten(), layers.RepeatVector(2), layers.Flatten(),\n"
             "    layers.Activation('sigmoid'), layers.Dense(2)])\n",
     "inputs": [["float", [6]]]},
]

# Files the tests expect symkb to refuse (no outputs recorded).
REFUSED = [
    {"id": "lambda",
     "code": "model = Sequential([Input((4,)), layers.Lambda(lambda t: t * 2.0),\n"
             "    layers.Dense(2)])\n"},
]


def inputs_for(case, number):
    rng = np.random.default_rng(1000 + number)
    out = []
    for kind, shape in case["inputs"]:
        if kind == "int":
            x = rng.integers(1, 10, (3, *shape)).astype("int32")
            x[0, -2:] = 0
            x[1, -1:] = 0
        else:
            x = rng.standard_normal((3, *shape)).astype("float32")
            if len(shape) == 2:
                x[0, -2:] = 0.0
                x[1, -1:] = 0.0
        out.append(x)
    return out


def set_weights(model, number):
    rng = np.random.default_rng(number)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                       for w in model.get_weights()])


def keras_module():
    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        import tf_keras as keras
        return keras, "tfk"
    import keras
    return keras, "k3"


def write_keras(keras, writer):
    arrays, doc = {}, {"writer": writer, "version": keras.__version__, "cases": []}
    ns_base = {"layers": keras.layers, "Input": keras.Input, "Model": keras.Model,
               "Sequential": keras.Sequential}
    for number, case in enumerate(CASES):
        keras.backend.clear_session()
        ns = dict(ns_base)
        exec(case["code"], ns)
        model = ns["model"]
        set_weights(model, number)
        xs = inputs_for(case, number)
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, list) else [ys]
        files = [f"{case['id']}.{writer}.keras"]
        model.save(os.path.join(OUT, files[0]))
        if writer == "tfk":
            files.append(f"{case['id']}.tfk.h5")
            model.save(os.path.join(OUT, files[1]))
        for i, x in enumerate(xs):
            arrays[f"{case['id']}/input{i}"] = x
        for i, y in enumerate(ys):
            arrays[f"{case['id']}/output{i}"] = np.asarray(y)
        doc["cases"].append({"id": case["id"], "code": case["code"], "files": files,
                             "inputs": len(xs), "outputs": len(ys)})
    for case in REFUSED:
        keras.backend.clear_session()
        ns = dict(ns_base)
        exec(case["code"], ns)
        name = f"{case['id']}.{writer}.keras"
        ns["model"].save(os.path.join(OUT, name))
        doc["cases"].append({"id": case["id"], "code": case["code"], "files": [name],
                             "refused": True})
    np.savez_compressed(os.path.join(OUT, f"{writer}.npz"), **arrays)
    with open(os.path.join(OUT, f"{writer}.json"), "w") as f:
        json.dump(doc, f, indent=1)


def write_torch():
    import torch
    torch.manual_seed(0)
    arrays, doc = {}, {"writer": "torch", "version": torch.__version__, "cases": []}
    nets = {"lstm": torch.nn.LSTM(3, 4, batch_first=True),
            "gru": torch.nn.GRU(3, 4, batch_first=True),
            "bilstm": torch.nn.LSTM(3, 2, batch_first=True, bidirectional=True)}
    for number, (name, net) in enumerate(nets.items()):
        rng = np.random.default_rng(2000 + number)
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape))
                                         .astype("float32")))
        x = rng.standard_normal((2, 5, 3)).astype("float32")
        net.eval()
        with torch.no_grad():
            y, _ = net(torch.from_numpy(x))
        path = os.path.join(OUT, f"torch_{name}.onnx")
        torch.onnx.export(net, (torch.from_numpy(x),), path, input_names=["x"],
                          output_names=["y"], opset_version=17, dynamo=False,
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        arrays[f"{name}/input0"] = x
        arrays[f"{name}/output0"] = y.numpy()
        doc["cases"].append({"id": name, "files": [f"torch_{name}.onnx"]})
    np.savez_compressed(os.path.join(OUT, "torch.npz"), **arrays)
    with open(os.path.join(OUT, "torch.json"), "w") as f:
        json.dump(doc, f, indent=1)


def check_saved(folder) -> int:
    """tf_keras's load_model on symkb's files in ``folder`` (see the docstring)."""
    keras, writer = keras_module()
    arrays = np.load(os.path.join(OUT, f"{writer}.npz"))
    cases = {c["id"]: c for c in CASES}
    failed = 0
    for name in sorted(os.listdir(folder)):
        case = cases.get(name.split(".")[0])
        if case is None or not name.endswith((".keras", ".h5")):
            continue
        keras.backend.clear_session()
        model = keras.models.load_model(os.path.join(folder, name))
        xs = [arrays[f"{case['id']}/input{i}"] for i in range(len(case["inputs"]))]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, list) else [ys]
        err = max(float(np.abs(y - arrays[f"{case['id']}/output{i}"]).max())
                  for i, y in enumerate(ys))
        failed += err > 1e-5
        print(f"{name}: max difference {err:.2e}")
    return int(failed > 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch", action="store_true", help="write the torch ONNX files")
    parser.add_argument("--check-saved", metavar="DIR",
                        help="check files symkb saved with tf_keras's load_model")
    args = parser.parse_args()
    if args.check_saved:
        raise SystemExit(check_saved(args.check_saved))
    os.makedirs(OUT, exist_ok=True)
    if args.torch:
        write_torch()
        return
    keras, writer = keras_module()
    write_keras(keras, writer)


if __name__ == "__main__":
    main()
