"""Arithmetic, comparisons, reductions and matrix products (tf_keras names).

Each function accepts numpy arrays, Python numbers, Variables and
KerasTensors; with a KerasTensor operand it records a node, otherwise it
computes at once with numpy (see :func:`symkb.ir.call`).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import ir
from ..ir.errors import DTypeError
from ..ir.types import is_float
from ._util import axes, axis1, dtype_of, ndim_of, shape_of, reads_variables
from .config import floatx

call = ir.call


def _unary_doc(name, what, floats=False):
    def fn(x):
        return call(name, x)
    fn.__name__ = fn.__qualname__ = name
    kind = "a floating-point tensor" if floats else "a tensor"
    fn.__doc__ = (f"{what}, elementwise.\n\n"
                  f"Args:\n    x: {kind} (or array, number, Variable).\n\n"
                  f"Returns:\n    A tensor of ``x``'s shape and dtype.\n")
    return fn


abs = _unary_doc("abs", "Absolute value ``|x|``")  # noqa: A001
square = _unary_doc("square", "Square ``x ** 2``")
exp = _unary_doc("exp", "Exponential ``e ** x``", floats=True)
log = _unary_doc("log", "Natural logarithm", floats=True)
sign = _unary_doc("sign", "Sign: -1, 0 or 1 (+0.0 for -0.0 too; NaN stays NaN)")
round = _unary_doc("round", "Round to the nearest integer, halves to even (``round(2.5) == 2``)")  # noqa: A001,E501
sin = _unary_doc("sin", "Sine", floats=True)
cos = _unary_doc("cos", "Cosine", floats=True)
negative = _unary_doc("negative", "Negation ``-x``")


def sqrt(x):
    """Square root, elementwise; negative inputs are clipped to 0 first (tf_keras).

    Args:
        x: a floating-point tensor.

    Returns:
        ``sqrt(max(x, 0))``, of ``x``'s shape and dtype.
    """
    return call("sqrt", call("clip", x, min_value=0.0, max_value=float("inf")))


@reads_variables
def pow(x, a):  # noqa: A001
    """Elementwise power ``x ** a``.

    Args:
        x: a tensor.
        a: the exponent: a number or a tensor broadcastable against ``x``.

    Returns:
        A tensor of the broadcast shape (a Python exponent keeps ``x``'s dtype).
    """
    return call("pow", x, a)


@reads_variables
def clip(x, min_value, max_value):
    """Clamp ``x`` elementwise into ``[min_value, max_value]``.

    As in tf_keras, ``None`` means unbounded on that side, and a
    ``max_value`` below ``min_value`` is raised to ``min_value``. NaN stays
    NaN; as ``tf.clip_by_value`` the upper bound applies first.

    Args:
        x: a tensor.
        min_value: the lower bound (a number, tensor or ``None``).
        max_value: the upper bound (a number, tensor or ``None``).

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    if min_value is None:
        min_value = -np.inf
    if max_value is None:
        max_value = np.inf
    for name, bound in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(bound, (str, bytes)) or bound is None:
            raise TypeError(f"clip: `{name}` must be a number, a tensor or None; "
                            f"received {bound!r}")
    if ir.is_symbolic(min_value) or ir.is_symbolic(max_value) or np.ndim(min_value) or \
            np.ndim(max_value):
        return call("maximum", call("minimum", x, max_value), min_value)
    if max_value < min_value:
        max_value = min_value
    return call("clip", x, min_value=float(min_value), max_value=float(max_value))


def _binary(name, what, result="of the promoted dtype"):
    def fn(x, y):
        return call(name, x, y)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{what}, elementwise with numpy broadcasting.\n\n"
                  "Args:\n    x: a tensor (or array, number, Variable).\n"
                  "    y: a tensor broadcastable against ``x``.\n\n"
                  f"Returns:\n    A tensor of the broadcast shape, {result}. Python numbers\n"
                  "    take the dtype of the tensor operand.\n")
    return fn


