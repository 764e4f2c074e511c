"""The connectivity attributes of layers and models, predict's input forms and
its errors, Reshape's -1, and layers that return their input -- each as
tf_keras 2.x behaves."""
import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers


@pytest.fixture(autouse=True)
def _fresh():
    K.clear_session()
    yield
    K.clear_session()


def _two_input_model():
    seq = symkb.Input((5, 4), name="seq_in")
    aux = symkb.Input((3,), name="aux")
    lstm = layers.LSTM(3)
    dense = layers.Dense(1, name="head")
    out = dense(layers.Concatenate()([lstm(seq), aux]))
    return symkb.Model([seq, aux], out), lstm, dense


def test_model_input_output_attributes():
    model, lstm, dense = _two_input_model()
    assert model.input_shape == [(None, 5, 4), (None, 3)]
    assert model.output_shape == (None, 1)
    assert model.input_names == ["seq_in", "aux"]
    assert model.output_names == ["head"]
    assert model.input == model.inputs and model.output is model.outputs[0]
    assert [layer.name for layer in model.layers] == ["seq_in", "lstm", "aux", "concatenate",
                                                      "head"]


def test_layer_input_output_attributes():
    model, lstm, dense = _two_input_model()
    assert lstm.input_shape == (None, 5, 4) and lstm.output_shape == (None, 3)
    assert lstm.input is model.inputs[0]
    assert dense.output is model.outputs[0]
    concat = model.get_layer("concatenate")
    assert concat.input_shape == [(None, 3), (None, 3)]
    # the InputLayer: the tensor itself, its shapes a list of one (tf_keras)
    first = model.layers[0]
    assert first.output is model.inputs[0] and first.input is model.inputs[0]
    assert first.output_shape == [(None, 5, 4)]


def test_layer_attributes_before_a_call_and_after_two():
    dense = layers.Dense(4)
    with pytest.raises(AttributeError, match="never been called"):
        dense.input_shape
    with pytest.raises(AttributeError, match="not connected"):
        dense.output
    first_in = symkb.Input((3,))
    first_out = dense(first_in)
    second_out = dense(symkb.Input((3,)))
    assert dense.input_shape == (None, 3)          # same shapes: still defined
    # tf_keras: input/output of a layer called twice are its first call's
    assert dense.input is first_in and dense.output is first_out
    assert dense.get_output_at(1) is second_out
    dense(symkb.Input((5, 3)))
    with pytest.raises(AttributeError, match="different input shapes"):
        dense.input_shape


def test_sequential_attributes_and_unbuilt_errors():
    model = symkb.Sequential([layers.Dense(2)])
    with pytest.raises(AttributeError, match="not yet been built"):
        model.input_shape
    model = symkb.Sequential([symkb.Input((3,)), layers.Dense(2, name="out")])
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert model.output_names == ["out"] and len(model.input_names) == 1


def test_predict_takes_a_dict_by_input_name():
    model, _, _ = _two_input_model()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 5, 4)).astype("float32")
    b = rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict({"aux": b, "seq_in": a}), model.predict([a, b]))
    with pytest.raises(ValueError, match="Missing data for input 'aux'"):
        model.predict({"seq_in": a})


def test_predict_errors_name_the_sizes():
    model, _, _ = _two_input_model()
    a = np.zeros((2, 5, 4), "float32")
    with pytest.raises(ValueError, match="cardinality is ambiguous: x sizes: 2, 3"):
        model.predict([a, np.zeros((3, 3), "float32")])
    with pytest.raises(ValueError, match="non-empty"):
        model.predict([a[:0], np.zeros((0, 3), "float32")])


def test_reshape_minus_one_and_size_check():
    assert layers.Reshape((-1, 6))(symkb.Input((2, 3, 4))).shape == (None, 4, 6)
    assert layers.Reshape((-1,))(np.ones((2, 3, 4), "float32")).shape == (2, 12)
    with pytest.raises(ValueError, match=r"total size of new array must be unchanged, "
                                         r"input_shape = \[3, 5\], output_shape = \[4, 4\]"):
        layers.Reshape((4, 4))(symkb.Input((3, 5)))
    with pytest.raises(ValueError, match="at most one unknown"):
        layers.Reshape((-1, -1))(symkb.Input((3, 5)))
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    model = symkb.Sequential([symkb.Input((3, 4)), layers.Reshape((-1, 2))])
    np.testing.assert_array_equal(model.predict(x), x.reshape(2, 6, 2))


def test_recurrent_layers_want_rank_3():
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        layers.LSTM(2)(symkb.Input((3, 4, 5)))


@pytest.mark.parametrize("make", [lambda: layers.Dropout(0.5), lambda: layers.Activation("linear"),
                                  lambda: layers.Activation(None)])
