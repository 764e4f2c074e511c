#!/usr/bin/env python
"""Golden files for saving, weights files, predict and clone_model, from REAL tf_keras.

TensorFlow is never a dependency of symkb or of its tests: this script runs
tf_keras once and records what it does, for symkb's tests to compare with.

How to run
----------
From the repository root, with a Python environment that has
``tensorflow-cpu``, ``tf-keras`` and ``h5py`` (``/opt/tfenv`` here)::

    /opt/tfenv/bin/python tools/goldens_saving.py            # tests/goldens/
    /opt/tfenv/bin/python tools/goldens_saving.py --out /tmp/g

The script sets ``TF_USE_LEGACY_KERAS=1`` and hides GPUs itself. It also
imports symkb from this checkout (numpy is enough: symkb falls back to its
interpreter without numba) to write ``.weights.h5`` files that tf_keras then
loads: that direction is recorded too. Weights and inputs come from
``numpy.random.default_rng`` with fixed seeds.

Files written
-------------
``saving.json`` + ``saving.npz``
    ``models``: small models (``code`` in the ``layers``/``Input``/``Model``/
    ``Sequential`` names, as in ``dense.json``), each with its weights
    (``<id>/weight<i>``, ``get_weights()`` order), input(s) and predictions
    (``<id>/input<i>``, ``<id>/output<i>``), the datasets of the
    ``.weights.h5`` file tf_keras wrote (``h5_datasets``: ``[path, shape,
    dtype]`` in sorted order, ``h5_groups``: every group), and
    ``symkb_file_loaded_by_tf_keras``: tf_keras's ``load_weights`` on the
    file symkb's ``save_weights`` wrote for the same weights (``ok``, the
    largest difference of tf_keras's predictions from ``output<i>``, and the
    datasets symkb wrote).
    ``predict``: tf_keras's ``predict`` on 70 rows (``predict/x``) of
    ``Sequential([Input((3,)), Dense(2)])`` (weights ``predict/weight<i>``,
    result ``predict/output``):
    the printed progress (``verbose`` 1, 2, ``"auto"``, 0; ``stdout`` as
    written, ``final`` = the text after the last carriage return), the row
    counts with ``steps`` (and ``batch_size``), errors for bad arguments,
    ``predict_on_batch`` == ``predict``.
    ``save_formats``: what tf_keras's ``model.save`` writes for each name
    (``kind``: ``zip`` with its members, ``hdf5``, ``dir`` with its entries).
    ``clone``: ``clone_model`` of the ``nested_functional`` model: model
    and layer names, whether weights differ, whether configs are equal.
``saving/<id>.weights.h5``
    tf_keras's ``save_weights`` of each model (so symkb's ``load_weights``
    is tested on real files); ``saving/mlp.keras`` and ``saving/mlp.h5``:
    tf_keras's ``model.save`` of ``mlp`` (symkb must refuse them as models).
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = "-1"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = [
    ("mlp", "model = Sequential([Input((4,)), layers.Dense(8, activation='relu'), "
            "layers.Dense(3, activation='softmax')])", "float"),
    ("rnn_stack", "model = Sequential([Input((5, 3)), layers.LSTM(4, return_sequences=True), "
                  "layers.Bidirectional(layers.GRU(2)), layers.Dense(2)])", "seq"),
    ("stacked_cells", "model = Sequential([Input((5, 3)), "
                      "layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)])])", "seq"),
    ("time_distributed", "model = Sequential([Input((5, 3)), "
                         "layers.TimeDistributed(layers.Dense(2)), layers.SimpleRNN(3)])", "seq"),
    ("embedding", "model = Sequential([Input((5,), dtype='int32'), "
                  "layers.Embedding(10, 4, mask_zero=True), layers.GRU(3)])", "tokens"),
    ("nested_functional",
     "a = Input((3,), name='a')\n"
     "b = Input((2,), name='b')\n"
     "inner = Sequential([Input((4,)), layers.Dense(4, activation='tanh')])\n"
     "shared = layers.Dense(4)\n"
     "h = inner(shared(a))\n"
     "j = layers.Concatenate()([h, b, shared(a)])\n"
     "model = Model([a, b], [layers.Dense(2, name='head')(j), h])", "two"),
]


def _inputs(kind, rng, rows=7):
    if kind == "float":
        return [rng.standard_normal((rows, 4)).astype("float32")]
    if kind == "seq":
        return [rng.standard_normal((rows, 5, 3)).astype("float32")]
    if kind == "tokens":
        x = rng.integers(1, 10, size=(rows, 5)).astype("int32")
        x[1, 3:] = 0
        return [x]
    return [rng.standard_normal((rows, 3)).astype("float32"),
            rng.standard_normal((rows, 2)).astype("float32")]


def _build(code, namespace):
    scope = dict(namespace)
    exec(code, scope)  # noqa: S102 (the script's own constant snippets)
    return scope["model"]


def _h5_layout(path):
    import h5py
    datasets, groups = [], []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                datasets.append([name, list(obj.shape), obj.dtype.name])
            else:
                groups.append(name)
        f.visititems(visit)
    return sorted(datasets), sorted(groups)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def make_models(out_dir, arrays):
    import numpy as np
    import tf_keras as keras
    from tf_keras import layers

    sys.path.insert(0, ROOT)
    import symkb

    tf_ns = {"layers": layers, "Input": keras.Input, "Model": keras.Model,
             "Sequential": keras.Sequential}
    sk_ns = {"layers": symkb.layers, "Input": symkb.layers.Input, "Model": symkb.Model,
             "Sequential": symkb.Sequential}
    files_dir = os.path.join(out_dir, "saving")
    os.makedirs(files_dir, exist_ok=True)
    cases = []
    for i, (cid, code, kind) in enumerate(MODELS):
        rng = np.random.default_rng(100 + i)
        keras.backend.clear_session()
        model = _build(code, tf_ns)
        weights = [rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype) for w in model.get_weights()]
        model.set_weights(weights)
        xs = _inputs(kind, rng)
        outs = [np.asarray(o) for o in _as_list(model.predict(xs if len(xs) > 1 else xs[0],
                                                              verbose=0))]
        h5_path = os.path.join(files_dir, f"{cid}.weights.h5")
        model.save_weights(h5_path)
        datasets, groups = _h5_layout(h5_path)
        for j, w in enumerate(weights):
            arrays[f"{cid}/weight{j}"] = w
        for j, x in enumerate(xs):
            arrays[f"{cid}/input{j}"] = x
        for j, o in enumerate(outs):
            arrays[f"{cid}/output{j}"] = o
        # symkb writes the same weights; tf_keras (a fresh model) loads them
        symkb.backend.clear_session()
        sk_model = _build(code, sk_ns)
        sk_model.set_weights(weights)
        with tempfile.TemporaryDirectory() as tmp:
            sk_path = os.path.join(tmp, f"{cid}.weights.h5")
            sk_model.save_weights(sk_path)
            sk_datasets, _ = _h5_layout(sk_path)
            keras.backend.clear_session()
            fresh = _build(code, tf_ns)
            try:
                fresh.load_weights(sk_path)
                again = [np.asarray(o) for o in _as_list(
                    fresh.predict(xs if len(xs) > 1 else xs[0], verbose=0))]
                diff = max(float(np.max(np.abs(u - v))) for u, v in zip(again, outs))
                loaded = {"ok": True, "max_abs_diff": diff}
            except Exception as exc:  # recorded: the test fails on it
                loaded = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        loaded["datasets"] = sk_datasets
        cases.append({
            "id": cid, "code": code, "input_kind": kind,
            "weight_keys": [f"{cid}/weight{j}" for j in range(len(weights))],
            "input_keys": [f"{cid}/input{j}" for j in range(len(xs))],
            "output_keys": [f"{cid}/output{j}" for j in range(len(outs))],
            "weights_file": f"saving/{cid}.weights.h5",
            "h5_datasets": datasets, "h5_groups": groups,
            "symkb_file_loaded_by_tf_keras": loaded,
        })
        if cid == "mlp":
            model.save(os.path.join(files_dir, "mlp.keras"))
            model.save(os.path.join(files_dir, "mlp.h5"))
    return cases


def _normalise_times(text):
    return re.sub(r"\d+(\.\d+)?(s|ms|us)\b", "<t>\\2", text)


def make_predict(arrays):
    import numpy as np
    import tf_keras as keras
    from tf_keras import layers

    keras.backend.clear_session()
    rng = np.random.default_rng(7)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    for j, w in enumerate(weights):
        arrays[f"predict/weight{j}"] = w
    x = rng.standard_normal((70, 3)).astype("float32")
    arrays["predict/x"] = x
    arrays["predict/output"] = model.predict(x, verbose=0)
    printed = {}
    for verbose in (1, 2, "auto", 0):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            model.predict(x, verbose=verbose)
        text = buffer.getvalue()
        printed[str(verbose)] = {"stdout": text, "final": text.split("\r")[-1],
                                 "final_normalised": _normalise_times(text.split("\r")[-1])}
    rows = {}
    for steps, batch_size in ((1, None), (2, None), (3, None), (5, None), (2, 10), (None, 20)):
        out = model.predict(x, steps=steps, batch_size=batch_size, verbose=0)
        rows[f"steps={steps},batch_size={batch_size}"] = int(out.shape[0])
    errors = {}
    for key, kwargs in (("batch_size_0", {"batch_size": 0}), ("steps_0", {"steps": 0}),
                        ("unknown_kwarg", {"foo": 1})):
        try:
            model.predict(x, verbose=0, **kwargs)
            errors[key] = {"raises": False}
        except Exception as exc:
            errors[key] = {"raises": True, "type": type(exc).__name__, "message": str(exc)}
    on_batch = model.predict_on_batch(x)
    return {"rows": 70, "printed": printed, "rows_returned": rows, "errors": errors,
            "predict_on_batch_equals_predict": bool(np.allclose(on_batch,
                                                                arrays["predict/output"],
                                                                rtol=1e-6, atol=1e-6)),
            "default_batches": printed["1"]["final"].split("/")[0].strip()}


def make_save_formats():
    import tf_keras as keras
    from tf_keras import layers

    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    formats = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("m.keras", "m.h5", "m.hdf5", "m", "m.symkb", "m.zip", "m.json"):
            path = os.path.join(tmp, name)
            try:
                with contextlib.redirect_stderr(io.StringIO()):
                    model.save(path)
            except Exception as exc:
                formats[name] = {"raises": True, "type": type(exc).__name__,
                                 "message": str(exc)}
                continue
            if os.path.isdir(path):
                formats[name] = {"kind": "dir", "entries": sorted(os.listdir(path))}
            elif zipfile.is_zipfile(path):
                formats[name] = {"kind": "zip",
                                 "members": sorted(zipfile.ZipFile(path).namelist())}
            else:
                with open(path, "rb") as f:
                    head = f.read(8)
                formats[name] = {"kind": "hdf5" if head == b"\x89HDF\r\n\x1a\n" else "other"}
            if os.path.isdir(path):
                shutil.rmtree(path)
    return formats


def make_clone():
    import numpy as np
    import tf_keras as keras
    from tf_keras import layers

    keras.backend.clear_session()
    tf_ns = {"layers": layers, "Input": keras.Input, "Model": keras.Model,
             "Sequential": keras.Sequential}
    code = dict((cid, c) for cid, c, _ in MODELS)["nested_functional"]
    model = _build(code, tf_ns)
    clone = keras.models.clone_model(model)
    same_objects = any(a is b for a, b in zip(model.layers, clone.layers))
    differ = any(not np.array_equal(a, b)
                 for a, b in zip(model.get_weights(), clone.get_weights()))
    return {"code": code, "model_name": model.name, "clone_name": clone.name,
            "layer_names": [layer.name for layer in model.layers],
            "clone_layer_names": [layer.name for layer in clone.layers],
            "clone_layer_classes": [type(layer).__name__ for layer in clone.layers],
            "shares_layer_objects": same_objects, "weights_differ": differ,
            "weight_shapes": [list(w.shape) for w in clone.get_weights()],
            "configs_equal": model.get_config() == clone.get_config()}


def versions():
    import numpy as np
    import tensorflow as tf
    import tf_keras
    return {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0]}


def main(argv=None):
    import numpy as np
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    arrays = {}
    doc = {"versions": versions(), "models": make_models(args.out, arrays),
           "predict": make_predict(arrays), "save_formats": make_save_formats(),
           "clone": make_clone()}
    with open(os.path.join(args.out, "saving.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    np.savez_compressed(os.path.join(args.out, "saving.npz"), **arrays)
    print(f"wrote {args.out}/saving.json, saving.npz and saving/")


if __name__ == "__main__":
    main()
