"""The one place that chooses between eager and symbolic execution.

:func:`call` records a node when any operand is a :class:`KerasTensor` and
returns its result(s); otherwise it runs the op's numpy reference at once and
returns ``np.ndarray``. Python numbers and lists become tensors with a *weak*
dtype: they take the dtype of the tensor operands (``x + 1`` keeps ``x``'s
float32), else ``float32`` for floats and ``int32`` for ints, as TensorFlow
converts them. In an elementwise op with a KerasTensor or Variable operand,
numpy arrays and scalars are weak too (``x * np.ones(4)`` stays float32, as
TensorFlow converts the other operand of an operator to the tensor's dtype).

Inside :func:`autocast_variables` (a layer's call under a mixed precision
policy) floating-point Variables are read in the compute dtype, as tf_keras's
``AutoCastVariable`` reads them: a ``cast`` node after the ``param`` read, or
a cast copy of the value when computing eagerly.
"""
from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from .node import KerasTensor, Node
from .registry import get_op
from .types import TensorType, is_float, is_int
from .variable import Variable

_LAYER = contextvars.ContextVar("symkb_layer", default=None)
_AUTOCAST = contextvars.ContextVar("symkb_autocast", default=None)


@contextlib.contextmanager
def layer_scope(name: str | None):
    """Nodes built inside carry ``layer=name`` (shown in printed graphs)."""
    token = _LAYER.set(name)
    try:
        yield
    finally:
        _LAYER.reset(token)


def current_layer() -> str | None:
    return _LAYER.get()


@contextlib.contextmanager
def autocast_variables(dtype: str | None):
    """Floating-point Variables read inside are read as ``dtype`` (``None``: as stored)."""
    token = _AUTOCAST.set(dtype)
    try:
        yield
    finally:
        _AUTOCAST.reset(token)


def _read_dtype(variable: Variable) -> str:
    """The dtype ``variable`` is read as here (see :func:`autocast_variables`)."""
    target = _AUTOCAST.get()
    return target if target is not None and is_float(variable.dtype) else variable.dtype


def is_symbolic(value) -> bool:
    return isinstance(value, KerasTensor)


def _reference_dtype(args) -> str | None:
    """The dtype Python numbers adopt: the first tensor operand's, preferring a
    non-bool one (in ``where(mask, x, 0.5)`` the 0.5 takes ``x``'s dtype)."""
    found = None
    for a in args:
        if isinstance(a, Variable):
            dtype = _read_dtype(a)
        elif isinstance(a, KerasTensor):
            dtype = a.dtype
        elif isinstance(a, (np.ndarray, np.generic)):
            dtype = a.dtype.name
        else:
            continue
        if dtype != "bool":
            return dtype
        found = found or dtype
    return found


def to_array(value, ref_dtype: str | None = None) -> np.ndarray:
    """A concrete numpy value for ``value`` (weakly typed for Python data)."""
    if isinstance(value, Variable):
        dtype = _read_dtype(value)
        return value.value() if dtype == value.dtype else value.value().astype(dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value)
        # numpy's ufunc loops with a dtype argument take native byte order only
        return value if value.dtype.isnative else value.astype(value.dtype.newbyteorder("="))
    if isinstance(value, KerasTensor):
        value._no_value("Converting to an array")
    array = np.asarray(value) if value is not None else np.asarray(value, dtype=object)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot convert {value!r} (type {type(value).__name__}) to a tensor; "
                        "expected a numpy array, a number, a (nested) list of numbers, a "
                        "Variable or a KerasTensor")
    if array.dtype.kind == "f":
        dtype = ref_dtype if ref_dtype and is_float(ref_dtype) else "float32"
    elif array.dtype.kind in "iu":
        dtype = ref_dtype if ref_dtype and (is_float(ref_dtype) or is_int(ref_dtype)) else "int32"
    else:
        dtype = array.dtype.name
    return array.astype(dtype)


def const(value, dtype=None) -> KerasTensor:
    """A read-only constant node holding ``value`` (in native byte order)."""
    array = np.array(value, dtype=dtype)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    array.flags.writeable = False
    return Node("const", (), {"value": array}, (TensorType.of(array),)).outputs[0]


def as_tensor(value, ref_dtype: str | None = None) -> KerasTensor:
    """The KerasTensor standing for ``value`` inside a graph."""
    if isinstance(value, KerasTensor):
        return value
    if isinstance(value, Variable):
        dtype = _read_dtype(value)
        return value.tensor if dtype == value.dtype else call("cast", value.tensor, dtype=dtype)
    return const(to_array(value, ref_dtype))


def call(op: str, *args, **attrs):
    """Run or record ``op`` on ``args``; see the module docstring."""
    opdef = get_op(op)
    if opdef.kind == "elementwise" and any(isinstance(a, (KerasTensor, Variable)) for a in args):
        tensor_ref = _reference_dtype([a for a in args if isinstance(a, (KerasTensor, Variable))])
        args = tuple(_weak_numpy(a, tensor_ref) for a in args)
    ref = _reference_dtype(args)
    if any(isinstance(a, KerasTensor) for a in args):
        inputs = tuple(_operand(op, i, a, ref, as_tensor) for i, a in enumerate(args))
        out_types = opdef.infer([t.type for t in inputs], attrs)
        node = Node(op, inputs, attrs, out_types, layer=_LAYER.get())
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs
    arrays = [_operand(op, i, a, ref, to_array) for i, a in enumerate(args)]
    outs = opdef.run(arrays, attrs)
    return outs[0] if len(outs) == 1 else outs


def _weak_numpy(value, ref: str | None):
    """A numpy float or int operand in ``ref``'s dtype when that keeps its kind
    (float to float, int to int or float); anything else unchanged."""
    if not isinstance(value, (np.ndarray, np.generic)) or ref is None or value.dtype.name == ref:
        return value
    kind = value.dtype.kind
    if (kind == "f" and is_float(ref)) or (kind in "iu" and (is_float(ref) or is_int(ref))):
        return np.asarray(value).astype(ref)
    return value


def _operand(op, index, value, ref, convert):
    """``convert(value, ref)``; a failed conversion names the op and the operand."""
    if isinstance(value, (KerasTensor, Variable, np.ndarray)):
        return convert(value, ref)
    try:
        return convert(value, ref)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{op}: operand {index} is not a tensor: {exc}") from None


def placeholder_node(shape, dtype, name) -> KerasTensor:
    """A graph input: an ``input`` node named ``name``."""
    t = TensorType(shape, dtype)
    return Node("input", (), {}, (t,), name=name).outputs[0]
