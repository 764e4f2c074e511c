"""Variables: named, mutable numpy arrays that graphs read at call time.

A :class:`Variable` is not a KerasTensor. When a graph uses one, it is
represented by a single ``param`` node (``variable.tensor``), which every
executor reads when the graph runs, so ``assign``/``K.set_value`` after a
graph was compiled is seen by the next call without recompiling.
"""
from __future__ import annotations

import numpy as np

from .node import Node, _Operators
from .types import TensorType, canonical_dtype


class IncompatibleValueError(TypeError, ValueError):
    """A value of a kind that cannot become a variable's dtype (complex,
    strings, datetimes, arbitrary objects): refused, never cast."""


# numpy kinds no real-valued variable takes: numpy would cast them silently
# (dropping an imaginary part, parsing a string, counting nanoseconds)
_REFUSED_KINDS = {"c": "complex", "U": "string", "S": "bytes", "M": "datetime",
                  "m": "timedelta", "V": "structured"}
_REAL_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def checked_value(value, dtype, what: str) -> np.ndarray:
    """``value`` as a numpy array a variable of ``dtype`` can take.

    Real numbers and booleans of any dtype are accepted (and cast by the
    caller); complex numbers, strings, bytes, datetimes, structured arrays and
    object arrays holding anything but real numbers are refused.

    Args:
        value: the candidate value (array-like).
        dtype: the variable's dtype (for the message).
        what: names the variable or weight in the message.

    Returns:
        ``np.asarray(value)``.

    Raises:
        IncompatibleValueError: for a value of a refused kind (a ``TypeError``
            and a ``ValueError``).
    """
    array = np.asarray(value)
    kind = array.dtype.kind
    refused = _REFUSED_KINDS.get(kind)
    if refused is None and kind == "O":
        for item in array.flat:
            if not isinstance(item, _REAL_SCALARS):
                refused = f"an object array holding {type(item).__name__}"
                break
    if refused is not None:
        raise IncompatibleValueError(
            f"{what}: expected real numbers for dtype {dtype}; {refused} values are "
            f"refused, not cast. Received: an array of shape {array.shape} and dtype "
            f"{array.dtype}.")
    return array


class Variable(_Operators):
    """A mutable tensor value with a name, a dtype and a fixed shape."""

    def __init__(self, value, dtype, name: str = "Variable", trainable: bool = True):
        dtype = canonical_dtype(dtype)
        if not isinstance(value, (int, float, bool)):
            value = checked_value(value, dtype, f"Variable {name!r}")
        self._value = np.array(value, dtype=dtype, order="C")  # row-major, as kernels expect
        self.name = name
        self.trainable = bool(trainable)
        self._node = None
        # bumped by every assign: compiled targets holding a copy (a GPU) re-read it then
        self.version = 0

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def dtype(self) -> str:
        return self._value.dtype.name

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def type(self) -> TensorType:
        return TensorType(self.shape, self.dtype)

    @property
    def tensor(self):
        """The ``param`` node's KerasTensor through which graphs read this variable."""
        if self._node is None:
            self._node = Node("param", (), {"variable": self}, (self.type,), name=self.name)
        return self._node.outputs[0]

    def numpy(self) -> np.ndarray:
        """A copy of the current value."""
        return self._value.copy()

    def value(self) -> np.ndarray:
        """The current value (the array itself, not a copy)."""
        return self._value

    def read_value(self) -> np.ndarray:
        """A copy of the current value."""
        return self._value.copy()

    def assign(self, value):
        """Set a new value of the same shape (cast to this variable's dtype).

        Raises:
            ValueError: for a value of another shape.
            IncompatibleValueError: for complex, string, datetime or object
                values (:func:`checked_value`), which are refused, not cast.
        """
        value = checked_value(value, self.dtype, f"Variable {self.name!r}")
        if value.shape != self._value.shape:
            raise ValueError(
                f"Variable {self.name!r}: cannot assign a value of shape {value.shape}; "
                f"expected shape {self._value.shape}")
        self._value[...] = value.astype(self._value.dtype, copy=False)
        self.version += 1
        return self

    def assign_add(self, delta):
        """Add ``delta`` to the value in place."""
        return self.assign(self._value + np.asarray(delta, dtype=self._value.dtype))

    def assign_sub(self, delta):
        """Subtract ``delta`` from the value in place."""
        return self.assign(self._value - np.asarray(delta, dtype=self._value.dtype))

    def __array__(self, dtype=None, copy=None):
        value = self._value if dtype is None else self._value.astype(dtype)
        return value.copy() if copy else value

    def __repr__(self) -> str:
        return (f"<symkb.Variable '{self.name}' shape={self.shape} dtype={self.dtype}, "
                f"numpy={np.array2string(self._value, threshold=10)}>")

    def __len__(self):
        return len(self._value)

    def __getitem__(self, index):
        return self._value[index]
