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
on the opposite assumption. When sizes cannot go together at all
(``x * ones((2, 4))`` fed 3 rows, a step taken from zero time steps), the
call raises a ``ShapeError`` naming the op and the shapes. Every other call
costs one dictionary lookup.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, TensorType, get_op
from ..ir.errors import ShapeError

_MAX_REMEMBERED = 256


class ShapeGuard:
    """Remembers, per tuple of input shapes, whether the kernel fits them."""

    def __init__(self, graph):
        self._graph = graph
        self._static = [t.shape for t in graph.inputs]
        self._seen: dict = {}

    def fits(self, arrays) -> bool:
        """Whether the kernel may run ``arrays``.

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
                verdict = (_unknown_sizes_agree(self._static, key)
                           and _kernel_fits(self._graph, key))
            except ShapeError as exc:
                verdict = exc
            self._seen[key] = verdict
        if isinstance(verdict, ShapeError):
            raise ShapeError(f"{self._graph.name}: inputs of shapes {list(key)} do not fit "
                             f"the graph: {verdict}")
        return verdict


def _unknown_sizes_agree(static_shapes, shapes) -> bool:
    """Whether every axis that is unknown in several inputs has one size."""
    sizes: dict = {}
    for static, shape in zip(static_shapes, shapes):
        for axis, (want, got) in enumerate(zip(static, shape)):
            if want is None:
                sizes.setdefault(axis, set()).add(got)
    return all(len(s) == 1 for s in sizes.values())


def _kernel_fits(graph, shapes) -> bool:
    """Whether the graph's top level, run on inputs of ``shapes``, keeps to the
    kernel's assumptions (see the module docstring). Sizes the walk cannot
    know (the results of loops and other nodes with bodies) count as
    fitting."""
    concrete = dict(zip(graph.inputs, shapes))
    for node in graph.nodes:
        if not node.inputs:  # inputs, weights, constants: their own shapes
            continue
        in_shapes = [concrete.get(t, t.type.shape) for t in node.inputs]
        known = all(d is not None for shape in in_shapes for d in shape)
        opdef = get_op(node.op)
        broadcasts = opdef.kind == "elementwise" and len(node.outputs) == 1
        has_body = any(isinstance(v, Graph) for v in node.attrs.values())
        if not known or (has_body and not broadcasts):  # a loop: its result sizes unknown here
            outs = [t.type.shape for t in node.outputs]
        elif broadcasts:
            try:
                out = tuple(np.broadcast_shapes(*in_shapes))
            except ValueError:
                raise ShapeError(f"{node.op}: operand shapes "
                                 f"{' and '.join(str(tuple(s)) for s in in_shapes)} cannot be "
                                 "broadcast together") from None
            if not _same_unknown_sizes(node.inputs, in_shapes, out):
                return False
            outs = [out]
        else:
            types = [TensorType(s, t.type.dtype) for s, t in zip(in_shapes, node.inputs)]
            outs = [t.shape for t in opdef.infer(types, node.attrs)]
        for t, out in zip(node.outputs, outs):
            if len(out) != len(t.type.shape) or any(
                    want is not None and got is not None and want != got
                    for want, got in zip(t.type.shape, out)):
                return False
            concrete[t] = out
    return True


def _same_unknown_sizes(operands, in_shapes, out_shape) -> bool:
    """No operand broadcasts on an axis whose size is unknown to the kernel."""
    for t, concrete in zip(operands, in_shapes):
        for want, got, out in zip(reversed(t.type.shape), reversed(concrete),
                                  reversed(out_shape)):
            if want is None and got != out:
                return False
    return True
