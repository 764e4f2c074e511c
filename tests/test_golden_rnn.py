"""K.rnn against tf_keras 2.21 (tests/goldens/rnn.npz, written by tools/make_goldens.py).

Every case of the grid (step kind x go_backwards x mask x unroll x time_major x
zero_output_for_mask x return_all_outputs x constants) runs eagerly on numpy
and symbolically (one loop node, or the unrolled steps), compiled with the
interpreter; both must match tf_keras to 1e-5.
"""
import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K

GOLDENS = pathlib.Path(__file__).parent / "goldens"
META = json.loads((GOLDENS / "rnn.json").read_text())
CASES = META["cases"]
Z = np.load(GOLDENS / "rnn.npz")
ATOL = 1e-5


def step_function(kind, with_constants):
    """The golden step functions (rnn.json["step_functions"]), written with K ops."""
    W, U, b = Z[f"{kind}/W"], Z[f"{kind}/U"], Z[f"{kind}/b"]
    n = META["units"]
    if kind == "simple":
        def step(x, states):
            z = K.dot(x, W) + K.dot(states[0], U) + b
            if with_constants:
                z = z + states[1]
            h = K.tanh(z)
            return h, [h]
    else:
        def step(x, states):
            z = K.dot(x, W) + K.dot(states[0], U) + b
            if with_constants:
                z = z + states[2]
            i = K.sigmoid(z[:, :n])
            f = K.sigmoid(z[:, n:2 * n])
            c = f * states[1] + i * K.tanh(z[:, 2 * n:3 * n])
            o = K.sigmoid(z[:, 3 * n:])
            h = o * K.tanh(c)
            return h, [h, c]
    return step


def arguments(case):
    x = Z["x"]
    mask = None if case["mask"] == "none" else Z[f"mask/{case['mask']}"]
    if case["time_major"]:
        x = x.transpose(1, 0, 2)
        mask = None if mask is None else mask.T
    kind = case["step"]
    states = [Z[f"{kind}/h0"]] + ([Z[f"{kind}/c0"]] if kind == "lstm" else [])
    constants = [Z[f"{kind}/const"]] if case["constants"] else None
    options = dict(go_backwards=case["go_backwards"], unroll=case["unroll"],
                   time_major=case["time_major"],
                   zero_output_for_mask=case["zero_output_for_mask"],
                   return_all_outputs=case["return_all_outputs"])
    return x, mask, states, constants, options


def expected(case):
    keys = case["keys"]
    return [Z[keys["last_output"]], Z[keys["outputs"]]] + [Z[k] for k in keys["states"]]


def check(case, got):
    want = expected(case)
    assert len(got) == len(want)
    for name, g, w in zip(["last_output", "outputs"] + [f"state{i}" for i in range(9)],
                          got, want):
        assert g.shape == w.shape, (name, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=ATOL, err_msg=f"{case['id']}: {name}")


def test_grid_is_complete():
    assert len(CASES) == META["n_cases"] == 384
    assert META["unroll_true_mismatches_not_substituted"] == []


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_eager(case):
    x, mask, states, constants, options = arguments(case)
    last, outputs, new_states = K.rnn(step_function(case["step"], case["constants"]), x, states,
                                      mask=mask, constants=constants, **options)
    assert isinstance(last, np.ndarray) and isinstance(outputs, np.ndarray)
    check(case, [last, outputs] + list(new_states))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_symbolic(case):
    x, mask, states, constants, options = arguments(case)
    t_axis = 0 if case["time_major"] else 1
    shape = list(x.shape)
    shape[1 - t_axis] = None  # unknown batch
    xs = K.placeholder(shape=tuple(shape), name="x")
    ms = None if mask is None else K.placeholder(shape=mask.shape, dtype="bool", name="mask")
    last, outputs, new_states = K.rnn(step_function(case["step"], case["constants"]), xs, states,
                                      mask=ms, constants=constants, **options)
    feeds = [xs] + ([ms] if ms is not None else [])
    f = K.function(feeds, [last, outputs] + list(new_states), target="interpreter")
    ops = [n.op for n in f.graph.nodes]
    assert ops.count("loop") == (0 if case["unroll"] else 1)
    check(case, f([x] + ([mask] if mask is not None else [])))


def test_errors_documented_by_tf_keras():
    errors = META["errors"]
    step = step_function("simple", False)
    h0 = Z["simple/h0"]
    x = K.placeholder(shape=(3, None, 4))
    with pytest.raises(ValueError, match=errors["unroll_unknown_time"]["message"]):
        K.rnn(step, x, [h0], unroll=True)
    with pytest.raises(ValueError, match=r"Shape \(4, 3\) must have rank at least 3"):
        K.rnn(step, np.zeros((4, 3), "float32"), [h0])
    W = Z["simple/W"]
    for unroll in (False, True):
        # tf_keras 2.21 does not raise here (errors["mask_no_states_*"]); symkb does
        assert errors[f"mask_no_states_unroll{int(unroll)}"]["raises"] is False
        with pytest.raises(ValueError, match="mask needs at least one state"):
            K.rnn(lambda x, s: (K.dot(x, W), []), Z["x"], [], mask=Z["mask/trailing"],
                  unroll=unroll)


CPU_CASES = [c for c in CASES if c["constants"] and not c["unroll"] and (
    (c["mask"] == "middle" and c["zero_output_for_mask"] != c["go_backwards"]
     and c["return_all_outputs"] != c["time_major"])
    or (c["mask"] == "none" and c["go_backwards"] and not c["time_major"]
        and not c["zero_output_for_mask"] and c["return_all_outputs"]))]


@pytest.mark.parametrize("case", CPU_CASES, ids=[c["id"] for c in CPU_CASES])
def test_cpu_target(case):
    """A spread of the grid through the compiled CPU target (no interpreter fallback)."""
    import warnings
    x, mask, states, constants, options = arguments(case)
    xs = K.placeholder(shape=x.shape, name="x")
    ms = None if mask is None else K.placeholder(shape=mask.shape, dtype="bool", name="mask")
    last, outputs, new_states = K.rnn(step_function(case["step"], case["constants"]), xs, states,
                                      mask=ms, constants=constants, **options)
    feeds = [xs] + ([ms] if ms is not None else [])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"symkb: the \w+ target failed",
                                category=RuntimeWarning)
        f = K.function(feeds, [last, outputs] + list(new_states), target="cpu")
        check(case, f([x] + ([mask] if mask is not None else [])))
