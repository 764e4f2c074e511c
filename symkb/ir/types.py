"""Tensor types: a shape (ints, ``None`` for unknown dims) and a dtype name.

Every value in the IR carries a :class:`TensorType`, inferred when its node is
built; nothing downstream ever has to guess a shape.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DTypeError, ShapeError

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)

_SHORT = {
    "float16": "f16", "float32": "f32", "float64": "f64",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "bool": "bool",
}
_LONG = {v: k for k, v in _SHORT.items()}


def canonical_dtype(dtype) -> str:
    """Return the canonical dtype name for ``dtype`` (a string, numpy dtype or type)."""
    if dtype is None:
        raise DTypeError("dtype is None; expected one of %s" % (DTYPES,))
    if isinstance(dtype, str) and dtype in _LONG:
        return _LONG[dtype]
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise DTypeError(f"Unknown dtype {dtype!r}; expected one of {DTYPES}") from exc
    if name not in DTYPES:
        raise DTypeError(f"Unsupported dtype {name!r}; expected one of {DTYPES}")
    return name


def short_dtype(dtype: str) -> str:
    return _SHORT[dtype]


def long_dtype(short: str) -> str:
    return _LONG[short]


def is_float(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES


def is_int(dtype: str) -> bool:
    return dtype in INT_DTYPES


def result_dtype(*dtypes: str) -> str:
    """numpy's promotion of the given dtypes, as a canonical name."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


@dataclass(frozen=True, slots=True)
class TensorType:
    """The static type of one IR value."""

    shape: tuple
    dtype: str

    def __post_init__(self):
        try:
            shape = tuple(None if d is None else int(d) for d in self.shape)
        except (TypeError, ValueError):
            raise ShapeError(f"a shape is a tuple of ints and None; received "
                             f"{str(self.shape)[:60]}") from None
        for d in shape:
            if d is not None and d < 0:
                raise ShapeError(f"negative dimension in shape {shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return all(d is not None for d in self.shape)

    def __str__(self) -> str:
        dims = ",".join("?" if d is None else str(d) for d in self.shape)
        return f"{_SHORT[self.dtype]}[{dims}]"

    @staticmethod
    def parse(text: str) -> "TensorType":
        """Inverse of ``str()``: ``'f32[?,5]'`` -> ``TensorType((None, 5), 'float32')``."""
        short, _, rest = text.strip().partition("[")
        dims = rest.rstrip("]")
        shape = tuple(None if d == "?" else int(d) for d in dims.split(",") if d)
        return TensorType(shape, _LONG[short])

    @staticmethod
    def of(array) -> "TensorType":
        """The type of a concrete numpy value."""
        array = np.asarray(array)
        return TensorType(array.shape, array.dtype.name)


def broadcast_shapes(*shapes, op: str = "op") -> tuple:
    """numpy broadcasting of shapes that may hold ``None`` (unknown) dims."""
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for axis, dims in enumerate(zip(*padded)):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ShapeError(
                f"{op}: operand shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                f"cannot be broadcast together (axis {axis} has sizes {sorted(known)}); "
                "expected equal sizes or 1")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_axis(axis: int, ndim: int, op: str = "op") -> int:
    """A non-negative axis; a clear error when it is out of range."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, received {axis!r}")
    if not -ndim <= axis < max(ndim, 1):
        raise ShapeError(f"{op}: axis {axis} is out of range for a tensor of rank {ndim}; "
                         f"expected -{ndim} <= axis < {ndim}")
    return int(axis) % max(ndim, 1)


def normalize_axes(axis, ndim: int, op: str = "op"):
    """``None`` or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        listed = [normalize_axis(a, ndim, op) for a in axis]
        if len(set(listed)) != len(listed):
            raise ShapeError(f"{op}: an axis is given more than once in axis={tuple(axis)} "
                             f"(for a tensor of rank {ndim})")
        return tuple(sorted(listed))
    return (normalize_axis(axis, ndim, op),)
