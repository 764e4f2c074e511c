"""Arithmetic, comparisons, reductions and matrix products (tf_keras names).

Each function accepts numpy arrays, Python numbers, Variables and
KerasTensors; with a KerasTensor operand it records a node, otherwise it
computes at once with numpy (see :func:`symkb.ir.call`).
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..ir.errors import DTypeError
from ._util import axes, axis1, dtype_of, ndim_of
from .config import floatx

call = ir.call


def _unary_doc(name, what):
    def fn(x):
        return call(name, x)
    fn.__name__ = name
    fn.__doc__ = f"{what}, elementwise."
    return fn


abs = _unary_doc("abs", "Absolute value")  # noqa: A001
square = _unary_doc("square", "x ** 2")
exp = _unary_doc("exp", "e ** x")
log = _unary_doc("log", "Natural logarithm")
sign = _unary_doc("sign", "-1, 0 or 1 by the sign of x")
round = _unary_doc("round", "Round half to even")  # noqa: A001
sin = _unary_doc("sin", "Sine")
cos = _unary_doc("cos", "Cosine")
negative = _unary_doc("negative", "-x")


def sqrt(x):
    """Square root; negative inputs are clipped to 0 first, as in tf_keras."""
    return call("sqrt", call("clip", x, min_value=0.0, max_value=float("inf")))


def pow(x, a):  # noqa: A001
    """``x ** a`` elementwise."""
    return call("pow", x, a)


def clip(x, min_value, max_value):
    """Clamp ``x`` into ``[min_value, max_value]`` (``None`` means unbounded)."""
    if min_value is None:
        min_value = -np.inf
    if max_value is None:
        max_value = np.inf
    if ir.is_symbolic(min_value) or ir.is_symbolic(max_value) or np.ndim(min_value) or \
            np.ndim(max_value):
        return call("minimum", call("maximum", x, min_value), max_value)
    if max_value < min_value:
        max_value = min_value
    return call("clip", x, min_value=float(min_value), max_value=float(max_value))


def _binary(name, doc):
    def fn(x, y):
        return call(name, x, y)
    fn.__name__ = name
    fn.__doc__ = doc
    return fn


maximum = _binary("maximum", "Elementwise maximum (NaN wins).")
minimum = _binary("minimum", "Elementwise minimum (NaN wins).")
equal = _binary("equal", "Elementwise ``x == y`` (bool).")
not_equal = _binary("not_equal", "Elementwise ``x != y`` (bool).")
greater = _binary("greater", "Elementwise ``x > y`` (bool).")
greater_equal = _binary("greater_equal", "Elementwise ``x >= y`` (bool).")
less = _binary("less", "Elementwise ``x < y`` (bool).")
less_equal = _binary("less_equal", "Elementwise ``x <= y`` (bool).")
add = _binary("add", "x + y.")
subtract = _binary("subtract", "x - y.")
multiply = _binary("multiply", "x * y.")
divide = _binary("divide", "x / y.")


def cast(x, dtype):
    """``x`` converted to ``dtype``."""
    return call("cast", x, dtype=ir.types.canonical_dtype(dtype))


def _reduction(name, doc, bool_to_float=False, no_bool=False):
    def fn(x, axis=None, keepdims=False):
        if bool_to_float and dtype_of(x) == "bool":
            x = cast(x, floatx())
        if no_bool and dtype_of(x) == "bool":
            raise DTypeError(f"{name}: cannot reduce a bool tensor (tf_keras has no bool "
                             f"kernel for it); received dtype bool, expected a numeric "
                             f"dtype. Cast first: K.{name}(K.cast(x, 'int32'))")
        return call(name, x, axis=axes(x, axis, name), keepdims=bool(keepdims))
    fn.__name__ = name
    fn.__doc__ = doc
    return fn


sum = _reduction("sum", "Sum over ``axis`` (all axes when None).", no_bool=True)  # noqa: A001
prod = _reduction("prod", "Product over ``axis``.", no_bool=True)
max = _reduction("max", "Maximum over ``axis``.")  # noqa: A001
min = _reduction("min", "Minimum over ``axis``.")  # noqa: A001
mean = _reduction("mean", "Mean over ``axis`` (booleans count as floats).", bool_to_float=True)
any = _reduction("any", "Logical or over ``axis`` (bool result).")  # noqa: A001
all = _reduction("all", "Logical and over ``axis`` (bool result).")  # noqa: A001


def var(x, axis=None, keepdims=False):
    """Variance over ``axis`` (population variance, as tf.math.reduce_variance)."""
    if dtype_of(x) == "bool":
        x = cast(x, floatx())
    m = mean(x, axis=axis, keepdims=True)
    return mean(square(x - m), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation over ``axis``."""
    return call("sqrt", var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, computed stably."""
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
    """Index of the maximum along ``axis`` (int64)."""
    return call("argmax", x, axis=axis1(x, axis, "argmax"))


def argmin(x, axis=-1):
    """Index of the minimum along ``axis`` (int64)."""
    return call("argmin", x, axis=axis1(x, axis, "argmin"))


def cumsum(x, axis=0):
    """Running sum along ``axis``."""
    return call("cumsum", x, axis=axis1(x, axis, "cumsum"))


def cumprod(x, axis=0):
    """Running product along ``axis``."""
    return call("cumprod", x, axis=axis1(x, axis, "cumprod"))


def dot(x, y):
    """Matrix product as tf_keras.backend.dot: contracts the last axis of ``x``
    with the second-to-last axis of ``y`` (for nD tensors the result has shape
    ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``)."""
    return call("dot", x, y)


def batch_dot(x, y, axes=None):
    """Batchwise dot product: for each sample ``b``, contract ``x[b]`` and
    ``y[b]`` over ``axes`` (an int or a pair). A 1-D result becomes (batch, 1)."""
    nx, ny = ndim_of(x), ndim_of(y)
    if nx < 2 or ny < 2:
        raise ValueError(f"batch_dot: cannot do batch_dot on inputs with rank < 2. Received "
                         f"inputs with shapes {ir_shape(x)} and {ir_shape(y)}.")
    if axes is None:
        axes = (nx - 1, ny - 2 if ny > 2 else ny - 1)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = int(axes[0]), int(axes[1])
    ax, ay = ax % nx, ay % ny
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: cannot contract the batch axis; received axes={axes}")
    return call("batch_dot", x, y, axes=(ax, ay))


def ir_shape(x):
    from ._util import shape_of
    return shape_of(x)


def transpose(x):
    """Reverse the order of all axes."""
    return call("transpose", x, perm=tuple(reversed(range(ndim_of(x)))))


def gather(reference, indices):
    """``reference[indices]`` along the first axis."""
    return call("gather", reference, indices)


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
        return chosen() if callable(chosen) else chosen
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
