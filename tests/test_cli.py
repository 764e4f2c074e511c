"""The symkb command, run as a user would: in a subprocess, output checked."""
import os
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
