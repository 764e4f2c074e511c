"""``assert_same``: every compile target must agree with the interpreter.

The interpreter (the numpy oracle) runs first, then each target; outputs are
compared by count, then shape, then dtype, then values with a per-dtype
tolerance. The failure message names the target, the output and the largest
error. Compiled executables are memoised per graph and target for the whole
test session, so tests that share a graph share its compile.
"""
from __future__ import annotations

import numpy as np

from symkb.lower import compile_graph

# (rtol, atol) per dtype: float32 code may use few-ulp approximations (tanh,
# sigmoid) and other summation orders; float64 code calls libm.
TOLERANCE = {"float16": (1e-3, 1e-3), "float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}

_COMPILED: dict = {}


def compiled(graph, target: str, **kwargs):
    """The executable of ``graph`` for ``target`` (compiled once per session)."""
    key = (id(graph), target, tuple(sorted(kwargs.items())))
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not graph:
        entry = (graph, compile_graph(graph, target, **kwargs))
        _COMPILED[key] = entry
    return entry[1]


def assert_same(graph, inputs, targets=("cpu",), *, names=None, tolerance=None, **kwargs):
    """Check that ``targets`` compute what the interpreter computes.

    Args:
        graph: a :class:`symkb.ir.Graph`.
        inputs: the input arrays.
        targets: compile targets to check.
        names: optional labels of the outputs (op names, say) for messages.
        tolerance: ``dtype -> (rtol, atol)`` overriding :data:`TOLERANCE`.
        **kwargs: passed to ``compile_graph`` (``verify_each=True``, ...).

    Returns:
        The interpreter's outputs.
    """
    tol = dict(TOLERANCE, **(tolerance or {}))
    expected = compiled(graph, "interpreter")(list(inputs))
    for target in targets:
        got = compiled(graph, target, **kwargs)(list(inputs))
        assert len(got) == len(expected), (
            f"target {target}: {len(got)} outputs, the interpreter gives {len(expected)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            label = f"output {i}" + (f" ({names[i]})" if names else "")
            g, e = np.asarray(g), np.asarray(e)
            assert g.shape == e.shape, (f"target {target}, {label}: shape {g.shape}, "
                                        f"interpreter {e.shape}")
            assert g.dtype == e.dtype, (f"target {target}, {label}: dtype {g.dtype}, "
                                        f"interpreter {e.dtype}")
            if e.dtype.kind in "fc":
                rtol, atol = tol.get(e.dtype.name, (0, 0))
                same_nan = np.array_equal(np.isnan(g), np.isnan(e))
                finite = np.isfinite(e) & np.isfinite(g)
                inf_ok = np.array_equal(np.where(np.isinf(e), e, 0), np.where(np.isinf(g), g, 0))
                err = np.abs(np.where(finite, g, 0) - np.where(finite, e, 0))
                bound = atol + rtol * np.abs(np.where(finite, e, 0))
                bad = err > bound
                if not same_nan or not inf_ok or bad.any():
                    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else ()
                    raise AssertionError(
                        f"target {target}, {label}: values differ from the interpreter; "
                        f"largest error {err.max() if err.size else 0:.3g} at {worst} "
                        f"(got {g[worst] if err.size else g}, expected "
                        f"{e[worst] if err.size else e}; rtol={rtol}, atol={atol}); "
                        f"NaN positions equal: {same_nan}, infinities equal: {inf_ok}")
            else:
                if not np.array_equal(g, e):
                    where = np.argwhere(g != e)[:3].tolist()
                    raise AssertionError(f"target {target}, {label}: values differ from the "
                                         f"interpreter at {where}")
    return expected
