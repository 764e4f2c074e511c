#!/usr/bin/env python
"""Golden values of real tf_keras for the edge cases of calls: empty reduced
axes, integer powers with negative exponents, out-of-range indices, inputs in
non-native byte order.

For each case tf_keras either returns a value (recorded with its dtype) or
raises (recorded as the exception's class name and the first line of its
message). symkb's tests (``tests/test_robust_calls.py``) require the
interpreter and the cpu target to give tf's value, or both to raise.

How to run, from the repository root, with the TensorFlow environment
(``tensorflow-cpu`` and ``tf-keras`` 2.x)::

    TF_USE_LEGACY_KERAS=1 CUDA_VISIBLE_DEVICES=-1 /opt/tfenv/bin/python tools/goldens_robust_calls.py

writes ``tests/goldens/robust_calls.json``. The inputs are fixed literals, so
re-running gives the same file.
"""
from __future__ import annotations

import json
import os
import pathlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tf_keras import backend as K  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "goldens" / "robust_calls.json"

EMPTY = np.zeros((0, 3), np.float32)
EMPTY_INT = np.zeros((0, 3), np.int32)
INTS = np.array([[1, 2, 3]], np.int32)

# name -> (function of the input, input)
CASES = {
    "max_empty_axis0": (lambda x: K.max(x, axis=0), EMPTY),
    "min_empty_axis0": (lambda x: K.min(x, axis=0), EMPTY),
    "max_empty_all": (lambda x: K.max(x), EMPTY),
    "sum_empty_axis0": (lambda x: K.sum(x, axis=0), EMPTY),
    "prod_empty_axis0": (lambda x: K.prod(x, axis=0), EMPTY),
    "mean_empty_axis0": (lambda x: K.mean(x, axis=0), EMPTY),
    "logsumexp_empty_axis0": (lambda x: tf.math.reduce_logsumexp(x, axis=0), EMPTY),
    "int_max_empty_axis0": (lambda x: K.max(x, axis=0), EMPTY_INT),
    "int_min_empty_axis0": (lambda x: K.min(x, axis=0), EMPTY_INT),
    "argmax_empty_axis0": (lambda x: K.argmax(x, axis=0), EMPTY),
    "argmin_empty_axis0": (lambda x: K.argmin(x, axis=0), EMPTY),
    "argmax_empty_rows": (lambda x: K.argmax(x, axis=-1), EMPTY),
    "int_pow_negative_constant": (lambda x: K.pow(x, -2), INTS),
    "int_pow_negative_tensor": (lambda x: K.pow(x, x - 2), INTS),
    "int_pow_zero_and_positive": (lambda x: K.pow(x, x - 1), INTS),
    "gather_out_of_range": (
        lambda i: K.gather(tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3)), i),
        np.array([[0, 1, 5]], np.int32)),
    "gather_negative": (
        lambda i: K.gather(tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3)), i),
        np.array([[0, -1, 2]], np.int32)),
    "one_hot_out_of_range": (lambda i: K.one_hot(i, 3), np.array([[0, 1, 5, -1]], np.int32)),
    "softmax_empty_axis": (lambda x: K.softmax(x), np.zeros((2, 0), np.float32)),
    "getitem_out_of_range": (lambda x: x[5], np.arange(6, dtype=np.float32).reshape(2, 3)),
    "getitem_negative_out_of_range": (lambda x: x[-3],
                                      np.arange(6, dtype=np.float32).reshape(2, 3)),
    "mean_big_endian": (lambda x: K.mean(x, axis=1),
                        np.arange(6, dtype=">f4").reshape(2, 3)),
}


def run(fn, x):
    try:
        value = fn(tf.constant(x.astype(x.dtype.newbyteorder("="))))
        value = np.asarray(value)
    except Exception as exc:  # recorded: the expected refusal
        return {"raises": type(exc).__name__, "message": str(exc).strip().splitlines()[0]}
    return {"value": value.tolist(), "dtype": value.dtype.name, "shape": list(value.shape)}


def main() -> None:
    doc = {"tensorflow": tf.__version__, "cases": {}}
    for name, (fn, x) in CASES.items():
        doc["cases"][name] = {"input": x.tolist(), "input_dtype": x.dtype.str,
                              "input_shape": list(x.shape),
                              **run(fn, x)}
    text = json.dumps(doc, indent=1, sort_keys=True, allow_nan=True)
    OUT.write_text(text + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
