"""``compile_phases``: where a compile's time went (``symkb/lower/timing.py``),
and the compile-time benchmark that tabulates it (``benchmarks/compile.py``)."""
from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir
from symkb.lower import compile_graph, timing

ROOT = pathlib.Path(__file__).resolve().parents[1]
NUMBA_PHASES = ({"typing", "llvm", "load"}, {"numba"})


def _graph():
    # the graph test_cache.py compiles: its kernel is usually in the shared cache
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, name="dense/kernel")
    return ir.Graph([x], [K.tanh(K.dot(x, w) + 1.0)], name="cached_graph")


def _check(phases: dict, wall: float) -> None:
    assert all(isinstance(v, float) and v >= 0.0 for v in phases.values()), phases
    assert set(phases) <= set(timing.PHASES), phases
    # the phases are disjoint parts of the compile: together at most its wall time
    assert sum(phases.values()) <= wall + 1e-3, (phases, wall)


def test_cpu_compile_records_every_phase():
    graph = _graph()
    start = time.perf_counter()
    executable = compile_graph(graph, "cpu")
    wall = time.perf_counter() - start
    phases = executable.compile_phases
    _check(phases, wall)
    assert list(phases)[:4] == ["import", "passes", "codegen", "cache"]
    assert any(group <= set(phases) for group in NUMBA_PHASES), phases
    assert sum(phases.values()) >= 0.5 * wall, (phases, wall)  # nearly all of it is accounted
    np.testing.assert_allclose(executable(np.ones((2, 3), np.float32)),
                               compile_graph(graph, "interpreter")(np.ones((2, 3), np.float32)),
                               rtol=1e-6)


def test_interpreter_compile_records_its_preparation():
    start = time.perf_counter()
    executable = compile_graph(_graph(), "interpreter")
    wall = time.perf_counter() - start
    assert list(executable.compile_phases) == ["prepare"]
    _check(executable.compile_phases, wall)


def _fresh_dispatcher():
    """A numba function compiled from scratch (no cache): typing and LLVM both run."""
    import numba

    @numba.njit
    def scaled_sum(a):
        total = 0.0
        for v in a:
            total += v * 3.0
        return total
    return scaled_sum, (numba.float64[::1],)


def test_numba_split_of_a_compile():
    dispatcher, sig = _fresh_dispatcher()
    clock = timing.PhaseClock()
    start = time.perf_counter()
    with timing.numba_phases(clock, dispatcher):
        dispatcher.compile(sig)
    wall = time.perf_counter() - start
    phases = clock.as_dict()
    assert list(phases) == ["setup", "typing", "llvm", "load"]
    assert phases["typing"] > 0.0 and phases["llvm"] > 0.0, phases
    _check(phases, wall)
    assert dispatcher(np.arange(3.0)) == 9.0


def test_numba_split_degrades_to_one_figure(monkeypatch):
    monkeypatch.setattr(timing, "_listener", lambda: None)  # a numba without events
    dispatcher, sig = _fresh_dispatcher()

    class NoTarget:  # a dispatcher whose target cannot be set up apart
        def compile(self, signature):
            return dispatcher.compile(signature)

    clock = timing.PhaseClock()
    with timing.numba_phases(clock, NoTarget()):
        NoTarget().compile(sig)
    phases = clock.as_dict()
    assert list(phases) == ["setup", "numba"] and phases["numba"] > 0.0, phases


@pytest.mark.parametrize("kind", ["_COMPILE", "_LLVM"])
def test_numba_split_degrades_when_an_event_is_unknown(monkeypatch, kind):
    monkeypatch.setattr(timing, kind, "numba:no_such_event")  # numba refuses the kind
    dispatcher, sig = _fresh_dispatcher()
    clock = timing.PhaseClock()
    with timing.numba_phases(clock, dispatcher):
        dispatcher.compile(sig)
    phases = clock.as_dict()
    assert list(phases) == ["setup", "numba"] and phases["numba"] > 0.0, phases
    assert dispatcher(np.arange(3.0)) == 9.0


def _bench_module():
    path = ROOT / "benchmarks" / "compile.py"
    spec = importlib.util.spec_from_file_location("compile_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_help_runs():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compile.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--models" in done.stdout and "--json" in done.stdout


def test_benchmark_table_compares_with_the_targets():
    bench = _bench_module()
    row = {"model": "W2", "step": "cold", "phases": {"passes": 0.01, "llvm": 1.0},
           "compile_s": 1.2, "first_call_s": 0.1, "total_s": 1.3, "ready_s": 1.9,
           "max_abs_diff": 0.0, "others_cores": 0.5}
    slow = dict(row, model="readme", total_s=1.6)
    warm = dict(row, step="warm", ready_s=0.7)
    table = bench.format_table([row, slow, warm,
                                {"model": "five", "step": "cold", "error": "boom"}])
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["model", "case", "passes", "llvm"]
    assert lines[2].split()[-4:] == ["0.50!", "<=", "1.5", "ok"]
    assert lines[3].split()[-2:] == ["1.5", "MISS"]
    assert lines[4].split()[-2:] == ["0.5", "MISS"]
    assert "ERROR boom" in lines[-1]
    with pytest.raises(SystemExit):
        bench.parse_args(["--models", "W9"])


def test_benchmark_knows_the_gradient_and_train_step_graphs():
    bench = _bench_module()
    args = bench.parse_args(["--models", "W2g,T1,T2,T3,readme"])
    assert args.models == ["W2g", "T1", "T2", "T3", "readme"]
    assert bench.target_of({"model": "W2g", "step": "cold"}) == (3.0, "total_s")
    assert bench.target_of({"model": "T2", "step": "cold"}) == (None, "total_s")
    # the children cache bytecode, as an installed symkb does
    env = bench._child_env(ROOT, 2)
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["NUMBA_NUM_THREADS"] == "2"
