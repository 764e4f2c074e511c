"""The canonical loop: ``scan`` against ``run_loop``, and ``canonicalize_loops``
keeping every loop's values for every combination of the tf_keras options."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.ir.ops.canonical import unroll_loop
from symkb.ir.ops.loop import run_loop
from symkb.lower import passes

FLAGS = ("time_major", "go_backwards", "mask", "zero_output_for_mask", "return_all_outputs")
COMBOS = [dict(zip(FLAGS, v)) for v in itertools.product((False, True), repeat=len(FLAGS))
          if v[3] <= v[2]]  # zero_output_for_mask only matters with a mask


def _step(xs, states):
    (x,), (h, c) = xs, states
    h2 = np.tanh(x @ np.full((3, 4), 0.3) + h * 0.5 - c[:, :1])
    return [h2, h2.sum(-1, keepdims=True)], [h2, c + h2[:, :2]]


def test_scan_reference_is_run_loop_in_time_order():
    rng = np.random.default_rng(0)
    x = rng.random((2, 5, 3))
    init = [np.zeros((2, 4)), np.zeros((2, 2))]
    fwd = run_loop(_step, [x], init)
    bwd = run_loop(_step, [x], init, go_backwards=True)
    rev = run_loop(_step, [x], init, reverse=True)
    for a, b in zip(rev[0] + rev[2], bwd[0] + bwd[2]):
        np.testing.assert_array_equal(a, b)  # same steps, same order
    for a, b in zip(rev[1], bwd[1]):
        np.testing.assert_array_equal(a, b[:, ::-1])  # recorded in time order
    assert not np.array_equal(fwd[1][0], rev[1][0])


def _graph(opts, nested=False):
    """A two-state, two-output rnn (optionally with a nested rnn in its step)."""
    opts = dict(opts)
    time_major, has_mask = opts.pop("time_major"), opts.pop("mask")
    shape = (5, None, 3) if time_major else (None, 5, 3)
    x = K.placeholder(shape=shape, name="x")
    m = K.placeholder(shape=shape[:2], dtype="bool", name="m") if has_mask else None
    w = K.variable(np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32))

    def inner(x_t, states):
        return x_t * 2.0, [states[0] + x_t]

    def step(x_t, states):
        h, c = states
        z = K.dot(x_t, w)
        if nested:
            z = z + K.rnn(inner, K.expand_dims(z, 1), [K.zeros_like(z)])[0]
        h2 = K.tanh(z + h * 0.5 - c[:, :1])
        return [h2, K.sum(h2, axis=-1, keepdims=True)], [h2, c + h2[:, :2]]

    ref = x[0] if time_major else x[:, 0]
    h0 = K.zeros_like(ref[:, :1]) + K.zeros((1, 4))
    c0 = K.zeros_like(ref[:, :2]) + 0.25
    last, outs, states = K.rnn(step, x, [h0, c0], mask=m, time_major=time_major, **opts)
    inputs = [x] + ([m] if has_mask else [])
    return ir.Graph(inputs, list(last) + list(outs) + list(states))


def _data(opts, batch=3):
    rng = np.random.default_rng(1)
    shape = (5, batch, 3) if opts["time_major"] else (batch, 5, 3)
    arrays = [rng.standard_normal(shape).astype(np.float32)]
    if opts["mask"]:
        arrays.append(rng.random(shape[:2]) > 0.4)
    return arrays


def _same(g, g2, arrays, exact=True):
    for a, b in zip(ir.evaluate(g, arrays), ir.evaluate(g2, arrays)):
        assert a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("opts", COMBOS, ids=lambda o: "-".join(k for k, v in o.items() if v)
                         or "plain")
def test_canonicalize_loops_keeps_values_and_leaves_no_loop(opts):
    g = _graph(opts)
    g2 = passes.canonicalize_loops(g)
    ir.verify(g2)
    ops = [n.op for _, n in g2.walk()]
    assert "loop" not in ops and ops.count("scan") == 1
    (scan,) = [n for n in g2.nodes if n.op == "scan"]
    assert scan.attrs["reverse"] == opts["go_backwards"]
    _same(g, g2, _data(opts))
    # unrolled: the same values (the canonical scan inlined)
    (loop,) = [n for n in g.nodes if n.op == "loop"]
    flat = unroll_loop(loop.inputs, loop.attrs)
    g3 = ir.Graph(g.inputs, [dict(zip(loop.outputs, flat)).get(t, t) for t in g.outputs])
    assert "scan" not in [n.op for n in g3.nodes]
    _same(g, g3, _data(opts), exact=False)


def test_canonicalize_loops_rewrites_nested_bodies():
    opts = dict(time_major=False, go_backwards=True, mask=True, zero_output_for_mask=False,
                return_all_outputs=True)
    g = _graph(opts, nested=True)
    g2 = passes.canonicalize_loops(g)
    ir.verify(g2)
    ops = [n.op for _, n in g2.walk()]
    assert "loop" not in ops and ops.count("scan") == 2
    _same(g, g2, _data(opts))
    assert passes.canonicalize_loops(g2) is g2
