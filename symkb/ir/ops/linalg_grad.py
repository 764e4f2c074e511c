"""Gradient rules of the matrix products (``linalg.py``).

The products the layers make (``dot`` of a 2-D weight, ``matmul`` of rank 2
and more) get the two transposed products. The other forms (``dot`` of a
rank > 2 right operand, 1-D operands, ``batch_dot``) are differentiated
through an equivalent broadcast ``multiply`` and ``sum``: exact, though it
holds the whole product tensor (the gradient is not what those ops are used
for in the layers).
"""
from __future__ import annotations

from ..build import call
from ..gradients import through
from ..registry import declare


def _swap(t):
    """``t`` with its last two axes exchanged."""
    perm = tuple(range(t.ndim - 2)) + (t.ndim - 1, t.ndim - 2)
    return call("transpose", t, perm=perm)


def _expand(t, axis, count):
    for _ in range(count):
        t = call("expand_dims", t, axis=axis)
    return t


def _dot_by_sum(x, y):
    """``dot(x, y)`` as a broadcast product summed over the contracted axis."""
    if y.ndim == 1:
        return call("sum", call("multiply", x, y), axis=(x.ndim - 1,), keepdims=False)
    n_i, n_j = x.ndim - 1, y.ndim - 2
    x_e = _expand(call("expand_dims", x, axis=x.ndim), n_i, n_j)  # (I..., 1*J, K, 1)
    return call("sum", call("multiply", x_e, y), axis=(n_i + n_j,), keepdims=False)


def _dot(node, cts):
    x, y = node.inputs
    g = cts[0]
    if y.ndim == 2 and x.ndim >= 2:
        gx = call("dot", g, _swap(y))
        if x.ndim == 2:
            return [gx, call("dot", _swap(x), g)]
        k, n = y.shape
        if k is not None and n is not None:
            x2 = call("reshape", x, shape=(None, k))
            g2 = call("reshape", g, shape=(None, n))
            return [gx, call("dot", _swap(x2), g2)]
    return through(node, cts, _dot_by_sum)


def _matmul_by_2d(x, y):
    """``matmul`` of 1-D operands as numpy defines it: through a 2-D ``matmul``."""
    x1 = call("expand_dims", x, axis=0) if x.ndim == 1 else x
    y1 = call("expand_dims", y, axis=1) if y.ndim == 1 else y
    z = call("matmul", x1, y1)
    if y.ndim == 1:
        z = call("squeeze", z, axis=z.ndim - 1)
    if x.ndim == 1:
        z = call("squeeze", z, axis=z.ndim - (1 if y.ndim == 1 else 2))
    return z


def _matmul(node, cts):
    x, y = node.inputs
    g = cts[0]
    if x.ndim >= 2 and y.ndim >= 2:
        return [call("matmul", g, _swap(y)), call("matmul", _swap(x), g)]
    return through(node, cts, _matmul_by_2d)


def _batch_dot_by_sum(axes):
    """``batch_dot`` as a broadcast product over ``(batch, x rest, K, y rest)``."""
    ax, ay = axes

    def forward(x, y):
        perm_x = tuple(i for i in range(x.ndim) if i != ax) + (ax,)
        perm_y = (0, ay) + tuple(i for i in range(1, y.ndim) if i != ay)
        xm = call("transpose", x, perm=perm_x) if perm_x != tuple(range(x.ndim)) else x
        ym = call("transpose", y, perm=perm_y) if perm_y != tuple(range(y.ndim)) else y
        n_x, n_y = x.ndim - 2, y.ndim - 2
        x_e = _expand(xm, xm.ndim, n_y)               # (B, X..., K, 1*Y)
        y_e = _expand(ym, 1, n_x)                      # (B, 1*X, K, Y...)
        out = call("sum", call("multiply", x_e, y_e), axis=(1 + n_x,), keepdims=False)
        return call("expand_dims", out, axis=1) if out.ndim == 1 else out
    return forward


def _batch_dot(node, cts):
    return through(node, cts, _batch_dot_by_sum(node.attrs["axes"]))


declare("dot", grad=_dot)
declare("matmul", grad=_matmul)
declare("batch_dot", grad=_batch_dot)
