"""The scalar dialect of the cpu target: numpy scalar code inside ``@njit`` loops.

The elementwise ops' rules live once in :mod:`symkb.lower.scalar`; this module
says how their constructs read in the cpu target's generated code. Operands
are converted with numpy scalar types (``np.float32(x)``), integer results are
wrapped in their dtype (numba computes small ints in int64, numpy wraps
around), math calls are numpy's (``np.log1p``), float ``floordiv``/``mod``
and float16 rounding call :mod:`symkb.lower.cpu.runtime`, and float32
``tanh``/``sigmoid``/``erf`` use the runtime's vectorisable versions (plain
arithmetic, so fused loops vectorise; same NaN/inf behaviour as numpy).
"""
from __future__ import annotations

from .. import dialect
from ..dialect import COND, Expr, ScalarDialect, at_least
from ..errors import Unsupported
from ...ir.types import is_int

NP_TYPES = {
    "float32": "np.float32", "float64": "np.float64",
    "int8": "np.int8", "int16": "np.int16", "int32": "np.int32", "int64": "np.int64",
    "uint8": "np.uint8", "uint16": "np.uint16", "uint32": "np.uint32", "uint64": "np.uint64",
    "bool": "np.bool_",
}


def np_type(dtype: str) -> str:
    """The numpy scalar type of ``dtype`` as source text (float16 has no cpu arithmetic)."""
    try:
        return NP_TYPES[dtype]
    except KeyError:
        raise Unsupported(f"dtype {dtype} is not supported by the cpu target") from None


def lit(value, dtype: str) -> Expr:
    """A typed literal of ``value`` in ``dtype`` (:func:`symkb.lower.dialect.lit`)."""
    np_type(dtype)
    return dialect.lit(value, dtype)


# math functions: numpy's, or the runtime's (see the module docstring)
_MATH = {"abs": "abs", "sqrt": "np.sqrt", "exp": "np.exp", "log": "np.log",
         "log1p": "np.log1p", "expm1": "np.expm1", "sin": "np.sin", "cos": "np.cos",
         "tanh": "np.tanh", "erf": "erf_f64", "rint": "np.rint", "floor": "np.floor",
         "ceil": "np.ceil", "floordiv": "floordiv_float", "mod": "mod_float",
         "round_f16": "round_f16"}
_MATH_F32 = {"tanh": "tanh_f32", "erf": "erf_f32"}
_FAST_F32 = {"sigmoid": "sigmoid_f32"}


class CpuScalars(ScalarDialect):
    """The cpu target's :class:`~symkb.lower.dialect.ScalarDialect`."""

    target = "cpu"

    def lit(self, value, dtype: str) -> Expr:
        return lit(value, dtype)

    def cast(self, x, src: str, dst: str) -> Expr:
        if src == dst:
            return x
        if dst == "bool":
            return Expr(f"({x} != 0)")
        return self.typed(x, dst)

    def typed(self, x, dtype: str) -> Expr:
        return Expr(f"{np_type(dtype)}({x})")

    def wrap_int(self, x, dtype: str) -> Expr:
        return self.typed(x, dtype) if is_int(dtype) else x

    def math(self, fn: str, args, dtype: str) -> Expr:
        name = _MATH_F32.get(fn, _MATH[fn]) if dtype == "float32" else _MATH[fn]
        call = Expr(f"{name}({', '.join(args)})")
        # the runtime's float floordiv/mod answer float64: back to the dtype
        return self.typed(call, dtype) if fn in ("floordiv", "mod") else call

    def fast(self, fn: str, args, dtype: str) -> Expr | None:
        name = _FAST_F32.get(fn) if dtype == "float32" else None
        return Expr(f"{name}({', '.join(args)})") if name else None

    def max_nan(self, a, b) -> Expr:
        return self._nan_pick(">", a, b)

    def min_nan(self, a, b) -> Expr:
        return self._nan_pick("<", a, b)

    @staticmethod
    def _nan_pick(cmp, a, b) -> Expr:
        # inline, so the loop stays one basic block that LLVM vectorises
        a, b = at_least(a, dialect.CMP + 1), at_least(b, dialect.CMP + 1)
        return Expr(f"{a} if ({a} {cmp} {b} or {a} != {a}) else {b}", COND)

    def tmp(self, x) -> str:
        name = self._new_name("t")
        self.w.line(f"{name} = {x}")
        return name

    def raise_if(self, cond, message: str) -> None:
        with self.w.block(f"if {cond}:"):
            self.w.line(f"raise ValueError({message!r})")

    def result(self, x, dtype: str) -> Expr:
        return x
