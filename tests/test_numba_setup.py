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


def test_cpu_compile_leaves_scipy_linalg_out_and_numba_blas_intact():
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, out.stderr[-2000:]
    report = json.loads(lines[0][len("REPORT "):])
    assert report["linalg_after_compile"] is False
    assert report["have_blas"] is True          # what numba finds with scipy installed
    assert report["check_restored"] is True     # np.dot still runs numba's own check
    expected = np.full((2, 3), np.tanh(1.5))
    np.testing.assert_allclose(report["value"], expected, rtol=1e-5)
    np.testing.assert_allclose(report["dot"], [[5.0, 14.0], [14.0, 50.0]])
    assert report["linalg_after_dot"] is True   # the BLAS check ran when np.dot compiled


def test_prepare_does_nothing_once_numba_is_set_up():
    from symkb.lower.cpu import numba_setup
    import numba.np.arraymath  # noqa: F401  (numba's set-up done, however it happened)
    assert numba_setup.prepare() is False

