"""Shared checks of gradients against central finite differences (float64, numpy).

:func:`check_vjp` builds the forward graph of ``build`` over float64 inputs of
the given values, its vector-Jacobian graph (``ir.grad(cotangents=True)``),
verifies and re-parses it, runs it on the interpreter's references
(``ir.evaluate``: no compile) with random cotangents, and compares each
gradient with central differences of ``<cotangents, outputs>``.
"""
from __future__ import annotations

import numpy as np

from symkb import ir


def placeholders(arrays, names="a"):
    return [ir.placeholder_node(a.shape, a.dtype.name, f"{names}{i}")
            for i, a in enumerate(arrays)]


def numeric_vjp(graph, arrays, cts, i, eps):
    """Central differences of ``sum_k <cts[k], out_k>`` in input ``i``."""
    out = np.zeros(arrays[i].shape, dtype=np.float64)
    for j in np.ndindex(*arrays[i].shape):
        vals = []
        for sign in (1, -1):
            moved = [a.copy() for a in arrays]
            moved[i][j] += sign * eps
            outs = ir.evaluate(graph, moved)
            vals.append(sum(float(np.sum(c * o)) for c, o in zip(cts, outs)))
        out[j] = (vals[0] - vals[1]) / (2 * eps)
    return out


def check_vjp(build, arrays, *, seed=0, eps=1e-6, rtol=1e-6, atol=1e-8, parse=False):
    """Assert that the gradient graph of ``build(*inputs)`` matches finite differences.

    Returns:
        The gradient graph (for further checks).
    """
    arrays = [np.asarray(a) for a in arrays]
    phs = placeholders(arrays)
    outs = build(*phs)
    outs = [outs] if isinstance(outs, ir.KerasTensor) else list(outs)
    graph = ir.Graph(phs, outs, name="forward")
    wrt = [p for p, a in zip(phs, arrays) if a.dtype.kind == "f"]
    back = ir.grad(graph, wrt, cotangents=True)
    ir.verify(back)
    if parse:
        assert str(ir.parse(str(back))) == str(back)
    rng = np.random.default_rng(seed)
    values = ir.evaluate(graph, arrays)
    cts = [rng.normal(size=v.shape).astype(v.dtype) for v in values]
    grads = ir.evaluate(back, arrays + cts)
    k = 0
    for i, a in enumerate(arrays):
        if a.dtype.kind != "f":
            continue
        expected = numeric_vjp(graph, arrays, cts, i, eps)
        assert grads[k].shape == a.shape and grads[k].dtype == a.dtype, (grads[k].shape, a.shape)
        np.testing.assert_allclose(grads[k], expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
        k += 1
    return back
