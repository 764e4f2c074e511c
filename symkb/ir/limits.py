"""Limits on what a loader may read from a file, and the error boundary of a load.

Files and documents from others are data, and data may be crafted: a small
file must not make a loader allocate gigabytes, recurse without bound or
hang. Every loader (``load_model``, ``model_from_json``, ``ir.from_json``,
``ir.parse``, ``ir.from_networkx``, ``symkb inspect``) runs inside
:func:`reading`, which

* checks sizes against :class:`Limits` before anything is allocated (an
  array's element count, the elements of all arrays of one load together, a
  file's bytes, an archive member's inflated size and ratio, nesting depth);
* turns whatever goes wrong into a :class:`~symkb.ir.errors.FileFormatError`
  naming the file, the format tried and the field, so callers catch one
  error family (the message printed without control codes).

The limits hold for loading only; graphs and models built in code are not
limited. Raise them for models that really are that large::

    from symkb.ir import limits
    limits.configure(max_array_elements=2**32)       # from now on
    with limits.raised(max_file_bytes=8 << 30):      # for one block
        model = symkb.models.load_model("big.symkb")
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import math
import re

import numpy as np

from .errors import DTypeError, FileFormatError, LimitError, SymbolicValueError
from .safe_text import escape_controls


@dataclasses.dataclass(frozen=True)
class Limits:
    """The sizes a load may reach (see the module docstring).

    Attributes:
        max_file_bytes: bytes of one file read whole (a config, printed IR,
            an archive).
        max_member_bytes: inflated bytes of one member of an archive.
        max_inflate_ratio: inflated size / compressed size of an archive
            member above ``ratio_floor_bytes`` (a "zip bomb" inflates by
            about 1000).
        ratio_floor_bytes: members up to this inflated size skip the ratio check.
        max_array_elements: elements of one array or weight (2**26: 256 MiB
            of float32).
        max_total_elements: elements of all arrays and weights of one load
            (2**28: 1 GiB of float32). Reading a saved model's weights and
            building its layers are two loads.
        max_depth: nesting depth of JSON values, printed IR and graph bodies.
        max_nodes: nodes of one loaded graph, bodies included.
        max_init_work: work (about multiply-adds) of initialising one weight
            whose initializer is superlinear: an ``Orthogonal`` one is a QR
            decomposition, ``rows * cols * min(rows, cols)``; 2**34 is a
            2580 x 2580 matrix, an LSTM of about 1600 units.
    """

    max_file_bytes: int = 1 << 30
    max_member_bytes: int = 1 << 30
    max_inflate_ratio: int = 200
    ratio_floor_bytes: int = 64 << 20
    max_array_elements: int = 1 << 26
    max_total_elements: int = 1 << 28
    max_depth: int = 100
    max_nodes: int = 1_000_000
    max_init_work: int = 1 << 34


_current = Limits()


def get_limits() -> Limits:
    """The limits in force."""
    return _current


def configure(**changes) -> Limits:
    """Change limits from now on (process-wide); returns the previous :class:`Limits`.

    Args:
        **changes: :class:`Limits` fields and their new values (positive ints).

    Raises:
        ValueError: an unknown field or a value that is not a positive int.
    """
    global _current
    fields = {f.name for f in dataclasses.fields(Limits)}
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"limits.configure: unknown limit {key!r}; expected one of "
                             f"{sorted(fields)}. Received: {key}={value!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"limits.configure: {key} must be a positive int. "
                             f"Received: {value!r}")
    previous = _current
    _current = dataclasses.replace(_current, **changes)
    return previous


@contextlib.contextmanager
def raised(**changes):
    """Within the block, the limits changed as :func:`configure` changes them."""
    global _current
    previous = configure(**changes)
    try:
        yield _current
    finally:
        _current = previous


# -- the load in progress ----------------------------------------------------------

class _Load:
    """What one load has used so far: its source, format and element budget."""

    def __init__(self, source: str, fmt: str):
        self.source = source
        self.format = fmt
        self.elements = 0
        self.nodes = 0


_LOAD: contextvars.ContextVar = contextvars.ContextVar("symkb_load", default=None)


def _limit(message: str, field: str, setting: str) -> LimitError:
    load = _LOAD.get()
    return LimitError(f"{message}; raise the limit with "
                      f"symkb.ir.limits.configure({setting}=...) if the file is trusted",
                      source=load.source if load else None,
                      format=load.format if load else None, field=field)


def element_count(shape, field: str) -> int:
    """The element count of ``shape``, checked against the limits (Python ints: no
    overflow); every dimension must be a non-negative int.

    Raises:
        FileFormatError: a dimension that is not a non-negative int.
        LimitError: more than ``max_array_elements``.
    """
    try:
        dims = [operator_index(d) for d in shape]
    except TypeError:
        raise FileFormatError(f"{field}: a shape must be a list of non-negative ints. "
                              f"Received: {_short(shape)}", field=field) from None
    if any(d < 0 for d in dims):
        raise FileFormatError(f"{field}: a shape must be a list of non-negative ints. "
                              f"Received: {_short(shape)}", field=field)
    count = math.prod(dims)
    if count > _current.max_array_elements:
        raise _limit(f"{field}: shape {_short(shape)} has {count} elements, more than the "
                     f"{_current.max_array_elements} one array may have when loading",
                     field, "max_array_elements")
    return count


def operator_index(d) -> int:
    """``d`` as an int when it is one (not a bool, a float or a string)."""
    if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
        raise TypeError(d)
    return int(d)


def check_array(shape, field: str) -> int:
    """Account for an array of ``shape`` about to be made by the load in progress.

    Outside a load (code building its own model) nothing is checked.

    Raises:
        LimitError: the array, or all arrays of this load together, are over
            the limits.
    """
    load = _LOAD.get()
    if load is None:
        return 0
    count = element_count(shape, field)
    load.elements += count
    if load.elements > _current.max_total_elements:
        raise _limit(f"{field}: the arrays of this file add up to {load.elements} elements, "
                     f"more than the {_current.max_total_elements} one load may make",
                     field, "max_total_elements")
    return count


def check_nodes(count: int, field: str) -> None:
    """Account for ``count`` more graph nodes in the load in progress."""
    load = _LOAD.get()
    if load is None:
        return
    load.nodes += count
    if load.nodes > _current.max_nodes:
        raise _limit(f"{field}: more than {_current.max_nodes} graph nodes", field, "max_nodes")


def check_work(work: int, field: str) -> None:
    """Within a load, raise :class:`LimitError` when ``work`` is over ``max_init_work``."""
    if _LOAD.get() is not None and work > _current.max_init_work:
        raise _limit(f"{field}: initialising it takes {work} operations, more than the "
                     f"{_current.max_init_work} a load may spend on one weight", field,
                     "max_init_work")


def check_depth(depth: int, field: str) -> None:
    """Raise :class:`LimitError` when ``depth`` is over ``max_depth``."""
    if depth > _current.max_depth:
        raise _limit(f"{field}: nested {depth} levels deep, more than the "
                     f"{_current.max_depth} a document may nest", field, "max_depth")


def check_bytes(size: int, field: str, what: str = "file") -> None:
    """Raise :class:`LimitError` when a ``what`` of ``size`` bytes is over ``max_file_bytes``."""
    if size > _current.max_file_bytes:
        raise _limit(f"{field}: the {what} has {size} bytes, more than the "
                     f"{_current.max_file_bytes} a loader reads", field, "max_file_bytes")


def loading() -> bool:
    """Whether a load is in progress in this thread (or task)."""
    return _LOAD.get() is not None


# -- JSON ------------------------------------------------------------------------

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (strings skipped), without
    recursing."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    data = _STRING.sub(b"", data)
    codes = np.frombuffer(data, dtype=np.uint8)
    steps = (np.isin(codes, (0x5B, 0x7B)).astype(np.int64)
             - np.isin(codes, (0x5D, 0x7D)).astype(np.int64))
    return int(np.cumsum(steps).max()) if steps.size else 0


def load_json(text, field: str = "document"):
    """``json.loads`` with the size and depth limits checked first.

    Raises:
        FileFormatError: not JSON text (or not UTF-8); :class:`LimitError` over a limit.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise FileFormatError(f"{field}: expected JSON text (str or bytes). Received: a "
                              f"{type(text).__name__}", field=field)
    check_bytes(len(text), field, "JSON text")
    check_depth(json_depth(text), field)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{field}: not valid JSON ({exc})", field=field) from None
    except RecursionError:
        raise _limit(f"{field}: nested too deep for the JSON reader", field,
                     "max_depth") from None


