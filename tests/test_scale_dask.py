"""Compiled models over dask arrays: lazy results equal to in-process predict,
the model in the task graph once, one compile per worker process, a killed
worker retried, a corrupted model refused on the client (docs/scale-out.md)."""
import os
import pickle
import signal
import time

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.scale import Payload, payload_of, worker_stats

da = pytest.importorskip("dask.array", reason="the dask extra (pip install 'symkb[dask]')")
distributed = pytest.importorskip("distributed")


def _two_io_model():
    a = layers.Input((6, 3), name="seq")
    b = layers.Input((4,), name="side")
    h = layers.GRU(5, name="gru")(a)
    merged = layers.Concatenate()([h, layers.Dense(3, name="side_dense")(b)])
    return symkb.models.Model([a, b], [layers.Dense(2, name="head")(merged),
                                       layers.Dense(1, activation="sigmoid", name="p")(h)])


@pytest.fixture(scope="module")
def model():
    return _two_io_model()


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(7)
    return rng.randn(90, 6, 3).astype("float32"), rng.randn(90, 4).astype("float32")


def test_threaded_predict_is_lazy_and_exact(model, data):
    x, s = data
    before = worker_stats()["compiles"]
    ys = model.predict([da.from_array(x, chunks=(40, 6, 3)), da.from_array(s, chunks=25)])
    assert worker_stats()["compiles"] == before  # nothing ran yet
    assert [y.shape for y in ys] == [(90, 2), (90, 1)]
    assert [y.chunks[0] for y in ys] == [(40, 40, 10)] * 2
    assert [y.dtype for y in ys] == [np.float32] * 2
    ref = model.predict([x, s], verbose=0)
    got = [y.compute(scheduler="threads") for y in ys]
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)
    by_name = model.predict({"seq": da.from_array(x, chunks=30), "side": s})
    np.testing.assert_array_equal(by_name[1].compute(), ref[1])


def test_model_enters_the_task_graph_once():
    inp = layers.Input((64,))
    wide = symkb.models.Model(inp, layers.Dense(256)(inp))  # 66 KB of weights
    x = np.ones((90, 64), "float32")
    ys = symkb.scale.predict(wide, da.from_array(x, chunks=10), target="interpreter")
    graph = dict(ys.__dask_graph__())
    weights = payload_of(wide).nbytes
    holding = [k for k, v in graph.items() if isinstance(v, Payload)
               or "Payload" in type(getattr(v, "value", None)).__name__]
    assert len(holding) <= 1
    tasks = [k for k in graph if k not in holding]
    assert len(tasks) >= 9
    sizes = [len(pickle.dumps(graph[k])) for k in tasks]
    assert max(sizes) < weights  # no task carries the weights


def test_compiled_executable_maps_over_dask(model, data):
    x, s = data
    exe = symkb.compile(model, target="interpreter")
    got = exe([da.from_array(x, chunks=50), da.from_array(s, chunks=50)])
    ref = exe([x, s])
    for g, r in zip(got, ref):
        # a chunk's products may split their sums otherwise than the whole
        # batch's (BLAS called from dask's threads at once): a last-bit difference
        np.testing.assert_allclose(g.compute(), r, rtol=1e-6, atol=1e-7)


def test_corrupted_model_fails_on_the_client(model, data):
    x, s = data
    good = payload_of(model)
    bad = Payload(good.graph_json.replace('"nodes"', '"nodez"'), good.weights, good.target,
                  good.single_output, "corrupt")
    with pytest.raises(ValueError, match="nodes"):
        symkb.scale.predict(bad, [da.from_array(x, chunks=30), s])


def test_bad_input_names_the_problem(model, data):
    x, s = data
    with pytest.raises(ValueError, match="expects shape"):
        model.predict([da.from_array(x[:, :, :2], chunks=30), s])
    with pytest.raises(ValueError, match="cardinality"):
        model.predict([da.from_array(x, chunks=30), s[:50]])


def _slow(block):
    time.sleep(0.15)
    return block


def test_local_cluster_exact_once_per_worker_and_survives_a_kill(data):
    x, s = data
    model = _two_io_model()
    model.compile(optimizer="sgd", loss=["mse", "binary_crossentropy"],
                  metrics=[["mae"], ["accuracy"]])
    y = [np.tanh(x[:, 0, :2]), (s[:, :1] > 0).astype("float32")]
    ref = model.predict([x, s], verbose=0)
    ref_eval = model.evaluate([x, s], y, batch_size=15, verbose=0, return_dict=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        ys = model.predict([da.from_array(x, chunks=15), da.from_array(s, chunks=15)])
        got = client.compute(ys, sync=True)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g, r)
        stats = client.run(worker_stats)
        assert sorted(v["compiles"] for v in stats.values()) in ([0, 1], [1, 1])
        got_eval = model.evaluate([da.from_array(x, chunks=30), da.from_array(s, chunks=30)],
                                  y, batch_size=15, verbose=0, return_dict=True)
        for k in ref_eval:
            np.testing.assert_allclose(got_eval[k], ref_eval[k], rtol=1e-6, err_msg=k)
        # several models trained as tasks on the workers, the data scattered once
        pair = [_small_regressor(), _small_regressor()]
        twin = _small_regressor()
        twin.set_weights(pair[1].get_weights())
        xr = np.tanh(x[:, :4, :2])
        yr = xr[:, -1, :1]
        results = symkb.models.fit_many(pair, xr, yr, epochs=1, batch_size=30, shuffle=False)
        h = twin.fit(xr, yr, epochs=1, batch_size=30, shuffle=False, verbose=0)
        np.testing.assert_allclose(results[1]["history"]["loss"], h.history["loss"], rtol=1e-6)
        # a worker killed mid-computation: dask reruns its tasks, the result is exact
        slow = da.from_array(x, chunks=5).map_blocks(_slow, dtype=x.dtype)
        futures = client.compute(model.predict([slow, da.from_array(s, chunks=5)]))
        pids = client.run(os.getpid)
        time.sleep(1.0)
        assert not all(f.done() for f in futures)  # the kill comes mid-computation
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        got = client.gather(futures)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g, r)


