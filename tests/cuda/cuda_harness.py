"""``assert_same`` for the cuda target: cuda == interpreter, with compile options.

Like ``tests/harness.py`` (interpreter first; then count, shape, dtype and
values with a per-dtype tolerance), and it passes ``strategy=`` and
``passes=`` through to :func:`symkb.lower.cuda.compile_cuda`.
"""
import numpy as np

from symkb import ir

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
