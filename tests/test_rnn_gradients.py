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
from symkb.lower.passes import PIPELINE, run_pipeline
from tests.grad_check import numeric_vjp
from tests.harness import assert_same, compiled

MASKS = {"mid": [[1, 0, 1], [1, 1, 0]], "start": [[0, 1, 1], [0, 0, 1]],
         "end": [[1, 1, 0], [1, 0, 0]]}


def _check(graph, arrays, wrt_index, *, seed=0, rtol=1e-6, atol=1e-8):
    """The VJP graph of ``graph`` w.r.t. its inputs ``wrt_index`` vs central
    differences, with random cotangents for every output."""
    back = ir.grad(graph, [graph.inputs[i] for i in wrt_index], cotangents=True)
    ir.verify(back)
    assert str(ir.parse(str(back))) == str(back)
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
    "nested_inputs_mask_end": {"mask": "end", "nested": True, "go_backwards": True},
}


def _rnn_case(opts):
    """``(graph, arrays)``: a two-state (or one-state) recurrence over (2, 3, 2)
    inputs with every result an output; inputs (xs, h0, [c0], w, u, [k], [mask])."""
    rng = np.random.default_rng(3)
    tm, two, consts = opts.get("time_major"), opts.get("two_states"), opts.get("constants")
    unknown = opts.get("unknown")
    xs_shape = (3, 2, 2) if tm else (2, 3, 2)
    nested = opts.get("nested")
    names = ["xs", "h0"] + (["c0"] if two else []) + ["w", "u"] + (["k"] if consts else []) + \
        (["xs2"] if nested else [])
    shapes = [xs_shape, (2, 3)] + ([(2, 3)] if two else []) + [(2, 3), (3, 3)] + \
        ([(1, 3)] if consts else []) + ([xs_shape[:2] + (3,)] if nested else [])
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
        z = K.dot(x[0], w) + K.dot(h, u) + x[1] * 0.5 if nested else K.dot(x, w) + K.dot(h, u)
        if consts:
            z = z * states[-1]
        if two:
            c = K.sigmoid(z) * states[1] + K.tanh(z)
            h = K.tanh(c) * K.sigmoid(z + 0.5)
            return h * 2.0, [h, c]
        h = K.tanh(z)
        return h, [h]

    init = [env["h0"]] + ([env["c0"]] if two else [])
    last, outs, states = K.rnn(step, [env["xs"], env["xs2"]] if nested else env["xs"], init,
                               mask=mask,
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


# -- the recurrent layers: every weight, vs central differences --

LAYERS = {  # name: (code building `y` from the Input `x`, input shape, int input)
    "simple_rnn_backwards": ("y = layers.SimpleRNN(2, go_backwards=True, "
                             "return_sequences=True)(x)", (3, 2), False),
    "lstm_states": ("y = layers.LSTM(2, return_sequences=True, return_state=True)(x)",
                    (3, 2), False),
    "gru_reset_after": ("y = layers.GRU(2, reset_after=True)(x)", (3, 2), False),
    "gru_reset_before": ("y = layers.GRU(2, reset_after=False, return_sequences=True)(x)",
                         (3, 2), False),
    "bidirectional_lstm": ("y = layers.Bidirectional(layers.LSTM(2, return_sequences=True))(x)",
                           (3, 2), False),
    "masking_lstm": ("y = layers.LSTM(2, return_sequences=True)(layers.Masking(0.0)(x))",
                     (4, 2), False),
    "embedding_masked_gru": ("y = layers.GRU(2, return_sequences=True)("
                             "layers.Embedding(4, 2, mask_zero=True)(x))", (4,), True),
}


@pytest.fixture
def float64():
    K.clear_session()
    K.set_floatx("float64")
    yield
    K.set_floatx("float32")
    K.clear_session()


def _numeric_weight(graph, arrays, cts, var, eps=1e-6):
    """Central differences of ``sum <cts, outputs>`` in the Variable ``var``."""
    base = K.get_value(var).copy()
    out = np.zeros(base.shape)
    for j in np.ndindex(*base.shape):
        vals = []
        for sign in (1, -1):
            moved = base.copy()
            moved[j] += sign * eps
            K.set_value(var, moved)
            vals.append(sum(float(np.sum(c * o)) for c, o in zip(cts, ir.evaluate(graph, arrays))))
        out[j] = (vals[0] - vals[1]) / (2 * eps)
    K.set_value(var, base)
    return out


def _layer_inputs(shape, ints, rng):
    if ints:
        return np.array([[1, 0, 3, 2], [2, 3, 0, 0]], np.int32)
    x = rng.normal(size=(2,) + shape)
    if shape[0] == 4:           # Masking(0.0): a masked step in the middle and at the end
        x[0, 1] = 0.0
        x[1, 3] = 0.0
    return x


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients_match_finite_differences(name, float64):
    code, shape, ints = LAYERS[name]
    x = layers.Input(shape, dtype="int32" if ints else None, name="x")
    scope = {"layers": layers, "x": x}
    exec(code, scope)
    ys = scope["y"] if isinstance(scope["y"], list) else [scope["y"]]
    graph = ir.Graph([x], ys, name=name)
    variables = graph.variables
    assert variables and all(v.dtype == "float64" for v in variables)
    rng = np.random.default_rng(5)
    for v in variables:
        K.set_value(v, rng.normal(size=K.get_value(v).shape) * 0.7)
    arrays = [_layer_inputs(shape, ints, rng)]
    wrt = ([] if ints else [x]) + variables
    back = ir.grad(graph, wrt, cotangents=True)
    ir.verify(back)
    cts = [rng.normal(size=v.shape) for v in ir.evaluate(graph, arrays)]
    grads = ir.evaluate(back, arrays + cts)
    if not ints:
        # a step Masking(0.0) masks is a kink: the mask changes when it moves; there
        # the gradient is zero (tf's too: the mask is `any(x != 0)`, no gradient)
        kept = np.any(arrays[0] != 0.0, axis=-1)
        np.testing.assert_allclose(grads[0][kept], numeric_vjp(graph, arrays, cts, 0, 1e-6)[kept],
                                   rtol=1e-6, atol=1e-8, err_msg="gradient of the input")
        assert not np.any(grads[0][~kept])
    for g, v in zip(grads[len(wrt) - len(variables):], variables):
        np.testing.assert_allclose(g, _numeric_weight(graph, arrays, cts, v), rtol=1e-6,
                                   atol=1e-8, err_msg=f"gradient of {v.name}")


def test_compiled_cpu_lstm_gradients_equal_the_interpreters():
    """One compile: a small masked LSTM's loss and its gradients (inputs and
    every weight), unknown batch and time."""
    K.clear_session()
    x = layers.Input((None, 2), name="x")
    lstm = layers.LSTM(3, return_sequences=True, name="lstm")
    y = lstm(layers.Masking(0.0)(x))
    loss = K.mean(K.square(y - 0.5))
    grads = K.gradients(loss, [x, *lstm.trainable_weights])
    graph = ir.Graph([x], [loss, *grads], name="lstm_grad")
    xv = np.random.default_rng(8).normal(size=(3, 4, 2)).astype("float32")
    xv[1, 2] = 0.0
    assert_same(graph, [xv], targets=("cpu",))
    # the forward step saves its residuals through one compiled copy each
    src = compiled(graph, "cpu").source
    assert src.count("store_step(") >= 3 and "store_rows(" in src
    # the forward recurrence runs once: merge_scans reads the loss's values from
    # the scan that saves the residuals; the other scan is the reverse one
    optimised, _ = run_pipeline(graph, PIPELINE)
    assert [n.attrs["reverse"] for n in optimised.nodes if n.op == "scan"] == [False, True]


def test_gradient_of_a_loop_gradient_matches_finite_differences():
    """The backward of a scan is a scan with a rule of its own: second order."""
    xs = K.placeholder(shape=(2, 3, 2), dtype="float64", name="xs")
    w = K.placeholder(shape=(2, 2), dtype="float64", name="w")
    last, outs, _ = K.rnn(lambda x, s: (K.tanh(K.dot(x, w) + s[0] * 0.5),
                                        [K.tanh(K.dot(x, w) + s[0] * 0.5)]),
                          xs, [K.zeros_like(xs[:, 0])], go_backwards=True)
    (gw,) = ir.vjp([K.sum(K.square(outs)) + K.sum(last)], [w])
    _check(ir.Graph([xs, w], [gw], name="grad"), [np.random.default_rng(4).normal(size=s)
                                                  for s in ((2, 3, 2), (2, 2))], [1])


def test_the_loop_graph_printed_in_the_docs_is_what_symkb_prints():
    import contextlib
    import io
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "gradients.md").read_text()
    section = text[text.index("## Through the loop"):]
    code = re.search(r"^```python\n(.*?)^```", section, re.S | re.M).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    shown = re.search(r"prints\n\n```\n(.*?)```", section, re.S).group(1)
    assert out.getvalue().strip() == shown.strip()


