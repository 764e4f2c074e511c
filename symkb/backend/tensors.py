"""Making and inspecting tensors: placeholders, variables, constants, shapes."""
from __future__ import annotations

import builtins

import numpy as np

from .. import ir
from ..ir import KerasTensor, Variable
from ._util import ndim_of, shape_of
from .config import floatx
from .session import unique_object_name


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None, ragged=False):
    """A symbolic input (KerasTensor) of ``shape`` (``None`` for unknown dims).

    Give ``shape`` or ``ndim`` (all dims unknown). ``dtype`` defaults to floatx.
    """
    if sparse or ragged:
        raise ValueError("placeholder: sparse and ragged placeholders are not supported "
                         f"(received sparse={sparse}, ragged={ragged})")
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: give `shape` or `ndim`; received neither "
                             "(tensors of unknown rank are not supported)")
        shape = (None,) * int(ndim)
    elif isinstance(shape, int):
        shape = (shape,)
    return ir.placeholder_node(tuple(shape), dtype or floatx(),
                               name or unique_object_name("placeholder"))


def is_placeholder(x) -> bool:
    """Whether ``x`` is a placeholder (a graph input)."""
    return isinstance(x, KerasTensor) and x.node.op == "input"


def variable(value, dtype=None, name=None, constraint=None):
    """A :class:`Variable` holding a copy of ``value`` (dtype defaults to floatx)."""
    if isinstance(value, Variable):
        value = value.numpy()
    if isinstance(value, KerasTensor):
        raise TypeError(f"variable: expected a concrete value, received the symbolic tensor "
                        f"{value.name}")
    if dtype is None:
        arr = np.asarray(value)
        dtype = floatx() if arr.dtype.kind in "fiub" and arr.dtype.kind != "b" else arr.dtype
        if arr.dtype.kind == "b":
            dtype = "bool"
    return Variable(value, dtype, name or unique_object_name("Variable"))


def constant(value, dtype=None, shape=None, name=None):
    """A numpy array of ``value`` (dtype defaults to floatx), broadcast to ``shape``."""
    if dtype is None:
        dtype = floatx()
    array = np.asarray(value, dtype=dtype)
    if shape is not None:
        array = np.broadcast_to(array, tuple(shape)).copy() if array.size == 1 else \
            array.reshape(tuple(shape))
    return array


