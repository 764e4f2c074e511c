"""The disk cache: a second process loads instead of compiling; damage is recompiled."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from symkb import backend as K
from symkb.lower import compile_graph
from symkb import ir
x = K.placeholder(shape=(None, 3), name="x")
w = K.variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, name="dense/kernel")
y = K.tanh(K.dot(x, w) + 1.0)
c = compile_graph(ir.Graph([x], [y], name="cached_graph"), "cpu")
out = c(np.ones((2, 3), np.float32))
print(json.dumps({"hit": c.cache_hit, "path": str(c.path), "sum": float(out[0].sum()),
                  "seconds": time.perf_counter() - t0}))
"""


def _run(tmp_path):
    env = dict(os.environ, SYMKB_CACHE_DIR=str(tmp_path / "symkb"),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_second_process_loads_from_disk(cache_root):
    first = _run(cache_root)
    second = _run(cache_root)
    assert not first["hit"]
    assert second["hit"], "the second process recompiled instead of loading the cache"
    assert first["path"] == second["path"] and first["sum"] == second["sum"]


def test_corrupted_entries_are_recompiled(cache_root):
    first = _run(cache_root)
    path = pathlib.Path(first["path"])
    path.write_text("this is not python (\n")                 # damaged module file
    numba_files = list((cache_root / "numba").rglob("*.nbi")) + \
        list((cache_root / "numba").rglob("*.nbc"))
    for f in numba_files:                                    # damaged machine code
        f.write_bytes(b"garbage")
    again = _run(cache_root)
    assert not again["hit"] and again["sum"] == first["sum"]
    assert _run(cache_root)["hit"]


def test_numba_cache_damage_alone_is_not_fatal(cache_root):
    first = _run(cache_root)
    for f in list((cache_root / "numba").rglob("*.nbc")):
        f.write_bytes(b"\x80garbage")
    again = _run(cache_root)
    assert again["sum"] == first["sum"]
