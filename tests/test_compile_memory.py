"""Compiling many graphs keeps only the live ones: a generated module leaves
``sys.modules`` (and is freed) with the last executable using it."""
from __future__ import annotations

import gc

import numpy as np

from symkb import backend as K
from symkb import ir
from symkb.lower import cache, compile_graph


def _graph(k: float):
    x = K.placeholder(shape=(None, 3), name="x")
    return ir.Graph([x], [K.tanh(x * k)], name=f"scaled_{int(k)}")


def _check(executable, k: float) -> None:
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    out = executable(x)
    out = out[0] if isinstance(out, list) else out
    np.testing.assert_allclose(out, np.tanh(x * np.float32(k)), rtol=1e-6)


def _baseline() -> set:
    """The generated modules alive before a test (garbage of earlier tests collected)."""
    gc.collect()
    return set(cache.live_modules())


def _live_dispatchers(names) -> int:
    from numba.core.registry import CPUDispatcher
    count = 0
    for obj in gc.get_objects():
        try:
            if type(obj) is CPUDispatcher and obj.py_func.__module__ in names:
                count += 1
        except ReferenceError:
            pass
    return count


def test_generated_modules_leave_with_their_executables():
    from numba.core.dispatcher import Dispatcher
    baseline = _baseline()
    names, kept = set(), None
    for k in range(1, 7):
        executable = compile_graph(_graph(float(k)), "cpu")
        _check(executable, k)
        names.add(executable.function.py_func.__module__)
        if k == 3:
            kept = executable
        del executable
    gc.collect()
    assert len(names) == 6
    kept_name = kept.function.py_func.__module__
    assert set(cache.live_modules()) - baseline == {kept_name}
    # numba keeps its most recent dispatchers (NUMBA_FUNCTION_CACHE_SIZE, a bounded
    # deque); without them only the one in use is left
    Dispatcher._recent.clear()
    gc.collect()
    assert _live_dispatchers(names) == 1
    _check(kept, 3)                       # the survivor still runs
    del kept
    gc.collect()
    assert set(cache.live_modules()) == baseline


def test_one_module_shared_by_two_executables():
    baseline = _baseline()
    first = compile_graph(_graph(7.0), "cpu")
    second = compile_graph(_graph(7.0), "cpu")
    name = first.function.py_func.__module__
    assert second.function.py_func.__module__ == name
    assert set(cache.live_modules()) - baseline == {name}
    del first
    gc.collect()
    assert name in cache.live_modules()    # the second still uses it
    _check(second, 7)
    del second
    gc.collect()
    assert set(cache.live_modules()) == baseline


def test_a_failed_compile_leaves_no_module(monkeypatch):
    from symkb.lower import cpu
    baseline = _baseline()

    def broken(args, sizes=()):
        raise RuntimeError("no signature")
    monkeypatch.setattr(cpu, "_signature", broken)
    try:
        compile_graph(_graph(9.0), "cpu")
    except RuntimeError as exc:
        assert "no signature" in str(exc)
    else:
        raise AssertionError("the compile should have failed")
    assert set(cache.live_modules()) == baseline


def test_models_made_in_a_loop_keep_one_module_alive():
    import symkb
    from symkb import layers
    baseline = _baseline()
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    for units in range(1, 6):
        K.clear_session()
        model = symkb.Sequential([layers.Input((3,)), layers.Dense(units)])
        kernel, bias = model.get_weights()
        np.testing.assert_allclose(model.predict(x), x @ kernel + bias, rtol=1e-5, atol=1e-6)
        gc.collect()
        assert len(set(cache.live_modules()) - baseline) == 1   # this model's only
    del model
    gc.collect()
    assert set(cache.live_modules()) == baseline


def test_threads_compiling_one_graph_share_and_release_its_module():
    import threading
    baseline = _baseline()
    graph = _graph(8.0)
    executables, errors = [], []

    def work():
        try:
            executable = compile_graph(graph, "cpu")
            _check(executable, 8)
            executables.append(executable)
        except BaseException as exc:
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[0]
    names = {e.function.py_func.__module__ for e in executables}
    assert len(executables) == 4 and len(names) == 1
    assert set(cache.live_modules()) - baseline == names
    executables.pop()
    gc.collect()
    assert set(cache.live_modules()) - baseline == names
    executables.clear()
    gc.collect()
    assert set(cache.live_modules()) == baseline
