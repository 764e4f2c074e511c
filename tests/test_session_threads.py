"""Sessions are per thread: ``clear_session()`` in one thread never breaks a
model being built in another (names, call history, learning phase)."""
from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers


def _in_thread(fn):
    """Run ``fn`` in a new thread; return its result or raise its error."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc
    t = threading.Thread(target=target)
    t.start()
    t.join(120)
    assert not t.is_alive(), "the thread did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _numpy_dense_stack(dense_layers, x):
    """A stack of Dense layers (no activation) recomputed with numpy from its weights."""
    for layer in dense_layers:
        kernel, bias = (w.numpy() for w in layer.weights)
        x = x @ kernel + bias
    return x


def test_clear_session_elsewhere_leaves_a_model_being_built_intact():
    half_built, cleared = threading.Event(), threading.Event()

    def build():
        inp = layers.Input((4,))
        h = layers.Dense(3)(inp)
        h = layers.Dense(3)(h)
        half_built.set()
        assert cleared.wait(60)
        out = layers.Dense(2)(h)
        return symkb.Model(inp, out)

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("model", build()))
    t.start()
    try:
        assert half_built.wait(60)
        K.clear_session()        # in the main thread, mid-build of the other's model
        main_layer = layers.Dense(5)
    finally:
        cleared.set()
        t.join(120)
    model = box["model"]
    # the builder's names went on from its own counter; the main thread started again
    assert [layer.name for layer in model.layers] == ["input_1", "dense", "dense_1", "dense_2"]
    assert main_layer.name == "dense"
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), _numpy_dense_stack(model.layers[1:], x),
                               rtol=1e-5,
                               atol=1e-6)


def test_learning_phase_is_per_thread():
    ready, cleared = threading.Event(), threading.Event()

    def worker():
        K.set_learning_phase(1)
        ready.set()
        assert cleared.wait(60)
        return K.learning_phase()

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("phase", worker()))
    t.start()
    try:
        assert ready.wait(60)
        assert K.learning_phase() == 0      # the worker's setting is its own
        K.set_learning_phase(1)
        K.clear_session()
        assert K.learning_phase() == 0
    finally:
        cleared.set()
        t.join(120)
    assert box["phase"] == 1


def test_uids_are_per_thread():
    assert K.get_uid("x") == 1
    assert _in_thread(lambda: (K.get_uid("x"), K.get_uid("x"))) == (1, 2)
    assert K.get_uid("x") == 2


def test_tensors_from_an_ended_thread_make_a_model():
    def build():
        inp = layers.Input((3,))
        return inp, layers.Dense(2, name="worker_dense")(inp)
    inp, out = _in_thread(build)     # the worker thread has ended
    model = symkb.Model(inp, out)
    assert [layer.name for layer in model.layers] == ["input_1", "worker_dense"]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, rtol=1e-6)


def test_clear_session_drops_the_sessions_of_ended_threads():
    def build():
        layer = layers.Dense(2)
        layer(layers.Input((3,)))
        return weakref.ref(layer)
    ref = _in_thread(build)
    gc.collect()
    assert ref() is not None, "the ended thread's call history should hold it until cleared"
    K.clear_session()
    gc.collect()
    assert ref() is None


def test_concurrent_builders_with_clear_session():
    errors, results = [], {}
    barrier = threading.Barrier(4)

    def worker(k):
        try:
            for round_ in range(5):
                barrier.wait(60)
                K.clear_session()
                inp = layers.Input((3,))
                h = layers.Dense(4)(inp)
                out = layers.Dense(2)(h)
                model = symkb.Model(inp, out)
                names = [layer.name for layer in model.layers]
                assert names == ["input_1", "dense", "dense_1"], names
                results[(k, round_)] = model
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    assert len(results) == 20
    x = np.ones((2, 3), np.float32)
    model = results[(2, 4)]
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model.predict(x), (x @ k1 + b1) @ k2 + b2, rtol=1e-5)


@pytest.mark.parametrize("where", ["same", "other"])
def test_masks_follow_tensors_across_threads(where):
    def build():
        inp = layers.Input((4, 2))
        return inp, layers.Masking(0.0)(inp)
    inp, masked = build() if where == "same" else _in_thread(build)
    out = layers.SimpleRNN(3, name="rnn")(masked)
    model = symkb.Model(inp, out)
    x = np.ones((1, 4, 2), np.float32)
    x[0, 2:] = 0.0          # the last two steps are masked: the state stops at step 2
    short_inp = layers.Input((2, 2))
    short = symkb.Model(short_inp, layers.SimpleRNN(3)(short_inp))
    short.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x), short.predict(x[:, :2]), rtol=1e-5,
                               atol=1e-6)


def test_sequential_built_across_a_clear_session_elsewhere():
    half_built, cleared = threading.Event(), threading.Event()

    def build():
        model = symkb.Sequential([layers.Input((3,)), layers.Dense(4)])
        half_built.set()
        assert cleared.wait(60)
        model.add(layers.Dense(2))
        return model

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("model", build()))
    t.start()
    try:
        assert half_built.wait(60)
        K.clear_session()
    finally:
        cleared.set()
        t.join(120)
    model = box["model"]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(model.predict(x), _numpy_dense_stack(model.layers, x),
                               rtol=1e-5, atol=1e-6)