_BOOL = "of dtype bool"
maximum = _binary("maximum", "Maximum of two tensors (NaN wins)")
minimum = _binary("minimum", "Minimum of two tensors (NaN wins)")
equal = _binary("equal", "Equality ``x == y``", _BOOL)
not_equal = _binary("not_equal", "Inequality ``x != y``", _BOOL)
greater = _binary("greater", "Truth of ``x > y``", _BOOL)
greater_equal = _binary("greater_equal", "Truth of ``x >= y``", _BOOL)
less = _binary("less", "Truth of ``x < y``", _BOOL)
less_equal = _binary("less_equal", "Truth of ``x <= y``", _BOOL)
add = _binary("add", "Sum ``x + y``")
subtract = _binary("subtract", "Difference ``x - y``")
multiply = _binary("multiply", "Product ``x * y``")
divide = _binary("divide", "True division ``x / y``", "floating point (integers divide to float64)")


def cast(x, dtype):
    """Cast a tensor to a different dtype.

    Float to integer truncates toward zero; any nonzero value casts to True.

    Args:
        x: a tensor.
        dtype: a dtype name (``'float16'``, ``'float32'``, ``'int32'``, ``'bool'``, ...)
            or numpy dtype.

    Returns:
        A tensor of ``x``'s shape and the new dtype.
    """
    try:
        dtype = ir.types.canonical_dtype(dtype)
    except DTypeError as exc:
        raise DTypeError(f"cast: {exc}") from None
    return call("cast", x, dtype=dtype)


def _reduction(name, what, bool_to_float=False, no_bool=False, result="of ``x``'s dtype"):
    def fn(x, axis=None, keepdims=False):
        if bool_to_float and dtype_of(x) == "bool":
            x = cast(x, floatx())
        if no_bool and dtype_of(x) == "bool":
            raise DTypeError(f"{name}: cannot reduce a bool tensor (tf_keras has no bool "
                             f"kernel for it); received dtype bool, expected a numeric "
                             f"dtype. Cast first: K.{name}(K.cast(x, 'int32'))")
        return call(name, x, axis=axes(x, axis, name), keepdims=bool(keepdims))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{what} of the values in a tensor, alongside the specified axis.\n\n"
        "Args:\n    x: a tensor.\n"
        "    axis: an int or a list/tuple of ints (negative counts from the end);\n"
        "        ``None`` reduces over all axes.\n"
        "    keepdims: keep each reduced axis with size 1 (default: drop it).\n\n"
        f"Returns:\n    A tensor {result} with the reduced axes dropped (or of size 1).\n"
        "\nRaises:\n    ValueError: if an axis is out of range.\n")
    return fn


sum = _reduction("sum", "Sum", no_bool=True)  # noqa: A001
prod = _reduction("prod", "Product", no_bool=True)
max = _reduction("max", "Maximum (NaN wins)")  # noqa: A001
min = _reduction("min", "Minimum (NaN wins)")  # noqa: A001
mean = _reduction("mean", "Mean", bool_to_float=True,
                  result="of ``x``'s dtype (bool: floatx; integers truncate, as TensorFlow)")
any = _reduction("any", "Logical or", result="of dtype bool")  # noqa: A001
all = _reduction("all", "Logical and", result="of dtype bool")  # noqa: A001


@reads_variables
def var(x, axis=None, keepdims=False):
    """Variance of a tensor, alongside the specified axis.

    The population variance (divided by ``n``), as ``tf.math.reduce_variance``.

    Args:
        x: a floating-point tensor (bool is cast to floatx).
        axis: an int, a list/tuple of ints, or ``None`` (all axes).
        keepdims: keep the reduced axes with size 1.

    Returns:
        A tensor of ``x``'s dtype.
    """
    if dtype_of(x) == "bool":
        x = cast(x, floatx())
    elif not is_float(dtype_of(x)):
        raise DTypeError(f"var: expected a floating-point tensor, received dtype "
                         f"{dtype_of(x)} (cast it first with K.cast(x, 'float32'))")
    m = mean(x, axis=axis, keepdims=True)
    return mean(square(x - m), axis=axis, keepdims=keepdims)


