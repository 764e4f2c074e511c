"""Every example of the tf_keras.backend reference page, in symkb spelling.

``tf.keras.backend.X`` becomes ``symkb.backend.X`` (``K.X``),
``tf.keras.layers.X`` becomes ``symkb.layers.X`` and ``tf.keras.Sequential``
becomes ``symkb.Sequential``. Each test asserts exactly what the page shows,
printed text included where the page prints.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest

import symkb
from symkb import backend as K


def _printed(capsys, value) -> str:
    print(value)
    return capsys.readouterr().out.rstrip("\n")


# --- clear_session ------------------------------------------------------------------------
def test_clear_session_example_1_loop_without_clear_session():
    for _ in range(100):
        # Without `clear_session()`, each iteration of this loop will
        # slightly increase the size of the global state managed by Keras
        model = symkb.Sequential([symkb.layers.Dense(10) for _ in range(10)])
    assert model.layers[-1].name == "dense_999"


def test_clear_session_example_1_loop_with_clear_session():
    names = set()
    for _ in range(100):
        # With `clear_session()` called at the beginning,
        # symkb starts with a blank state at each iteration
        # and memory consumption is constant over time.
        K.clear_session()
        model = symkb.Sequential([symkb.layers.Dense(10) for _ in range(10)])
        names.add(tuple(layer.name for layer in model.layers))
    assert names == {("dense",) + tuple(f"dense_{i}" for i in range(1, 10))}


def test_clear_session_example_1_state_stays_constant():
    """With clear_session at the top, the objects alive stay constant per iteration."""
    def alive():
        gc.collect()
        return len(gc.get_objects())

    counts = []
    for i in range(16):  # each count collects the whole heap: seconds late in a long run
        K.clear_session()
        model = symkb.Sequential([symkb.layers.Dense(10) for _ in range(10)])
        del model
        if i >= 8:
            counts.append(alive())
    assert max(counts) - min(counts) < 50, counts


def test_clear_session_example_2(capsys):
    layers = [symkb.layers.Dense(10) for _ in range(10)]
    new_layer = symkb.layers.Dense(10)
    assert _printed(capsys, new_layer.name) == "dense_10"
    K.set_learning_phase(1)
    assert _printed(capsys, K.learning_phase()) == "1"
    K.clear_session()
    new_layer = symkb.layers.Dense(10)
    assert _printed(capsys, new_layer.name) == "dense"
    assert len(layers) == 10


# --- floatx / set_floatx ---------------------------------------------------------------------
def test_floatx_example():
    assert K.floatx() == "float32"
    assert repr(K.floatx()) == "'float32'"


def test_set_floatx_example():
    assert K.floatx() == "float32"
    K.set_floatx("float64")
    assert repr(K.floatx()) == "'float64'"
    K.set_floatx("float32")
    assert K.floatx() == "float32"


# --- image_data_format / set_image_data_format --------------------------------------------
def test_image_data_format_example():
    assert repr(K.image_data_format()) == "'channels_last'"


def test_set_image_data_format_example():
    assert repr(K.image_data_format()) == "'channels_last'"
    K.set_image_data_format("channels_first")
    assert repr(K.image_data_format()) == "'channels_first'"
    K.set_image_data_format("channels_last")
    assert K.image_data_format() == "channels_last"


# --- epsilon / set_epsilon ----------------------------------------------------------------------
def test_epsilon_example():
    assert repr(K.epsilon()) == "1e-07"


def test_set_epsilon_example():
    assert repr(K.epsilon()) == "1e-07"
    K.set_epsilon(1e-5)
    assert repr(K.epsilon()) == "1e-05"
    K.set_epsilon(1e-7)
    assert repr(K.epsilon()) == "1e-07"


# --- is_keras_tensor -------------------------------------------------------------------------
def test_is_keras_tensor_example():
    np_var = np.array([1, 2])
    # A numpy array is not a symbolic tensor.
    with pytest.raises(ValueError) as info:
        K.is_keras_tensor(np_var)
    assert str(info.value) == ("Unexpectedly found an instance of type `<class 'numpy.ndarray'>`. "
                               "Expected a symbolic tensor instance.")
    keras_var = K.variable(np_var)
    # A variable created with the keras backend is not a Keras tensor.
    assert K.is_keras_tensor(keras_var) is False
    keras_placeholder = K.placeholder(shape=(2, 4, 5))
    # A placeholder is a Keras tensor.
    assert K.is_keras_tensor(keras_placeholder) is True
    keras_input = symkb.layers.Input([10])
    # An Input is a Keras tensor.
    assert K.is_keras_tensor(keras_input) is True
    keras_layer_output = symkb.layers.Dense(10)(keras_input)
    # Any Keras layer output is a Keras tensor.
    assert K.is_keras_tensor(keras_layer_output) is True


@pytest.mark.parametrize("value, shown", [
    ([1, 2], "<class 'list'>"), (3.0, "<class 'float'>"), (np.float32(1), "<class 'numpy.float32'>"),
])
def test_is_keras_tensor_message_names_the_argument_type(value, shown):
    with pytest.raises(ValueError) as info:
        K.is_keras_tensor(value)
    assert str(info.value) == (f"Unexpectedly found an instance of type `{shown}`. "
                               "Expected a symbolic tensor instance.")


# --- get_uid --------------------------------------------------------------------------------------
def test_get_uid_example():
    assert K.get_uid("dense") == 1
    assert K.get_uid("dense") == 2


# --- rnn: the documented error conditions (the full semantics are tested elsewhere) -------
def test_rnn_documented_errors():
    def step(x, states):
        return x, [x]

    x = K.placeholder(shape=(2, None, 3))
    with pytest.raises(ValueError):
        K.rnn(step, x, [K.zeros_like(x[:, 0])], unroll=True)
    mask = np.ones((2, 4), bool)
    with pytest.raises(ValueError):
        K.rnn(lambda x, s: (x, s), np.zeros((2, 4, 3), np.float32), [], mask=mask)
