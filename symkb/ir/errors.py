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


class FileFormatError(ValueError):
    """A file or document is not one the loader that read it accepts.

    Every loader (``load_model``, ``model_from_json``, ``ir.from_json``,
    ``ir.parse``, ``ir.from_networkx``, ``symkb inspect``) raises this family
    for bad input, whatever is wrong with it: a malformed or truncated file,
    a field of the wrong kind, a declared type its payload does not match, a
    size over a limit (:class:`LimitError`). The message names the file (where
    there is one), the format the loader tried and the field.

    Attributes:
        source: the file (or ``'<text>'``/``'<networkx graph>'``) read.
        format: the format the loader tried (``'symkb graph JSON'``, ...).
        field: the part of the document that was wrong, where known.
        internal: ``True`` when the cause was not one of symkb's own checks
            (an unforeseen document; the cause is chained as ``__cause__``).
    """

    internal = False

    def __init__(self, message: str, *, source: str | None = None, format: str | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.source = source
        self.format = format
        self.field = field


class LimitError(FileFormatError):
    """A document asks for more than the loading limits allow (a size, a count,
    a nesting depth); the message names the field, the size and the setting
    that raises the limit (:mod:`symkb.ir.limits`)."""
