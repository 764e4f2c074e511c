"""``print_tensor``: pass a value through, printing it when the graph runs.

An ``effect`` op (see ``registry.py``): passes never merge, fold or move it,
and dead-code elimination drops it only when its result is unused (as
TensorFlow runs a print only when the identity it guards is used). The text
is TensorFlow's ``tf.print(message, x)``: the message, a space, the value in
nested brackets with at most ``summarize`` values at each end of every axis
(``-1``: all of them), floats with 6 significant digits or 9 when 6 do not
give the value back (17 for float64), and a newline, on ``sys.stdout``.
"""
from __future__ import annotations

import sys

import numpy as np

from ..registry import register


def _same(types, **attrs):
    (t,) = types
    return t


def format_element(value, dtype) -> str:
    """One value as TensorFlow prints it."""
    if dtype.kind == "b":
        return "1" if value else "0"
    if dtype.kind != "f":
        return str(int(value))
    v = float(value)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    short, long_ = (15, 17) if dtype == np.float64 else (6, 9)
    text = f"{v:.{short}g}"
    narrow = np.float64 if dtype == np.float64 else np.float32
    if narrow(float(text)) != narrow(v):
        text = f"{v:.{long_}g}"
    return text


def format_tensor(x: np.ndarray, summarize: int = 3) -> str:
    """``x`` as ``tf.print`` writes it (module docstring)."""
    x = np.asarray(x)
    if x.ndim == 0:
        return format_element(x[()], x.dtype)
    ends = x.size if summarize is None or summarize < 0 else int(summarize)
    out: list = []
    _one_dim(x, 0, ends, out, ())
    return "".join(out)


def _spacing(dim: int, ndim: int, out: list) -> None:
    if dim == ndim - 1:
        out.append(" ")
        return
    out.append("\n" * (ndim - dim - 1) + " " * (dim + 1))


def _one_dim(x, dim, ends, out, index) -> None:
    if dim == x.ndim:
        out.append(format_element(x[index], x.dtype))
        return
    out.append("[")
    count = x.shape[dim]
    first = list(range(min(ends, count)))
    last = list(range(max(ends, count - ends), count))
    for k, i in enumerate(first):
        if k:
            _spacing(dim, x.ndim, out)
        _one_dim(x, dim + 1, ends, out, index + (i,))
    if count > 2 * ends:
        _spacing(dim, x.ndim, out)
        out.append("...")
    for i in last:
        _spacing(dim, x.ndim, out)
        _one_dim(x, dim + 1, ends, out, index + (i,))
    out.append("]")


@register("print_tensor", type_rule=_same, kind="other", effect=True)
def print_tensor(x, *, message="", summarize=3):
    """``x``, unchanged; prints ``message`` and ``x`` as ``tf.print`` does."""
    sys.stdout.write(f"{message} {format_tensor(x, summarize)}\n")
    sys.stdout.flush()
    return x
