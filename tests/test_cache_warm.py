"""``symkb cache warm FILE``, run in-process through the command's ``main``.

The warm test points symkb's and numba's caches at a folder of its own, so
its first run is a cold compile whatever the shared test cache holds.
"""
from __future__ import annotations

import gc
import re

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.cli import main


def _save(path):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu")],
                             name="warm_me")
    model.set_weights([np.arange(6, dtype=np.float32).reshape(3, 2) / 10,
                       np.zeros(2, np.float32)])
    model.save(path)
    return model


@pytest.fixture
def own_caches(tmp_path, monkeypatch):
    import numba.core.config
    monkeypatch.setenv("SYMKB_CACHE_DIR", str(tmp_path / "symkb"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", str(tmp_path / "numba"))
    return tmp_path


def test_warm_compiles_a_saved_model_then_says_it_is_warm(own_caches, capsys):
    path = own_caches / "m.symkb"
    _save(path)
    assert main(["cache", "warm", str(path), "--target", "cpu", "--batch", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"model 'warm_me' from {path}: 1 input(s), 1 output(s)"
    assert out[1] == "compiling for the cpu target..."
    module = re.fullmatch(r"target: cpu; cold compile in \d+\.\d\d s; the cache is warm now "
                          r"\((?P<path>.*)\)", out[2])
    assert module and module["path"].startswith(str(own_caches / "symkb")), out[2]
    assert re.fullmatch(r"first call on 3 row\(s\) of zeros: \d+\.\d ms", out[3]), out[3]
    assert list((own_caches / "numba").rglob("*.nbc")), "numba's cache holds no machine code"
    gc.collect()  # the first run's kernel leaves this process, as when a new one starts
    assert main(["cache", "warm", str(path), "--target", "cpu"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"target: cpu; already warm: loaded from the cache in \d+\.\d\d s "
                        r"\(.*\)", again[2]), again[2]
    # the next process's predict finds it: a model that differs only in names loads it too
    other = symkb.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu")])
    compiled = symkb.compile(other, target="cpu")
    assert compiled.cache_hit and str(compiled.path) == module["path"]


def test_warm_refuses_a_missing_file_or_an_unknown_format_with_status_2(tmp_path, capsys):
    missing = tmp_path / "nope.symkb"
    assert main(["cache", "warm", str(missing)]) == 2
    assert capsys.readouterr().err == (f"symkb: error: cache warm: FileNotFoundError: no such "
                                       f"file or folder: {missing}\n")
    junk = tmp_path / "notes.txt"
    ran = tmp_path / "ran"
    junk.write_text(f"import pathlib; pathlib.Path({str(ran)!r}).touch()\n")
    assert main(["cache", "warm", str(junk)]) == 2
    err = capsys.readouterr()
    assert err.out == "" and not ran.exists()  # a file is read, never executed
    assert err.err.startswith(f"symkb: error: cache warm: ParseError: {junk}: printed symkb IR")
    assert len(err.err.splitlines()) == 1
    with pytest.raises(SystemExit) as usage:  # argparse: a bad --batch is a usage error
        main(["cache", "warm", str(junk), "--batch", "0"])
    assert usage.value.code == 2


def test_warm_takes_a_graph_json_on_the_interpreter_free_targets(tmp_path, capsys):
    from symkb import backend as K
    x = K.placeholder(shape=(None, 3), name="x")
    graph = symkb.ir.Graph([x], [K.tanh(x) * 2.0], name="warm_graph")
    path = tmp_path / "g.json"
    path.write_text(symkb.ir.to_json(graph))
    assert main(["cache", "warm", str(path), "--target", "cpu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"graph 'warm_graph' from {path}: 1 input(s), 1 output(s)"
    assert out[2].startswith("target: cpu; ")
    with pytest.raises(SystemExit):
        main(["cache", "warm", str(path), "--target", "interpreter"])  # nothing to warm
