"""The loop node on the cuda target: both strategies against the interpreter.

Tiny shapes (batch 2, time 3, units 4) keep the simulator fast.
"""
import numpy as np
import pytest

import symkb
from cuda_harness import assert_same
from symkb import backend as K
from symkb import layers
from symkb.ir import Graph

B, T, F, U = 2, 3, 3, 4
STRATEGIES = ("steps", "persistent")


def _rng():
    return np.random.default_rng(1)


def _simple_rnn_graph(go_backwards, mask, time_major=False, zero_output_for_mask=False,
                      return_all_outputs=True):
    rng = _rng()
    seq_shape = (T, None, F) if time_major else (None, T, F)
    x = K.placeholder(shape=seq_shape, name="x")
    h0 = K.placeholder(shape=(None, U), name="h0")
    w = K.variable(rng.standard_normal((F, U)).astype("float32"), name="w")
    r = K.variable(rng.standard_normal((U, U)).astype("float32") * 0.5, name="r")
    b = K.variable(rng.standard_normal(U).astype("float32"), name="b")

    def step(xt, states):
        h = K.tanh(K.bias_add(K.dot(xt, w) + K.dot(states[0], r), b))
        return h, [h]

    inputs = [x, h0]
    m = None
    if mask:
        m = K.placeholder(shape=(T, None) if time_major else (None, T), dtype="bool", name="m")
        inputs.append(m)
    last, outs, states = K.rnn(step, x, [h0], go_backwards=go_backwards, mask=m,
                               time_major=time_major, zero_output_for_mask=zero_output_for_mask,
                               return_all_outputs=return_all_outputs)
    xv = rng.standard_normal((T, B, F) if time_major else (B, T, F)).astype("float32")
    feeds = [xv, rng.standard_normal((B, U)).astype("float32")]
    if mask:
        mv = np.array([[True, False, True], [True, True, False]])
        feeds.append(mv.T.copy() if time_major else mv)
    return Graph(inputs, [last, outs, states[0]]), feeds


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("go_backwards,mask", [(False, False), (True, False), (False, True),
                                               (True, True)])
def test_simple_recurrence(strategy, go_backwards, mask):
    graph, feeds = _simple_rnn_graph(go_backwards, mask)
    assert_same(graph, feeds, strategy=strategy)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_time_major_zero_output_last_only(strategy):
    graph, feeds = _simple_rnn_graph(True, True, time_major=True, zero_output_for_mask=True,
                                     return_all_outputs=False)
    assert_same(graph, feeds, strategy=strategy)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_raw_body_without_pipeline(strategy):
    """The loop as K.rnn recorded it (no hoisting, no fusion)."""
    graph, feeds = _simple_rnn_graph(False, True)
    assert_same(graph, feeds, strategy=strategy, passes=False)


def test_auto_picks_persistent_for_small_units():
    graph, feeds = _simple_rnn_graph(False, False)
    exe = assert_same(graph, feeds)
    assert "loop_persistent" in exe.source and "cuda.syncthreads()" in exe.source


def test_persistent_refuses_unsupported_body():
    x = K.placeholder(shape=(None, T, F), name="x")
    h0 = K.placeholder(shape=(None, U), name="h0")

    def step(xt, states):
        h = states[0] + K.sum(xt, axis=1, keepdims=True)   # a reduction in the body
        return h, [h]

    last, outs, states = K.rnn(step, x, [h0])
    graph = Graph([x, h0], [last, outs, states[0]])
    feeds = [np.ones((B, T, F), "float32"), np.zeros((B, U), "float32")]
    from symkb.lower.cuda import compile_cuda
    with pytest.raises(NotImplementedError, match="persistent"):
        compile_cuda(graph, strategy="persistent")
    exe = assert_same(graph, feeds)            # auto falls back to per-step launches
    assert "loop_persistent" not in exe.source


def _layer_model(kind, **kwargs):
    rng = np.random.default_rng(2)
    inp = layers.Input((T, F))
    masked = layers.Masking(0.0)(inp) if kwargs.pop("masking", False) else inp
    layer = getattr(layers, kind)(U, **kwargs)
    out = layer(masked)
    model = symkb.Model(inp, out)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5
                       for w in model.get_weights()])
    x = rng.standard_normal((B, T, F)).astype("float32")
    x[1, 2] = 0.0            # a masked step for Masking
    outputs = out if isinstance(out, (list, tuple)) else [out]
    return Graph([inp], list(outputs)), [x]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_layers(kind, strategy):
    graph, feeds = _layer_model(kind, return_sequences=True)
    assert_same(graph, feeds, strategy=strategy)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_layers_masked_backwards(kind):
    graph, feeds = _layer_model(kind, return_sequences=True, go_backwards=True, masking=True,
                                return_state=True)
    assert_same(graph, feeds)


