"""Recurrent layers beyond the tf_keras goldens: configs, errors, masks, wrappers,
cells on their own, and eager == symbolic for each layer."""
import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.backend.nest import flatten

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 6, 4)).astype("float32")
PADDED = X.copy()
PADDED[1, 4:] = 0.0
PADDED[0, 2] = 0.0


def predict(model, x):
    return K.function(model.inputs, model.outputs, target="interpreter")([x])


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                       for w in model.get_weights()])


LAYERS = {
    "simple_rnn": lambda: layers.SimpleRNN(3, return_sequences=True),
    "lstm": lambda: layers.LSTM(3, return_state=True),
    "gru": lambda: layers.GRU(3, go_backwards=True, return_sequences=True),
    "gru_ra0": lambda: layers.GRU(3, reset_after=False),
    "stacked": lambda: layers.RNN([layers.SimpleRNNCell(2), layers.LSTMCell(3)],
                                  return_state=True),
    "bidirectional": lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
    "time_distributed": lambda: layers.TimeDistributed(layers.Dense(2)),
    "unrolled": lambda: layers.LSTM(3, unroll=True, return_sequences=True),
}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_eager_call_equals_the_graph(kind):
    inp = layers.Input((6, 4))
    layer = LAYERS[kind]()
    model = symkb.Model(inp, layer(inp))
    randomize(model)
    eager = flatten(layer(X))
    for a, b in zip(eager, predict(model, X)):
        assert isinstance(a, np.ndarray)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_config_round_trip(kind):
    inp = layers.Input((6, 4))
    layer = LAYERS[kind]()
    model = symkb.Model(inp, layer(inp))
    randomize(model)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    clone_model = symkb.Model(inp, clone(inp))
    clone_model.set_weights(model.get_weights())
    assert clone.get_config() == config
    for a, b in zip(predict(model, X), predict(clone_model, X)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_default_weights_follow_tf_keras_initializers():
    lstm = layers.LSTM(3)
    lstm(X)
    kernel, recurrent, bias = lstm.get_weights()
    assert kernel.shape == (4, 12) and recurrent.shape == (3, 12)
    np.testing.assert_array_equal(bias, [0] * 3 + [1] * 3 + [0] * 6)  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)  # orthogonal
    limit = np.sqrt(6 / (4 + 12))
    assert np.all(np.abs(kernel) <= limit)
    gru = layers.GRU(3)
    gru(X)
    assert [w.shape for w in gru.weights] == [(4, 9), (3, 9), (2, 9)]
    gru0 = layers.GRU(3, reset_after=False)
    gru0(X)
    assert gru0.weights[2].shape == (9,)
    assert layers.LSTM(3, unit_forget_bias=False).cell.unit_forget_bias is False


def test_layer_attributes_read_through_to_the_cell():
    gru = layers.GRU(5, reset_after=False, recurrent_activation="hard_sigmoid")
    assert gru.units == 5 and gru.reset_after is False
    assert gru.cell.name == "gru_cell" and gru.name == "gru"
    assert gru.recurrent_activation is K.hard_sigmoid
    with pytest.raises(AttributeError):
        gru.no_such_attribute


def test_stateful_is_a_clear_error():
    with pytest.raises(ValueError, match="stateful=True is not supported"):
        layers.LSTM(3, stateful=True)


def test_units_must_be_positive():
    with pytest.raises(ValueError, match="positive integer"):
        layers.SimpleRNN(0)


def test_wrong_number_of_initial_states():
    inp = layers.Input((6, 4))
    h = layers.Input((3,))
    with pytest.raises(ValueError, match="expects 2 state"):
        layers.LSTM(3)(inp, initial_state=[h])


