"""K.rnn with per-sample lengths (``input_length``) and an unknown time axis,
against tf_keras (tests/goldens/dtypes.*, from tools/goldens_dtypes.py)."""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K

GOLDENS = pathlib.Path(__file__).parent / "goldens"
DATA = json.loads((GOLDENS / "dtypes.json").read_text())
ARRAYS = np.load(GOLDENS / "dtypes.npz")
KERNEL, RECURRENT = ARRAYS["rnn/kernel"], ARRAYS["rnn/recurrent"]


def step(x, states):
    h = K.tanh(K.dot(x, KERNEL) + K.dot(states[0], RECURRENT))
    return h, [h]


def _symbolic(go_backwards, time_major=False):
    shape = (None, None, 3)
    x = K.placeholder(shape)
    h = K.placeholder((None, 4))
    n = K.placeholder((None,), dtype="int32")
    last, outs, states = K.rnn(step, x, [h], input_length=n, go_backwards=go_backwards,
                               time_major=time_major)
    return [x, h, n], [last, outs, states[0]]


@pytest.mark.parametrize("case", DATA["rnn_lengths"], ids=lambda c: c["id"])
@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_lengths_with_unknown_time_axis_match_tf_keras(case, target):
    cid = case["id"]
    inputs, outputs = _symbolic(case["go_backwards"])
    f = K.function(inputs, outputs, target=target)
    got = f([ARRAYS[f"{cid}/x"], ARRAYS[f"{cid}/h0"], ARRAYS[f"{cid}/lengths"]])
    for value, key in zip(got, ("last", "outputs", "state")):
        np.testing.assert_allclose(value, ARRAYS[f"{cid}/{key}"], atol=2e-6, err_msg=key)


@pytest.mark.parametrize("case", DATA["rnn_lengths"], ids=lambda c: c["id"])
def test_eager_lengths_match_tf_keras(case):
    cid = case["id"]
    last, outs, states = K.rnn(step, ARRAYS[f"{cid}/x"], [ARRAYS[f"{cid}/h0"]],
                               input_length=ARRAYS[f"{cid}/lengths"],
                               go_backwards=case["go_backwards"])
    np.testing.assert_allclose(outs, ARRAYS[f"{cid}/outputs"], atol=2e-6)
    np.testing.assert_allclose(states[0], ARRAYS[f"{cid}/state"], atol=2e-6)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_time_major_lengths_agree_with_batch_major(go_backwards):
    cid = "backward_short" if go_backwards else "forward_short"
    x = ARRAYS[f"{cid}/x"]
    inputs, outputs = _symbolic(go_backwards, time_major=True)
    f = K.function(inputs, outputs, target="cpu")
    # axis 0 is time for x and batch for h0 and the lengths: the shape guard, which
    # compares the inputs' unknown sizes axis by axis, cannot prove the kernel fits
    # (6 steps, 4 samples) and runs the call on the interpreter, saying so
    with pytest.warns(symkb.FallbackWarning, match=r"sizes \[4, 6\] on their unknown axis 0"):
        last, outs, state = f([np.ascontiguousarray(x.transpose(1, 0, 2)),
                               ARRAYS[f"{cid}/h0"], ARRAYS[f"{cid}/lengths"]])
    assert f.calls == {"kernel": 0, "interpreter": 1}
    np.testing.assert_allclose(outs.transpose(1, 0, 2), ARRAYS[f"{cid}/outputs"], atol=2e-6)
    np.testing.assert_allclose(state, ARRAYS[f"{cid}/state"], atol=2e-6)


def test_lengths_must_be_one_per_sample():
    x = K.placeholder((None, None, 3))
    with pytest.raises(ValueError, match="must be 1-D"):
        K.rnn(step, x, [K.placeholder((None, 4))],
              input_length=K.placeholder((None, 1), dtype="int32"))