def test_embedding_mask_bidirectional_model():
    """Embedding(mask_zero) -> Bidirectional(LSTM): gather, mask, reverse and two loops."""
    rng = np.random.default_rng(3)
    inp = layers.Input((T,), dtype="int32")
    emb = layers.Embedding(5, F, mask_zero=True)(inp)
    out = layers.Bidirectional(layers.LSTM(U, return_sequences=True))(emb)
    model = symkb.Model(inp, out)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5
                       for w in model.get_weights()])
    ids = np.array([[1, 4, 0], [3, 0, 0]], "int32")
    exe = symkb.compile(model, target="cuda")
    assert exe.target == "cuda"
    np.testing.assert_allclose(exe(ids), symkb.compile(model, target="interpreter")(ids),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_loop_stays_on_the_device(strategy, monkeypatch):
    """Per call: one upload per input, one download per output, nothing in between."""
    from symkb.lower.cuda import adapter, compile_cuda
    graph, feeds = _simple_rnn_graph(True, True)
    exe = compile_cuda(graph, strategy=strategy)
    exe(list(feeds))                        # weights and constants upload on the first call
    calls = {"to_device": 0, "to_host": 0}
    real_to_device, real_to_host = adapter.to_device, adapter.to_host

    def to_device(a):
        calls["to_device"] += 1
        return real_to_device(a)

    def to_host(a):
        calls["to_host"] += 1
        return real_to_host(a)

    monkeypatch.setattr(adapter, "to_device", to_device)
    monkeypatch.setattr(adapter, "to_host", to_host)
    exe(list(feeds))
    assert calls == {"to_device": len(feeds), "to_host": len(graph.outputs)}, calls


def _scan_graph(reverse):
    """A scan node built directly: two sequences (a (batch, time) gate among them, read
    per step as (batch,) and widened in the body), a (batch, units) and a (batch,)
    state, two outputs, a constant matrix."""
    from symkb.ir import as_tensor
    from symkb.ir.ops.scan import scan_results
    rng = _rng()
    x_t, g_t = K.placeholder(shape=(None, F)), K.placeholder(shape=(None,))
    h, s = K.placeholder(shape=(None, U)), K.placeholder(shape=(None,))
    w_c = K.placeholder(shape=(F, U))
    h2 = K.tanh(K.dot(x_t, w_c) + h * 0.5) * K.expand_dims(g_t, -1)
    s2 = s + g_t
    body = Graph([x_t, g_t, h, s, w_c], [h2, s2, h2, s2])
    x = K.placeholder(shape=(None, T, F), name="x")
    g = K.placeholder(shape=(None, T), name="g")
    h0, s0 = K.placeholder(shape=(None, U), name="h0"), K.placeholder(shape=(None,), name="s0")
    w = K.variable(rng.standard_normal((F, U)).astype("float32"), name="w")
    attrs = {"body": body, "num_sequences": 2, "num_states": 2, "num_constants": 1,
             "num_outputs": 2, "reverse": reverse, "length": T}
    results = scan_results([x, g, h0, s0, as_tensor(w)], attrs)
    feeds = [rng.standard_normal((B, T, F)).astype("float32"),
             rng.standard_normal((B, T)).astype("float32"),
             rng.standard_normal((B, U)).astype("float32"),
             rng.standard_normal((B,)).astype("float32")]
    return Graph([x, g, h0, s0], list(results)), feeds


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_node(strategy, reverse):
    """A scan as the targets receive it: outputs in time order, reverse visits T-1 .. 0."""
    graph, feeds = _scan_graph(reverse)
    assert_same(graph, feeds, strategy=strategy, passes=False)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("passes", [None, False])
def test_time_major_masked_backwards_all_outputs(strategy, passes):
    """Mask (previous output kept), go_backwards and time_major at once, every output."""
    graph, feeds = _simple_rnn_graph(True, True, time_major=True)
    exe = assert_same(graph, feeds, strategy=strategy, passes=passes)
    code = "\n".join(line for line in exe.source.splitlines()
                     if not line.lstrip().startswith("#"))  # the IR comments name values
    assert "mask" not in code and "time_major" not in code


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_unread_stacked_outputs_are_not_stored(strategy, monkeypatch):
    """return_all_outputs=False: no (time, batch, units) buffer is allocated or written."""
    from symkb.lower.cuda import adapter
    graph, feeds = _simple_rnn_graph(False, False, return_all_outputs=False)
    shapes = []
    real_empty = adapter.empty

    def empty(shape, dtype):
        shapes.append(tuple(shape))
        return real_empty(shape, dtype)

    monkeypatch.setattr(adapter, "empty", empty)
    exe = assert_same(graph, feeds, strategy=strategy, passes=False)
    assert shapes and (T, B, U) not in shapes and (B, T, U) not in shapes, shapes
    assert "outseq0[" not in exe.source
