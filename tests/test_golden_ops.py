"""tf_keras parity: every op case recorded from real tf_keras by
``tools/make_goldens.py`` (``tests/goldens/ops.json`` + ``ops.npz``) is run
through symkb eagerly (numpy in, numpy out) and symbolically (placeholders of
the arguments' shapes -> ``K.function`` -> call) and compared with the
recorded output: dtype exactly, values with rtol 1e-5 (float32).

Cases of functions symkb does not provide (convolutions, pooling, focal
losses, ...) are listed in ``NOT_PROVIDED`` and skipped; the test
``test_not_provided_list_is_current`` keeps that list honest.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K
from symkb.ir import KerasTensor, Variable

GOLDENS = pathlib.Path(__file__).resolve().parent / "goldens"
OPS_JSON = GOLDENS / "ops.json"
OPS_NPZ = GOLDENS / "ops.npz"

if not OPS_JSON.exists() or not OPS_NPZ.exists():  # pragma: no cover
    pytest.skip("tests/goldens/ops.json is missing (run tools/make_goldens.py)",
                allow_module_level=True)

DATA = json.loads(OPS_JSON.read_text())
ARRAYS = dict(np.load(OPS_NPZ))
CASES = DATA["cases"]

# tf_keras.backend functions that symkb leaves out on purpose.
NOT_PROVIDED: set = set()

# Functions whose arguments are all Python values (nothing to make symbolic),
# or that answer a static question rather than build a tensor.
EAGER_ONLY = {"arange", "zeros", "ones", "eye", "constant", "cast_to_floatx"}


def _python(value):
    """Decode a ``{"value", "type"}`` json entry into the Python value passed to tf_keras."""
    kind, v = value["type"], value["value"]

    def tup(x):
        return tuple(tup(e) for e in x) if isinstance(x, list) else x

    if kind == "tuple":
        return tup(v)
    return v


def _decode(entry, make):
    """An argument: an array (through ``make``), a list of arrays or a Python value."""
    if "array" in entry:
        return make(ARRAYS[entry["array"]])
    if "array_list" in entry:
        return [make(ARRAYS[k]) for k in entry["array_list"]]
    return _python(entry)


def _arguments(case, make):
    args = [_decode(a, make) for a in case["args"]]
    kwargs = {k: _decode(v, make) for k, v in case["kwargs"].items()}
    return args, kwargs


def _tolerance(dtype):
    return {"float16": (1e-3, 1e-3), "float32": (1e-5, 1e-6)}.get(dtype, (1e-12, 1e-12))


def _check(got, expected, case, mode):
    """Compare one result with one recorded output (array or Python value)."""
    where = f"{case['id']} ({case['fn']}, {mode})"
    if "array" not in expected:
        want = _python(expected)
        if isinstance(want, tuple):
            got = tuple(got)
        assert got == want, f"{where}: got {got!r}, tf_keras gives {want!r}"
        return
    want = ARRAYS[expected["array"]]
    if isinstance(got, Variable):
        got = got.numpy()
    assert isinstance(got, np.ndarray), f"{where}: expected an np.ndarray, got {type(got)}"
    assert got.shape == want.shape, f"{where}: shape {got.shape}, tf_keras {want.shape}"
    assert got.dtype.name == expected["dtype"], \
        f"{where}: dtype {got.dtype.name}, tf_keras {expected['dtype']}"
    if got.dtype.kind in "f":
        rtol, atol = _tolerance(got.dtype.name)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


def _ids(cases):
    return [c["id"] for c in cases]


PROVIDED = [c for c in CASES if c["fn"] not in NOT_PROVIDED]


def _outputs(result, case):
    return list(result) if case["multi_output"] else [result]


@pytest.mark.parametrize("case", PROVIDED, ids=_ids(PROVIDED))
def test_eager(case):
    fn = getattr(K, case["fn"])
    args, kwargs = _arguments(case, lambda a: a.copy())
    result = fn(*args, **kwargs)
    outs = _outputs(result, case)
    assert len(outs) == len(case["outputs"])
    for got, expected in zip(outs, case["outputs"]):
        _check(got, expected, case, "eager")


SYMBOLIC = [c for c in PROVIDED if c["fn"] not in EAGER_ONLY]


@pytest.mark.parametrize("case", SYMBOLIC, ids=_ids(SYMBOLIC))
def test_symbolic(case):
    fn = getattr(K, case["fn"])
    placeholders, feeds = [], []

    def make(array):
        p = K.placeholder(shape=array.shape, dtype=array.dtype.name)
        placeholders.append(p)
        feeds.append(array)
        return p

    args, kwargs = _arguments(case, make)
    result = fn(*args, **kwargs)
    outs = _outputs(result, case)
    assert len(outs) == len(case["outputs"])
    symbolic = [o for o in outs if isinstance(o, KerasTensor)]
    values = iter(K.function(placeholders, symbolic, target="interpreter")(feeds) if symbolic else [])
    for got, expected in zip(outs, case["outputs"]):
        if isinstance(got, KerasTensor):
            # the static type inferred at build time agrees with tf_keras too
            assert K.int_shape(got) == tuple(expected["shape"]), case["id"]
            assert got.dtype == expected["dtype"], case["id"]
            got = next(values)
        _check(got, expected, case, "symbolic")


# Static shape arguments tie these to their argument's sizes: an unknown batch
# dimension cannot work (reshape to a fixed size, a given output shape, ...);
# the static-information functions return Python values, never tensors.
NEEDS_STATIC_BATCH = {"reshape", "flatten", "conv2d_transpose", "one_hot", "count_params"}
STATIC_INFORMATION = {"ndim", "int_shape", "dtype"}
UNKNOWN_BATCH = [c for c in SYMBOLIC
                 if c["fn"] not in NEEDS_STATIC_BATCH | STATIC_INFORMATION]


@pytest.mark.parametrize("case", UNKNOWN_BATCH, ids=_ids(UNKNOWN_BATCH))
def test_symbolic_unknown_batch(case):
    """Placeholders with an unknown first dimension give the same values."""
    fn = getattr(K, case["fn"])
    placeholders, feeds = [], []

    def make(dynamic):
        def placeholder(array):
            shape = (None,) + array.shape[1:] if array.ndim and dynamic else array.shape
            p = K.placeholder(shape=shape, dtype=array.dtype.name)
            placeholders.append(p)
            feeds.append(array)
            return p
        return placeholder

    # the first argument (each tensor of a first-argument list) is the batched one
    args = [_decode(a, make(i == 0)) for i, a in enumerate(case["args"])]
    kwargs = {k: _decode(v, make(False)) for k, v in case["kwargs"].items()}
    result = fn(*args, **kwargs)
    outs = [o for o in _outputs(result, case) if isinstance(o, KerasTensor)]
    assert outs, f"{case['fn']} gave no symbolic result"
    expected = [e for o, e in zip(_outputs(result, case), case["outputs"])
                if isinstance(o, KerasTensor)]
    for got, e in zip(outs, expected):
        static = K.int_shape(got)
        assert len(static) == len(e["shape"]) and all(
            s is None or s == w for s, w in zip(static, e["shape"])), (case["id"], static)
    values = K.function(placeholders, outs, target="interpreter")(feeds)
    for got, e in zip(values, expected):
        _check(got, e, case, "symbolic, unknown batch")


def test_not_provided_list_is_current():
    """A function in NOT_PROVIDED that symkb gains must have its goldens run."""
    gained = sorted(fn for fn in NOT_PROVIDED if hasattr(K, fn))
    assert not gained, f"remove {gained} from NOT_PROVIDED: symkb provides them now"


def test_every_golden_function_exists():
    missing = sorted({c["fn"] for c in PROVIDED if not hasattr(K, c["fn"])})
    assert not missing, f"symkb.backend lacks {missing}"


FAILED = {f["id"]: f for f in DATA.get("failed", [])}


def test_sum_of_bool_is_rejected_like_tf_keras():
    """tf_keras refuses to sum booleans (no Sum kernel for bool)."""
    assert "sum_bool" in FAILED
    with pytest.raises(TypeError, match="sum"):
        K.sum(np.array([[True, False]]), axis=1)


def test_switch_rank1_condition_broadcasts_against_last_axis():
    """A rank-1 condition goes to tf.where as is: (2,) against (2, 3) fails."""
    assert "switch_cond_rank1" in FAILED
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="switch"):
        K.switch(np.array([True, False]), x, x)
