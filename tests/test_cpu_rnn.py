"""Differential tests of the ``loop`` node and the recurrent layers on the cpu target:
the K.rnn option grid (masks, go_backwards, time-major, ...) and SimpleRNN/LSTM/GRU."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from tests.harness import assert_same, compiled

RNG = np.random.default_rng(11)
W = (RNG.standard_normal((3, 4)) * 0.5).astype(np.float32)
U = (RNG.standard_normal((4, 4)) * 0.5).astype(np.float32)


def _rnn_graph(go_backwards, masked, zero_output, all_outputs, time_major, dtype="float32"):
    shape = (None, None, 3)
    x = K.placeholder(shape=shape, dtype=dtype, name="x")
    w = K.variable(W.astype(dtype), name="cell/kernel")
    u = K.variable(U.astype(dtype), name="cell/recurrent_kernel")
    mask = K.placeholder(shape=(None, None), dtype="bool", name="mask") if masked else None

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, w) + K.dot(states[0], u))
        return h * 2.0, [h]

    h0 = K.zeros_like(K.sum(x, axis=0 if time_major else 1)[:, :1]) * 0.0 + K.zeros((1, 4),
                                                                                  dtype=dtype)
    last, outs, states = K.rnn(step, x, [h0], go_backwards=go_backwards, mask=mask,
                               zero_output_for_mask=zero_output,
                               return_all_outputs=all_outputs, time_major=time_major)
    ins = [x, mask] if masked else [x]
    return ir.Graph(ins, [last, outs, states[0]], name="rnn_grid")


# A covering subset of the 2^5 grid (each combination is one compile).
GRID = [
    (False, False, False, True, False),
    (True, False, False, True, False),
    (False, True, False, True, False),
    (True, True, False, True, False),
    (False, True, True, True, False),
    (True, True, True, False, False),
    (False, False, False, False, True),
    (True, True, False, True, True),
]


@pytest.mark.parametrize("go_backwards,masked,zero_output,all_outputs,time_major", GRID)
def test_rnn_option_grid(go_backwards, masked, zero_output, all_outputs, time_major):
    g = _rnn_graph(go_backwards, masked, zero_output, all_outputs, time_major)
    for batch, steps in ((2, 5), (3, 7)):  # sizes vary without recompiling
        x = RNG.standard_normal((steps, batch, 3) if time_major else (batch, steps, 3))
        ins = [x.astype(np.float32)]
        if masked:
            m = RNG.random((steps, batch) if time_major else (batch, steps)) > 0.3
            ins.append(m)
        assert_same(g, ins, verify_each=True)
    fn = compiled(g, "cpu", verify_each=True).function
    assert len(fn.signatures) == 1


def test_rnn_float64():
    g = _rnn_graph(True, True, False, True, False, dtype="float64")
    x = RNG.standard_normal((2, 6, 3))
    assert_same(g, [x, RNG.random((2, 6)) > 0.4])


def test_input_projection_is_hoisted_in_generated_code():
    g = _rnn_graph(False, False, False, True, False)
    src = compiled(g, "cpu", verify_each=True).source
    step = src[src.index("for i in range("):]
    assert "gemm_serial(reshaped(x, (-1, 3)), cell_kernel_panels, " in src, \
        "x_t @ W should be one product before the time loop"
    assert "cell_kernel" not in step


def test_states_are_written_in_place_when_safe():
    # LSTM: c and h computed by fused loops straight into their state buffers,
    # outputs stored from the loop: no per-step copy loop is left.
    x = K.placeholder(shape=(None, 6, 3))
    cell = layers.LSTM(8, return_sequences=True)
    g = ir.Graph([x], [cell(x)])
    src = compiled(g, "cpu", verify_each=True).source
    step = src[src.index("for i in range("):]
    assert "for b" not in step and "_outputs[i0, i, i1] = " in step
    assert_same(g, [RNG.standard_normal((3, 6, 3)).astype(np.float32)])


def test_state_read_after_its_new_value_is_not_overwritten():
    # the old state is read after the new one is computed: it must stay intact.
    x = K.placeholder(shape=(None, 5, 4))

    def step(x_t, states):
        s = states[0]
        new = K.tanh(x_t + s)
        return new * 2.0 + K.exp(s), [new]
    _, outs, last = K.rnn(step, x, [K.zeros_like(x[:, 0])])
    g = ir.Graph([x], [outs, last[0]])
    assert_same(g, [RNG.standard_normal((2, 5, 4)).astype(np.float32)], verify_each=True)


CELLS = {
    "simple_rnn": lambda: layers.SimpleRNN(5, return_sequences=True),
    "lstm": lambda: layers.LSTM(5, return_sequences=True, go_backwards=True),
    "gru": lambda: layers.GRU(5, return_sequences=True, reset_after=True),
    "gru_v1": lambda: layers.GRU(5, return_state=False, reset_after=False),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_recurrent_layers(cell):
    m = symkb.Sequential([layers.Input((6, 3)), CELLS[cell]()])
    rng = np.random.default_rng(5)
    m.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5
                   for w in m.get_weights()])
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    c = symkb.compile(m, target="cpu")
    ref = symkb.compile(m, target="interpreter")
    np.testing.assert_allclose(c(x), ref(x), rtol=1e-5, atol=2e-6)
    # set_weights is read at call time: no recompile, new values seen
    m.set_weights([w * 0.5 for w in m.get_weights()])
    np.testing.assert_allclose(c(x), ref(x), rtol=1e-5, atol=2e-6)
    assert len(c.function.signatures) == 1


def test_masking_layer_with_lstm():
    m = symkb.Sequential([layers.Input((5, 2)), layers.Masking(0.0),
                          layers.LSTM(3, return_sequences=True)])
    x = np.random.default_rng(6).standard_normal((3, 5, 2)).astype(np.float32)
    x[0, 3:] = 0.0
    x[2, :2] = 0.0
    c = symkb.compile(m, target="cpu")
    np.testing.assert_allclose(c(x), symkb.compile(m, target="interpreter")(x),
                               rtol=1e-5, atol=2e-6)


def test_grid_is_a_cover():
    # every option is exercised both ways by GRID
    for i in range(5):
        assert {row[i] for row in GRID} == {False, True}
    assert len(set(GRID)) == len(GRID) and set(GRID) <= set(itertools.product([False, True],
                                                                                repeat=5))


def test_nested_loops():
    x = K.placeholder(shape=(None, 3, 4, 2), name="x")

    def inner_step(v_t, states):
        s = states[0] * 0.5 + K.tanh(v_t)
        return s, [s]

    def outer_step(x_t, states):
        _, _, (h,) = K.rnn(inner_step, x_t, [states[0]])
        return h + 1.0, [h]
    h0 = K.zeros_like(x[:, 0, 0])
    _, outs, _ = K.rnn(outer_step, x, [h0], go_backwards=True)
    g = ir.Graph([x], [outs], name="nested")
    assert_same(g, [RNG.standard_normal((2, 3, 4, 2)).astype(np.float32)], verify_each=True)
