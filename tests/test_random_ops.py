"""Random ops with symbolic shapes, and K.print_tensor on symbolic tensors.

Random ops: the interpreter (numpy's generator) and the cpu target (Numba's)
draw different streams, so both are checked on distribution statistics, on
two runs differing, on seeded runs reproducing, and on two calls never being
merged. print_tensor: the printed text is tf.print's (goldens from tf_keras,
tools/goldens_dtypes.py), on both targets, at every run.
"""
import json
import pathlib
import warnings

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir
from symkb.lower.passes import run_pipeline

GOLDENS = pathlib.Path(__file__).parent / "goldens"
PRINTS = json.loads((GOLDENS / "dtypes.json").read_text())["print_tensor"]
ARRAYS = np.load(GOLDENS / "dtypes.npz")
TARGETS = ["interpreter", "cpu"]
N = 20000


def compiled(inputs, outputs, target):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to the interpreter is a failure
        f = K.function(inputs, outputs, target=target)
    if target == "cpu":
        assert type(f).__name__ == "CpuExecutable"
    return f


@pytest.mark.parametrize("target", TARGETS)
def test_x_plus_uniform_of_its_shape(target):
    x = K.placeholder((None, 4))
    y = x + K.random_uniform(K.shape(x), minval=-1.0, maxval=3.0)
    assert y.shape == (None, 4) and y.dtype == "float32"
    f = compiled([x], y, target)
    ones = np.ones((N // 4, 4), "float32")
    a, b = f([ones]), f([ones])
    assert a.shape == ones.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() < 4.0
    assert abs(a.mean() - 2.0) < 0.05 and abs(a.std() - 4 / np.sqrt(12)) < 0.05
    assert (a != b).mean() > 0.99  # unseeded: every run draws anew


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("op, kwargs, mean, std", [
    ("random_normal", dict(mean=1.0, stddev=2.0), 1.0, 2.0),
    ("truncated_normal", dict(mean=-1.0, stddev=0.5), -1.0, 0.5 * 0.8796),
    ("random_bernoulli", dict(p=0.3), 0.3, np.sqrt(0.3 * 0.7)),
])
def test_distributions(target, op, kwargs, mean, std):
    x = K.placeholder((None,), dtype="float64")
    y = getattr(K, op)(K.shape(x), dtype="float64", **kwargs)
    assert y.dtype == "float64" and y.shape == (None,)
    v = compiled([x], y, target)([np.zeros(N)])
    assert v.shape == (N,) and v.dtype == np.float64
    assert abs(v.mean() - mean) < 4 * std / np.sqrt(N) + 1e-3
    assert abs(v.std() - std) < 0.03 * std
    if op == "truncated_normal":
        assert np.abs(v - mean).max() <= 2 * 0.5
    if op == "random_bernoulli":
        assert set(np.unique(v)) == {0.0, 1.0}


@pytest.mark.parametrize("target", TARGETS)
def test_seeded_draws_reproduce_and_two_calls_are_two_nodes(target):
    x = K.placeholder((None, 3))
    size = K.shape(x)
    seeded = [K.random_normal(size, seed=11), K.random_normal(size, seed=11),
              K.random_normal(size, seed=12)]
    unseeded = [K.random_uniform(size), K.random_uniform(size)]
    outs = seeded + unseeded
    optimised, _ = run_pipeline(ir.Graph([x], outs))
    drawn = [n for n in optimised.nodes if n.op in ("random_normal", "random_uniform")]
    assert len(drawn) == 5  # cse merges no random nodes, even equal seeded ones
    f = compiled([x], outs, target)
    zeros = np.zeros((500, 3), "float32")
    first, again = f([zeros]), f([zeros])
    np.testing.assert_array_equal(first[0], again[0])  # a seed reproduces at every run
    np.testing.assert_array_equal(first[0], first[1])  # and the same seed the same values
    assert (first[0] != first[2]).all()
    assert (first[3] != first[4]).mean() > 0.99      # two unseeded calls differ
    assert (first[3] != again[3]).mean() > 0.99      # and so do two runs
    g = compiled([x], seeded[0], target)            # a new compile reproduces the seed
    np.testing.assert_array_equal(g([zeros]), first[0])


def test_interpreter_seeded_draws_are_numpys():
    x = K.placeholder((None, 3))
    f = compiled([x], K.random_uniform(K.shape(x), seed=7), "interpreter")
    want = np.random.default_rng(7).uniform(0, 1, size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(f([np.zeros((5, 3), "float32")]), want)


@pytest.mark.parametrize("target", TARGETS)
def test_shape_tuple_with_symbolic_sizes(target):
    x = K.placeholder((None, 3))
    y = K.random_uniform((K.shape(x)[0], 5), seed=1)
    assert y.shape == (None, 5)
    out = compiled([x], y, target)([np.zeros((7, 3), "float32")])
    assert out.shape == (7, 5) and 0 <= out.min() and out.max() < 1


@pytest.mark.parametrize("target", TARGETS)
def test_random_in_a_float16_graph(target):
    x = K.placeholder((None, 2), dtype="float16")
    y = x + K.random_uniform(K.shape(x), dtype="float16", seed=3)
    out = compiled([x], y, target)([np.zeros((N // 2, 2), "float16")])
    assert out.dtype == np.float16 and abs(out.astype("float32").mean() - 0.5) < 0.02


def test_bad_symbolic_shapes_are_refused():
    x = K.placeholder((None, 3))
    with pytest.raises(ValueError, match="random_uniform: a symbolic `shape` must be a 1-D int"):
        K.random_uniform(x)
    with pytest.raises(ValueError, match="random_normal: every size"):
        K.random_normal((K.shape(x), 3))
    with pytest.raises(TypeError, match="floating-point dtype"):
        K.random_uniform(K.shape(x), dtype="int32")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", PRINTS, ids=lambda c: c["id"])
def test_print_tensor_prints_as_tf_at_every_run(case, target, capfd):
    value = ARRAYS[f"{case['id']}/x"]
    x = K.placeholder(value.shape, dtype=value.dtype.name)
    y = K.print_tensor(x, message=case["message"])
    f = compiled([x], y, target)
    capfd.readouterr()
    for _ in range(2):
        out = f([value])
        np.testing.assert_array_equal(out, value)
    assert capfd.readouterr().out == case["printed"] * 2


def test_print_tensor_eager_prints_as_tf(capfd):
    case = PRINTS[0]
    value = ARRAYS[f"{case['id']}/x"]
    assert K.print_tensor(value, message=case["message"]) is value
    assert capfd.readouterr().out == case["printed"]


def test_two_prints_are_never_merged_nor_folded(capfd):
    x = K.placeholder((2,))
    c = K.print_tensor(ir.const(np.float32([1, 2])), "c")
    y = K.print_tensor(x, "a") + K.print_tensor(x, "a") + c
    f = compiled([x], y, "cpu")
    capfd.readouterr()
    f([np.float32([0.5, 1])])
    # three prints at run time (the constant one is not folded away at compile time)
    assert sorted(capfd.readouterr().out.splitlines()) == ["a [0.5 1]", "a [0.5 1]", "c [1 2]"]


@pytest.mark.parametrize("target", TARGETS)
def test_random_and_print_in_a_loop_body(target, capfd):
    x = K.placeholder((None, 4, 2))

    def step(x_t, states):
        h = K.print_tensor(states[0] + K.random_uniform(K.shape(states[0])), "h")
        return h, [h]

    _, outs, _ = K.rnn(step, x, [K.zeros_like(x[:, 0, :])])
    f = compiled([x], outs, target)
    capfd.readouterr()
    out = f([np.zeros((3, 4, 2), "float32")])
    steps = np.diff(np.concatenate([np.zeros((3, 1, 2), "float32"), out], axis=1), axis=1)
    assert ((steps > 0) & (steps < 1)).all()          # each step adds a new draw in [0, 1)
    assert len({float(v) for v in steps.reshape(-1)}) == steps.size
    printed = capfd.readouterr().out
    assert printed.count("h [[") == 4                 # one print per step