def test_score_command_streams_npy_to_npy(tmp_path, model, data):
    from symkb.cli import main
    x, s = data
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "s.npy", s)
    model.save(str(tmp_path / "m.symkb"))
    out = tmp_path / "y.npy"
    assert main(["score", str(tmp_path / "m.symkb"), str(tmp_path / "x.npy"),
                 str(tmp_path / "s.npy"), "--out", str(out), "--chunk", "32"]) == 0
    ref = model.predict([x, s], verbose=0)
    for i, r in enumerate(ref):
        np.testing.assert_array_equal(np.load(tmp_path / f"y_{i}.npy"), r)
    np.save(tmp_path / "bad.npy", np.zeros((5, 2, 3), "float32"))
    assert main(["score", str(tmp_path / "m.symkb"), str(tmp_path / "bad.npy"),
                 str(tmp_path / "s.npy"), "--out", str(out)]) == 1


def test_evaluate_merges_chunk_states_exactly():
    inp = layers.Input((5, 3))
    h = layers.LSTM(4, name="lstm")(inp)
    m = symkb.models.Model(inp, [layers.Dense(3, activation="softmax", name="cls")(h),
                                 layers.Dense(1, activation="sigmoid", name="bin")(h)])
    m.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "binary_crossentropy"],
              metrics=[["accuracy"], ["accuracy", __import__("symkb.metrics").metrics.AUC(num_thresholds=50)]],
              loss_weights=[1.0, 0.5])
    rng = np.random.RandomState(3)
    x = rng.randn(96, 5, 3).astype("float32")
    y1 = rng.randint(0, 3, (96, 1)).astype("float32")
    y2 = (rng.rand(96, 1) > 0.5).astype("float32")
    sw = rng.rand(96).astype("float32")
    ref = m.evaluate(x, [y1, y2], batch_size=16, sample_weight=sw, verbose=0, return_dict=True)
    got = m.evaluate(da.from_array(x, chunks=32), [da.from_array(y1, chunks=48), y2],
                     batch_size=16, sample_weight=sw, verbose=0, return_dict=True)
    assert got.keys() == ref.keys()
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-6, err_msg=k)


def _small_regressor():
    inp = layers.Input((4, 2))
    m = symkb.models.Model(inp, layers.Dense(1, name="out")(layers.SimpleRNN(3, name="rnn")(inp)))
    m.compile(optimizer=__import__("symkb.optimizers").optimizers.SGD(0.05), loss="mse",
              metrics=["mae"])
    return m


def test_fit_streams_chunks_and_matches_in_memory_fit():
    from symkb.models.streaming import ChunkedRows
    rng = np.random.RandomState(11)
    x = rng.randn(70, 4, 2).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] * 0.3
    a, b = _small_regressor(), _small_regressor()
    b.set_weights(a.get_weights())
    h_ref = a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                  validation_data=(x[:20], y[:20]))
    dx, dy = da.from_array(x, chunks=16), da.from_array(y, chunks=16)
    h = b.fit(dx, dy, batch_size=8, epochs=2, shuffle=False, verbose=0,
              validation_data=(da.from_array(x[:20], chunks=8), y[:20]))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)  # the same batches, the same steps
    for k in h_ref.history:
        np.testing.assert_allclose(h.history[k], h_ref.history[k], rtol=1e-6, err_msg=k)
    # shuffled: chunks in a new order each epoch, rows shuffled within them
    h2 = b.fit(dx, dy, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(h2.history["loss"]).all()
    rows = ChunkedRows(dx)
    order = __import__("symkb.models.streaming").models.streaming.epoch_order(dx.chunks[0], True)
    assert sorted(order.tolist()) == list(range(70))
    chunk_of = order // 16
    assert sum(chunk_of[1:] != chunk_of[:-1]) == 4  # each chunk's rows come together
    assert not np.array_equal(order, np.arange(70))
    rows.plan(np.arange(70))
    np.testing.assert_array_equal(rows[np.array([65, 3, 17, 40])], x[[65, 3, 17, 40]])
    assert len(rows._cache) <= 3  # never more than a few chunks in memory
    with pytest.raises(ValueError, match="validation_split"):
        b.fit(dx, dy, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        b.fit(dx, dy[:50], verbose=0)


def test_fit_many_trains_each_model_as_a_task_and_matches_fit():
    rng = np.random.RandomState(5)
    x = rng.randn(40, 4, 2).astype("float32")
    y = x[:, -1, :1] * 0.5
    models = [_small_regressor() for _ in range(3)]
    twins = [_small_regressor() for _ in range(3)]
    for m, t in zip(models, twins):
        t.set_weights(m.get_weights())
    results = symkb.models.fit_many(models, x, y, epochs=2, batch_size=10, shuffle=False)
    for m, t, r in zip(models, twins, results):
        h = t.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
        np.testing.assert_allclose(r["history"]["loss"], h.history["loss"], rtol=1e-6)
        for a, b in zip(m.get_weights(), t.get_weights()):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not compiled"):
        inp = layers.Input((3,))
        symkb.models.fit_many([symkb.models.Model(inp, layers.Dense(1)(inp))], x, y)
