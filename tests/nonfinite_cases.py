"""The tf_keras answers on NaN, +-inf and -0.0 (``tests/goldens/nonfinite.*``).

Written by ``tools/goldens_nonfinite.py`` from real tf_keras. Shared by the
eager / interpreter / cpu tests (``tests/test_nonfinite_golden.py``) and the
cuda tests (``tests/cuda/test_nonfinite.py``).
"""
from __future__ import annotations

import json
import pathlib

import numpy as np

GOLDENS = pathlib.Path(__file__).resolve().parent / "goldens"
DATA = json.loads((GOLDENS / "nonfinite.json").read_text())
ARRAYS = dict(np.load(GOLDENS / "nonfinite.npz"))
CASES = DATA["cases"]
IDS = [c["id"] for c in CASES]

# float32 transcendental functions may differ from TensorFlow's by an ulp or two
RTOL = {"float32": 2e-6, "float64": 1e-13}


def _value(v):
    return float(v) if isinstance(v, str) else v


def kwargs_of(case):
    """The keyword arguments, tuples restored."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}


def args_of(case, make=lambda a: a):
    """The positional arguments: arrays through ``make``, Python numbers as they are."""
    return [make(ARRAYS[a["array"]]) if "array" in a else _value(a["value"])
            for a in case["args"]]


def call(K, case, args):
    """Run the case's function from the symkb backend ``K`` on ``args``."""
    return getattr(K, case["fn"])(*args, **kwargs_of(case))


def check(got, case, where, zero_signs=True):
    """``got`` equals the recorded tf_keras answer: dtype, shape, NaN and inf
    positions, values (a few ulps) and, with ``zero_signs``, the sign of every zero."""
    want = ARRAYS[case["out"]]
    got = np.asarray(got)
    label = f"{where}: {case['fn']} case {case['id']}"
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype}, tf_keras {want.dtype}"
    assert got.shape == want.shape, f"{label}: shape {got.shape}, tf_keras {want.shape}"
    if want.dtype.kind != "f":
        assert np.array_equal(got, want), f"{label}: got\n{got}\ntf_keras gives\n{want}"
        return
    np.testing.assert_allclose(got, want, rtol=RTOL[want.dtype.name], atol=0,
                               equal_nan=True, err_msg=label)
    if not zero_signs:
        return
    zeros = want == 0
    assert np.array_equal(np.signbit(got[zeros]), np.signbit(want[zeros])), (
        f"{label}: signs of zeros differ: got\n{got}\ntf_keras gives\n{want}")


def symbolic_graph(K, cases, name="nonfinite"):
    """``(graph, feeds)``: ``cases`` as one graph, a placeholder per array argument."""
    from symkb.ir import Graph
    inputs, feeds, outputs = [], [], []
    for case in cases:
        def make(a):
            ph = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            inputs.append(ph)
            feeds.append(a)
            return ph
        outputs.append(call(K, case, args_of(case, make)))
    return Graph(inputs, outputs, name=name), feeds