def is_keras_tensor(x) -> bool:
    """True for KerasTensors (placeholders, Inputs, op and layer outputs),
    False for Variables; anything else raises ``ValueError``."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, Variable):
        return False
    raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. "
                     "Expected a symbolic tensor instance.")


def is_tensor(x) -> bool:
    """Whether ``x`` is a tensor-like value symkb ops produce.

    Args:
        x: anything.

    Returns:
        True for KerasTensors, Variables and numpy arrays.
    """
    return isinstance(x, (KerasTensor, Variable, np.ndarray))


def is_sparse(x) -> bool:
    """Whether ``x`` is a sparse tensor: always False (symkb has no sparse tensors).

    Args:
        x: anything.

    Returns:
        False.
    """
    return False


def to_dense(x):
    """``x`` itself: symkb tensors are always dense.

    Args:
        x: a tensor.

    Returns:
        ``x``.
    """
    return x


def int_shape(x):
    """The static shape as a tuple of ints and ``None``."""
    try:
        return tuple(shape_of(x))
    except Exception:
        return None


def ndim(x) -> int:
    """The rank of ``x``."""
    return ndim_of(x)


def dtype(x) -> str:
    """The dtype of ``x`` as a string."""
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    return np.asarray(x).dtype.name


def shape(x):
    """The runtime shape: an int32 vector (a KerasTensor when ``x`` is symbolic)."""
    return ir.call("shape", x)


def count_params(x) -> int:
    """The number of elements of a variable or array."""
    return int(np.prod(shape_of(x), dtype=np.int64))


def get_value(x):
    """The value of a variable (or array) as a numpy array."""
    if isinstance(x, KerasTensor):
        x._no_value("get_value of")
    if isinstance(x, Variable):
        return x.numpy()
    return np.asarray(x)


eval = get_value  # noqa: A001  (tf_keras.backend.eval)


def set_value(x, value) -> None:
    """Assign ``value`` to the variable ``x``."""
    if not isinstance(x, Variable):
        raise TypeError(f"set_value: expected a Variable, received {type(x).__name__}")
    x.assign(value)


def batch_get_value(tensors) -> list:
    """The values of several variables."""
    return [get_value(x) for x in tensors]


def batch_set_value(tuples) -> None:
    """Assign many ``(variable, value)`` pairs."""
    for x, value in tuples:
        set_value(x, value)


def update(x, new_x):
    """Assign ``new_x`` to the variable ``x``.

    Args:
        x: a Variable.
        new_x: a value of ``x``'s shape.

    Returns:
        The updated Variable.
    """
    return _variable_arg(x, "update").assign(new_x)


def update_add(x, increment):
    """Add ``increment`` to the variable ``x`` in place.

    Args:
        x: a Variable.
        increment: a value broadcastable to ``x``'s shape.

    Returns:
        The updated Variable.
    """
    return _variable_arg(x, "update_add").assign_add(increment)


def update_sub(x, decrement):
    """Subtract ``decrement`` from the variable ``x`` in place.

    Args:
        x: a Variable.
        decrement: a value broadcastable to ``x``'s shape.

    Returns:
        The updated Variable.
    """
    return _variable_arg(x, "update_sub").assign_sub(decrement)


def _variable_arg(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Variable (made with K.variable), received "
                        f"{type(x).__name__}")
    return x


def moving_average_update(x, value, momentum):
    """``x = x * momentum + value * (1 - momentum)``."""
    return x.assign(x.numpy() * momentum + np.asarray(value) * (1 - momentum))


def _full_variable(fill, shape, dtype, name):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return variable(np.full(shape, fill, dtype=dtype or floatx()), dtype or floatx(), name)


def zeros(shape, dtype=None, name=None):
    """A Variable of zeros."""
    return _full_variable(0, shape, dtype, name)


def ones(shape, dtype=None, name=None):
    """A Variable of ones."""
    return _full_variable(1, shape, dtype, name)


def eye(size, dtype=None, name=None):
    """An identity-matrix Variable; ``size`` is ``n`` or ``(n, m)``."""
    n, m = (size, size) if isinstance(size, int) else tuple(size)
    return variable(np.eye(n, m, dtype=dtype or floatx()), dtype or floatx(), name)


def zeros_like(x, dtype=None, name=None):
    """Zeros of ``x``'s shape (and dtype unless given)."""
    return ir.call("zeros_like", x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    """Ones of ``x``'s shape (and dtype unless given)."""
    return ir.call("ones_like", x, dtype=dtype)


def identity(x, name=None):
    """``x`` itself (a copy when eager)."""
    if isinstance(x, KerasTensor):
        return x
    return np.array(ir.build.to_array(x))


def stop_gradient(variables):
    """Identity (symkb does not differentiate)."""
    return variables


def print_tensor(x, message="", summarize=3):
    """Print an eager value with ``message`` and return it (symbolic: unchanged)."""
    if not isinstance(x, KerasTensor):
        print(message, np.asarray(x))
    return x


def _rng(seed):
    return np.random.default_rng(seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform samples in ``[minval, maxval)`` (reproducible with ``seed``)."""
    return _rng(seed).uniform(minval, maxval, size=tuple(shape)).astype(dtype or floatx())


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples (reproducible with ``seed``)."""
    return _rng(seed).normal(mean, stddev, size=tuple(shape)).astype(dtype or floatx())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    rng = _rng(seed)
    out = rng.normal(0.0, 1.0, size=tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * stddev + mean).astype(dtype or floatx())


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    return (_rng(seed).random(tuple(shape)) < p).astype(dtype or floatx())


random_binomial = random_bernoulli


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A Variable of uniform samples."""
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A Variable of normal samples."""
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def arange(start, stop=None, step=1, dtype="int32"):
    """A 1-D tensor of evenly spaced values, as ``tf.range``.

    ``arange(n)`` counts from 0 (and is empty for ``n < 0``). As in tf_keras,
    the dtype follows the arguments (int32 for ints, float32 for floats)
    unless a ``dtype`` other than the default ``'int32'`` is given.

    Args:
        start: the first value (the stop when ``stop`` is None).
        stop: the end (excluded).
        step: the spacing (may be negative).
        dtype: the result dtype; the default ``'int32'`` means "inferred".

    Returns:
        An ``np.ndarray``.
    """
    if stop is None:
        start, stop = 0, builtins.max(start, 0)
    values = [start, stop, step]
    inferred = "float32" if builtins.any(isinstance(v, float) or
                                         (isinstance(v, np.generic) and v.dtype.kind == "f")
                                         for v in values) else "int32"
    result = np.arange(start, stop, step, dtype=np.float64 if inferred == "float32" else None)
    target = inferred if dtype in (None, "int32") else ir.types.canonical_dtype(dtype)
    return result.astype(target)


class name_scope:  # noqa: N801  (tf_keras spells it in lower case)
    """A context manager for op names: ``with K.name_scope('block'): ...``.

    symkb names nodes when it prints a graph, so the scope only records its
    name; it exists so that code written for tf_keras runs unchanged.

    Args:
        name: the scope's name.
    """

    def __init__(self, name, *args, **kwargs):
        if not isinstance(name, str):
            raise TypeError(f"name_scope: expected a string name, received {name!r}")
        self.name = name

    def __enter__(self):
        return self.name

    def __exit__(self, *exc):
        return False


_MANUAL_INIT = [False]


def manual_variable_initialization(value) -> None:
    """Set the manual variable initialisation flag (kept for compatibility).

    symkb variables hold their value from creation, so the flag has no effect.

    Args:
        value: a bool.
    """
    _MANUAL_INIT[0] = bool(value)
