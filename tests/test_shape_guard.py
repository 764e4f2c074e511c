"""Compiled code never runs on input shapes it was not built for: inputs that
disagree on an unknown size get numpy's answer (broadcast or error)."""
import numpy as np
import pytest

from symkb import backend as K


@pytest.fixture(scope="module")
def add_two():
    x = K.placeholder(shape=(None, 4), name="x")
    y = K.placeholder(shape=(None, 4), name="y")
    return K.function([x, y], K.tanh(x * 2.0 + y))


def test_equal_unknown_sizes_run_the_kernel(add_two):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    np.testing.assert_allclose(add_two([a, a]), np.tanh(a * 2 + a), rtol=1e-6)
    assert add_two.target == "cpu"


def test_size_one_batch_broadcasts_like_numpy(add_two):
    a = np.ones((1, 4), np.float32)
    b = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    np.testing.assert_allclose(add_two([a, b]), np.tanh(a * 2 + b), rtol=1e-6)
    np.testing.assert_allclose(add_two([b, a]), np.tanh(b * 2 + a), rtol=1e-6)


def test_incompatible_sizes_raise_instead_of_reading_out_of_bounds(add_two):
    with pytest.raises(ValueError, match="broadcast"):
        add_two([np.ones((2, 4), np.float32), np.ones((3, 4), np.float32)])


def test_single_input_of_any_batch_uses_the_kernel():
    from symkb.lower.shape_guard import ShapeGuard
    x = K.placeholder(shape=(None, None, 3))
    f = K.function([x], K.sum(x, axis=1))
    guard = ShapeGuard(f.graph)
    assert guard.fits([np.ones((1, 7, 3))]) and guard.fits([np.ones((5, 2, 3))])
    np.testing.assert_allclose(f([np.ones((1, 7, 3), np.float32)]), np.full((1, 3), 7.0))
