"""``K.rnn`` gradients on the option grid against real TensorFlow.

``tools/goldens_gradients.py`` wrote ``tests/goldens/gradients_rnn.*`` with
tf_keras's ``K.rnn`` and ``tf.GradientTape``: for three step kinds (a tanh
recurrence, an LSTM-style step with two states, nested inputs) over masks at
the end, in the middle and at the start (and none), ``go_backwards``,
``time_major``, ``zero_output_for_mask``, ``return_all_outputs`` and
constants, the gradients of ``sum(results * cotangents)`` with respect to the
inputs, the initial states, the constants and the weights the step closes
over. Here the same step (the same code, in symkb's ``K``) is differentiated
symbolically and run on the interpreter (no compile); the checkpointed
gradient (``checkpoint=3``, 4 steps: one padded segment) on a few cases.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir

GOLDENS = pathlib.Path(__file__).resolve().parent / "goldens"
DOC = json.loads((GOLDENS / "gradients_rnn.json").read_text())
ARRAYS = np.load(GOLDENS / "gradients_rnn.npz")
CASES = DOC["cases"]
CHECKPOINTED = [c["id"] for c in CASES if c["options"]["mask"] in ("middle", "start")
                and c["kind"] != "simple"][:4]


def rnn_step(kind, t, const, ops):
    """The generator's step function (``tools/goldens_gradients.py``), in ``ops``."""
    def step(x, states):
        if kind == "nested":
            z = ops.dot(x[0], t["W"]) + ops.dot(x[1], t["V"])
        else:
            z = ops.dot(x, t["W"])
        z = z + ops.dot(states[0], t["U"]) + t["b"]
        if const:
            z = z * states[-1]
        if kind != "lstm":
            h = ops.tanh(z)
            return h, [h]
        i, f_, c_, o = z[:, :2], z[:, 2:4], z[:, 4:6], z[:, 6:]
        c = ops.sigmoid(f_) * states[1] + ops.sigmoid(i) * ops.tanh(c_)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]
    return step


def _gradients(case, checkpoint=None):
    """symkb's gradients of the case, one per operand name."""
    cid, kind, opts = case["id"], case["kind"], case["options"]
    values = {n: ARRAYS[f"{cid}/{n}"] for n in case["operands"]}
    t = {n: K.placeholder(shape=v.shape, name=n) for n, v in values.items()}
    tm = opts["time_major"]
    xs = t["x"] if not tm else K.permute_dimensions(t["x"], (1, 0, 2))
    if kind == "nested":
        xs = [xs, t["x2"] if not tm else K.permute_dimensions(t["x2"], (1, 0, 2))]
    mask = DOC["masks"][opts["mask"]]
    if mask is not None:
        mask = np.array(mask, bool)
        mask = K.constant(mask.T if tm else mask, dtype="bool")
    init = [t["h0"]] + ([t["c0"]] if kind == "lstm" else [])
    last, outs, states = K.rnn(rnn_step(kind, t, opts["constants"], K), xs, init, mask=mask,
                               go_backwards=opts["go_backwards"], time_major=tm,
                               constants=[t["k"]] if opts["constants"] else None,
                               zero_output_for_mask=opts["zero_output_for_mask"],
                               return_all_outputs=opts["return_all_outputs"])
    results = [last, outs, *states]
    assert len(results) == case["cotangents"]
    loss = None
    for i, r in enumerate(results):
        term = K.sum(r * ARRAYS[f"{cid}/ct{i}"])
        loss = term if loss is None else loss + term
    names = list(values)
    grads = K.gradients(loss, [t[n] for n in names], checkpoint=checkpoint)
    assert all(g is not None for g in grads)
    got = ir.evaluate(ir.Graph([t[n] for n in names], grads, name="rnn_grad"),
                      [values[n] for n in names])
    return dict(zip(names, got))


def _compare(case, got):
    for name, g in got.items():
        np.testing.assert_allclose(g, ARRAYS[f"{case['id']}/grad/{name}"], rtol=1e-4, atol=2e-6,
                                   err_msg=f"{case['id']}: gradient of {name}")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rnn_gradients_equal_tensorflows(case):
    _compare(case, _gradients(case))


@pytest.mark.parametrize("cid", CHECKPOINTED)
def test_checkpointed_rnn_gradients_equal_tensorflows(cid):
    (case,) = [c for c in CASES if c["id"] == cid]
    _compare(case, _gradients(case, checkpoint=3))


def test_the_grid_covers_every_option_both_ways():
    masks = {c["options"]["mask"] for c in CASES}
    assert masks == {"none", "end", "middle", "start"} and len(CASES) == 48
    for key in ("go_backwards", "time_major", "zero_output_for_mask", "return_all_outputs",
                "constants"):
        for mask in masks:
            assert {c["options"][key] for c in CASES if c["options"]["mask"] == mask} \
                == {False, True}, (key, mask)
