"""The scalar dialect: the expression builders the shared scalar table is written in.

The elementwise ops' scalar code (:mod:`symkb.lower.scalar`) is written once,
against a :class:`ScalarDialect`; each target (numba-cpu, numba-cuda)
implements the dialect, so the two generated kernels compute one element by
the same rule and differ only where a target's semantics or speed really
differ (the cpu's vectorisable float32 ``tanh``/``sigmoid``/``erf``, the
device helpers and ``math`` intrinsics of cuda).

Expressions are :class:`Expr`: source text that knows its Python operator
precedence, so builders parenthesise an operand only where Python needs it
(``a * (b + c)``, never ``(a) * (b)``). A plain ``str`` (an operand's
element, a local name, a literal) counts as an atom.

Constructs a target must implement (:data:`CONSTRUCTS`) are abstract here;
the builders whose text is the same on every target (``select``,
``compare``, ``arith``, ``neg``, ``not_``) and the one :func:`lit` are
concrete.
"""
from __future__ import annotations

import abc
import math

# Python's operator precedence, lowest first (only the levels the dialect writes).
COND, OR, AND, NOT, CMP, BITOR, BITXOR, BITAND, ADD, MUL, UNARY, POWER, ATOM = range(1, 14)

BINARY_PREC = {"|": BITOR, "^": BITXOR, "&": BITAND, "+": ADD, "-": ADD,
               "*": MUL, "/": MUL, "//": MUL, "%": MUL, "**": POWER}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class Expr(str):
    """Source text of an expression with its precedence (:data:`ATOM` ... :data:`COND`).

    ``typed_as`` is the dtype the expression is explicitly converted to
    (``np.float32(...)``), when it is one, so a target need not convert twice.
    """

    prec: int
    typed_as: str | None

    def __new__(cls, text: str, prec: int = ATOM, typed_as: str | None = None):
        obj = super().__new__(cls, text)
        obj.prec = prec
        obj.typed_as = typed_as
        return obj


def prec(expr) -> int:
    """The precedence of ``expr`` (a plain string is an atom)."""
    return getattr(expr, "prec", ATOM)


def at_least(expr, level: int) -> str:
    """``expr`` as an operand that needs precedence ``level``: parenthesised if lower."""
    return expr if prec(expr) >= level else Expr(f"({expr})", ATOM)


def type_text(dtype: str) -> str:
    """The numpy scalar type of ``dtype`` as kernel source (``np.float32``, ``np.bool_``)."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def lit(value, dtype: str) -> Expr:
    """A typed literal of ``value`` in ``dtype``: ``np.float32(0.5)``, ``np.int64(3)``, ``True``.

    Typed because a bare ``0.5`` would promote float32 kernel code to float64.
    NaN and the infinities are written ``np.nan``/``np.inf``/``-np.inf``.
    """
    if dtype == "bool":
        return Expr("True" if bool(value) else "False")
    if dtype.startswith("float"):
        v = float(value)
        text = ("np.nan" if math.isnan(v) else "np.inf" if v == math.inf
                else "-np.inf" if v == -math.inf else repr(v))
        return Expr(f"{type_text(dtype)}({text})")
    return Expr(f"{type_text(dtype)}({int(value)})")


class ScalarDialect(abc.ABC):
    """The expression builders of the scalar table; one subclass per target.

    Args:
        writer: the :class:`~symkb.lower.writer.SourceWriter` at the element's
            position (temporaries and guards are written there).
        new_name: ``new_name(base)`` returns a fresh local identifier.
    """

    #: the name of the target, for error messages
    target = ""

    def __init__(self, writer, new_name):
        self.w = writer
        self._new_name = new_name

    # -- constructs every target implements ----------------------------------
    @abc.abstractmethod
    def lit(self, value, dtype: str) -> Expr:
        """A typed literal (the target may refuse a dtype it has no arithmetic for)."""

    @abc.abstractmethod
    def cast(self, x, src: str, dst: str) -> Expr:
        """``x`` of dtype ``src`` converted to ``dst`` (numpy's ``astype``); ``x`` if equal."""

    @abc.abstractmethod
    def typed(self, x, dtype: str) -> Expr:
        """``x`` explicitly typed as ``dtype`` (``np.float32(x)``)."""

    @abc.abstractmethod
    def wrap_int(self, x, dtype: str) -> Expr:
        """An integer arithmetic result, wrapped around in ``dtype`` as numpy does."""

    @abc.abstractmethod
    def math(self, fn: str, args, dtype: str) -> Expr:
        """A call of the math function ``fn`` (a name of :data:`MATH`) in ``dtype``."""

    @abc.abstractmethod
    def fast(self, fn: str, args, dtype: str) -> Expr | None:
        """The target's own whole-function code for ``fn`` (:data:`FAST`), or None
        for the table's composition."""

    @abc.abstractmethod
    def max_nan(self, a, b) -> Expr:
        """tf's maximum: NaN wins; of equal values (0.0, -0.0) the second."""

    @abc.abstractmethod
    def min_nan(self, a, b) -> Expr:
        """tf's minimum: NaN wins; of equal values the second."""

    @abc.abstractmethod
    def tmp(self, x) -> str:
        """Bind ``x`` to a fresh local (written now) and return its name."""

    @abc.abstractmethod
    def raise_if(self, cond, message: str) -> None:
        """Stop with ``ValueError(message)`` where ``cond`` holds (as the interpreter)."""

    @abc.abstractmethod
    def result(self, x, dtype: str) -> Expr:
        """The node's value ``x`` as it is bound to the node's local of ``dtype``."""

    # -- builders with one text on every target ------------------------------
    def select(self, cond, a, b) -> Expr:
        """``a if cond else b``; a nested conditional is parenthesised for the reader."""
        return Expr(f"{at_least(a, OR)} if {at_least(cond, OR)} else {at_least(b, OR)}", COND)

    def compare(self, op: str, a, b) -> Expr:
        """``a op b`` for a comparison ``op`` (never chained)."""
        assert op in COMPARISONS, op
        return Expr(f"{at_least(a, CMP + 1)} {op} {at_least(b, CMP + 1)}", CMP)

    def arith(self, op: str, a, b) -> Expr:
        """``a op b`` for a binary operator (left-associative except ``**``)."""
        p = BINARY_PREC[op]
        left, right = (ATOM, UNARY) if op == "**" else (p, p + 1)
        return Expr(f"{at_least(a, left)} {op} {at_least(b, right)}", p)

    def neg(self, a) -> Expr:
        """``-a``."""
        return Expr(f"-{at_least(a, UNARY)}", UNARY)

    def not_(self, a) -> Expr:
        """``not a`` of a bool."""
        return Expr(f"not {at_least(a, NOT)}", NOT)


#: the constructs each target implements (tests check both do)
CONSTRUCTS = tuple(sorted(ScalarDialect.__abstractmethods__))

#: the math functions the table calls through :meth:`ScalarDialect.math`
MATH = ("abs", "sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "erf",
        "rint", "floor", "ceil", "floordiv", "mod", "round_f16")

#: the functions a target may compute its own way through :meth:`ScalarDialect.fast`
FAST = ("sigmoid",)
