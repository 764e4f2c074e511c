"""Python arithmetic on a functional model's tensors, as tf_keras's
``TFOpLambda`` layers.

In tf_keras, ``d + x``, ``a * 0.5``, ``2.0 - b``, ``-c`` or ``n / m`` on the
symbolic tensors of a functional model each become a ``TFOpLambda`` layer
named after the TensorFlow function it calls (``tf.__operators__.add``,
``tf.math.multiply``, ...), which the model's config records with the other
operand as the keyword ``y`` (a tensor reference or a constant) and a constant
first operand as ``["_CONSTANT_VALUE", -1, value, {...}]``.

symkb's operators build graph nodes directly; when a ``Model`` is made,
:func:`wrap_operator_tensors` gives each ``add``, ``subtract``, ``multiply``,
``divide`` or ``negative`` node between the model's layers such a layer (in
the order the nodes were made, so the names follow tf_keras's), so the
model's layers, summary, config, saved files and clones hold them as
tf_keras's do; and a tf_keras config with these layers loads. Other backend
functions at the top level of a functional model are refused by ``Model``
(wrap them in a ``Lambda`` layer).
"""
from __future__ import annotations

import operator

import numpy as np

from ..backend.nest import flatten
from ..backend.session import unique_object_name
from ..ir import KerasTensor, Variable
from .base import CallRecord, Layer, history, set_history

CONSTANT = "_CONSTANT_VALUE"  # a constant operand's node entry in a tf_keras config

# the graph op -> tf_keras's function name
OPS = {"add": "__operators__.add", "subtract": "math.subtract",
       "multiply": "math.multiply", "divide": "math.truediv", "negative": "math.negative"}

# tf_keras's function names -> (operands, computation)
FUNCTIONS = {
    "__operators__.add": (2, operator.add), "math.add": (2, operator.add),
    "math.subtract": (2, operator.sub), "math.multiply": (2, operator.mul),
    "math.truediv": (2, operator.truediv), "math.divide": (2, operator.truediv),
    "math.negative": (1, operator.neg),
}


def _tensor(value) -> bool:
    return isinstance(value, (KerasTensor, Variable))


def _constant(value, what: str):
    """An operand that is not a tensor, as a config keeps it: a float, or
    nested lists for an array."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"TFOpLambda: the operand {what} must be a number or an array of "
                         f"numbers; received {value!r}")
    return array.item() if array.ndim == 0 else array.tolist()


class TFOpLambda(Layer):
    """One call of a TensorFlow arithmetic function in a functional model
    (see the module docstring): ``layer(x, y=None, name=None)``."""

    def __init__(self, function, name=None, **kwargs):
        if function not in FUNCTIONS:
            raise ValueError(f"TFOpLambda: the function {function!r} is not supported; symkb "
                             f"takes {sorted(FUNCTIONS)}")
        super().__init__(name=name or unique_object_name(f"tf.{function}"), **kwargs)
        self.function = function
        self._operands, self._fn = FUNCTIONS[function]

    def __call__(self, *args, name=None, **kwargs):
        """``layer(x, y)`` as tf_keras calls it (``x`` may be a constant when ``y``
        is a tensor), or a recorded call replayed: ``layer([x, y])``,
        ``layer(x, y=constant)``, ``layer(y, x=constant)``."""
        if len(args) > 2:
            raise TypeError(f"TFOpLambda {self.name!r}: at most two operands; received "
                            f"{len(args)}")
        x = args[0] if args else kwargs.pop("x", None)
        y = args[1] if len(args) > 1 else kwargs.pop("y", None)
        if args and "x" in kwargs:  # a replayed call: the tensor came first
            x, y = kwargs.pop("x"), x
        if self._operands == 1:
            return super().__call__(x, **kwargs)
        if y is None and isinstance(x, (list, tuple)) and len(x) == 2:
            x, y = x
        if y is None:
            raise ValueError(f"TFOpLambda {self.name!r}: {self.function} takes two operands, "
                             "x and y; received y=None")
        if _tensor(x) and _tensor(y):
            return super().__call__([x, y], **kwargs)
        if _tensor(x) or isinstance(x, np.ndarray):  # an array x: an eager call
            return super().__call__(x, y=_constant(y, "y"), **kwargs)
        if _tensor(y):
            return super().__call__(y, x=_constant(x, "x"), **kwargs)
        raise ValueError(f"TFOpLambda {self.name!r}: one operand of {self.function} must be a "
                         f"tensor; received x={x!r}, y={y!r}")

    def call(self, inputs, x=None, y=None):
        if self._operands == 1:
            return self._fn(inputs)
        if isinstance(inputs, (list, tuple)):
            return self._fn(inputs[0], inputs[1])
        if x is not None:
            return self._fn(np.asarray(x, self.dtype), inputs)
        return self._fn(inputs, np.asarray(y, self.dtype))

    def get_config(self):
        config = super().get_config()
        config["function"] = self.function
        return config

    def _config_inbound(self, inputs, kwargs, ref) -> list:
        """tf_keras's inbound node of a call: the first operand (a reference, or
        the constant's entry) and ``{"y": ..., "name": None}``."""
        if self._operands == 1:
            return ref(inputs) + [{"name": None}]
        if isinstance(inputs, (list, tuple)):
            return ref(inputs[0]) + [{"y": ref(inputs[1]), "name": None}]
        if kwargs.get("x") is not None:
            return [CONSTANT, -1, kwargs["x"], {"y": ref(inputs), "name": None}]
        return ref(inputs) + [{"y": kwargs["y"], "name": None}]

    def _replayed_call_kwargs(self, recorded) -> dict:
        if isinstance(recorded, dict) and recorded.get("y") is not None:
            return {"y": recorded["y"]}
        return {}


def _operand(t):
    """A node input as an operand: the tensor, or a constant's value; None for
    what a TFOpLambda cannot hold (a Variable read)."""
    node = t.node
    if node.op == "const":
        return ("const", _constant(node.attrs["value"], "y"))
    if node.op == "param":
        return None
    return ("tensor", t)


def wrap_operator_tensors(inputs, outputs) -> None:
    """Give every arithmetic tensor between ``inputs`` and the model's layers
    that no layer made a ``TFOpLambda`` call record (module docstring), in the
    order the nodes were made."""
    stop = set(inputs)
    order, seen = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if t in seen or t in stop:
            continue
        seen.add(t)
        record = history(t)
        if record is not None:  # a layer's output: on through the layer's inputs
            for src in reversed(flatten(record.inputs)):
                if isinstance(src, KerasTensor):
                    stack.append((src, False))
            continue
        if t.node.op not in OPS:
            continue
        stack.append((t, True))
        for src in reversed(t.node.inputs):
            if isinstance(src, KerasTensor):
                stack.append((src, False))
    for t in order:
        operands = [_operand(s) for s in t.node.inputs]
        if any(o is None for o in operands):
            continue  # Model refuses it, naming the tensor
        layer = TFOpLambda(OPS[t.node.op])
        kinds = [k for k, _ in operands]
        if len(operands) == 1 or kinds == ["tensor", "tensor"]:
            call_inputs = operands[0][1] if len(operands) == 1 else [o[1] for o in operands]
            kwargs = {}
        elif kinds == ["tensor", "const"]:
            call_inputs, kwargs = operands[0][1], {"y": operands[1][1]}
        elif kinds == ["const", "tensor"]:
            call_inputs, kwargs = operands[1][1], {"x": operands[0][1]}
        else:
            continue
        layer.built = True
        set_history(t, CallRecord(layer, call_inputs, kwargs, 0, tuple(t.shape)))
        layer._inbound.append((call_inputs, t))
