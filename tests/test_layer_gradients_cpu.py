"""Compiled cpu gradients of every golden layer model == the interpreter's (slow).

The twelve models of ``tests/goldens/gradients.json`` (Dense, SimpleRNN,
LSTM, GRU with ``reset_after`` true and false, Bidirectional, TimeDistributed,
the Masking- and Embedding(mask_zero)-masked stacks), their losses and the
gradients for every weight: one compile per model. Together they compile a
dozen recurrences forward and backward (many minutes of cpu time), so they
are marked ``slow`` and run only with ``SYMKB_SLOW=1``; the suite compiles
a masked LSTM's gradient (``test_rnn_gradients.py``), a Dense loss's
(``test_gradients.py``) and a checkpointed recurrence's
(``test_rnn_checkpoint.py``) on every run.
"""
from __future__ import annotations

import os

import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from tests.harness import assert_same
from tests.test_gradient_goldens import ARRAYS, MODELS, _model_layers

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("SYMKB_SLOW") != "1",
                                 reason="slow: compiles every layer model's gradient "
                                        "(SYMKB_SLOW=1 runs it)")]


@pytest.mark.parametrize("case", MODELS, ids=[m["id"] for m in MODELS])
def test_compiled_cpu_layer_gradients_equal_the_interpreters(case):
    """One compile per layer model: its loss and the gradient of every weight."""
    cid = case["id"]
    dtype = "int32" if case.get("input") == "ids" else None
    model = symkb.Sequential([layers.Input(tuple(case["input_shape"]), dtype=dtype)]
                             + _model_layers(layers)[cid])
    model.set_weights([ARRAYS[f"{cid}/w{k}"] for k in range(case["weights"])])
    t = K.placeholder(shape=(None,) + ARRAYS[f"{cid}/t"].shape[1:], name="t")
    y = model.output
    loss = {"mse": lambda: K.mean(K.square(y - t)),
            "cce": lambda: K.mean(K.categorical_crossentropy(t, y)),
            "bce": lambda: K.mean(K.binary_crossentropy(t, y))}[case["loss"]]()
    graph = ir.Graph([model.input, t], [loss, *K.gradients(loss, model.trainable_weights)],
                     name=cid)
    assert_same(graph, [ARRAYS[f"{cid}/x"], ARRAYS[f"{cid}/t"]], targets=("cpu",))