@reads_variables
def std(x, axis=None, keepdims=False):
    """Standard deviation of a tensor, alongside the specified axis.

    Args:
        x: a floating-point tensor (bool is cast to floatx).
        axis: an int, a list/tuple of ints, or ``None`` (all axes).
        keepdims: keep the reduced axes with size 1.

    Returns:
        ``sqrt(var(x, axis, keepdims))``.
    """
    return call("sqrt", var(x, axis=axis, keepdims=keepdims))


@reads_variables
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))`` computed stably (tf_keras 1.x had it; 2.x does not).

    Args:
        x: a floating-point tensor.
        axis: an int, a list/tuple of ints, or ``None`` (all axes).
        keepdims: keep the reduced axes with size 1.

    Returns:
        A tensor of ``x``'s dtype.
    """
    m = max(x, axis=axis, keepdims=True)
    # shift by the max where it is finite (inf and NaN rows are left unshifted)
    finite = call("where", call("less", abs(m), np.inf), m, call("zeros_like", m))
    out = log(sum(exp(x - finite), axis=axis, keepdims=True)) + finite
    if not keepdims:
        out = _squeeze_all(out, axes(x, axis, "logsumexp"), ndim_of(x))
    return out


def _squeeze_all(x, ax, ndim):
    ax = tuple(range(ndim)) if ax is None else ax
    for a in sorted(ax, reverse=True):
        x = call("squeeze", x, axis=a)
    return x


def argmax(x, axis=-1):
    """Index of the maximum value along an axis (the first one on ties).

    As TensorFlow, NaN is skipped (``argmax([1, nan, 3]) == 2``) and a row
    with nothing above the dtype's lowest value (all NaN or -inf) gives 0.

    Args:
        x: a tensor.
        axis: the axis to search (default: the last).

    Returns:
        An int64 tensor with ``axis`` dropped.
    """
    return call("argmax", x, axis=axis1(x, axis, "argmax"))


def argmin(x, axis=-1):
    """Index of the minimum value along an axis (the first one on ties).

    As TensorFlow, NaN is skipped and a row with nothing below the dtype's
    highest value (all NaN or +inf) gives 0.

    Args:
        x: a tensor.
        axis: the axis to search (default: the last).

    Returns:
        An int64 tensor with ``axis`` dropped.
    """
    return call("argmin", x, axis=axis1(x, axis, "argmin"))


@reads_variables
def cumsum(x, axis=0):
    """Cumulative sum of the values in a tensor along an axis.

    Args:
        x: a tensor.
        axis: the axis (default 0).

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("cumsum", x, axis=axis1(x, axis, "cumsum"))


@reads_variables
def cumprod(x, axis=0):
    """Cumulative product of the values in a tensor along an axis.

    Args:
        x: a tensor.
        axis: the axis (default 0).

    Returns:
        A tensor of ``x``'s shape and dtype.
    """
    return call("cumprod", x, axis=axis1(x, axis, "cumprod"))


@reads_variables
def dot(x, y):
    """Multiply two tensors (matrix product) as tf_keras.backend.dot.

    Contracts the last axis of ``x`` with the second-to-last axis of ``y``
    (its only axis when ``y`` is 1-D): for nD tensors the result has shape
    ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``, so ``(2, 3, 4) . (5, 4, 6)``
    is ``(2, 3, 5, 6)``.

    Args:
        x: a tensor of rank >= 1.
        y: a tensor of rank >= 1.

    Returns:
        The product.

    Raises:
        ValueError: if the contracted dimensions differ.
    """
    return call("dot", x, y)


