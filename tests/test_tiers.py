"""Two forms of a kernel (``symkb/lower/tiers.py``): a model whose small sizes
differ from one compiled before runs at once on the size-generic kernel, and
on its own kernel once that has compiled in the background (in a child
process, into numba's disk cache).

Each test has a cache folder of its own (numba's machine code of a generated
module is keyed by the module's file), so what is compiled already is what
the test compiled; the runtime helpers stay in the shared numba cache. The
suite runs with ``SYMKB_CHILD_COMPILES=0`` (``conftest.py``); these tests turn it on.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.lower import tiers
from symkb.lower.cpu import CpuExecutable

ROOT = pathlib.Path(__file__).resolve().parents[1]
X = np.linspace(-2, 2, 4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)


def _model(units: int, name: str = "tiers"):
    model = symkb.Sequential([layers.Input((6, 3)),
                              layers.SimpleRNN(units, return_sequences=True),
                              layers.Dense(2)], name=name)
    rng = np.random.default_rng(units)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


@pytest.fixture
def tiered(monkeypatch, tmp_path):
    tiers.wait()  # what earlier tests left (a suite run with child compiles on)
    monkeypatch.setenv("SYMKB_CHILD_COMPILES", "1")
    monkeypatch.setenv("SYMKB_CACHE_DIR", str(tmp_path / "symkb"))
    yield tmp_path / "symkb"
    assert symkb.wait_compiles(120)


def _modules(folder: pathlib.Path) -> list:
    """The compiled modules in the cache folder (not their readable copies)."""
    return sorted(p for p in folder.glob("cpu_*.py") if p.stem.count(".") == 0)


def _expected(model):
    return symkb.compile(model, target="interpreter")(X)


def test_a_variant_runs_the_size_generic_kernel_then_its_own(tiered):
    first = symkb.compile(_model(5), target="cpu")
    assert isinstance(first, CpuExecutable) and not first.generic
    np.testing.assert_allclose(first(X), _expected(_model(5)), rtol=1e-5, atol=1e-6)
    assert symkb.wait_compiles(120)  # the size-generic form, compiled after the cold one
    model = _model(7)
    variant = symkb.compile(model, target="cpu")
    # compiled by a child process, loaded from the disk cache
    assert variant.generic and variant.cache_hit and not variant.reused
    generic_fn = variant.function
    y = variant(X)
    np.testing.assert_allclose(y, _expected(model), rtol=1e-5, atol=1e-6)
    assert symkb.wait_compiles(120)
    assert not variant.generic and variant.function is not generic_fn
    # this process loaded the own form from numba's cache: it never compiled it
    stats = variant.function.stats
    assert sum(stats.cache_misses.values()) == 0 and sum(stats.cache_hits.values()) == 1
    again = variant(X)
    np.testing.assert_array_equal(again, y)  # one code, literals apart: the same floats
    # a Variable changed after building is read by the kernel that runs now
    w = model.layers[-1].kernel
    w.assign(w.numpy() * 2)
    np.testing.assert_allclose(variant(X), _expected(model), rtol=1e-5, atol=1e-6)


def test_a_cold_compile_leaves_both_forms_in_the_cache(tiered):
    symkb.compile(_model(5), target="cpu")
    assert symkb.wait_compiles(120)
    modules = _modules(tiered)
    assert len(modules) == 2
    texts = [p.read_text() for p in modules]
    counts = sorted(t.count("sizes_") for t in texts)
    assert counts[0] == 0 < counts[1]  # the own form has every size a literal
    # the own form keeps the units as literals, the size-generic one none of them
    own, generic = sorted(texts, key=lambda t: t.count("sizes_"))
    assert "range(5)" in own and "range(5)" not in generic


def test_a_cold_compile_runs_the_quick_form_then_its_own(tiered):
    model = _model(40)  # past canonical.SMALL: the own form takes 40 as an argument
    first = symkb.compile(model, target="cpu")
    assert first.form == "quick" and not first.generic and not first.cache_hit
    y = first(X)
    np.testing.assert_allclose(y, _expected(model), rtol=1e-5, atol=1e-6)
    quick_fn = first.function
    assert symkb.wait_compiles(120)
    assert first.form == "own" and first.function is not quick_fn
    np.testing.assert_array_equal(first(X), y)  # one code, literals apart: the same floats
    texts = [p.read_text() for p in _modules(tiered)]
    assert len(texts) == 3  # quick, own, size-generic
    quick, own, generic = sorted(texts, key=lambda t: t.count("sizes_"))
    assert quick.count("sizes_") == 0 and "range(40)" in quick
    assert "range(40)" not in own and "range(6)" in own  # only the size past SMALL lifted
    assert "range(6)" not in generic
    # a model whose sizes differ only past SMALL shares the own form, at once
    other_model = _model(48)
    other = symkb.compile(other_model, target="cpu")
    assert other.form == "own" and other.reused
    np.testing.assert_allclose(other(X), _expected(other_model), rtol=1e-5, atol=1e-6)


def test_a_new_process_runs_the_own_form_once_compiled(tiered):
    symkb.compile(_model(40), target="cpu")
    assert symkb.wait_compiles(120)
    out = subprocess.run([sys.executable, "-c", CHILD.format(tests=str(ROOT / "tests")),
                          "44", "wait"], capture_output=True, text=True, timeout=600,
                         cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["form"] == "own" and report["hit"] and not report["generic"]
    assert report["err"] < 1e-5


def test_variants_on_either_side_of_the_wide_vector_line_share_the_generic_form(tiered):
    narrow = symkb.compile(_model(24), target="cpu")
    assert "wide_vectors()" not in narrow.source
    assert symkb.wait_compiles(120)
    model = _model(40)
    wide = symkb.compile(model, target="cpu")
    assert "wide_vectors()" in wide.source and wide.generic
    np.testing.assert_allclose(wide(X), _expected(model), rtol=1e-5, atol=1e-6)


def test_the_size_generic_form_is_made_after_its_executable_went(tiered):
    import gc
    import threading
    go = threading.Event()
    tiers.submit(lambda: go.wait(60), "a test job holding the worker")
    first = symkb.compile(_model(5), target="cpu")
    assert tiers.pending() == 2  # the test job, then the size-generic form
    del first
    gc.collect()
    go.set()
    assert symkb.wait_compiles(120)
    assert symkb.compile(_model(7), target="cpu").generic


def test_a_model_seen_before_runs_its_own_kernel(tiered):
    first = symkb.compile(_model(5), target="cpu")
    assert symkb.wait_compiles(120)
    again = symkb.compile(_model(5), target="cpu")
    assert not again.generic and again.reused and again.function is first.function


def test_off_every_variant_compiles_its_own_kernel(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMKB_CHILD_COMPILES", "0")
    monkeypatch.setenv("SYMKB_CACHE_DIR", str(tmp_path))
    symkb.compile(_model(5), target="cpu")
    variant = symkb.compile(_model(7), target="cpu")
    assert not variant.generic and not variant.reused
    assert tiers.pending() == 0
    assert len(_modules(tmp_path)) == 2  # one form each
    fn, _ = _gradient_function()
    assert "beside" not in fn.compile_phases
    assert sum(fn.tail.function.stats.cache_misses.values()) == 1  # compiled here


def test_verbose_says_the_size_generic_kernel_runs(tiered, capsys):
    symkb.compile(_model(5), target="cpu")
    assert symkb.wait_compiles(120)
    capsys.readouterr()
    symkb.compile(_model(7), target="cpu", verbose=True)
    err = capsys.readouterr().err
    assert "the size-generic kernel, from the cache" in err
    assert "compiles in the background" in err


def test_verbose_says_the_quick_form_runs(tiered, capsys):
    symkb.compile(_model(40), target="cpu", verbose=True)
    err = capsys.readouterr().err
    assert "cold compile: the quick form, its own form compiles in the background" in err


CHILD = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
import symkb
from test_tiers import X, _model
model = _model(int(sys.argv[1]))
ex = symkb.compile(model, target="cpu")
y = ex(X)
ref = symkb.compile(model, target="interpreter")(X)
generic, form = ex.generic, ex.form
if sys.argv[2] == "wait":
    symkb.wait_compiles()
print(json.dumps({{"generic": generic, "form": form, "hit": ex.cache_hit,
                  "after": ex.generic, "err": float(np.abs(y - ref).max())}}))
"""


