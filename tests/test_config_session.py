"""Configuration and session state: defaults, validation, what clear_session resets.

Expected values come from ``tests/goldens/config.json`` (recorded from real
tf_keras) where it has them.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K

CONFIG = pathlib.Path(__file__).resolve().parent / "goldens" / "config.json"
GOLDEN = json.loads(CONFIG.read_text()) if CONFIG.exists() else {}
needs_golden = pytest.mark.skipif(not GOLDEN, reason="tests/goldens/config.json is missing")


def test_defaults():
    assert K.floatx() == "float32"
    assert K.epsilon() == 1e-07
    assert K.image_data_format() == "channels_last"
    assert K.learning_phase() == 0 and type(K.learning_phase()) is int


@needs_golden
def test_defaults_match_tf_keras():
    assert K.floatx() == GOLDEN["floatx"]
    assert K.epsilon() == GOLDEN["epsilon"]
    assert K.image_data_format() == GOLDEN["image_data_format"]
    assert K.learning_phase() == GOLDEN["learning_phase"]["default"]


@pytest.mark.parametrize("value", ["float16", "float32", "float64"])
def test_set_floatx_accepts_float_types(value):
    K.set_floatx(value)
    assert K.floatx() == value
    assert K.variable([1.0]).dtype == value
    assert K.placeholder(shape=(2,)).dtype == value
    assert K.constant(1.0).dtype == value


@pytest.mark.parametrize("value", ["int8", "int32", "bfloat16", "float", "", None])
def test_set_floatx_rejects_others_naming_the_allowed_values(value):
    with pytest.raises(ValueError) as info:
        K.set_floatx(value)
    message = str(info.value)
    assert f"Unknown `floatx` value: {value}." in message
    for allowed in ("float16", "float32", "float64"):
        assert allowed in message
    assert K.floatx() == "float32"


@needs_golden
def test_set_floatx_message_matches_tf_keras_up_to_set_order():
    golden = GOLDEN["errors"]["set_floatx('int32')"]
    with pytest.raises(ValueError) as info:
        K.set_floatx("int32")
    prefix = golden["message"].split("{")[0]
    assert str(info.value).startswith(prefix)
    assert eval(str(info.value).split("one of ")[1]) == eval(golden["message"].split("one of ")[1])


def test_set_floatx_accepts_numpy_types():
    K.set_floatx(np.float64)
    assert K.floatx() == "float64"


@pytest.mark.parametrize("value", ["channels_first", "channels_last"])
def test_set_image_data_format(value):
    K.set_image_data_format(value)
    assert K.image_data_format() == value


@pytest.mark.parametrize("value", ["bad", "channels_middle", "NHWC", None])
def test_set_image_data_format_rejects_others(value):
    with pytest.raises(ValueError) as info:
        K.set_image_data_format(value)
    assert str(info.value) == (f"Unknown `data_format`: {value}. Expected one of "
                               "{'channels_first', 'channels_last'}")
    assert K.image_data_format() == "channels_last"


@needs_golden
def test_set_image_data_format_message_matches_tf_keras():
    golden = GOLDEN["errors"]["set_image_data_format('channels_middle')"]
    with pytest.raises(ValueError) as info:
        K.set_image_data_format("channels_middle")
    message = str(info.value)
    assert message.split("{")[0] == golden["message"].split("{")[0]
    # tf_keras prints a Python set, whose order varies
    assert eval(message.split("one of ")[1]) == eval(golden["message"].split("one of ")[1])


def test_image_data_format_drives_bias_add_default():
    x = np.zeros((1, 2, 3), np.float32)
    K.set_image_data_format("channels_first")
    np.testing.assert_array_equal(K.bias_add(x, np.array([1.0, 2.0], np.float32))[0, :, 0],
                                  [1.0, 2.0])
    with pytest.raises(ValueError, match="data_format"):
        K.bias_add(x, np.zeros(3, np.float32), data_format="channels_middle")


def test_set_epsilon_and_printing():
    K.set_epsilon(1e-5)
    assert K.epsilon() == 1e-05 and repr(K.epsilon()) == "1e-05"
    assert type(K.epsilon()) is float
    K.set_epsilon(1e-7)
    assert repr(K.epsilon()) == "1e-07"


def test_epsilon_is_used_by_the_losses():
    target = np.array([[1.0, 0.0]], np.float32)
    output = np.array([[0.0, 1.0]], np.float32)
    small = K.categorical_crossentropy(target, output)
    K.set_epsilon(1e-3)
    large = K.categorical_crossentropy(target, output)
    np.testing.assert_allclose(small, [-np.log(np.float32(1e-7))], rtol=1e-4)
    np.testing.assert_allclose(large, [-np.log(np.float32(1e-3))], rtol=1e-4)


@pytest.mark.parametrize("value", [0, 1, True, False, 1.0])
def test_set_learning_phase_accepts_0_and_1(value):
    K.set_learning_phase(value)
    assert K.learning_phase() == int(value)


@pytest.mark.parametrize("value", [2, -1, 0.5, "1", None])
def test_set_learning_phase_rejects_others(value):
    with pytest.raises(ValueError) as info:
        K.set_learning_phase(value)
    assert str(info.value).startswith("Expected learning phase to be 0 or 1.")
    assert K.learning_phase() == 0


def test_learning_phase_scope_restores():
    with K.learning_phase_scope(1) as value:
        assert value == 1 and K.learning_phase() == 1
        assert K.in_train_phase("train", "test") == "train"
    assert K.learning_phase() == 0
    assert K.in_train_phase("train", "test") == "test"
    assert K.in_test_phase(lambda: "test", lambda: "train") == "test"
    with pytest.raises(ValueError):
        with K.learning_phase_scope(3):
            pass


def test_get_uid_counts_per_prefix():
    assert [K.get_uid("dense") for _ in range(3)] == [1, 2, 3]
    assert [K.get_uid() for _ in range(3)] == [1, 2, 3]
    assert K.get_uid("") == 4
    assert K.get_uid("other") == 1


@needs_golden
def test_get_uid_matches_tf_keras():
    assert [K.get_uid("dense") for _ in range(3)] == GOLDEN["get_uid_dense"]
    assert [K.get_uid() for _ in range(3)] == GOLDEN["get_uid_empty"]
    assert K.get_uid("") == GOLDEN["get_uid_default_arg_after_empty"]
    K.reset_uids()
    assert K.get_uid("dense") == GOLDEN["get_uid_dense_after_reset_uids"]
    K.clear_session()
    assert K.get_uid("dense") == GOLDEN["get_uid_dense_after_clear_session"]


def test_reset_uids():
    K.get_uid("a")
    K.get_uid("a")
    K.reset_uids()
    assert K.get_uid("a") == 1


def test_clear_session_resets_uids_names_and_learning_phase_but_not_config():
    K.set_floatx("float64")
    K.set_epsilon(1e-4)
    K.set_image_data_format("channels_first")
    K.set_learning_phase(1)
    K.get_uid("dense")
    first = K.placeholder(shape=(1,))
    second = K.placeholder(shape=(1,))
    assert first.name != second.name
    K.clear_session()
    assert K.get_uid("dense") == 1
    assert K.learning_phase() == 0
    assert K.placeholder(shape=(1,)).name == first.name
    assert K.floatx() == "float64"
    assert K.epsilon() == 1e-4
    assert K.image_data_format() == "channels_first"


def test_clear_session_resets_layer_names():
    from symkb import layers
    assert [layers.Dense(2).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    K.clear_session()
    assert layers.Dense(2).name == "dense"


def test_get_uid_does_not_shift_layer_names():
    """As in tf_keras, K.get_uid's counters are separate from layer naming."""
    from symkb import layers
    assert [K.get_uid("dense"), K.get_uid("dense")] == [1, 2]
    assert layers.Dense(2).name == "dense"


