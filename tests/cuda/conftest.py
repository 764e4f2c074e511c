"""The cuda target's tests run on Numba's CUDA simulator (or a real GPU).

The simulator must be switched on before numba is imported, so this file
sets ``NUMBA_ENABLE_CUDASIM=1`` before anything imports numba. Run the suite
in its own process:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -q

When numba was already imported without the simulator in this process (a
combined run with other test folders) and there is no GPU, the tests here
are skipped with a message saying how to run them.
"""
import os
import sys

if "numba" not in sys.modules:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from symkb import ir  # noqa: E402


def _cuda_usable():
    from symkb.lower.cuda import adapter
    return adapter.simulator() or adapter.real_gpu_available()


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    if _cuda_usable():
        return
    skip = pytest.mark.skip(reason="no GPU and numba was imported before NUMBA_ENABLE_CUDASIM=1 "
                                   "was set; run `NUMBA_ENABLE_CUDASIM=1 python -m pytest "
                                   "tests/cuda` on its own")
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)


TOLERANCE = {"float16": 1e-2, "float32": 2e-5, "float64": 1e-10}


def assert_same(graph, feeds, **compile_kwargs):
    """cuda == interpreter: output count, then shape, dtype and values (per-dtype tolerance)."""
    from symkb.lower.cuda import compile_cuda
    expected = ir.evaluate(graph, feeds)
    exe = compile_cuda(graph, **compile_kwargs)
    got = exe(list(feeds))
    assert len(got) == len(expected), f"cuda: {len(got)} outputs, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape, f"cuda output {i}: shape {g.shape}, expected {e.shape}"
        assert g.dtype == e.dtype, f"cuda output {i}: dtype {g.dtype}, expected {e.dtype}"
        tol = TOLERANCE.get(e.dtype.name, 0)
        if tol:
            err = np.nanmax(np.abs(g.astype("float64") - e.astype("float64")) /
                            (1 + np.abs(e.astype("float64")))) if e.size else 0.0
            assert np.array_equal(np.isnan(g), np.isnan(e)), f"cuda output {i}: NaNs differ"
            assert not err > tol, f"cuda output {i}: largest error {err:.3g} > {tol}"
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"cuda output {i}")
    return exe
