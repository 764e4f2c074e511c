"""Error classes of symkb.

They subclass the builtins callers expect, so ``except ValueError`` keeps
working, while the message names the op, what it got and what it expected.
"""


class ShapeError(ValueError):
    """An op was given operands whose shapes do not fit its rule."""


class DTypeError(TypeError):
    """An op was given operands whose dtypes do not fit its rule."""


class VerifyError(ValueError):
    """A graph broke one of the IR's invariants."""


class SymbolicValueError(TypeError):
    """A KerasTensor was asked for a concrete value."""
