"""The scalar dialect of the cuda target: numba.cuda device code.

The elementwise ops' rules live once in :mod:`symkb.lower.scalar`; this module
says how their constructs read inside a ``@cuda.jit`` kernel. The kernel
generator binds each node's value to a local typed as its IR dtype
(``v3 = np.float32(...)``, :meth:`CudaScalars.result`) and math calls are
typed the same way, so every intermediate keeps its dtype on the device as in
numpy (Numba would otherwise promote float32 arithmetic with literals to
float64). Math functions are ``math`` intrinsics; what needs statements
(NaN-propagating max, round-half-even, a float floor, ...) lives in
:data:`PRELUDE` as device functions.

NaN, inf and -0.0 behave as in tf's CPU kernels (``tests/goldens/nonfinite.*``),
see :mod:`symkb.lower.scalar`.
"""
from __future__ import annotations

from .. import dialect
from ..dialect import Expr, ScalarDialect
from ..errors import CudaLoweringError

PRELUDE = '''\
@cuda.jit(device=True)
def _maxnan(a, b):
    return a if a > b or a != a else b


@cuda.jit(device=True)
def _minnan(a, b):
    return a if a < b or a != a else b


@cuda.jit(device=True)
def _floor(a):
    # a float result for every float (math.floor gives an int), NaN and inf kept
    if a != a or abs(a) >= 4503599627370496.0:
        return a
    r = a - math.fmod(a, 1.0)
    if r > a:
        r -= 1.0
    return r


@cuda.jit(device=True)
def _ceil(a):
    return -_floor(-a)


@cuda.jit(device=True)
def _round_half_even(a):
    r = _floor(a + 0.5)
    if r - a == 0.5 and math.fmod(r, 2.0) != 0.0:
        r -= 1.0
    return math.copysign(r, a)  # round(-0.4) is -0.0, as in tf and numpy


@cuda.jit(device=True)
def _fmod_floor(a, b):
    r = math.fmod(a, b)
    if r != 0 and ((r < 0) != (b < 0)):
        r += b
    return r


@cuda.jit(device=True)
def _arg_better(v, i, best, bi, sign):
    # does (v, i) replace (best, bi)? sign 1: argmax, -1: argmin. NaN never
    # gets here (the first pass skips it, as tf's scan does); ties: first index
    if i < 0:
        return False
    if bi < 0:
        return True
    if v == best:
        return i < bi
    if sign > 0:
        return v > best
    return v < best

'''


def ctor(dtype: str) -> str:
    """The constructor that types a scalar as ``dtype`` inside a kernel."""
    return dialect.type_text(dtype)


lit = dialect.lit

# math functions: ``math`` intrinsics, or the device helpers of PRELUDE
_MATH = {"abs": "abs", "rint": "_round_half_even", "floor": "_floor", "ceil": "_ceil",
         "mod": "_fmod_floor",
         **{fn: f"math.{fn}" for fn in ("sqrt", "exp", "log", "log1p", "expm1", "sin", "cos",
                                         "tanh", "erf")}}

def _typed(x, dtype: str) -> Expr:
    return Expr(f"{ctor(dtype)}({x})", typed_as=dtype)


class CudaScalars(ScalarDialect):
    """The cuda target's :class:`~symkb.lower.dialect.ScalarDialect`."""

    target = "cuda"

    def lit(self, value, dtype: str) -> Expr:
        return lit(value, dtype)

    def cast(self, x, src: str, dst: str) -> Expr:
        if src == dst:
            return x
        if dst == "bool":
            return Expr(f"({x} != 0)")
        if src == "bool":
            # numba.cuda has no constructor from a bool
            return Expr(f"{lit(1, dst)} if {dialect.at_least(x, dialect.OR)} else {lit(0, dst)}",
                        dialect.COND)
        return _typed(x, dst)

    def typed(self, x, dtype: str) -> Expr:
        return _typed(x, dtype)

    def wrap_int(self, x, dtype: str) -> Expr:
        return x  # the node's typed local wraps it (see result)

    def math(self, fn: str, args, dtype: str) -> Expr:
        if fn == "floordiv":
            return _typed(f"_floor({self.arith('/', *args)})", dtype)
        if fn not in _MATH:
            known = ", ".join(sorted([*_MATH, "floordiv"]))
            raise CudaLoweringError(f"cuda target: no device code for the math function {fn!r} "
                                    f"({dtype}); supported: {known}")
        return _typed(f"{_MATH[fn]}({', '.join(args)})", dtype)

    def fast(self, fn: str, args, dtype: str) -> Expr | None:
        return None  # the shared composition is as fast on the device

    def max_nan(self, a, b) -> Expr:
        return Expr(f"_maxnan({a}, {b})")

    def min_nan(self, a, b) -> Expr:
        return Expr(f"_minnan({a}, {b})")

    def tmp(self, x) -> str:
        name = self._new_name("v")
        self.w.line(f"{name} = {x}")
        return name

    def raise_if(self, cond, message: str) -> None:
        # Device code cannot raise: the kernel computes numba's value instead
        # (the interpreter and the cpu target raise ValueError(message)).
        return None

    def result(self, x, dtype: str) -> Expr:
        if dtype == "bool" or getattr(x, "typed_as", None) == dtype:
            return x
        return _typed(x, dtype)
