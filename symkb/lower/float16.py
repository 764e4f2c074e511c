"""float16 graphs on targets without float16 arithmetic: widen, compute, round.

Numba's CPU target has no float16 type. :func:`widen_float16` rewrites a
graph that holds float16 values into one that computes in float32 and rounds
every float16 result to the nearest float16 value (``round_float16``), as
TensorFlow rounds the result of every float16 op (numpy's float16 ufuncs,
the interpreter's meaning, also compute in float32 and round once). Values
are float16 at every boundary: float16 inputs, Variables and constants widen
exactly, and the executable narrows the float16 results back, exactly, since
they already hold float16 values. Only the rounding of accumulations differs
from the interpreter's (a float32 sum in another order), well inside float16's
resolution.

Assumes a verified graph; guarantees a verified graph with no float16 type,
whose outputs are in the original order (the caller narrows those listed by
:func:`float16_outputs`).
"""
from __future__ import annotations

from ..ir import Graph, Node, get_op
from ..ir.types import TensorType

_F16, _F32 = "float16", "float32"


def has_float16(graph: Graph) -> bool:
    """Whether any value of ``graph`` (nested bodies included) is float16."""
    if any(t.dtype == _F16 for t in graph.inputs):
        return True
    return any(t.dtype == _F16 for _, node in graph.walk() for t in node.out_types)


def float16_outputs(graph: Graph) -> list:
    """For each output of ``graph``: whether it is float16."""
    return [t.dtype == _F16 for t in graph.outputs]


def widen_float16(graph: Graph) -> Graph:
    """``graph`` computed in float32, rounding each float16 result (module docstring)."""
    env = {}
    inputs = []
    for t in graph.inputs:
        if t.dtype == _F16:
            new = Node("input", (), {}, (_wide(t.type),), name=t.node.name).outputs[0]
        else:
            new = t
        env[t] = new
        inputs.append(new)
    for node in graph.nodes:
        if all(t in env for t in node.outputs):
            continue
        new = _widen_node(node, [env[t] for t in node.inputs])
        for old, result in zip(node.outputs, new):
            env[old] = result
    return Graph(inputs, [env[t] for t in graph.outputs], name=graph.name)


def _wide(t: TensorType) -> TensorType:
    return TensorType(t.shape, _F32) if t.dtype == _F16 else t


def _widen_node(node: Node, inputs: list) -> list:
    narrow = [t.dtype == _F16 for t in node.out_types]
    changed = any(a is not b for a, b in zip(inputs, node.inputs))
    if not any(narrow) and not changed and not node.bodies():
        return list(node.outputs)
    attrs = {key: _widen_attr(key, value) for key, value in node.attrs.items()}
    if node.op == "const" and node.attrs["value"].dtype.name == _F16:
        value = node.attrs["value"].astype("float32")
        value.flags.writeable = False
        attrs["value"] = value
    if node.op == "param" and node.out_types[0].dtype == _F16:
        # the Variable stays float16; the executable widens its value at call
        # time, and the attribute tells the verifier the declared float32 is meant
        attrs["widened"] = True
    opdef = get_op(node.op)
    if opdef.kind == "source":
        types = [_wide(t) for t in node.out_types]  # a param's Variable widens at call time
    else:
        types = opdef.infer([t.type for t in inputs], attrs)
    new = Node(node.op, tuple(inputs), attrs, types, node.name, node.layer)
    if opdef.kind in ("shape", "source", "control") or node.op == "identity":
        return list(new.outputs)  # moves float16 values, or rounds inside its body
    return [Node("round_float16", (t,), {}, (t.type,), layer=node.layer).outputs[0]
            if was16 else t for t, was16 in zip(new.outputs, narrow)]


def _widen_attr(key, value):
    if isinstance(value, Graph):
        return widen_float16(value)
    if key == "dtype" and value == _F16:
        return _F32
    return value