@reads_variables
def batch_dot(x, y, axes=None):
    """Batchwise dot product: for each sample ``b``, contract ``x[b]`` with ``y[b]``.

    The result has shape ``(batch,) + x.shape[1:] without axes[0] + y.shape[1:]
    without axes[1]``; a rank-1 result becomes ``(batch, 1)``, as in tf_keras.

    Args:
        x: a tensor of rank >= 2 (axis 0 is the batch).
        y: a tensor of rank >= 2 with the same batch size.
        axes: an int (the same axis of both) or a pair ``(axis_x, axis_y)``;
            ``None`` contracts the last axis of ``x`` with the second-to-last
            of ``y`` (its last when ``y`` is 2-D). Negative axes count from the end.

    Returns:
        A tensor of rank ``ndim(x) + ndim(y) - 3`` (at least 2).

    Raises:
        ValueError: for a rank below 2, a contraction over axis 0, or
            mismatched batch or contracted sizes.
    """
    nx, ny = ndim_of(x), ndim_of(y)
    if nx < 2 or ny < 2:
        raise ValueError(f"batch_dot: cannot do batch_dot on inputs with rank < 2. Received "
                         f"inputs with shapes {shape_of(x)} and {shape_of(y)}.")
    if axes is None:
        axes = (nx - 1, ny - 2 if ny > 2 else ny - 1)
    elif isinstance(axes, int):
        axes = (axes, axes)
    if len(axes) != 2 or builtins.any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError("batch_dot: multiple target dimensions are not supported. Expected: "
                         f"None, int, (int, int). Received: axes={axes}")
    ax, ay = int(axes[0]), int(axes[1])
    ax, ay = ax % nx, ay % ny
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: cannot perform batch_dot over axis 0 (the batch axis); "
                         f"received axes={tuple(axes)}. If your inputs are not batched, add a "
                         "dummy batch dimension with K.expand_dims(x, 0)")
    return call("batch_dot", x, y, axes=(ax, ay))


@reads_variables
def transpose(x):
    """Transpose a tensor: reverse the order of all its axes.

    Args:
        x: a tensor.

    Returns:
        A tensor of shape ``x.shape[::-1]``.
    """
    return call("transpose", x, perm=tuple(reversed(range(ndim_of(x)))))


@reads_variables
def gather(reference, indices):
    """Retrieve the elements ``indices`` of ``reference`` along its first axis.

    Args:
        reference: a tensor of rank >= 1.
        indices: an integer tensor of indices, or a Python int or (nested)
            list of ints (taken as int32, as tf does).

    Returns:
        A tensor of shape ``indices.shape + reference.shape[1:]``.
    """
    if isinstance(indices, (int, np.integer, list, tuple)) and not isinstance(indices, bool):
        as_array = np.asarray(indices)
        if as_array.dtype.kind in "iu" or as_array.size == 0:
            indices = as_array.astype(np.int32)
    return call("gather", reference, indices)


@reads_variables
def switch(condition, then_expression, else_expression):
    """Switch between two operations depending on a condition (tf_keras semantics).

    A scalar condition picks one branch as a whole: a Python or numpy scalar
    picks it at once (callables are called), a symbolic scalar selects at run
    time. A condition of rank 1 is broadcast numpy-style against the branches
    (so it lines up with their *last* axis, as ``tf.where`` does); a
    condition of rank >= 2 is aligned with their *leading* axes (trailing
    size-1 axes are added), as tf_keras reshapes it.

    Args:
        condition: a boolean (or numeric, read as boolean) tensor or scalar.
        then_expression: a tensor, or a callable returning one.
        else_expression: a tensor, or a callable returning one.

    Returns:
        The selected tensor.

    Raises:
        ValueError: if the condition's rank exceeds the branches' rank, or
            the shapes cannot be broadcast.
    """
    if not ir.is_symbolic(condition) and np.ndim(condition) == 0:
        chosen = then_expression if bool(np.asarray(ir.build.to_array(condition))) \
            else else_expression
        chosen = chosen() if callable(chosen) else chosen
        return chosen if ir.is_symbolic(chosen) else np.array(ir.build.to_array(chosen))
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    cond_ndim, expr_ndim = ndim_of(condition), ndim_of(then_expression)
    if cond_ndim > expr_ndim:
        raise ValueError(
            "switch: rank of `condition` should be less than or equal to rank of "
            f"`then_expression` and `else_expression`. ndim(condition)={cond_ndim}, "
            f"ndim(then_expression)={expr_ndim}")
    if cond_ndim > 1:
        for _ in range(expr_ndim - cond_ndim):
            condition = call("expand_dims", condition, axis=ndim_of(condition))
    return call("where", condition, then_expression, else_expression)