# -- the boundary ------------------------------------------------------------------

def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@contextlib.contextmanager
def reading(source: str, fmt: str, error: type = FileFormatError):
    """The boundary of one load: limits accounted, every error a FileFormatError.

    Args:
        source: the file read (or ``'<text>'`` and the like), named in errors.
        fmt: the format being read, named in errors.
        error: the loader's own FileFormatError subclass, raised for every
            error but a :class:`LimitError` or one already of a subclass.

    Raises:
        FileFormatError: whatever went wrong while reading, with the source
            and format in the message; ``exc.internal`` is ``True`` when the
            cause was not one of symkb's own checks (its ``__cause__`` is the
            original exception).
    """
    outer = _LOAD.get()
    token = _LOAD.set(_Load(source, fmt) if outer is None else outer)
    try:
        yield
    except FileFormatError as exc:
        if outer is not None:
            raise
        cls = error if type(exc) is FileFormatError else type(exc)
        raise _located(exc, cls, source, fmt) from exc.__cause__
    except (MemoryError, RecursionError) as exc:
        if outer is not None:
            raise
        err = LimitError(f"{source}: {fmt}: the document is too large or too deeply nested "
                         f"to read ({type(exc).__name__}); see symkb.ir.limits",
                         source=source, format=fmt)
        raise err from None
    except OSError:  # no such file, no permission: as open() reports them
        raise
    except Exception as exc:  # noqa: BLE001 (the boundary: one family out)
        # symkb's own checks raise ValueErrors (and DTypeError, SymbolicValueError);
        # anything else got past them: still the family, marked internal
        if outer is not None:
            raise
        family = isinstance(exc, ValueError) and not isinstance(exc, UnicodeError)
        own = family or isinstance(exc, (DTypeError, SymbolicValueError))
        err = error(escape_controls(f"{source}: not a valid {fmt}: {_describe(exc)}"),
                    source=source, format=fmt)
        err.internal = not own
        raise err from exc
    finally:
        _LOAD.reset(token)


def _located(exc: FileFormatError, cls: type, source: str, fmt: str) -> FileFormatError:
    """``exc`` as a ``cls`` with the source and format in front of its message (once)."""
    message = str(exc)
    if not message.startswith(f"{source}:"):
        message = f"{source}: {fmt}: {message}"
    message = escape_controls(message)  # it quotes names from the file
    err = cls.__new__(cls)
    FileFormatError.__init__(err, message, source=source, format=fmt, field=exc.field)
    err.internal = exc.internal
    return err


def _short(value, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."
