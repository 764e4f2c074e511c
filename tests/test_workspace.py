"""Large buffers a compiled function keeps from call to call (workspaces).

``symkb/lower/cpu/workspace.py``: a buffer the generated function allocates
once a call and that is large (a gradient's stacked residuals) is an
argument of the function, returned after its results and handed to the next
call of the same shape. These tests check that the buffers are reused, that
results never share them (a result of one call stays as it was after the
next), and the values against the interpreter for every batch size, row
block count and for calls from several threads at once.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir, layers
from symkb.lower.cpu.phases import PhasedExecutable
from symkb.lower.cpu.workspace import Workspaces
from tests.harness import compiled

RNG = np.random.default_rng(17)
T, UNITS = 64, 64  # (batch, 64, 64) float32 residuals: 16 KiB a row, workspace-sized


@pytest.fixture(scope="module")
def lstm_grad():
    K.clear_session()
    x = layers.Input((T, 3), name="x")
    lstm = layers.LSTM(UNITS, return_sequences=True, name="lstm")
    y = K.placeholder(shape=(None, T, UNITS), name="y")
    loss = K.mean(K.square(lstm(x) - y))
    lstm.set_weights([RNG.standard_normal(w.shape).astype(np.float32) * 0.3
                      for w in lstm.get_weights()])
    graph = ir.Graph([x, y], [loss] + K.gradients(loss, lstm.trainable_weights),
                     name="ws_lstm_grad")
    return compiled(graph, "cpu"), compiled(graph, "interpreter")


def _data(batch):
    return [RNG.standard_normal((batch, T, 3)).astype(np.float32),
            RNG.standard_normal((batch, T, UNITS)).astype(np.float32)]


def _check(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-6)


def test_stacked_residuals_are_workspace_arguments(lstm_grad):
    cpu, _ = lstm_grad
    assert isinstance(cpu, PhasedExecutable)
    src = cpu.rows.source
    assert "ws0" in src and "if ws0.shape != " in src
    # the residuals the backward loop reads are kept; the results are not
    assert len(cpu.rows._spaces._slots) >= 6


def test_workspaces_are_reused_and_results_stay_fresh(lstm_grad):
    cpu, ref = lstm_grad
    cpu.threads = 2
    try:
        d1, d2 = _data(16), _data(16)
        r1 = cpu(d1)
        kept1 = [id(b) for s in next(iter(cpu.rows._spaces._sets.values())) for b in s]
        r2 = cpu(d2)
        kept2 = [id(b) for s in next(iter(cpu.rows._spaces._sets.values())) for b in s]
        assert kept1 == kept2  # the second call ran in the first one's buffers
        _check(r1, ref(d1))   # ... and left the first call's results alone
        _check(r2, ref(d2))
    finally:
        cpu.threads = None
    assert cpu.calls["interpreter"] == 0


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_batch_sizes_and_row_blocks_match_the_interpreter(lstm_grad, blocks):
    cpu, ref = lstm_grad
    cpu.threads = blocks
    try:
        for batch in (24, 9, 24, 1, 9):
            data = _data(batch)
            _check(cpu(data), ref(data))
    finally:
        cpu.threads = None
    # a few call shapes are kept, not one a batch size ever seen
    assert len(cpu.rows._spaces._sets) <= 2


def test_calls_from_several_threads_at_once(lstm_grad):
    cpu, ref = lstm_grad
    datas = [_data(12) for _ in range(4)]
    wants = [ref(d) for d in datas]
    errors = []

    def work(k):
        try:
            for _ in range(4):
                _check(cpu(datas[k]), wants[k])
        except Exception as e:  # noqa: BLE001  (re-raised in the test's thread)
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]


def test_a_whole_function_keeps_its_workspace():
    K.clear_session()
    x = K.placeholder(shape=(None, 64, 128), name="x")
    t = K.reshape(K.tanh(x) * 2.0 + 1.0, (-1, 128))
    out = K.dot(K.transpose(t), K.reshape(x, (-1, 128)))  # mixes the batch rows
    graph = ir.Graph([x], [out], name="ws_whole")
    cpu, ref = compiled(graph, "cpu"), compiled(graph, "interpreter")
    assert cpu.row_split is None and cpu._spaces
    first = None
    for batch in (3, 3, 5):
        data = [RNG.standard_normal((batch, 64, 128)).astype(np.float32)]
        got = cpu(data)
        np.testing.assert_allclose(got[0], ref(data)[0], rtol=1e-4, atol=1e-3)
        if first is None:
            first = (got[0], ref(data)[0])
    np.testing.assert_allclose(*first, rtol=1e-4, atol=1e-3)  # not overwritten since


def test_a_buffer_a_result_shares_is_never_kept():
    spaces = Workspaces([(1, "float32"), (2, "float32")])
    sets, new = spaces.take("k")
    assert new and [b.shape for b in sets[0]] == [(0,), (0, 0)]
    a, b = np.zeros(8, np.float32), np.zeros((2, 4), np.float32)
    result = b.reshape(-1)[2:]   # a result viewing the second buffer
    spaces.give("k", [[a, b]], new, [result])
    (kept,), new = spaces.take("k")
    assert not new and kept[0] is a and kept[1].shape == (0, 0)
    # the slot stays refused on later sets too
    spaces.give("k", [[a, np.zeros((2, 4), np.float32)]], False)
    (kept,), _ = spaces.take("k")
    assert kept[1].shape == (0, 0)


def test_workspaces_keep_two_call_shapes():
    spaces = Workspaces([(1, "float32")])
    for key in ("a", "b", "c"):
        spaces.give(key, [[np.zeros(4, np.float32)]], True)
    assert list(spaces._sets) == ["b", "c"]
    spaces.clear()
    assert not spaces._sets


@pytest.mark.parametrize("preset", [None, "7"])
def test_import_sets_the_blas_thread_timeout_unless_set(preset):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    out = subprocess.run([sys.executable, "-c", "import os, symkb; "
                          "print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (preset or "20")