def test_layers_returning_their_input_stay_in_the_model(make):
    inp = symkb.Input((4,))
    h = layers.Dense(3)(inp)
    middle = make()
    out = layers.Dense(2)(middle(h))
    model = symkb.Model(inp, out)
    assert [type(layer).__name__ for layer in model.layers] == \
        ["InputLayer", "Dense", type(middle).__name__, "Dense"]
    assert model.count_params() == 23 and len(model.get_weights()) == 4
    assert middle.output is not h and middle.output.node.op == "identity"
    config = model.get_config()
    assert [c["class_name"] for c in config["layers"]] == \
        ["InputLayer", "Dense", type(middle).__name__, "Dense"]
    x = np.ones((2, 4), "float32")
    kernel, bias, kernel2, bias2 = model.get_weights()
    np.testing.assert_allclose(model.predict(x), (x @ kernel + bias) @ kernel2 + bias2,
                               rtol=1e-6)


def test_a_nested_functional_model_shows_as_functional():
    x = symkb.Input((3,))
    inner = symkb.Model(x, layers.Dense(2)(x))
    outer = symkb.Sequential([symkb.Input((3,)), inner, layers.Dense(1)])
    lines = []
    outer.summary(print_fn=lines.append)
    assert any(line.split()[:2] == ["model", "(Functional)"] for line in lines), lines


def test_compute_output_shape_takes_lists_and_records_no_call():
    assert layers.Concatenate().compute_output_shape([(None, 2), (None, 3)]) == (None, 5)
    dense = layers.Dense(3)
    assert dense.compute_output_shape((None, 4)) == (None, 3)
    with pytest.raises(AttributeError, match="never been called"):
        dense.output_shape
    assert layers.LSTM(3, return_state=True).compute_output_shape((None, 5, 4)) == \
        [(None, 3), (None, 3), (None, 3)]


def test_a_sequential_starting_with_a_built_model_is_built():
    inner = symkb.Sequential([layers.Dense(4, input_shape=(3,))])
    outer = symkb.Sequential([inner, layers.Dense(1)])
    assert outer.built and outer.count_params() == 21 and outer.input_shape == (None, 3)
    x = np.ones((2, 3), "float32")
    k1, b1, k2, b2 = outer.get_weights()
    np.testing.assert_allclose(outer.predict(x), (x @ k1 + b1) @ k2 + b2, rtol=1e-6, atol=1e-6)
    inp = symkb.Input((3,))
    functional = symkb.Model(inp, layers.Dense(2)(inp))
    assert symkb.Sequential([functional, layers.Dense(1)]).output_shape == (None, 1)


def test_dense_units_and_merge_arity_as_tf_keras():
    assert layers.Dense(2.0).units == 2
    for bad in (2.5, 0, True, "3"):
        with pytest.raises(ValueError, match="positive integer"):
            layers.Dense(bad)
    x = symkb.Input((3,))
    assert layers.Add()([x]).shape == (None, 3)
    with pytest.raises(ValueError, match="list of inputs .* a single input of shape"):
        layers.Add()(x)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([x, x, x])


def test_sequential_layers_have_one_call_however_often_the_stack_is_rebuilt():
    first, second = layers.Dense(4), layers.Dense(2)
    model = symkb.Sequential([symkb.Input((3,)), first, second, layers.Dense(1)])
    assert first.input_shape == (None, 3) and second.output_shape == (None, 2)
    assert first.input is model.inputs[0]
    model.pop()
    assert second.output is model.outputs[0]
    lazy = symkb.Sequential([layers.Dense(2)])
    lazy.predict(np.ones((2, 5), "float32"))
    assert lazy.layers[0].input_shape == (None, 5)


def test_regularizers_and_constraints_stay_in_the_config():
    l2 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
          "registered_name": None}
    dense = layers.Dense(2, kernel_regularizer="l2", bias_constraint="non_neg",
                         activity_regularizer=l2)
    config = dense.get_config()
    # names become tf_keras's serialised objects (its defaults, float32 factors)
    assert config["kernel_regularizer"] == {
        "module": "keras.regularizers", "class_name": "L2",
        "config": {"l2": 0.009999999776482582}, "registered_name": None}
    assert config["bias_constraint"] == {"module": "keras.constraints", "class_name": "NonNeg",
                                         "config": {}, "registered_name": None}
    assert config["activity_regularizer"] == l2 and config["bias_regularizer"] is None
    assert layers.Dense.from_config(config).get_config() == config
    lstm = layers.LSTM(3, recurrent_regularizer=l2, activity_regularizer="l1")
    config = lstm.get_config()
    assert config["recurrent_regularizer"] == l2
    assert config["activity_regularizer"]["class_name"] == "L1"
    assert layers.LSTM.from_config(config).get_config()["recurrent_regularizer"] == l2
    embedding = layers.Embedding(10, 4, embeddings_constraint="unit_norm")
    assert embedding.get_config()["embeddings_constraint"]["config"] == {"axis": 0}
    with pytest.raises(ValueError, match="kernel_regularizer='l3'"):
        layers.Dense(2, kernel_regularizer="l3")
    # a Python callable has no config form: it is kept as None
    assert layers.Dense(2, kernel_regularizer=lambda w: 0.0).get_config()["kernel_regularizer"] \
        is None