def test_initial_state_inputs_are_model_inputs():
    inp = layers.Input((6, 4))
    h = layers.Input((3,))
    c = layers.Input((3,))
    lstm = layers.LSTM(3, return_sequences=True)
    model = symkb.Model([inp, h, c], lstm(inp, initial_state=[h, c]))
    assert lstm in model.layers
    randomize(model)
    h0 = RNG.standard_normal((2, 3)).astype("float32")
    c0 = RNG.standard_normal((2, 3)).astype("float32")
    got = K.function(model.inputs, model.outputs, target="interpreter")([X, h0, c0])[0]
    np.testing.assert_allclose(got, lstm(X, initial_state=[h0, c0]), rtol=1e-6, atol=1e-6)
    zero = lstm(X, initial_state=[np.zeros_like(h0), np.zeros_like(c0)])
    np.testing.assert_allclose(zero, lstm(X), rtol=1e-6, atol=1e-6)


def test_masking_layer():
    masking = layers.Masking(0.0)
    np.testing.assert_array_equal(masking(PADDED), PADDED)
    x = layers.Input((6, 4))
    y = masking(x)
    mask = symkb.layers.base.get_mask(y)
    assert mask is not None and mask.shape == (None, 6) and mask.dtype == "bool"
    f = K.function([x], [mask], target="interpreter")
    np.testing.assert_array_equal(f([PADDED])[0], np.any(PADDED != 0, axis=-1))
    other = layers.Masking(1.5)(np.full((1, 2, 2), 1.5, "float32"))
    np.testing.assert_array_equal(other, 0.0)


def test_embedding_layer_and_its_mask():
    emb = layers.Embedding(10, 4, mask_zero=True)
    tokens = np.array([[1, 2, 0], [0, 3, 9]], "int32")
    out = emb(tokens)
    np.testing.assert_array_equal(out, emb.get_weights()[0][tokens])
    assert emb.weights[0].name == "embedding/embeddings:0"
    assert np.all(np.abs(emb.get_weights()[0]) <= 0.05)
    t = layers.Input((3,), dtype="int32")
    mask = symkb.layers.base.get_mask(emb(t))
    f = K.function([t], [mask], target="interpreter")
    np.testing.assert_array_equal(f([tokens])[0], tokens != 0)
    assert symkb.layers.base.get_mask(layers.Embedding(10, 4)(t)) is None
    with pytest.raises(ValueError, match="positive"):
        layers.Embedding(0, 4)


def reference_masked_rnn(layer, x, mask, zero_output, go_backwards=False):
    """The layer's cell run by eager K.rnn with an explicit mask."""
    cell = layer.cell
    states = [np.zeros((x.shape[0], s), "float32") for s in
              np.atleast_1d(cell.state_size)]
    _, outputs, _ = K.rnn(lambda xt, s: cell.call(xt, list(s)), x, states, mask=mask,
                          zero_output_for_mask=zero_output, go_backwards=go_backwards)
    return outputs


@pytest.mark.parametrize("zero_output", [False, True])
def test_mask_reaches_the_recurrent_layer(zero_output):
    model = symkb.Sequential([layers.Input((6, 4)), layers.Masking(0.0),
                              layers.GRU(3, return_sequences=True,
                                         zero_output_for_mask=zero_output)])
    randomize(model)
    got = predict(model, PADDED)[0]
    want = reference_masked_rnn(model.layers[-1], PADDED, np.any(PADDED != 0, -1), zero_output)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    loop = next(n for n in model.graph.nodes if n.op == "loop")
    assert loop.attrs["has_mask"] and loop.attrs["zero_output_for_mask"] is zero_output


def test_bidirectional_with_a_mask_zeroes_masked_steps():
    inp = layers.Input((6, 4))
    bidir = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode=None)
    model = symkb.Model(inp, bidir(layers.Masking(0.0)(inp)))
    randomize(model)
    fw, bw = predict(model, PADDED)
    mask = np.any(PADDED != 0, -1)
    np.testing.assert_allclose(fw, reference_masked_rnn(bidir.forward_layer, PADDED, mask, True),
                               rtol=1e-6, atol=1e-6)
    want_bw = reference_masked_rnn(bidir.backward_layer, PADDED, mask, True, go_backwards=True)
    np.testing.assert_allclose(bw, want_bw[:, ::-1], rtol=1e-6, atol=1e-6)
    assert bidir.forward_layer.name == "forward_simple_rnn"
    assert bidir.backward_layer.go_backwards is True


