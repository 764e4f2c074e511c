"""Gradients through the loop: ``K.rnn`` and the recurrent layers.

The loop's rule (``symkb/ir/ops/scan_grad.py``) is checked against central
finite differences in float64 on the interpreter (no compile), over a grid of
``K.rnn`` options, with respect to the inputs, the initial states, the
constants and the weights the step closes over; the recurrent layers the
same way for every weight; one small LSTM's gradient graph compiled for the
cpu against the interpreter (one compile).
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers
from tests.grad_check import numeric_vjp
from tests.harness import assert_same

MASKS = {"mid": [[1, 0, 1], [1, 1, 0]], "start": [[0, 1, 1], [0, 0, 1]],
         "end": [[1, 1, 0], [1, 0, 0]]}


def _check(graph, arrays, wrt_index, *, seed=0, rtol=1e-6, atol=1e-8):
    """The VJP graph of ``graph`` w.r.t. its inputs ``wrt_index`` vs central
    differences, with random cotangents for every output."""
    back = ir.grad(graph, [graph.inputs[i] for i in wrt_index], cotangents=True)
    ir.verify(back)
    rng = np.random.default_rng(seed)
    cts = [rng.normal(size=v.shape) for v in ir.evaluate(graph, arrays)]
    grads = ir.evaluate(back, list(arrays) + cts)
    for g, i in zip(grads, wrt_index):
        assert g.shape == arrays[i].shape
        np.testing.assert_allclose(g, numeric_vjp(graph, arrays, cts, i, 1e-6), rtol=rtol,
                                   atol=atol, err_msg=f"gradient of input {graph.inputs[i].name}")
    return back


GRID = {  # name: K.rnn options (mask: a key of MASKS)
    "plain": {},
    "mask_mid": {"mask": "mid"},
    "mask_start_backwards": {"mask": "start", "go_backwards": True},
    "mask_end_zero_output": {"mask": "end", "zero_output_for_mask": True},
    "mask_mid_backwards_zero_last": {"mask": "mid", "go_backwards": True,
                                     "zero_output_for_mask": True, "return_all_outputs": False},
    "time_major_mask_mid": {"mask": "mid", "time_major": True},
    "time_major_backwards_last": {"time_major": True, "go_backwards": True,
                                  "return_all_outputs": False},
    "constants_mask_mid": {"mask": "mid", "constants": True},
    "unknown_time_mask_backwards": {"mask": "mid", "go_backwards": True, "unknown": True},
    "two_states_mask_start": {"mask": "start", "two_states": True, "time_major": True},
}


def _rnn_case(opts):
    """``(graph, arrays)``: a two-state (or one-state) recurrence over (2, 3, 2)
    inputs with every result an output; inputs (xs, h0, [c0], w, u, [k], [mask])."""
    rng = np.random.default_rng(3)
    tm, two, consts = opts.get("time_major"), opts.get("two_states"), opts.get("constants")
    unknown = opts.get("unknown")
    xs_shape = (3, 2, 2) if tm else (2, 3, 2)
    names = ["xs", "h0"] + (["c0"] if two else []) + ["w", "u"] + (["k"] if consts else [])
    shapes = [xs_shape, (2, 3)] + ([(2, 3)] if two else []) + [(2, 3), (3, 3)] + \
        ([(1, 3)] if consts else [])
    arrays = [rng.normal(size=s) * 0.8 for s in shapes]
    phs = [K.placeholder(shape=((None, None, 2) if unknown and n == "xs" else
                                (None, 3) if unknown and n in ("h0", "c0") else s),
                         dtype="float64", name=n) for n, s in zip(names, shapes)]
    env = dict(zip(names, phs))
    mask = None
    if opts.get("mask"):
        m = np.array(MASKS[opts["mask"]], bool)
        arrays.append(m.T if tm else m)
        mask = K.placeholder(shape=(None, None) if unknown else arrays[-1].shape,
                             dtype="bool", name="mask")
        phs.append(mask)
    w, u = env["w"], env["u"]

    def step(x, states):
        h = states[0]
        z = K.dot(x, w) + K.dot(h, u)
        if consts:
            z = z * states[-1]
        if two:
            c = K.sigmoid(z) * states[1] + K.tanh(z)
            h = K.tanh(c) * K.sigmoid(z + 0.5)
            return h * 2.0, [h, c]
        h = K.tanh(z)
        return h, [h]

    init = [env["h0"]] + ([env["c0"]] if two else [])
    last, outs, states = K.rnn(step, env["xs"], init, mask=mask,
                               constants=[env["k"]] if consts else None,
                               go_backwards=opts.get("go_backwards", False), time_major=tm,
                               zero_output_for_mask=opts.get("zero_output_for_mask", False),
                               return_all_outputs=opts.get("return_all_outputs", True))
    return ir.Graph(phs, [last, outs, *states], name="rnn"), arrays


@pytest.mark.parametrize("name", sorted(GRID))
def test_rnn_gradients_match_finite_differences(name):
    graph, arrays = _rnn_case(GRID[name])
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    _check(graph, arrays, floats)
