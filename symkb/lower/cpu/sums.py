"""Sums and means over a tensor's leading axes, without moving them last.

``arrays.py`` reduces by viewing the operand as ``(rows, reduced)``, which
for reduced axes that come first (a bias gradient: a sum over the batch)
means a transposed copy and then one strided pass per column. Here each row
of the operand is added into a row of accumulators instead, in memory order.
"""
from __future__ import annotations

import re

from ...ir.types import is_float
from .scalar import np_type


def product_text(dims) -> str:
    """The product of ``dims`` (ints and expressions) as code, an expression
    with an operator bracketed (a dim may read ``x.shape[0] + 2``)."""
    return " * ".join(operand_text(d) for d in dims) if dims else "1"


def operand_text(d) -> str:
    """``d`` (an int or an expression) as an operand of ``*``, ``%`` or ``//``:
    bracketed unless it is a name, an attribute, a subscript or bracketed whole."""
    d = str(d)
    if re.fullmatch(r"[\w.\[\]]+", d):
        return d
    if d.startswith("(") and d.endswith(")"):
        depth = 0
        for k, ch in enumerate(d):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and k < len(d) - 1:
                break
        else:
            return d
    return f"({d})"


def sum_leading(cg, x, name: str, lead: int, divides: bool, dt: str) -> None:
    """``sum`` / ``mean`` over the first ``lead`` axes (a bias gradient's column
    sums): a row of accumulators, one per kept element, that each row of ``x``
    adds to in memory order (no transposed copy; the inner loop vectorises).
    Each accumulator adds its column in row order, as ``arrays._fold_sum`` adds
    a row: the same float64 (int64) sums; ``divides``: a mean."""
    dims = cg.dims(x)
    kept, reduced = product_text(dims[lead:]), product_text(dims[:lead])
    acc_t = "np.float64" if is_float(x.dtype) or x.dtype == "bool" else "np.int64"
    rows, acc, flat = cg.fresh(f"{cg.name(x)}_rows"), cg.fresh("sums"), cg.fresh("flat")
    cg.alloc_buffer(acc, [kept], "float64" if acc_t == "np.float64" else "int64")
    cg.w.line(f"{rows} = reshaped({cg.name(x)}, ({reduced}, {kept}))")
    cg.w.line(f"{flat} = reshaped({name}, (-1,))")
    with cg.w.block(f"for k in range({rows}.shape[1]):"):
        cg.w.line(f"{acc}[k] = 0")
    with cg.w.block(f"for r in range({rows}.shape[0]):"):
        with cg.w.block(f"for k in range({rows}.shape[1]):"):
            cg.w.line(f"{acc}[k] += {acc_t}({rows}[r, k])")
    with cg.w.block(f"for k in range({rows}.shape[1]):"):
        cg.w.line(f"acc = {acc}[k]")
        if divides:
            n = f"{rows}.shape[0]"
            cg.w.line(f"acc = acc / {n}" if is_float(dt) else
                      f"acc = np.int64(np.trunc(acc / {n}))")
        cg.w.line(f"{flat}[k] = {np_type(dt)}(acc)")
