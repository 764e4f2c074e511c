#!/usr/bin/env python
"""Golden answers of real tf_keras for reductions, comparisons and elementwise
ops on NaN, +-inf and -0.0.

symkb follows ``tf_keras.backend`` on special values too: where an argmax
meets a NaN, what ``maximum(0.0, -0.0)`` returns, whether ``relu(-0.0)`` keeps
its sign. This script records what TensorFlow's CPU kernels answer for
inputs full of such values, on several axes, and writes

* ``tests/goldens/nonfinite.json``: ``{"versions", "cases": [...]}``; each
  case ``{"id", "fn", "args": [...], "kwargs": {...}, "out": key, "dtype",
  "shape"}``. An argument is ``{"array": key}`` (an npz array) or
  ``{"value": v}`` (a Python number, ``null`` for None; the strings ``"nan"``,
  ``"inf"`` and ``"-inf"`` stand for those floats). ``fn`` names a
  ``tf_keras.backend`` function, except ``logsumexp``: tf_keras 2.x has no
  ``K.logsumexp`` and the case records ``tf.reduce_logsumexp``.
* ``tests/goldens/nonfinite.npz``: the inputs (``in/<name>``) and every
  case's output (``<id>/out``), bit for bit (NaNs and signed zeros kept).

How to run, from the repository root, in the environment with TensorFlow and
tf_keras (the script sets ``TF_USE_LEGACY_KERAS=1`` and hides GPUs itself)::

    /opt/tfenv/bin/python tools/goldens_nonfinite.py [--out DIR]

Every input is written out literally or drawn from
``numpy.random.default_rng(7)``, so re-running gives the same files (the npz
bytes differ only by zip timestamps).
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

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "goldens")

nan, inf = np.nan, np.inf


def inputs():
    """The named input arrays (float32 unless the name says otherwise)."""
    rng = np.random.default_rng(7)
    f32 = np.float32
    x = np.array([[1, nan, 3, -inf],
                  [-0.0, 0.0, inf, 2],
                  [nan, nan, 1, 1],
                  [-inf, -inf, -inf, -inf],
                  [inf, nan, -inf, 0],
                  [-0.0, -0.0, -0.0, -0.0],
                  [nan, nan, nan, nan],
                  [2, inf, inf, 5]], f32)
    # argmax/argmin corner rows: NaN first, NaN beside -inf / +inf, all NaN
    arg = np.array([[nan, 1, 2, 0],
                    [1, nan, 3, 2],
                    [nan, -inf, -inf, -inf],
                    [-inf, nan, -inf, -inf],
                    [nan, inf, inf, inf],
                    [inf, nan, inf, 1],
                    [5, 5, nan, 5],
                    [-0.0, 0.0, 0.0, -0.0]], f32)
    cube = rng.standard_normal((3, 4, 5)).astype(f32)
    cube[0, 1, 2] = nan
    cube[1, 2, :] = inf
    cube[2, 0, 3] = -inf
    cube[2, 3, :] = -0.0
    cube[1, 0, 0] = nan
    cube[0, 3, 4] = -inf
    # a, b and u have 12 elements, and the signed-zero pairs sit in the first
    # 8: tf's vectorised maximum/minimum answer the second operand on ties,
    # its scalar tail loop the first; symkb follows the vectorised kernels.
    a = np.array([nan, 1, nan, -0.0, 0.0, inf, -inf, nan, -0.0, inf, -inf, 2], f32)
    b = np.array([1, nan, nan, 0.0, -0.0, nan, 1, inf, -0.0, inf, -inf, -0.0], f32)
    u = np.array([nan, inf, -inf, -0.0, 0.0, -0.5, 0.5, 1.5, -2.5, 2.5, -1e-30, 3e38], f32)
    # ties between zeros of both signs, for the reductions' and scans' signs
    zeros = np.array([[-0.0, 0.0, -1, -5], [0.0, -0.0, -1, -5], [-0.0, -0.0, 0.0, -0.0],
                      [0.0, 0.0, -0.0, 0.0], [-0.0, -0.0, -0.0, -0.0], [1, -1, -0.0, 0.0]], f32)
    return {"x": x, "arg": arg, "zeros": zeros, "cube": cube, "a": a, "b": b, "u": u,
            "x64": x.astype(np.float64), "u64": u.astype(np.float64)}


def _reductions():
    cases = []
    for fn in ("max", "min", "sum", "mean", "prod", "std", "var", "any", "all", "logsumexp"):
        for name, axis, keep in (("x", -1, False), ("x", 0, False), ("x", None, False),
                                 ("cube", 1, True), ("cube", (0, 2), False),
                                 ("cube", None, True)):
            cases.append((fn, [name], {"axis": axis, "keepdims": keep}))
    for fn in ("argmax", "argmin"):
        for name, axis in (("x", -1), ("x", 0), ("arg", -1), ("arg", 0), ("cube", 1),
                           ("cube", 2), ("x64", -1)):
            cases.append((fn, [name], {"axis": axis}))
    for fn in ("max", "min", "sum", "prod", "mean"):
        cases.append((fn, ["zeros"], {"axis": -1, "keepdims": False}))
        cases.append((fn, ["zeros"], {"axis": 0, "keepdims": False}))
    for fn in ("argmax", "argmin"):
        cases.append((fn, ["zeros"], {"axis": -1}))
    for fn in ("cumsum", "cumprod"):
        cases.append((fn, ["x"], {"axis": 1}))
        cases.append((fn, ["zeros"], {"axis": 1}))
        cases.append((fn, ["zeros"], {"axis": 0}))
    cases.append(("max", ["x64"], {"axis": -1}))
    cases.append(("min", ["x64"], {"axis": 0}))
    return cases


def _elementwise():
    cases = []
    for fn in ("maximum", "minimum", "equal", "not_equal", "greater", "greater_equal",
               "less", "less_equal"):
        cases.append((fn, ["a", "b"], {}))
        cases.append((fn, ["b", "a"], {}))
        cases.append((fn, ["u", {"value": 0.0}], {}))
        cases.append((fn, ["u", {"value": "nan"}], {}))
    for fn in ("sign", "abs", "relu", "round", "sqrt", "square", "exp", "log", "sigmoid",
               "tanh", "softplus", "softsign", "elu", "hard_sigmoid"):
        cases.append((fn, ["u"], {}))
    for fn in ("sign", "abs", "relu", "round", "sqrt"):
        cases.append((fn, ["u64"], {}))
    for kw in ({"alpha": 0.1}, {"max_value": 1.0}, {"threshold": 0.5},
               {"alpha": 0.2, "max_value": 2.0, "threshold": -1.0}, {"max_value": 0.0},
               {"max_value": 6.0}, {"alpha": 0.3, "max_value": 6.0},
               {"alpha": 0.1, "threshold": 0.5}):
        cases.append(("relu", ["u"], kw))
    # No bound is a Python -0.0: tf's eager scalar cache keys constants by
    # value, so a -0.0 may come back as a cached +0.0 (and so the answer
    # depends on what ran before).
    for lo, hi in ((-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0), (None, 0.0),
                   (-inf, inf), (1.0, -1.0), (nan, 1.0)):
        cases.append(("clip", ["u", {"value": lo}, {"value": hi}], {}))
    cases.append(("elu", ["u"], {"alpha": 0.5}))
    cases.append(("softmax", ["x"], {"axis": -1}))
    return cases


def _value(v):
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


def _decode(v):
    return float(v) if isinstance(v, str) else v


def _case_id(fn, args, kwargs, seen):
    parts = [fn] + [a if isinstance(a, str) else f"v{a['value']}" for a in args]
    for k, v in sorted(kwargs.items()):
        parts.append(f"{k}{v}")
    base = "_".join(str(p) for p in parts)
    for ch in " ()-,.":
        base = base.replace(ch, {"(": "", ")": "", " ": "", ",": "-", "-": "m", ".": "p"}[ch])
    cid, n = base, 1
    while cid in seen:
        cid, n = f"{base}_{n}", n + 1
    seen.add(cid)
    return cid


def run(fn, arrays, args, kwargs):
    """Call the tf_keras function (or tf.reduce_logsumexp) on tf constants."""
    call_args = [tf.constant(arrays[a]) if isinstance(a, str) else _decode(a["value"])
                 for a in args]
    if fn == "logsumexp":
        return tf.reduce_logsumexp(call_args[0], axis=kwargs["axis"],
                                   keepdims=kwargs["keepdims"])
    return getattr(K, fn)(*call_args, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    opts = parser.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    arrays = inputs()
    npz = {f"in/{k}": v for k, v in arrays.items()}
    cases, seen = [], set()
    for fn, args, kwargs in _reductions() + _elementwise():
        cid = _case_id(fn, args, kwargs, seen)
        out = np.asarray(run(fn, arrays, args, kwargs).numpy())
        npz[f"{cid}/out"] = out
        cases.append({
            "id": cid, "fn": fn,
            "args": [{"array": f"in/{a}"} if isinstance(a, str) else
                     {"value": _value(_decode(a["value"]))} for a in args],
            "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
            "out": f"{cid}/out", "dtype": out.dtype.name, "shape": list(out.shape)})
    meta = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                         "numpy": np.__version__, "python": sys.version.split()[0]},
            "cases": cases}
    with open(os.path.join(opts.out, "nonfinite.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    np.savez_compressed(os.path.join(opts.out, "nonfinite.npz"), **npz)
    print(f"wrote {len(cases)} cases to {opts.out}/nonfinite.json/.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
