"""No silent pause: ``symkb.compile(..., background=True)`` and the verbose lines.

The compiled graphs are tiny and shared: one Dense model compiled for the cpu
target (its kernel stays in the test cache folder between runs), the other
compiles either fail before numba is reached or block in a pass of the
test's own, so that "not done yet" is certain rather than a race.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import traceback

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.lower import PIPELINE, FallbackWarning, resolve_target
from symkb.lower.background import BackgroundCompile

X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)


def _dense():
    model = symkb.Sequential([layers.Input((4,)), layers.Dense(3, activation="tanh")],
                             name="bg_dense")
    model.set_weights([np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3),
                       np.array([0.1, -0.2, 0.3], np.float32)])
    return model


def _gate():
    """A pass that holds the compile until the returned event is set."""
    release = threading.Event()

    def hold(graph):
        assert release.wait(60), "the test never released the compile"
        return graph
    return hold, release


def test_background_result_equals_foreground_and_a_call_waits_for_it():
    model = _dense()
    hold, release = _gate()
    handle = symkb.compile(model, target="cpu", background=True, passes=(*PIPELINE, hold))
    assert isinstance(handle, BackgroundCompile)
    assert not handle.done() and handle.running() and not handle.cancelled()
    assert "compiling" in repr(handle)
    with pytest.raises(TimeoutError):
        handle.wait(timeout=0.01)
    threading.Timer(0.2, release.set).start()
    out = handle(X)  # blocks until compiled: never a silent interpreter call meanwhile
    assert handle.done() and handle.exception() is None
    assert handle.calls == {"kernel": 1, "interpreter": 0} and handle.target == "cpu"
    foreground = symkb.compile(model, target="cpu")
    np.testing.assert_array_equal(out, foreground(X))
    np.testing.assert_allclose(out, symkb.compile(model, target="interpreter")(X), atol=1e-6)
    assert handle.wait() is handle.result(timeout=0) and handle.source == foreground.source
    handle.threads = 1  # attributes are the executable's, set too
    assert handle.wait().threads == 1
    assert repr(handle).startswith("<symkb background compile 'bg_dense' (done: <symkb cpu")
    seen = []
    handle.add_done_callback(seen.append)
    assert seen == [handle]


def test_an_error_in_the_background_reaches_the_caller_with_its_traceback():
    def broken_pass(graph):
        raise ArithmeticError("broken on purpose")

    handle = symkb.compile(_dense(), target="cpu", background=True,
                           passes=(*PIPELINE, broken_pass))
    with pytest.raises(ArithmeticError, match="broken on purpose") as first:
        handle.wait(timeout=60)
    frames = [f.name for f in traceback.extract_tb(first.value.__traceback__)]
    assert "broken_pass" in frames and "run_pipeline" in frames, frames
    assert handle.done() and handle.exception() is first.value
    for use in (lambda: handle(X), lambda: handle.source, lambda: handle.result()):
        with pytest.raises(ArithmeticError) as again:
            use()
        assert again.value is first.value
    assert "failed: ArithmeticError" in repr(handle)


def test_a_fallback_warning_is_issued_to_whoever_collects_the_result():
    x = K.placeholder(shape=(2, 3, 4), dtype="int32", name="x")
    graph = ir.Graph([x], [K.batch_dot(x, x, axes=(2, 2))], name="bg_int_batch_dot")
    handle = symkb.compile(graph, "auto", background=True)
    handle.exception(timeout=60)  # ended, the warning held for the caller
    with pytest.warns(FallbackWarning, match="bg_int_batch_dot") as record:
        f = handle.wait()
    assert len(record) == 1 and record[0].filename == __file__
    assert f.target == "interpreter"
    handle.wait()  # issued once
    ints = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    np.testing.assert_array_equal(handle(ints), np.einsum("bik,bjk->bij", ints, ints))


def test_two_background_compiles_and_a_foreground_one_do_not_deadlock():
    graphs = []
    for i, op in enumerate((K.tanh, K.sigmoid, K.exp)):
        x = K.placeholder(shape=(None, 3), name="x")
        graphs.append(ir.Graph([x], [op(x) * float(i + 2)], name=f"bg_concurrent_{i}"))
    handles = [symkb.compile(g, target="cpu", background=True) for g in graphs[:2]]
    foreground = symkb.compile(graphs[2], target="cpu")
    x = np.ones((2, 3), np.float32)
    for g, f in zip(graphs, [*(h.wait(timeout=600) for h in handles), foreground]):
        np.testing.assert_allclose(f(x), symkb.compile(g, target="interpreter")(x), rtol=1e-6)


def test_a_process_ends_while_a_background_compile_runs(tmp_path):
    child = ("import threading, symkb\n"
             "from symkb import layers\n"
             "from symkb.lower import PIPELINE\n"
             "never = threading.Event()\n"
             "m = symkb.Sequential([layers.Input((4,)), layers.Dense(3)])\n"
             "h = symkb.compile(m, target='cpu', background=True,\n"
             "                  passes=(*PIPELINE, lambda g: never.wait() and g))\n"
             "print('running', h.running())\n")
    env = dict(os.environ, SYMKB_CACHE_DIR=str(tmp_path / "symkb"),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "running True"


def test_symkb_compile_verbose_says_what_target_and_how_long(capsys):
    model = _dense()
    symkb.compile(model, target="cpu", verbose=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "bg_dense: compiling the graph for the cpu target..."
    assert re.fullmatch(r"bg_dense: compiled in \d+\.\d\d s \((cold compile|loaded from the "
                        r"cache|reused from an earlier compile in this process)\)", err[1]), err[1]
    assert len(err) == 2
    symkb.compile(model, target="interpreter", verbose=True, name="plain")
    assert capsys.readouterr().err.splitlines()[1].endswith("(the interpreter target)")
    symkb.compile(model, target="cpu")  # verbose is off by default
    assert capsys.readouterr() == ("", "")
    hold, release = _gate()
    handle = symkb.compile(model, target="cpu", verbose=True, background=True,
                           passes=(*PIPELINE, hold))
    # the first line before compile returns, the second when the compile ends
    assert capsys.readouterr().err == "bg_dense: compiling the graph for the cpu target...\n"
    release.set()
    handle.wait(timeout=120)
    assert capsys.readouterr().err.startswith("bg_dense: compiled in ")

    def broken_pass(graph):
        raise ArithmeticError("broken on purpose")
    with pytest.raises(ArithmeticError):
        symkb.compile(model, target="cpu", verbose=True, passes=(*PIPELINE, broken_pass))
    assert re.fullmatch(r"bg_dense: the compile failed after \d+\.\d\d s \(ArithmeticError\)",
                        capsys.readouterr().err.splitlines()[1])


def test_silent_paths_stay_silent_and_bad_arguments_are_refused(capsys):
    # tf_keras prints nothing for these: predict_on_batch, a call, K.function
    target = resolve_target("auto")
    assert target in ("cpu", "cuda")
    model = _dense()
    model.predict_on_batch(X)
    model(X)
    x = K.placeholder(shape=(None, 3))
    K.function([x], [K.tanh(x)])(np.ones((1, 3), np.float32))
    assert capsys.readouterr() == ("", "")
    fresh = _dense()
    fresh.predict(X, verbose=2)  # verbose: the first predict says it compiles
    assert capsys.readouterr().err.startswith(
        f"bg_dense: compiling the graph for the {target} target (the first predict")
    with pytest.raises(ValueError, match="unknown target 'gpu'"):
        symkb.compile(model, target="gpu", background=True)
    with pytest.raises(TypeError, match="`background` must be True or False, received 'yes'"):
        symkb.compile(model, background="yes")
