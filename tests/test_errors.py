"""Errors say what went wrong: the op, what it received and what it expected.

Each case is checked symbolically (placeholders) and, where the mistake can
be made with arrays, eagerly too: the same op raises the same kind of error
either way, since both go through the op's type rule.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb.ir import DTypeError, ShapeError


def ph(*shape, dtype="float32"):
    return K.placeholder(shape=shape, dtype=dtype)


def arr(*shape, dtype="float32"):
    return np.ones([1 if d is None else d for d in shape], dtype=dtype)


class S(tuple):
    """A tensor argument of this shape (``None``: unknown when symbolic, 1 when eager)."""


# (id, function, arguments (S(shape) or a list of shapes: tensors), kwargs, error class,
#  phrases the message must contain)
SHAPE_CASES = [
    ("dot_inner", K.dot, [S((None, 3, 4)), S((5, 2))], {}, ValueError,
     ["dot", "(None, 3, 4)", "(5, 2)", "4", "5"]),
    ("add_broadcast", K.add, [S((None, 3, 4)), S((5,))], {}, ValueError,
     ["add", "(None, 3, 4)", "(5,)", "broadcast"]),
    ("maximum_broadcast", K.maximum, [S((2, 3)), S((2, 4))], {}, ValueError,
     ["maximum", "(2, 3)", "(2, 4)"]),
    ("equal_broadcast", K.equal, [S((2, 3)), S((4,))], {}, ValueError, ["equal", "(2, 3)", "(4,)"]),
    ("sum_axis", K.sum, [S((None, 3, 4))], {"axis": 3}, ValueError,
     ["sum", "axis 3", "rank 3"]),
    ("mean_neg_axis", K.mean, [S((None, 3))], {"axis": -3}, ValueError,
     ["mean", "axis -3", "rank 2"]),
    ("argmax_axis", K.argmax, [S((2, 3))], {"axis": 2}, ValueError, ["argmax", "axis 2"]),
    ("softmax_axis", K.softmax, [S((2, 3))], {"axis": 5}, ValueError, ["softmax", "axis 5"]),
    ("softmax_rank1", K.softmax, [S((3,))], {}, ValueError, ["softmax", "1D", "rank >= 2"]),
    ("concatenate_dims", K.concatenate, [[(None, 3, 4), (None, 2, 5)]], {"axis": 1}, ValueError,
     ["concatenate", "axis 2", "[4, 5]"]),
    ("concatenate_rank", K.concatenate, [[(None, 3, 4), (None, 2)]], {}, ValueError,
     ["concatenate", "same rank", "(None, 2)"]),
    ("stack_shapes", K.stack, [[(2, 3), (2, 4)]], {}, ValueError, ["stack", "(2, 3)", "(2, 4)"]),
    ("reshape_count", K.reshape, [S((2, 3)), (4, 2)], {}, ValueError,
     ["reshape", "(2, 3)", "6 elements", "(4, 2)", "8 elements"]),
    ("reshape_two_unknown", K.reshape, [S((2, 3)), (-1, -1)], {}, ValueError,
     ["reshape", "-1"]),
    ("permute_pattern", K.permute_dimensions, [S((None, 3, 4)), (0, 1)], {}, ValueError,
     ["transpose", "(0, 1)", "permutation"]),
    ("squeeze_size", K.squeeze, [S((None, 3, 4)), 1], {}, ValueError,
     ["squeeze", "axis 1", "size 3", "expected size 1"]),
    ("expand_dims_axis", K.expand_dims, [S((2, 3)), 4], {}, ValueError, ["expand_dims", "axis 4"]),
    ("tile_reps", K.tile, [S((None, 3, 4)), (1, 2)], {}, ValueError,
     ["tile", "3 repetition counts", "(1, 2)"]),
    ("batch_dot_rank", K.batch_dot, [S((3,)), S((None, 3, 4))], {}, ValueError,
     ["batch_dot", "rank < 2", "(3,)"]),
    ("batch_dot_contracted", K.batch_dot, [S((None, 3, 4)), S((None, 5, 2))], {}, ValueError,
     ["batch_dot", "4", "5"]),
    ("batch_dot_batch_axis", K.batch_dot, [S((2, 3)), S((2, 3))], {"axes": 0}, ValueError,
     ["batch_dot", "axis 0"]),
    ("batch_dot_batch_sizes", K.batch_dot, [S((2, 3)), S((4, 3))], {}, ValueError,
     ["batch_dot", "batch sizes", "2", "4"]),
    ("bias_add_size", K.bias_add, [S((None, 3, 4)), S((5,))], {}, ValueError,
     ["bias_add", "(5,)", "(4,)"]),
    ("bias_add_rank", K.bias_add, [S((None, 3, 4)), S((2, 3, 4))], {}, ValueError,
     ["bias_add", "bias dimensions 3", "expected 1 or 2"]),
    ("repeat_rank", K.repeat, [S((None, 3, 4)), 2], {}, ValueError,
     ["repeat", "2-D", "(None, 3, 4)"]),
    ("temporal_padding_rank", K.temporal_padding, [S((2, 3))], {}, ValueError,
     ["temporal_padding", "3-D", "(2, 3)"]),
    ("spatial_2d_padding_rank", K.spatial_2d_padding, [S((2, 3, 4))], {}, ValueError,
     ["spatial_2d_padding", "4-D", "(2, 3, 4)"]),
    ("switch_rank", K.switch, [S((2, 3, 4, 5)), S((2, 3, 4)), S((2, 3, 4))], {}, ValueError,
     ["switch", "ndim(condition)=4", "ndim(then_expression)=3"]),
    ("in_top_k_rank", K.in_top_k, [S((2, 3, 4)), S((2,)), 1], {}, ValueError,
     ["in_top_k", "rank 2", "(2, 3, 4)"]),
]


def _arguments(args, factory):
    out = []
    for a in args:
        if isinstance(a, S):
            out.append(factory(*a))
        elif isinstance(a, list):
            out.append([factory(*t) for t in a])
        else:
            out.append(a)
    return out


def _assert_message(exc, phrases, case_id):
    message = str(exc)
    for phrase in phrases:
        assert phrase in message, f"{case_id}: {phrase!r} not in the message {message!r}"


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_symbolic_shape_errors(case):
    case_id, fn, args, kwargs, error, phrases = case
    with pytest.raises(error) as info:
        fn(*_arguments(args, ph), **kwargs)
    _assert_message(info.value, phrases, case_id)


def _has_unknown_dims(args):
    shapes = [a for a in args if isinstance(a, S)] + \
        [t for a in args if isinstance(a, list) for t in a]
    return any(None in shape for shape in shapes)


EAGER_CASES = [c for c in SHAPE_CASES if not _has_unknown_dims(c[2])]


@pytest.mark.parametrize("case", EAGER_CASES, ids=[c[0] for c in EAGER_CASES])
def test_eager_shape_errors(case):
    case_id, fn, args, kwargs, error, phrases = case
    with pytest.raises(error) as info:
        fn(*_arguments(args, arr), **kwargs)
    _assert_message(info.value, phrases, case_id)


def test_shape_errors_are_value_errors_of_a_symkb_class():
    with pytest.raises(ShapeError):
        K.dot(ph(2, 3), ph(4, 2))
    assert issubclass(ShapeError, ValueError)


# --- dtypes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [K.exp, K.log, K.sin, K.tanh, K.sigmoid, K.softplus, K.relu])
def test_float_only_ops_reject_integers(fn):
    with pytest.raises(TypeError) as info:
        fn(ph(2, 3, dtype="int32"))
    _assert_message(info.value, [fn.__name__, "int32", "floating-point", "K.cast"], fn.__name__)
    with pytest.raises(TypeError):
        fn(np.array([1, 2], np.int32))


@pytest.mark.parametrize("fn", [K.one_hot, K.gather])
def test_index_ops_reject_float_indices(fn):
    x = ph(3, 4)
    with pytest.raises(DTypeError) as info:
        fn(x, x) if fn is K.gather else fn(x, 3)
    _assert_message(info.value, [fn.__name__, "integer indices", "float32"], fn.__name__)


def test_cast_to_unknown_dtype_names_cast():
    with pytest.raises(TypeError) as info:
        K.cast(ph(2), "complex64")
    _assert_message(info.value, ["cast", "complex64", "float32"], "cast")


@pytest.mark.parametrize("fn", [K.sum, K.prod])
def test_sum_of_bool_names_the_fix(fn):
    with pytest.raises(TypeError) as info:
        fn(ph(2, dtype="bool"))
    _assert_message(info.value, [fn.__name__, "bool", "K.cast"], fn.__name__)


# --- non-tensors --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, shown", [("abc", "str"), (None, "NoneType"),
                                          ({"a": 1}, "dict"), (object(), "object")])
def test_non_tensor_arguments_name_op_and_operand(value, shown):
    with pytest.raises(TypeError) as info:
        K.exp(value)
    _assert_message(info.value, ["exp", "operand 0", shown, "expected"], "exp")
    with pytest.raises(TypeError) as info:
        K.add(ph(2), value)
    _assert_message(info.value, ["add", "operand 1", shown], "add")


def test_clip_bounds_must_be_numbers():
    with pytest.raises(TypeError) as info:
        K.clip(ph(2), "a", 1.0)
    _assert_message(info.value, ["clip", "min_value", "'a'"], "clip")


def test_symbolic_value_requests_say_how_to_fix():
    x = ph(2)
    for request in (np.asarray, float, bool):
        with pytest.raises(TypeError) as info:
            request(x)
        _assert_message(info.value, ["K.function"], request.__name__)
    with pytest.raises(TypeError):
        K.get_value(x)


def test_is_keras_tensor_rejects_non_tensors():
    with pytest.raises(ValueError, match="Expected a symbolic tensor instance"):
        K.is_keras_tensor(3)


def test_variable_ops_need_variables():
    with pytest.raises(TypeError) as info:
        K.set_value(np.zeros(2), 1.0)
    _assert_message(info.value, ["set_value", "Variable", "ndarray"], "set_value")
    with pytest.raises(TypeError) as info:
        K.update_add(ph(2), 1.0)
    _assert_message(info.value, ["update_add", "Variable", "KerasTensor"], "update_add")
    v = K.variable(np.zeros(2))
    with pytest.raises(ValueError) as info:
        K.set_value(v, np.zeros(3))
    _assert_message(info.value, ["(3,)", "(2,)"], "assign")


def test_placeholder_needs_shape_or_ndim():
    with pytest.raises(ValueError, match="shape.*ndim"):
        K.placeholder()


def test_map_fn_on_unknown_length_points_to_rnn():
    with pytest.raises(ValueError) as info:
        K.map_fn(K.sum, ph(None, 3))
    _assert_message(info.value, ["map_fn", "first dimension", "K.rnn"], "map_fn")


# --- K.function ------------------------------------------------------------------------------
def test_function_wrong_number_of_inputs():
    x, y = ph(None, 3), ph(None, 3)
    f = K.function([x, y], x + y)
    with pytest.raises(ValueError) as info:
        f([np.ones((2, 3))])
    _assert_message(info.value, ["expected 2 input", "received 1", "f32[?,3]"], "count")
    g = K.function([x], K.sum(x))
    with pytest.raises(ValueError) as info:
        g([np.ones((2, 3)), np.ones((2, 3))])
    _assert_message(info.value, ["expected 1 input", "received 2"], "count")


def test_function_incompatible_shape_names_the_input():
    x, y = ph(None, 3), K.placeholder(shape=(None, 4), name="second")
    f = K.function([x, y], [K.sum(x), K.sum(y)])
    with pytest.raises(ValueError) as info:
        f([np.ones((2, 3)), np.ones((2, 5))])
    _assert_message(info.value, ["input 1", "second", "(None, 4)", "(2, 5)", "axis 1"], "shape")
    with pytest.raises(ValueError) as info:
        f([np.ones((2, 3)), np.ones(4)])
    _assert_message(info.value, ["input 1", "second", "rank 2", "(4,)"], "rank")


def test_function_inputs_must_be_keras_tensors():
    with pytest.raises(TypeError) as info:
        K.function([np.ones(2)], ph(2))
    _assert_message(info.value, ["function", "inputs[0]", "KerasTensor", "ndarray"], "inputs")


def test_function_missing_placeholder_is_named():
    x, y = ph(2), K.placeholder(shape=(2,), name="forgotten")
    with pytest.raises(ValueError) as info:
        K.function([x], x + y)
    _assert_message(info.value, ["forgotten", "not among the inputs"], "missing")


def test_function_rejects_two_updates_of_one_variable():
    x, v = ph(2), K.variable(0.0)
    with pytest.raises(ValueError, match="updates"):
        K.function([x], x, updates=[(v, 1.0), (v, 2.0)])


def test_symbolic_sizes_in_static_arguments_are_named():
    x = ph(None, 3)
    with pytest.raises(TypeError) as info:
        K.reshape(x, (K.shape(x)[0], 3))
    _assert_message(info.value, ["reshape", "`shape`", "Python ints"], "reshape")
    with pytest.raises(TypeError) as info:
        K.tile(x, (1.5, 2))
    _assert_message(info.value, ["tile", "`n`", "1.5"], "tile")


def test_constant_with_an_incompatible_shape():
    with pytest.raises(ValueError) as info:
        K.constant([1, 2, 3], shape=(2, 2))
    _assert_message(info.value, ["constant", "3 elements", "(2, 2)"], "constant")
