"""The gradient of dropout uses the forward's mask (tf: ``ct * mask / keep``).

Finite differences cannot check a random op, so each test runs the forward
and the gradient in one call and recovers the mask from the forward's output
(the inputs are kept away from zero: a dropped entry is exactly 0): on the
interpreter for ``K.dropout`` (with and without a seed, with a noise shape)
and for a seeded raw ``dropout`` node, and once compiled for the cpu.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.lower import compile_graph

RATE = 0.4


def _graph(seed=None, noise_shape=None, raw=False):
    """``(graph, x)``: outputs the dropped ``x`` and the gradient of
    ``sum(dropped * ct)`` in ``x``."""
    x = K.placeholder(shape=(None, 3, 4), name="x")
    ct = K.placeholder(shape=(None, 3, 4), name="ct")
    if raw:
        y = ir.call("dropout", x, rate=RATE, seed=seed, noise_shape=noise_shape)
    else:
        y = K.dropout(x, RATE, noise_shape=noise_shape, seed=seed)
    (dx,) = K.gradients(K.sum(y * ct), [x])
    return ir.Graph([x, ct], [y, dx], name="dropout_grad")


def _inputs():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 1.5, size=(5, 3, 4)) * rng.choice([-1, 1], size=(5, 3, 4))
    return [x.astype("float32"), rng.normal(size=(5, 3, 4)).astype("float32")]


def _check(y, dx, x, ct, noise_shape=None):
    mask = y != 0
    assert 0 < mask.mean() < 1                       # some dropped, some kept
    if noise_shape is not None:                      # one draw per (batch, feature)
        assert (mask == mask[:, :1]).all()
    keep = np.float32(1 - RATE)
    np.testing.assert_allclose(y, x * mask / keep, rtol=1e-6)
    np.testing.assert_allclose(dx, ct * mask / keep, rtol=1e-6)


@pytest.mark.parametrize("seed,noise_shape", [(None, None), (3, None), (None, (None, 1, 4))])
def test_k_dropout_gradient_reads_the_forward_mask(seed, noise_shape):
    graph = _graph(seed, noise_shape)
    x, ct = _inputs()
    for _ in range(2):                               # unseeded: a new mask each run
        y, dx = ir.evaluate(graph, [x, ct])
        _check(y, dx, x, ct, noise_shape)


def test_a_seeded_raw_dropout_node_redraws_its_mask_in_the_gradient():
    graph = _graph(seed=5, raw=True)
    x, ct = _inputs()
    _check(*ir.evaluate(graph, [x, ct]), x, ct)
    x = K.placeholder(shape=(None, 3), name="x")
    with pytest.raises(NotImplementedError, match="dropout node without a seed.*K.dropout"):
        K.gradients(K.sum(ir.call("dropout", x, rate=0.5, seed=None, noise_shape=None)), [x])


def test_compiled_cpu_dropout_gradient_reads_the_forward_mask():
    fn = compile_graph(_graph(), "cpu")
    x, ct = _inputs()
    y, dx = fn(x, ct)
    _check(y, dx, x, ct)
