"""The cpu target lowers the canonical loop: every combination of the loop
options agrees with the interpreter (compiled in graphs of four: one graph of
all 24 cost LLVM a minute, four times what the six small ones do), and a
graph compiled with ``passes=[]`` still reaches the target as scans."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from tests.harness import assert_same, compiled

FLAGS = ("time_major", "go_backwards", "mask", "zero_output_for_mask", "return_all_outputs")
COMBOS = [dict(zip(FLAGS, v)) for v in itertools.product((False, True), repeat=len(FLAGS))
          if v[3] <= v[2]]
GROUPS = [COMBOS[i:i + 4] for i in range(0, len(COMBOS), 4)]
RNG = np.random.default_rng(21)


def _rnn(x, m, w, opts, states=2):
    """A two-output rnn with ``states`` states (1 or 2) under ``opts``."""
    opts = dict(opts)
    time_major, has_mask = opts.pop("time_major"), opts.pop("mask")
    if time_major:
        x, m = K.permute_dimensions(x, (1, 0, 2)), K.transpose(m)
    ref = x[0] if time_major else x[:, 0]

    def step(x_t, st):
        h2 = K.tanh(K.dot(x_t, w) + st[0] * 0.5 - (st[1][:, :1] if states == 2 else 0.0))
        new = [h2, st[1] + h2[:, :2]] if states == 2 else [h2]
        return [h2, K.sum(h2, axis=-1, keepdims=True)], new
    init = [K.zeros_like(ref[:, :1]) + K.zeros((1, 4)), K.zeros_like(ref[:, :2]) + 0.25]
    last, outs, final = K.rnn(step, x, init[:states], mask=m if has_mask else None,
                              time_major=time_major, **opts)
    return list(last) + list(outs) + list(final)


def _combinations_graph(group):
    x = K.placeholder(shape=(None, 5, 3), name="x")
    m = K.placeholder(shape=(None, 5), dtype="bool", name="m")
    w = K.variable(RNG.standard_normal((3, 4)).astype(np.float32) * 0.5)
    outs = []
    for k, opts in enumerate(group):
        outs += _rnn(x, m, w, opts, states=1 + k % 2)
    return ir.Graph([x, m], outs)


def _data(batch=3):
    x = RNG.standard_normal((batch, 5, 3)).astype(np.float32)
    m = RNG.random((batch, 5)) > 0.4
    m[0] = False  # a row masked at every step
    return [x, m]


def test_the_groups_hold_every_combination():
    assert len(COMBOS) == 24 and sum(map(len, GROUPS)) == len(COMBOS)


@pytest.mark.parametrize("group", range(len(GROUPS)))
def test_every_loop_option_agrees_with_the_interpreter(group):
    g = _combinations_graph(GROUPS[group])
    assert_same(g, _data())
    assert_same(g, _data(batch=1))
    ops = [n.op for _, n in compiled(g, "cpu").graph.walk()]
    assert "loop" not in ops and ops.count("scan") == len(GROUPS[group])


def test_a_graph_compiled_without_passes_is_canonicalised_by_the_target():
    x = K.placeholder(shape=(None, 5, 3), name="x")
    m = K.placeholder(shape=(None, 5), dtype="bool", name="m")
    w = K.variable(RNG.standard_normal((3, 4)).astype(np.float32))
    opts = dict(time_major=True, go_backwards=True, mask=True, zero_output_for_mask=False,
                return_all_outputs=True)
    g = ir.Graph([x, m], _rnn(x, m, w, opts))
    assert_same(g, _data(), passes=())
    ops = [n.op for _, n in compiled(g, "cpu", passes=()).graph.walk()]
    assert "loop" not in ops and "scan" in ops
