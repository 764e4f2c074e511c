"""Every backend function reads its Variable arguments when the graph runs.

A composite function (one that first combines, reshapes or transposes its
Variable arguments, then meets the symbolic input) must not fold the
Variables' values into constants when the graph is built: after
``set_value``, the compiled function gives what the eager function gives on
the new values.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K

R = np.random.default_rng(11)


def _f(*shape):
    return R.standard_normal(shape).astype("float32")


def _pos(*shape):
    return R.uniform(0.5, 2.0, shape).astype("float32")


# name: (function(x, *operands), input shape, operand makers (new values come
# from the same maker), input maker)
CASES = {
    "batch_normalization": (
        lambda x, m, v, b, g: K.batch_normalization(x, m, v, b, g, epsilon=1e-3),
        (None, 3), [lambda: _f(3), lambda: _pos(3), lambda: _f(3), lambda: _f(3)], _f),
    "batch_normalization_channels_first": (
        lambda x, m, v, b, g: K.batch_normalization(x, m, v, b, g, axis=1),
        (None, 3, 2, 2), [lambda: _f(3), lambda: _pos(3), lambda: _f(3), lambda: _f(3)], _f),
    "normalize_batch_in_training": (
        lambda x, g, b: K.normalize_batch_in_training(x, g, b, [0])[0],
        (None, 3), [lambda: _f(3), lambda: _f(3)], _f),
    "bias_add_channels_first": (
        lambda x, b: K.bias_add(x, b, data_format="channels_first"),
        (None, 3, 4), [lambda: _f(3)], _f),
    "bias_add_nd_bias": (
        lambda x, b: K.bias_add(x, b), (None, 3, 4), [lambda: _f(3, 4)], _f),
    "dot_rank3_kernel": (lambda x, w: K.dot(x, w), (None, 2, 3), [lambda: _f(4, 3, 2)], _f),
    "dot_kernel_first": (lambda x, w: K.dot(w, K.transpose(x)), (None, 3),
                         [lambda: _f(2, 3)], _f),
    "gather": (lambda i, w: K.gather(w, i), (None,), [lambda: _f(5, 3)],
               lambda *s: R.integers(0, 5, (4,)).astype("int32")),
    "switch": (lambda x, a: K.switch(K.greater(x, 0.0), x * a, x), (None, 3),
               [lambda: _f(3)], _f),
    "conv1d": (lambda x, k: K.conv1d(x, k, padding="same"), (None, 6, 2),
               [lambda: _f(3, 2, 4)], _f),
    "conv2d_channels_first": (
        lambda x, k: K.conv2d(x, k, data_format="channels_first"), (None, 2, 5, 5),
        [lambda: _f(3, 3, 2, 4)], _f),
    "conv2d_transpose": (
        lambda x, k: K.conv2d_transpose(x, k, (2, 6, 6, 3), strides=(2, 2), padding="same"),
        (2, 3, 3, 4), [lambda: _f(3, 3, 3, 4)], _f),
    "depthwise_conv2d": (lambda x, k: K.depthwise_conv2d(x, k), (None, 5, 5, 2),
                         [lambda: _f(3, 3, 2, 2)], _f),
    "separable_conv2d": (lambda x, d, p: K.separable_conv2d(x, d, p), (None, 5, 5, 2),
                         [lambda: _f(3, 3, 2, 1), lambda: _f(1, 1, 2, 3)], _f),
    "local_conv1d": (lambda x, k: K.local_conv1d(x, k, (2,), (1,)), (None, 4, 2),
                     [lambda: _f(3, 4, 3)], _f),
    "categorical_crossentropy_target": (
        lambda x, t: K.categorical_crossentropy(t, K.softmax(x)), (None, 4),
        [lambda: _pos(1, 4)], _f),
    "binary_crossentropy_target": (
        lambda x, t: K.binary_crossentropy(t, K.sigmoid(x)), (None, 4),
        [lambda: R.uniform(0, 1, (1, 4)).astype("float32")], _f),
    "concatenate": (lambda x, a: K.concatenate([x, x * a]), (None, 3), [lambda: _f(3)], _f),
    "clip": (lambda x, a: K.clip(x * a, -0.5, 0.5), (None, 3), [lambda: _f(3)], _f),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_set_value_after_building_reaches_the_compiled_function(case):
    fn, shape, makers, make_input = CASES[case]
    variables = [K.variable(m()) for m in makers]
    x = K.placeholder(shape=shape, dtype="int32" if case == "gather" else None)
    y = fn(x, *variables)
    f = K.function([x], [y])
    xv = make_input(*[2 if d is None else d for d in shape])
    first = f([xv])[0]
    np.testing.assert_allclose(first, fn(xv, *[v.numpy() for v in variables]),
                               rtol=1e-4, atol=1e-5)
    new = [m() for m in makers]
    for v, value in zip(variables, new):
        K.set_value(v, value)
    got = f([xv])[0]
    want = fn(xv, *new)
    assert not np.allclose(want, first), "the new values must change the result"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