def test_clear_session_runs_reset_hooks():
    from symkb.backend import session
    calls = []
    session.register_reset_hook(lambda: calls.append(1))
    try:
        K.clear_session()
        assert calls == [1]
    finally:
        session._RESET_HOOKS.pop()


def test_variable_dtype_follows_floatx_for_numbers():
    assert K.variable([1, 2]).dtype == "float32"
    assert K.variable(np.array([1, 2])).dtype == "float32"
    assert K.variable([1, 2], dtype="int32").dtype == "int32"
    K.set_floatx("float64")
    assert K.variable(np.array([1.0], np.float32)).dtype == "float64"


def test_cast_to_floatx():
    K.set_floatx("float16")
    out = K.cast_to_floatx([1, 2, 3])
    assert isinstance(out, np.ndarray) and out.dtype == np.float16
    symbolic = K.cast_to_floatx(K.placeholder(shape=(2,), dtype="int32"))
    assert symbolic.dtype == "float16"


def test_learning_phase_keeps_the_value_set():
    from symkb import backend as K
    K.clear_session()
    try:
        K.set_learning_phase(True)
        assert K.learning_phase() is True
        K.set_learning_phase(1)
        assert K.learning_phase() == 1
        with K.learning_phase_scope(0):
            assert K.learning_phase() == 0
        assert K.learning_phase() == 1
        assert K.is_sparse(tensor=K.placeholder(shape=(2,))) is False
    finally:
        K.clear_session()
    assert K.learning_phase() == 0