def test_a_new_process_loads_the_size_generic_kernel(tmp_path):
    env = dict(os.environ, SYMKB_CHILD_COMPILES="1", SYMKB_CACHE_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT))
    code = CHILD.format(tests=str(ROOT / "tests"))

    def run(units, wait="wait"):
        proc = subprocess.run([sys.executable, "-c", code, str(units), wait], env=env,
                              text=True, capture_output=True, timeout=600, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    # the first process ends without waiting: its end waits for the compile in progress
    first, second = run(5, "exit"), run(7)
    assert not first["generic"]
    assert second["generic"] and second["hit"] and not second["after"]
    assert first["err"] < 1e-5 and second["err"] < 1e-5


def test_a_failed_background_compile_warns_once(monkeypatch):
    monkeypatch.setenv("SYMKB_CHILD_COMPILES", "1")
    monkeypatch.setitem(tiers._STATE, "failed", 0)

    def broken():
        raise ValueError("no such kernel")

    with pytest.warns(RuntimeWarning, match="background compile of the test job failed"):
        tiers.submit(broken, "the test job")
        assert tiers.wait(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second failure is counted, not reported
        tiers.submit(broken, "the test job")
        assert tiers.wait(60)
    assert tiers._STATE["failed"] == 2 and tiers.enabled()


def test_a_child_that_cannot_start_turns_child_compiles_off(monkeypatch):
    monkeypatch.setenv("SYMKB_CHILD_COMPILES", "1")
    monkeypatch.setitem(tiers._STATE, "failed", 0)
    monkeypatch.setitem(tiers._STATE, "broken", False)

    def no_interpreter():
        raise FileNotFoundError(2, "No such file or directory", "python")

    with pytest.warns(RuntimeWarning, match="FileNotFoundError"):
        tiers.submit(no_interpreter, "the test job")
        assert tiers.wait(60)
    assert not tiers.enabled()


def test_has_code_never_compiles():
    from numba import njit, types

    @njit(cache=False)
    def twice(x):
        return 2 * x

    sig = (types.int64,)
    assert not tiers.has_code(twice, sig)  # nothing compiled, nothing cached
    assert not twice.overloads
    twice.compile(sig)
    assert tiers.has_code(twice, sig)


def _gradient_function():
    from symkb import backend as K
    model = _model(6, name="beside")
    y = K.placeholder(shape=(None, 6, 2), name="y")
    loss = K.mean(K.square(model.output - y))
    fn = K.function([model.input, y], [loss] + K.gradients(loss, model.trainable_weights),
                    target="cpu")
    expected = K.function([model.input, y], [loss] + K.gradients(loss, model.trainable_weights),
                          target="interpreter")
    return fn, expected


def test_a_step_compiles_its_tail_in_a_child_process(tiered):
    from symkb.lower.cpu.phases import PhasedExecutable
    fn, expected = _gradient_function()
    assert isinstance(fn, PhasedExecutable)  # K.function gives the executable
    step = fn
    assert "beside" in step.compile_phases
    stats = step.tail.function.stats  # loaded from the cache the child wrote
    assert sum(stats.cache_misses.values()) == 0 and sum(stats.cache_hits.values()) == 1
    t = np.linspace(-1, 1, 4 * 6 * 2, dtype=np.float32).reshape(4, 6, 2)
    for got, want in zip(fn([X, t]), expected([X, t])):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("timeout", [-1, "1", True])
def test_wait_compiles_refuses_a_bad_timeout(timeout):
    with pytest.raises(ValueError, match="wait_compiles: `timeout`"):
        symkb.wait_compiles(timeout)
