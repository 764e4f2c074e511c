"""numba's set-up without its scipy.linalg import (``symkb/lower/cpu/numba_setup.py``)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

# a fresh process: compile and call a small graph for the cpu target (no
# product: code calling np.dot loads scipy's BLAS on its first call), then report what numba's set-up left
# behind, then compile a numba function that calls np.dot (numba's own BLAS
# check runs there)
_CHILD = """
import json, sys
import numpy as np
from symkb import backend as K
from symkb import ir
from symkb.lower import compile_graph
x = K.placeholder(shape=(None, 3), name="x")
f = compile_graph(ir.Graph([x], [K.tanh(x * 0.5 + 1.0)], name="no_blas"), "cpu")
value = np.asarray(f(np.ones((2, 3), np.float32))[0]).tolist()
from numba.np import arraymath, linalg
report = {"linalg_after_compile": "scipy.linalg" in sys.modules,
          "have_blas": arraymath._HAVE_BLAS,
          "check_restored": arraymath.ensure_blas is linalg.ensure_blas
                            and linalg.ensure_blas.__module__ == "numba.np.linalg",
          "value": value}
from numba import njit
@njit
def product(a, b):
    return np.dot(a, b)
a = np.arange(6, dtype=np.float32).reshape(2, 3)
report["dot"] = product(a, a.T).tolist()
report["linalg_after_dot"] = "scipy.linalg" in sys.modules
print("REPORT " + json.dumps(report))
"""


def _report(child: str) -> dict:
    """Run ``child`` in a fresh interpreter; the JSON of its REPORT line."""
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, out.stderr[-2000:]
    return json.loads(lines[0][len("REPORT "):])


def test_cpu_compile_leaves_scipy_linalg_out_and_numba_blas_intact():
    report = _report(_CHILD)
    assert report["linalg_after_compile"] is False
    assert report["have_blas"] is True          # what numba finds with scipy installed
    assert report["check_restored"] is True     # np.dot still runs numba's own check
    expected = np.full((2, 3), np.tanh(1.5))
    np.testing.assert_allclose(report["value"], expected, rtol=1e-5)
    np.testing.assert_allclose(report["dot"], [[5.0, 14.0], [14.0, 50.0]])
    assert report["linalg_after_dot"] is True   # the BLAS check ran when np.dot compiled


# a fresh process: a float32 product of a transposed view calls BLAS (``sgemm_into``);
# numba's BLAS helper has its sgemm before the first call, scipy.linalg's package never run
_BLAS_CHILD = """
import json, sys
import numpy as np
from symkb import backend as K
from symkb import ir
from symkb.lower import compile_graph
x = K.placeholder(shape=(None, 40), name="x")
w = K.variable(np.linspace(-1, 1, 40 * 30, dtype=np.float32).reshape(40, 30), name="w")
f = compile_graph(ir.Graph([x], [K.dot(K.transpose(x), x), K.dot(x, w)], name="xtx"), "cpu")
K.set_value(w, K.get_value(w)[::-1].copy())  # a Variable changed after building
xv = np.linspace(-2, 2, 64 * 40, dtype=np.float32).reshape(64, 40)
xv[3, 5] = np.nan
gram, xw = (np.asarray(a) for a in f(xv))
linalg = "scipy.linalg" in sys.modules
left = "scipy.linalg.cython_blas" in sys.modules
import scipy.linalg.cython_blas  # later, as usual: the package runs, the module is bound
print("REPORT " + json.dumps({"blas": "sgemm_into(" in f.source,
      "linalg": linalg, "left": left,
      "bound": len(scipy.linalg.cython_blas.__pyx_capi__) > 0,
      "gram": np.where(np.isnan(gram), 1e30, gram.astype(float)).tolist(),
      "xw": np.where(np.isnan(xw), 1e30, xw.astype(float)).tolist(), "w": K.get_value(w).tolist()}))
"""


def test_blas_products_load_cython_blas_without_scipy_linalg():
    report = _report(_BLAS_CHILD)
    assert report["blas"] is True        # the graph does call BLAS
    assert report["linalg"] is False     # its first call did not import scipy.linalg
    assert report["left"] is False       # nor left the extension module under its name
    assert report["bound"] is True
    xv = np.linspace(-2, 2, 64 * 40).reshape(64, 40)
    xv[3, 5] = np.nan
    w = np.asarray(report["w"], np.float64)
    for got, expected in ((report["gram"], xv.T @ xv), (report["xw"], xv @ w)):
        got = np.asarray(got)
        nan = np.isnan(expected)
        assert nan.any() and not nan.all()
        assert np.all(got[nan] == 1e30)  # what a NaN reaches stays NaN
        np.testing.assert_allclose(got[~nan], expected[~nan], rtol=1e-4, atol=1e-3)


def test_load_blas_does_nothing_where_scipy_is_not_found(monkeypatch):
    from symkb.lower.cpu import numba_setup
    monkeypatch.setitem(numba_setup._BLAS_STATE, "done", False)
    monkeypatch.delitem(sys.modules, "scipy.linalg.cython_blas", raising=False)
    monkeypatch.setattr(numba_setup.importlib.util, "find_spec", lambda name: None)
    assert numba_setup.load_blas() is False
    assert "scipy.linalg.cython_blas" not in sys.modules


def test_load_blas_leaves_nothing_behind_when_the_helper_fails(monkeypatch):
    from symkb.lower.cpu import numba_setup
    monkeypatch.setitem(numba_setup._BLAS_STATE, "done", False)
    monkeypatch.delitem(sys.modules, "scipy.linalg.cython_blas", raising=False)

    def broken():
        raise RuntimeError("numba_xxgemm answered 1, 0.0")
    monkeypatch.setattr(numba_setup, "_take_sgemm", broken)
    assert numba_setup.load_blas() is False
    assert "scipy.linalg.cython_blas" not in sys.modules
    assert numba_setup.load_blas() is False  # tried once per process


def test_load_blas_does_nothing_once_loaded(monkeypatch):
    from symkb.lower.cpu import numba_setup
    monkeypatch.setitem(numba_setup._BLAS_STATE, "done", False)
    import scipy.linalg.cython_blas  # noqa: F401
    assert numba_setup.load_blas() is False


def test_prepare_does_nothing_once_numba_is_set_up():
    from symkb.lower.cpu import numba_setup
    import numba.np.arraymath  # noqa: F401  (numba's set-up done, however it happened)
    assert numba_setup.prepare() is False