def test_merge_scans_merges_only_scans_computing_the_same_steps():
    xs = K.placeholder(shape=(None, 3, 2), name="xs")
    h0 = K.placeholder(shape=(None, 2), name="h0")

    def run(scale):
        return K.rnn(lambda x, s: (K.tanh(x + s[0] * scale), [K.tanh(x + s[0] * scale)]),
                     xs, [h0])[1]

    for second, scans in ((0.5, 1), (0.25, 2)):
        graph = ir.Graph([xs, h0], [run(0.5), run(second)], name="two_loops")
        optimised, _ = run_pipeline(graph, PIPELINE)
        assert sum(n.op == "scan" for n in optimised.nodes) == scans
        a = [np.random.default_rng(2).normal(size=s).astype("float32") for s in ((2, 3, 2), (2, 2))]
        for got, want in zip(ir.evaluate(optimised, a), ir.evaluate(graph, a)):
            np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["two_states_mask_start", "constants_mask_mid"])
def test_recomputed_loop_steps_give_the_same_gradients_from_the_states_alone(name):
    graph, arrays = _rnn_case(GRID[name])
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    with ir.recompute_loop_steps():
        back = _check(graph, arrays, floats)
    saved = [n for n in back.nodes if n.op == "scan" and not n.attrs["reverse"]]
    # the saving scan returns its step outputs, then the states only
    (scan,) = [n for n in saved if n.attrs["num_outputs"] > 1] or saved
    body = scan.attrs["body"]
    ns, no = scan.attrs["num_states"], scan.attrs["num_outputs"]
    extra = body.outputs[1:no]
    assert extra and all(t in body.inputs[scan.attrs["num_sequences"]:][:ns] for t in extra)
