"""Attention on the cpu target without copies of its heads (``symkb/lower/cpu/heads.py``).

On row blocks, a multi-head attention's head splits are strided views read
in place by ``gemm_serial``, the heads' product is written straight into the
merged buffer, and ``batch_dot(softmax(batch_dot(q, k)), v)`` runs a head at
a time. Every case compares the compiled function with the interpreter
(numpy) and checks on the generated source which forms were taken: the
layer with sizes the kernel takes (16 lanes), sizes it does not (the usual
copies), a causal mask and returned scores (the one-pass form must not be
taken), several batch sizes and row blocks, weights changed after compiling.
"""
from __future__ import annotations

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers
from symkb.lower import compile_graph

ONE_PASS = "(computed a head at a time with the softmax and the second product below)"
RNG = np.random.default_rng(3)


def _model(steps, dim, heads, key_dim, **call):
    K.clear_session()
    x = K.placeholder(shape=(None, steps, dim), name="tokens")
    mha = layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    out = mha(x, x, **call)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    mha.set_weights([RNG.standard_normal(w.shape).astype("float32") * 0.3
                     for w in mha.get_weights()])
    graph = ir.Graph([x], outs)
    return graph, mha, compile_graph(graph, "cpu"), compile_graph(graph, "interpreter")


def _same(exe, ref, x, rtol=2e-5, atol=2e-5):
    for got, want in zip(exe([x]), ref([x])):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def wide():
    """Heads of 16, 32 steps: the views, the merged write and the one-pass form."""
    return _model(32, 48, 3, 16)


def test_views_and_one_pass_are_taken(wide):
    _, _, exe, _ = wide
    src = exe.source
    assert ONE_PASS in src
    assert ".transpose((0, 2, 1, 3))" in src and "[b // 3, b % 3]" in src
    assert "[b // 3, :, b % 3, :]" in src       # the heads written where they are merged
    assert "np.ascontiguousarray" not in src    # no copies of the heads


@pytest.mark.parametrize("batch", [0, 1, 4, 9])
def test_matches_the_interpreter(wide, batch):
    _, _, exe, ref = wide
    _same(exe, ref, RNG.standard_normal((batch, 32, 48)).astype("float32"))


def test_row_blocks_and_new_weights(wide):
    _, mha, exe, ref = wide
    mha.set_weights([w * -0.5 for w in mha.get_weights()])
    exe.threads = 3
    try:
        _same(exe, ref, RNG.standard_normal((7, 32, 48)).astype("float32"))
    finally:
        exe.threads = None


@pytest.mark.parametrize("key_dim", [32, 64])
def test_heads_of_whole_panels_share_one_packing_a_batch_row(key_dim):
    # heads of 32 columns or a multiple: the values of one batch row are packed
    # once, at its first head, and each head reads its own panels of it
    _, mha, exe, ref = _model(24, 40, 3, key_dim)
    src = exe.source
    assert "_row_panels = pack_rhs(" in src and "if b % 3 == 0:" in src
    span = 24 * key_dim
    assert f"_row_panels[(b % 3) * {span}:(b % 3 + 1) * {span}]" in src
    for batch in (1, 2, 5):
        _same(exe, ref, RNG.standard_normal((batch, 24, 40)).astype("float32"))
    mha.set_weights([w * 0.7 for w in mha.get_weights()])
    exe.threads = 2
    try:
        _same(exe, ref, RNG.standard_normal((5, 24, 40)).astype("float32"))
    finally:
        exe.threads = None


def test_sizes_the_kernel_does_not_take_use_copies():
    _, _, exe, ref = _model(6, 10, 2, 5)
    assert ONE_PASS not in exe.source and "np.ascontiguousarray" in exe.source
    _same(exe, ref, RNG.standard_normal((3, 6, 10)).astype("float32"))


@pytest.mark.parametrize("call", [dict(use_causal_mask=True),
                                  dict(return_attention_scores=True)])
def test_masks_and_returned_scores_keep_the_scores_tensor(call):
    _, _, exe, ref = _model(16, 32, 2, 16, **call)
    assert ONE_PASS not in exe.source
    _same(exe, ref, RNG.standard_normal((5, 16, 32)).astype("float32"))


@pytest.mark.parametrize("width", [5, 40, 67])
def test_softmax_rows_with_nan_and_inf(width):
    """The softmax's maximum over 16 lanes (rows of 32 and more) skips NaN:
    a row holding one is NaN everywhere all the same, as tf's and numpy's."""
    K.clear_session()
    x = K.placeholder(shape=(None, 6, width))
    graph = ir.Graph([x], [K.softmax(x * 1.0)])
    exe, ref = compile_graph(graph, "cpu"), compile_graph(graph, "interpreter")
    v = RNG.standard_normal((2, 6, width)).astype("float32") * 20
    v[0, 1, width // 2] = np.nan
    v[0, 2, -1] = np.inf
    v[0, 3, :] = -np.inf
    v[0, 4, 0] = np.nan
    v[1, 5, 3] = -np.inf
    got, want = exe([v])[0], ref([v])[0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert np.isnan(got[0, 1]).all() and np.isnan(got[0, 4]).all()
    assert np.isfinite(got[1]).all() and got[1, 5, 3] == 0.0
