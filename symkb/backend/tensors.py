"""Making and inspecting tensors: placeholders, constants, shapes, dtypes.

Variables (their values and updates) are in ``variables.py``, random
tensors in ``random_ops.py``.
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import ir
from ..ir import KerasTensor, Variable
from ..ir.ops.debug import print_tensor as show
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
        shape = tuple(shape)
        if array.size == 1:
            array = np.broadcast_to(array, shape).copy()
        elif array.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"constant: cannot give a value of {array.size} elements (shape "
                             f"{array.shape}) the shape {shape}")
        else:
            array = array.reshape(shape)
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


def is_sparse(tensor) -> bool:
    """Whether ``tensor`` is a sparse tensor: always False (symkb has no sparse tensors).

    Args:
        tensor: anything.

    Returns:
        False.
    """
    return False


def to_dense(tensor):
    """``tensor`` itself: symkb tensors are always dense.

    Args:
        tensor: a tensor.

    Returns:
        ``tensor``.
    """
    return tensor


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
        x: a tensor, variable or array; Python data reports the dtype ops
            give it (float32 for floats, int32 for ints).

    Returns:
        A dtype name such as ``'float32'``.
    """
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    return ir.build.to_array(x).dtype.name


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
    shape = tuple(shape_of(x))
    if any(d is None for d in shape):
        raise ValueError(f"count_params: the shape {shape} has unknown dimensions, so the "
                         "number of elements is not known before the graph runs")
    return int(np.prod(shape, dtype=np.int64))


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
        A new tensor of ``x``'s value: an ``identity`` node when ``x`` is
        symbolic (the compiler's ``simplify`` pass removes it), else a copy
        as an ``np.ndarray``.
    """
    if isinstance(x, KerasTensor):
        return ir.call("identity", x)
    return np.array(ir.build.to_array(x))


def stop_gradient(variables):
    """Return ``variables`` with gradients blocked.

    A symbolic tensor (or Variable) gives a ``stop_gradient`` node: the same
    value, through which ``K.gradients`` sends nothing (the compiler drops
    the node). An eager value has no graph to block and comes back unchanged.

    Args:
        variables: a tensor or a list of tensors.

    Returns:
        A tensor, or a list of them in the same order.
    """
    if isinstance(variables, (list, tuple)):
        return [stop_gradient(v) for v in variables]
    if isinstance(variables, KerasTensor):
        return ir.call("stop_gradient", variables)
    if isinstance(variables, Variable):
        return ir.call("stop_gradient", ir.as_tensor(variables))
    return variables


def print_tensor(x, message="", summarize=3):
    """Print ``message`` and the value of ``x`` as ``tf.print`` does, and return ``x``.

    A symbolic ``x`` gives a ``print_tensor`` node that prints each time the
    compiled graph runs (when its result is used, as in tf_keras); an eager
    ``x`` prints now. The text goes to ``sys.stdout``: the message, a space,
    the value (at most ``summarize`` values at each end of every axis; ``-1``
    for all), a newline.

    Args:
        x: a tensor.
        message: text printed before the value.
        summarize: how many values to print at each end of an axis.

    Returns:
        ``x`` (a new KerasTensor with the same value when ``x`` is symbolic).
    """
    if isinstance(x, KerasTensor):
        return ir.call("print_tensor", x, message=str(message), summarize=int(summarize))
    show(np.asarray(x.value() if isinstance(x, Variable) else x), message=str(message),
         summarize=int(summarize))
    return x


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