def test_bidirectional_merge_modes_and_errors():
    inp = layers.Input((6, 4))
    outs = {}
    for mode in ("concat", "sum", "mul", "ave", None):
        K.clear_session()
        bidir = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=mode)
        out = bidir(inp)
        outs[mode] = out
    assert outs["concat"].shape == (None, 6, 6) and outs["sum"].shape == (None, 6, 3)
    assert isinstance(outs[None], list) and len(outs[None]) == 2
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(3))


def test_time_distributed_with_unknown_length_uses_a_loop():
    td = layers.TimeDistributed(layers.Dense(2))
    x = layers.Input((None, 4))
    y = td(x)
    assert y.shape == (None, None, 2)
    assert any(n.op == "loop" for n in ir.Graph([x], [y]).nodes)
    f = K.function([x], [y], target="interpreter")
    np.testing.assert_allclose(f([X])[0], td(X), rtol=1e-6, atol=1e-6)
    kernel, bias = td.get_weights()
    np.testing.assert_allclose(td(X), X @ kernel + bias, rtol=1e-6, atol=1e-6)
    assert [w.name for w in td.weights] == ["time_distributed/kernel:0",
                                            "time_distributed/bias:0"]


def test_cells_on_their_own():
    x = X[:, 0]
    h = np.zeros((2, 3), "float32")
    cell = layers.LSTMCell(3)
    out, (h1, c1) = cell(x, [h, h])
    assert out.shape == (2, 3) and np.allclose(out, h1)
    gru = layers.GRUCell(3)
    out, new = gru(x, [h])
    assert isinstance(new, list) and np.allclose(out, new[0])
    stacked = layers.StackedRNNCells([layers.SimpleRNNCell(2), layers.GRUCell(3)])
    assert stacked.state_size == (2, 3) and stacked.output_size == 3
    rnn = layers.RNN(stacked)
    assert rnn(X).shape == (2, 3)
    with pytest.raises(ValueError, match="`cell` should have a `call` method"):
        layers.RNN(object())


def test_the_loop_body_holds_the_cell_step_and_captures_the_weights():
    model = symkb.Sequential([layers.Input((5, 3)), layers.SimpleRNN(4)])
    loop = next(n for n in model.graph.nodes if n.op == "loop")
    consts = loop.inputs[2:]
    assert {t.node.attrs["variable"].name for t in consts} == {
        "simple_rnn/simple_rnn_cell/kernel:0", "simple_rnn/simple_rnn_cell/recurrent_kernel:0",
        "simple_rnn/simple_rnn_cell/bias:0"}
    assert [n.op for n in loop.attrs["body"].nodes if n.op != "input"] == [
        "dot", "bias_add", "dot", "add", "tanh"]
    assert loop.layer == "simple_rnn"
    text = str(model.graph)
    assert "body(%x_t: f32[?,3], %state: f32[?,4]" in text


def test_rnn_layer_reads_a_list_as_inputs_then_initial_states():
    import numpy as np
    from symkb import layers as L
    from symkb.models import Model
    inp = L.Input((5, 4))
    seq, h, c = L.LSTM(3, return_sequences=True, return_state=True)(inp)
    second = L.LSTM(3)
    by_keyword = second(seq, initial_state=[h, c])
    by_list = second([seq, h, c])
    x = np.random.default_rng(0).random((2, 5, 4)).astype(np.float32)
    a, b = Model(inp, [by_keyword, by_list]).predict(x)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_layers_owning_sublayers_report_their_weights():
    from symkb import layers as L
    bi = L.Bidirectional(L.LSTM(3))
    bi(L.Input((5, 4)))
    assert len(bi.trainable_weights) == 6 and bi.non_trainable_weights == []
    bi.trainable = False
    assert bi.trainable_weights == [] and len(bi.non_trainable_weights) == 6
    td = L.TimeDistributed(L.Dense(2))
    td(L.Input((5, 4)))
    assert [tuple(w.shape) for w in td.weights] == [(4, 2), (2,)]
