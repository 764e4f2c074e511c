"""The symkb command, run as a user would: in a subprocess, output checked."""
import os
import shutil
import pathlib
import subprocess
import sys

import numpy as np

import symkb
from symkb import layers

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "symkb", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=600)


def test_demo_builds_compiles_checks_and_times():
    result = run("demo", "--batch", "4", "--time", "6", "--features", "3", "--units", "5",
                 "--classes", "2", "--repeats", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("== 1. build a model symbolically", "Total params:", "== 2. the graph",
                    "= loop[", "== 3. compile", "target: cpu", "== 4. the graph after the passes",
                    "fused_", "== 5. run", "input (4, 6, 3) float32 -> output (4, 6, 2) float32",
                    "median of 3"):
        assert section in out, section
    err = float(out.split("max |compiled - interpreter| = ")[1].split()[0])
    assert err < 1e-5


def test_inspect_a_saved_model(tmp_path):
    model = symkb.Sequential([layers.Input((4, 3)), layers.GRU(5), layers.Dense(2)])
    model.save(tmp_path / "m.symkb")
    dot = tmp_path / "m.dot"
    result = run("inspect", str(tmp_path / "m.symkb"), "--dot", str(dot), "--passes")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'Model: "sequential"' in out and "Total params: 162" in out
    assert "graph sequential(%input_1: f32[?,4,3]) -> (f32[?,2])" in out
    assert "--- after licm" in out and "--- after fuse_elementwise" in out
    assert dot.read_text().startswith("digraph")


def test_inspect_a_graph_json(tmp_path):
    from symkb import backend as K
    x = K.placeholder(shape=(None, 3), name="x")
    graph = symkb.ir.Graph([x], [K.tanh(x) * 2.0], name="g")
    path = tmp_path / "g.json"
    path.write_text(symkb.ir.to_json(graph))
    result = run("inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert str(graph) in result.stdout


def test_errors_are_one_line_unless_debug(tmp_path):
    missing = str(tmp_path / "nope.symkb")
    result = run("inspect", missing)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"symkb: error: FileNotFoundError: no such file or folder: {missing}"]
    debug = run("--debug", "inspect", missing)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_bench_prints_the_table_with_ratios():
    result = run("bench", "--workloads", "W4", "--quick", "--impls", "numpy,symkb",
                 "--wait-quiet", "0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| W4 |" in out and "symkb / best peer" in out
    row = next(line for line in out.splitlines() if line.startswith("| W4 |"))
    # a '*' marks the best peer, a '!' a timing taken while the machine was busy
    cells = [c.strip().strip("*!") for c in row.strip("|").split("|")]
    assert float(cells[2]) > 0  # symkb cpu, ms
    assert np.isfinite(float(cells[4]))  # the ratio


def _run_env(*args, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-m", "symkb", *args], capture_output=True,
                          text=True, cwd=ROOT, env=full, timeout=600)


def test_demo_says_cold_compile_then_loaded_from_the_cache_and_cache_shows_and_clears(tmp_path):
    env = {"SYMKB_CACHE_DIR": str(tmp_path / "symkb"), "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
    small = ("demo", "--batch", "2", "--time", "3", "--features", "2", "--units", "2",
             "--classes", "2", "--repeats", "1")
    first = _run_env(*small, **env)
    assert first.returncode == 0, first.stderr
    assert "cold compile" in first.stdout and "loaded from the cache" not in first.stdout
    passes = first.stdout.split("passes:\n")[1].split("\n\n")[0].splitlines()
    assert passes[0].startswith("  verify: ") and any(" -> " in p for p in passes), passes
    second = _run_env(*small, **env)
    assert second.returncode == 0, second.stderr
    assert "loaded from the cache (" in second.stdout and "cold compile" not in second.stdout

    shown = _run_env("cache", **env)
    assert shown.returncode == 0, shown.stderr
    assert f"cache folder: {tmp_path / 'symkb'} (from $SYMKB_CACHE_DIR)" in shown.stdout
    modules = sorted(p.name for p in (tmp_path / "symkb").glob("*.py"))
    assert f"generated modules: {len(modules)} (" in shown.stdout and modules
    stems = tuple(m[:-3] + "." for m in modules)  # the helpers' own machine code is not counted
    compiled = [p for p in (tmp_path / "nb").rglob("*") if p.suffix in (".nbi", ".nbc")
                and p.name.startswith(stems)]
    assert compiled and f"compiled machine code: {len(compiled)} file(s)" in shown.stdout

    keep = tmp_path / "symkb" / "notes.txt"  # not the cache's: left alone
    keep.write_text("mine")
    cleared = _run_env("cache", "--clear", **env)
    assert cleared.returncode == 0, cleared.stderr
    assert f"removed {len(modules) + len(compiled)} file(s)" in cleared.stdout
    assert not list((tmp_path / "symkb").glob("*.py")) and keep.read_text() == "mine"
    assert not [p for p in (tmp_path / "nb").rglob("*") if p.name.startswith(stems)]
    after = _run_env("cache", **env)
    assert "generated modules: 0 (0 B)" in after.stdout
    third = _run_env(*small, **env)
    assert "cold compile" in third.stdout


def test_inspect_dot_renders_a_picture_writes_source_or_refuses(tmp_path):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save(str(tmp_path / "m.symkb"))
    src = run("inspect", str(tmp_path / "m.symkb"), "--dot", str(tmp_path / "g.gv"))
    assert src.returncode == 0, src.stderr
    assert (tmp_path / "g.gv").read_text().startswith("digraph")
    png = tmp_path / "g.png"
    pic = run("inspect", str(tmp_path / "m.symkb"), "--dot", str(png))
    if shutil.which("dot"):
        assert pic.returncode == 0, pic.stderr
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert pic.returncode == 1 and "Graphviz" in pic.stderr and not png.exists()
    bad = run("inspect", str(tmp_path / "m.symkb"), "--dot", str(tmp_path / "g.txt"))
    assert bad.returncode == 1
    assert "symkb inspect --dot: cannot write" in bad.stderr and "unknown extension .txt" \
        in bad.stderr
    assert not (tmp_path / "g.txt").exists()
