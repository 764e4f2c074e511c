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
    """Instantiate a placeholder: a symbolic graph input (a KerasTensor).

    Args:
        shape: the shape, a tuple of ints and ``None`` (unknown) dims; an int
            means a 1-D shape.
        ndim: the rank, when ``shape`` is not given (every dim unknown).
        dtype: the dtype (default: :func:`floatx`).
        sparse: must be False (symkb has no sparse tensors).
        name: the input's name (default: ``placeholder``, ``placeholder_1``, ...).
        ragged: must be False.

    Returns:
        A KerasTensor.

    Raises:
        ValueError: with neither ``shape`` nor ``ndim``, or for sparse/ragged.

    Example:
        >>> K.placeholder(shape=(2, 4, 5)).shape
        (2, 4, 5)
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
    """Whether ``x`` is a placeholder (a graph input made by :func:`placeholder` or ``Input``).

    Args:
        x: anything.

    Returns:
        A bool.
    """
    return isinstance(x, KerasTensor) and x.node.op == "input"


def variable(value, dtype=None, name=None, constraint=None):
    """Instantiate a variable: a named, mutable value that graphs read at call time.

    Args:
        value: a numpy array or Python data (the initial value, copied).
        dtype: the dtype (default: :func:`floatx`, for integer data too, as in
            tf_keras; booleans stay bool).
        name: the name (default: ``Variable``, ``Variable_1``, ...).
        constraint: unused (kept for tf_keras compatibility).

    Returns:
        A :class:`Variable` (not a KerasTensor: ``K.is_keras_tensor`` gives False).
    """
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
    """Create a constant tensor (a numpy array).

    Args:
        value: a number or array-like.
        dtype: the dtype (default: :func:`floatx`).
        shape: the result shape; a scalar ``value`` is broadcast to it,
            otherwise ``value`` is reshaped.
        name: unused.

    Returns:
        An ``np.ndarray``.
    """
    if dtype is None:
        dtype = floatx()
    array = np.asarray(value, dtype=dtype)
    if shape is not None:
        array = np.broadcast_to(array, tuple(shape)).copy() if array.size == 1 else \
            array.reshape(tuple(shape))
    return array


def is_keras_tensor(x) -> bool:
    """Return whether ``x`` is a Keras tensor (symbolic).

    Args:
        x: a candidate tensor.

    Returns:
        True for KerasTensors (placeholders, Inputs, op and layer outputs),
        False for Variables.

    Raises:
        ValueError: if ``x`` is neither, with the message ``Unexpectedly found
            an instance of type `<class '...'>`. Expected a symbolic tensor instance.``
    """
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
    """Return the shape of a tensor or variable as a tuple of ints or ``None`` entries.

    Args:
        x: a KerasTensor, Variable, numpy array or array-like.

    Returns:
        A tuple (``None`` for unknown dims), or ``None`` if ``x`` has no shape.

    Example:
        >>> K.int_shape(K.placeholder(shape=(None, 3)))
        (None, 3)
    """
    try:
        return tuple(shape_of(x))
    except Exception:
        return None


def ndim(x) -> int:
    """Return the number of axes in a tensor, as an integer.

    Args:
        x: a tensor or variable.

    Returns:
        An int.
    """
    return ndim_of(x)


def dtype(x) -> str:
    """Return the dtype of a tensor or variable, as a string.

    Args:
        x: a tensor, variable or array.

    Returns:
        A dtype name such as ``'float32'``.
    """
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    return np.asarray(x).dtype.name


def shape(x):
    """Return the runtime shape of a tensor as an int32 vector.

    Args:
        x: a tensor.

    Returns:
        An int32 tensor of length ``ndim(x)`` (a KerasTensor when ``x`` is
        symbolic, its unknown dims known at run time).
    """
    return ir.call("shape", x)


def count_params(x) -> int:
    """Return the number of elements of a variable (or array, or static tensor).

    Args:
        x: a Variable, array or KerasTensor of known shape.

    Returns:
        An int.
    """
    return int(np.prod(shape_of(x), dtype=np.int64))


def get_value(x):
    """Return the value of a variable.

    Args:
        x: a Variable (numpy arrays and numbers are returned as arrays).

    Returns:
        An ``np.ndarray`` (a copy for a Variable).

    Raises:
        TypeError: for a KerasTensor, which has no value until its graph runs.
    """
    if isinstance(x, KerasTensor):
        x._no_value("get_value of")
    if isinstance(x, Variable):
        return x.numpy()
    return np.asarray(x)


def eval(x):  # noqa: A001  (tf_keras.backend.eval)
    """Evaluate the value of a variable (or array).

    Args:
        x: a Variable or array.

    Returns:
        An ``np.ndarray``.

    Raises:
        TypeError: for a KerasTensor: compile its graph with ``K.function``.
    """
    return get_value(x)


def set_value(x, value) -> None:
    """Set the value of a variable from a numpy array.

    Graphs that read the variable see the new value on their next call,
    without recompiling.

    Args:
        x: a Variable.
        value: a value of ``x``'s shape (cast to ``x``'s dtype).

    Raises:
        TypeError: if ``x`` is not a Variable.
        ValueError: if the shapes differ.
    """
    if not isinstance(x, Variable):
        raise TypeError(f"set_value: expected a Variable, received {type(x).__name__}")
    x.assign(value)


def batch_get_value(tensors) -> list:
    """Return the values of several variables.

    Args:
        tensors: a list of Variables.

    Returns:
        A list of ``np.ndarray``.
    """
    return [get_value(x) for x in tensors]


def batch_set_value(tuples) -> None:
    """Set the values of many variables at once.

    Args:
        tuples: a list of ``(variable, value)`` pairs.
    """
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
    """Compute the exponential moving average of a value, in place.

    ``x = x * momentum + value * (1 - momentum)``.

    Args:
        x: a Variable.
        value: a value of ``x``'s shape.
        momentum: the moving average momentum.

    Returns:
        The updated Variable.
    """
    return x.assign(x.numpy() * momentum + np.asarray(value) * (1 - momentum))


def _full_variable(fill, shape, dtype, name):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return variable(np.full(shape, fill, dtype=dtype or floatx()), dtype or floatx(), name)


def zeros(shape, dtype=None, name=None):
    """Instantiate an all-zeros variable.

    Args:
        shape: a tuple of ints (or an int).
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    return _full_variable(0, shape, dtype, name)


