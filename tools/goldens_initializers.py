#!/usr/bin/env python
"""Golden reference for weight initialisers, from REAL tf_keras.

Writes ``tests/goldens/initializers.json``: what ``tf_keras.initializers.get``
makes of every name and alias tf_keras knows (class and ``get_config``),
``serialize`` of initialisers built with arguments, exact values of the
deterministic ones (Zeros, Ones, Constant, Identity), sample statistics of the
random ones over large draws (mean, std, min, max, per shape), the Gram matrix
of Orthogonal draws, and the messages of bad arguments.

How to run (from the repository root, in the environment with tensorflow-cpu
and tf-keras; TensorFlow is never a dependency of symkb or of its tests)::

    /opt/tfenv/bin/python tools/goldens_initializers.py
    /opt/tfenv/bin/python tools/goldens_initializers.py --out /tmp/goldens

The script sets ``TF_USE_LEGACY_KERAS=1``, hides GPUs and re-executes itself
with ``PYTHONHASHSEED=0`` (some messages print a Python set). Draws use fixed
seeds, so the statistics are reproducible.
"""
import argparse
import json
import os
import sys

if __name__ == "__main__" and os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = "-1"

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Initialisers built with arguments: the snippet is evaluated with the
# initialiser classes in scope (tf_keras's, and symkb's in the tests).
CONFIG_SNIPPETS = [
    "Zeros()", "Ones()", "Constant(3.5)", "Constant(value=[1.0, 2.0])",
    "RandomUniform(-1.0, 2.0, seed=4)", "RandomNormal(mean=1.0, stddev=0.5, seed=5)",
    "TruncatedNormal(mean=-1.0, stddev=2.0, seed=6)",
    "VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform', seed=3)",
    "VarianceScaling(mode='fan_avg', distribution='normal')",
    "VarianceScaling(scale=0.5, distribution='untruncated_normal')",
    "Orthogonal(gain=2.0, seed=1)", "Identity(gain=0.5)",
    "GlorotUniform(seed=1)", "GlorotNormal(seed=2)", "LecunUniform(seed=3)",
    "LecunNormal(seed=4)", "HeUniform(seed=5)", "HeNormal(seed=6)",
]

# (snippet, shape) pairs whose draws are summarised; shapes cover every fan
# rule (rank 0, 1, 2 and a 4-D kernel with a receptive field).
STATS = [
    ("RandomUniform()", [200, 500]),
    ("RandomUniform(-1.0, 3.0)", [200, 500]),
    ("RandomNormal()", [200, 500]),
    ("RandomNormal(mean=2.0, stddev=3.0)", [200, 500]),
    ("TruncatedNormal()", [200, 500]),
    ("TruncatedNormal(mean=1.0, stddev=2.0)", [200, 500]),
    ("GlorotUniform()", [300, 200]),
    ("GlorotNormal()", [300, 200]),
    ("LecunUniform()", [300, 200]),
    ("LecunNormal()", [300, 200]),
    ("HeUniform()", [300, 200]),
    ("HeNormal()", [300, 200]),
    ("HeNormal()", [3, 3, 40, 60]),
    ("GlorotUniform()", [5, 7, 30, 50]),
    ("LecunNormal()", [100000]),
    ("LecunNormal()", []),
    ("VarianceScaling(scale=3.0, mode='fan_out', distribution='uniform')", [400, 250]),
    ("VarianceScaling(scale=0.5, mode='fan_avg', distribution='untruncated_normal')",
     [400, 250]),
    ("VarianceScaling(scale=2.0, mode='fan_in', distribution='truncated_normal')",
     [400, 250]),
    ("Orthogonal()", [300, 300]),
    ("Orthogonal(gain=2.0)", [200, 500]),
]

VALUES = [
    ("Zeros()", [2, 3], "float32"), ("Ones()", [3], "float32"),
    ("Constant(2.5)", [2, 2], "float32"), ("Constant(value=[1.0, 2.0, 3.0])", [3], "float32"),
    ("Identity()", [2, 3], "float32"), ("Identity(gain=3.0)", [4, 2], "float32"),
    ("Identity()", [3, 3], "float64"), ("Ones()", [2, 2], "float64"),
]

ORTHOGONAL = [("Orthogonal()", [6, 4]), ("Orthogonal(gain=1.5)", [3, 7]),
              ("Orthogonal()", [2, 3, 4]), ("Orthogonal()", [5, 5])]

ERRORS = [
    ("identity_rank3", "Identity()((2, 3, 4))"),
    ("identity_rank1", "Identity()((3,))"),
    ("variance_scaling_scale", "VarianceScaling(scale=-1.0)"),
    ("variance_scaling_mode", "VarianceScaling(mode='fan_x')"),
    ("variance_scaling_distribution", "VarianceScaling(distribution='gamma')"),
    ("unknown_name", "get('not_an_initializer')"),
]


def _namespace(initializers):
    names = ["Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
             "TruncatedNormal", "VarianceScaling", "Orthogonal", "Identity",
             "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal",
             "HeUniform", "HeNormal", "get"]
    return {name: getattr(initializers, name) for name in names}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args(argv)
    import tensorflow as tf
    import tf_keras
    from tf_keras import initializers
    from tf_keras.src.initializers import LOCAL

    tf.random.set_seed(1234)
    ns = _namespace(initializers)
    aliases = {}
    for key in sorted(LOCAL.ALL_OBJECTS):
        obj = initializers.get(key)
        aliases[key] = {"class_name": type(obj).__name__, "config": obj.get_config()}

    configs = []
    for snippet in CONFIG_SNIPPETS:
        obj = eval(snippet, dict(ns))
        ser = initializers.serialize(obj)
        back = initializers.deserialize(ser)
        configs.append({"code": snippet, "serialized": ser,
                        "round_trip_config": back.get_config()})

    stats = []
    for i, (snippet, shape) in enumerate(STATS):
        obj = eval(snippet, dict(ns))
        obj_config = obj.get_config()
        if "seed" in obj_config:
            obj = type(obj)(**{**obj_config, "seed": 100 + i})
        value = obj(tuple(shape), dtype="float32").numpy().astype(np.float64)
        stats.append({"code": snippet, "shape": shape, "size": int(value.size),
                      "mean": float(value.mean()), "std": float(value.std()),
                      "min": float(value.min()), "max": float(value.max())})

    values = []
    for snippet, shape, dtype in VALUES:
        value = eval(snippet, dict(ns))(tuple(shape), dtype=dtype).numpy()
        values.append({"code": snippet, "shape": shape, "dtype": dtype,
                       "value": value.tolist(), "result_dtype": value.dtype.name})

    orthogonal = []
    for snippet, shape in ORTHOGONAL:
        obj = eval(snippet, dict(ns))
        q = obj(tuple(shape)).numpy().astype(np.float64)
        flat = q.reshape(-1, shape[-1])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        orthogonal.append({"code": snippet, "shape": shape,
                           "gram": np.round(gram, 5).tolist()})

    errors = {}
    for key, snippet in ERRORS:
        try:
            eval(snippet, dict(ns))
            errors[key] = {"code": snippet, "raises": False}
        except Exception as exc:  # noqa: BLE001 (recording what tf_keras raises)
            errors[key] = {"code": snippet, "raises": True, "type": type(exc).__name__,
                           "message": str(exc)}

    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
                        "numpy": np.__version__},
           "aliases": aliases, "configs": configs, "stats": stats, "values": values,
           "orthogonal": orthogonal, "errors": errors}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "initializers.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
