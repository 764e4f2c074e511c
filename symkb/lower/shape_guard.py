"""Run-time shape checks for compiled code.

A compiled kernel is generated for the graph's static types: where operands
have unknown (``None``) dimensions, it assumes that the unknown sizes agree
when it runs (the same batch size for every input, a slice ``x[0:1]`` of an
unknown axis as long as the axis it meets, say). numpy, and so the
interpreter, would broadcast a size-1 operand against a larger one there, or
reject sizes that do not fit.

:class:`ShapeGuard` checks each new combination of input shapes once and
remembers the answer. It walks the graph's top level with the concrete
shapes (each op's own shape rule). When an op would broadcast a run-time
size 1 against a larger size on an axis the kernel takes as equal, the call
runs on the interpreter (the same values as numpy), never on a kernel built
on the opposite assumption, and says so once per tuple of input shapes with
a :class:`~symkb.lower.errors.FallbackWarning` naming the graph, the shapes
and the op. When sizes cannot go together at all
(``x * ones((2, 4))`` fed 3 rows, a step taken from zero time steps), the
call raises a ``ShapeError`` naming the op and the shapes. Every other call
costs one dictionary lookup.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..ir import Graph, TensorType, get_op
from ..ir.errors import ShapeError
from .errors import FallbackWarning

_MAX_REMEMBERED = 256


class ShapeGuard:
    """Remembers, per tuple of input shapes, whether the kernel fits them."""

    def __init__(self, graph, *, name: str | None = None, target: str = "cpu"):
        self._graph = graph
        self._name = name or graph.name
        self._target = target
        self._static = [t.shape for t in graph.inputs]
        self._seen: dict = {}

    def fits(self, arrays) -> bool:
        """Whether the kernel may run ``arrays``.

        Warns:
            FallbackWarning: the first time a tuple of input shapes does not
                fit (those calls run on the interpreter).

        Raises:
            ShapeError: an op's shape rule rejects the run-time sizes (the
                message names the op and the shapes); remembered too.
        """
        key = tuple(a.shape for a in arrays)
        verdict = self._seen.get(key)
        if verdict is None:
            if len(self._seen) >= _MAX_REMEMBERED:
                self._seen.clear()
            try:
                # the walk first: sizes that cannot go together raise, whatever else
                misfit = (_kernel_misfit(self._graph, key)
                          or _unknown_sizes_differ(self._static, key))
                verdict = misfit is None
            except ShapeError as exc:
                verdict = exc
            self._seen[key] = verdict
            if verdict is False:
                # stack: here, the executable's _run_wide, _run, __call__, the caller
                warnings.warn(
                    f"symkb: the {self._target} target failed on graph {self._name!r} for "
                    f"inputs of shapes {list(key)}: its kernel takes unknown sizes as equal, "
                    f"but {misfit}; calls with these shapes run on the interpreter instead",
                    FallbackWarning, stacklevel=5)
        if isinstance(verdict, ShapeError):
            raise ShapeError(f"{self._graph.name}: inputs of shapes {list(key)} do not fit "
                             f"the graph: {verdict}")
        return verdict


def _unknown_sizes_differ(static_shapes, shapes) -> str | None:
    """Why the inputs disagree on an axis unknown in several of them, if they do."""
    sizes: dict = {}
    for static, shape in zip(static_shapes, shapes):
        for axis, (want, got) in enumerate(zip(static, shape)):
            if want is None:
                sizes.setdefault(axis, set()).add(got)
    for axis, seen in sizes.items():
        if len(seen) > 1:
            return f"the inputs have sizes {sorted(seen)} on their unknown axis {axis}"
    return None


def _kernel_misfit(graph, shapes) -> str | None:
    """Why the graph's top level, run on inputs of ``shapes``, breaks the
    kernel's assumptions (see the module docstring); ``None`` when it keeps
    to them. A node whose body takes its operands as they are (a fused
    elementwise chain) is walked inside; sizes the walk cannot know (the
    results of loops and other nodes with bodies) count as fitting."""
    return _walk(graph, shapes)[0]


def _walk(graph, shapes):
    """``(misfit or None, {tensor: concrete shape})`` of ``graph`` run on ``shapes``."""
    concrete = dict(zip(graph.inputs, shapes))
    for node in graph.nodes:
        if not node.inputs:  # inputs, weights, constants: their own shapes
            continue
        in_shapes = [concrete.get(t, t.type.shape) for t in node.inputs]
        known = all(d is not None for shape in in_shapes for d in shape)
        opdef = get_op(node.op)
        broadcasts = opdef.kind == "elementwise" and len(node.outputs) == 1
        has_body = any(isinstance(v, Graph) for v in node.attrs.values())
        body = _operand_body(node, Graph) if has_body and not broadcasts else None
        if not known or (has_body and not broadcasts and body is None):
            outs = [t.type.shape for t in node.outputs]  # a loop: result sizes unknown here
        elif body is not None:
            misfit, inner = _walk(body, in_shapes)
            if misfit is not None:
                return f"{misfit} (in the body of {node.op})", concrete
            outs = [inner.get(t, t.type.shape) for t in body.outputs]
        elif broadcasts:
            try:
                out = tuple(np.broadcast_shapes(*in_shapes))
            except ValueError:
                raise ShapeError(f"{node.op}: operand shapes "
                                 f"{' and '.join(str(tuple(s)) for s in in_shapes)} cannot be "
                                 "broadcast together") from None
            if not _same_unknown_sizes(node.inputs, in_shapes, out):
                return (f"{node.op} broadcasts operands of shapes "
                        f"{' and '.join(str(tuple(s)) for s in in_shapes)} on an unknown "
                        "axis"), concrete
            outs = [out]
        else:
            types = [TensorType(s, t.type.dtype) for s, t in zip(in_shapes, node.inputs)]
            outs = [t.shape for t in opdef.infer(types, node.attrs)]
        for t, out in zip(node.outputs, outs):
            if len(out) != len(t.type.shape) or any(
                    want is not None and got is not None and want != got
                    for want, got in zip(t.type.shape, out)):
                return (f"{node.op} gives a result of shape {tuple(out)} where the kernel "
                        f"expects {tuple(t.type.shape)}"), concrete
            concrete[t] = out
    return None, concrete


def _operand_body(node, graph_type):
    """The body of ``node`` that takes its operands as they are (same count and
    types, one result per result), or ``None``."""
    for value in node.attrs.values():
        if (isinstance(value, graph_type) and len(value.inputs) == len(node.inputs)
                and len(value.outputs) == len(node.outputs)
                and all(b.type == t.type for b, t in zip(value.inputs, node.inputs))):
            return value
    return None


def _same_unknown_sizes(operands, in_shapes, out_shape) -> bool:
    """No operand broadcasts on an axis whose size is unknown to the kernel."""
    for t, concrete in zip(operands, in_shapes):
        for want, got, out in zip(reversed(t.type.shape), reversed(concrete),
                                  reversed(out_shape)):
            if want is None and got != out:
                return False
    return True