def ones(shape, dtype=None, name=None):
    """Instantiate an all-ones variable.

    Args:
        shape: a tuple of ints (or an int).
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    return _full_variable(1, shape, dtype, name)


def eye(size, dtype=None, name=None):
    """Instantiate an identity-matrix variable.

    Args:
        size: ``n`` (square) or a pair ``(rows, columns)``.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.

    Returns:
        A Variable.
    """
    n, m = (size, size) if isinstance(size, int) else tuple(size)
    return variable(np.eye(n, m, dtype=dtype or floatx()), dtype or floatx(), name)


def zeros_like(x, dtype=None, name=None):
    """Instantiate an all-zeros tensor of the same shape as another tensor.

    Args:
        x: a tensor.
        dtype: the dtype (default: ``x``'s).
        name: unused.

    Returns:
        A tensor of ``x``'s shape (symbolic when ``x`` is).
    """
    return ir.call("zeros_like", x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    """Instantiate an all-ones tensor of the same shape as another tensor.

    Args:
        x: a tensor.
        dtype: the dtype (default: ``x``'s).
        name: unused.

    Returns:
        A tensor of ``x``'s shape (symbolic when ``x`` is).
    """
    return ir.call("ones_like", x, dtype=dtype)


def identity(x, name=None):
    """Return a tensor with the same content as the input tensor.

    Args:
        x: a tensor.
        name: unused.

    Returns:
        ``x`` itself when symbolic, else a copy as an ``np.ndarray``.
    """
    if isinstance(x, KerasTensor):
        return x
    return np.array(ir.build.to_array(x))


def stop_gradient(variables):
    """Return ``variables`` unchanged (symkb computes no gradients).

    Args:
        variables: a tensor or a list of tensors.

    Returns:
        The same object.
    """
    return variables


def print_tensor(x, message="", summarize=3):
    """Print ``message`` and the value of an eager tensor, and return it.

    Args:
        x: a tensor.
        message: text printed before the value.
        summarize: unused (numpy decides how much to print).

    Returns:
        ``x`` (a symbolic ``x`` is returned unprinted).
    """
    if not isinstance(x, KerasTensor):
        print(message, np.asarray(x))
    return x


def _rng(seed):
    return np.random.default_rng(seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Return a tensor with a uniform distribution of values in ``[minval, maxval)``.

    Args:
        shape: the shape, a tuple of ints.
        minval: the lower bound.
        maxval: the upper bound (excluded).
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    return _rng(seed).uniform(minval, maxval, size=tuple(shape)).astype(dtype or floatx())


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a normal distribution of values.

    Args:
        shape: the shape, a tuple of ints.
        mean: the mean.
        stddev: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    return _rng(seed).normal(mean, stddev, size=tuple(shape)).astype(dtype or floatx())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Return a tensor with a truncated normal distribution of values.

    Values more than two standard deviations from the mean are redrawn.

    Args:
        shape: the shape, a tuple of ints.
        mean: the mean.
        stddev: the standard deviation before truncation.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    rng = _rng(seed)
    out = rng.normal(0.0, 1.0, size=tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * stddev + mean).astype(dtype or floatx())


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """Return a tensor of 1s with probability ``p`` and 0s otherwise.

    ``random_binomial`` is the same function (its old tf_keras name).

    Args:
        shape: the shape, a tuple of ints.
        p: the probability of a 1.
        dtype: the dtype (default: :func:`floatx`).
        seed: an int for reproducible draws.

    Returns:
        An ``np.ndarray``.
    """
    return (_rng(seed).random(tuple(shape)) < p).astype(dtype or floatx())


random_binomial = random_bernoulli


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """Instantiate a variable with values drawn from a uniform distribution.

    Args:
        shape: the shape, a tuple of ints.
        low: the lower bound.
        high: the upper bound.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.
        seed: an int for reproducible draws.

    Returns:
        A Variable.
    """
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """Instantiate a variable with values drawn from a normal distribution.

    Args:
        shape: the shape, a tuple of ints.
        mean: the mean.
        scale: the standard deviation.
        dtype: the dtype (default: :func:`floatx`).
        name: the variable's name.
        seed: an int for reproducible draws.

    Returns:
        A Variable.
    """
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
