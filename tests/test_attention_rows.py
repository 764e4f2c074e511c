"""Attention keeps the batch rows apart: its graph runs on row blocks, one a thread.

``MultiHeadAttention`` folds the heads into the batch axis (``(b, h, s, d)
-> (b * h, s, d)``), multiplies with ``batch_dot`` and unfolds them again;
``rows.py`` tracks how many rows each batch row spans (``RowSet``), so those
reshapes and products are row-wise, while a reshape that would join rows of
different batch rows still keeps the graph whole.
"""
from __future__ import annotations

import numpy as np

from symkb import backend as K
from symkb import ir, layers
from symkb.lower import run_pipeline
from symkb.lower.cpu.rows import graph_row_separable
from tests.harness import compiled

RNG = np.random.default_rng(7)


def _split(graph):
    return graph_row_separable(run_pipeline(graph)[0])


def test_folding_heads_into_the_batch_and_back_is_row_wise():
    x = K.placeholder(shape=(None, 6, 8), name="x")
    heads = K.reshape(K.permute_dimensions(K.reshape(x, (-1, 6, 2, 4)), (0, 2, 1, 3)),
                      (-1, 6, 4))                                   # (b * 2, 6, 4)
    scores = K.softmax(K.batch_dot(heads, heads, axes=(2, 2)))      # (b * 2, 6, 6)
    back = K.reshape(K.batch_dot(scores, heads, axes=(2, 1)), (-1, 2, 6, 4))
    assert _split(ir.Graph([x], [back])) == (True,)
    assert _split(ir.Graph([x], [K.reshape(heads, (-1, 48))])) == (True,)  # one batch row's
    assert _split(ir.Graph([x], [heads])) is None  # a result of 2 rows a batch row
    # rows of two batch rows joined: the graph runs whole
    assert _split(ir.Graph([x], [K.reshape(heads, (-1, 96))])) is None
    assert _split(ir.Graph([x], [K.reshape(x, (-1, 96))])) is None
    # a product of values that span different numbers of rows per batch row
    assert _split(ir.Graph([x], [K.batch_dot(heads[:, :, :2], x[:, :2, :], axes=(2, 1))])) \
        is None


def test_attention_runs_on_row_blocks_and_matches_the_interpreter():
    K.clear_session()
    x = K.placeholder(shape=(None, 8, 32), name="x")
    y = x + layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x)
    graph = ir.Graph([x], [y])
    cpu = compiled(graph, "cpu")
    assert cpu.row_split == (True,) and "gemm_serial(" in cpu.source
    data = RNG.normal(size=(19, 8, 32)).astype("float32")
    want = compiled(graph, "interpreter")(data)
    for threads in (1, 3):
        cpu.threads = threads
        np.testing.assert_allclose(cpu(data), want, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{threads} threads")
    cpu.threads = None
