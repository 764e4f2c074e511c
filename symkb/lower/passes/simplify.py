"""Pass ``simplify``: algebraic identities.

Assumes: a valid graph (constants folded first finds more). Guarantees: these
nodes are replaced by their operand when the result type equals the
operand's type (so no broadcast or promotion is lost):

* ``x * 1``, ``1 * x``, ``x / 1``, ``x + 0``, ``0 + x``, ``x - 0`` (a ``const``
  filled with ones or zeros; ``-0.0 + 0`` gives ``+0.0`` where the rewrite
  keeps ``-0.0``: equal values, the only difference);
* ``identity``; ``cast`` to the operand's own dtype; ``reshape`` to the operand's own
  static shape;
* ``transpose(transpose(x))``: one transpose with the composed permutation,
  or ``x`` when that is the identity;
* a sum of zero paddings that tile one axis, ``pad(a, (0, m+n)) + pad(b,
  (m, n)) + pad(c, (m+n, 0))`` (the gradient of slicing a tensor into
  parts: an LSTM's four gates), is ``concatenate(a, b, c)``: each part is
  written once instead of padded with zeros and summed;
* a fill tiled along axes of size one, ``tile(zeros_like(y), reps)`` (a
  recurrent layer's zero states: ``y`` is its input's ``(batch, 1)`` column),
  is the fill of ``y`` broadcast by a constant, ``zeros_like(y + zeros(r))``
  (and so for ``ones_like``), for a float ``y``: one elementwise loop nest
  where the fill and the tile made two (about 0.04 s of a cold compile each).

The identities come from the ops' traits (``symkb.ir.registry``): an op with
a ``right_identity`` drops ``x op unit`` (and ``unit op x`` when it is
``commutative``), and one with ``noop_same_type`` is its operand when the
types agree (``'static'``: only for a fully known shape).

Bodies are simplified too.
"""
from __future__ import annotations

import numpy as np

from ...ir import Graph, Node, TensorType, get_op
from .info import declare_pass
from .rewrite import map_bodies, rewrite


@declare_pass(requires={"types"})
def simplify(graph: Graph) -> Graph:
    """Apply the algebraic identities (see the module docstring)."""
    graph = map_bodies(graph, simplify)
    return rewrite(graph, simplify_node)


def _const_all(t, value) -> bool:
    if t.node.op != "const":
        return False
    array = t.node.attrs["value"]
    return array.size > 0 and bool(np.all(array == value))


def simplify_node(node: Node):
    """Rule: the simplified value of ``node``, or ``None``."""
    out = node.out_types[0] if len(node.out_types) == 1 else None
    opdef = get_op(node.op)
    x = None
    if opdef.right_identity is not None and len(node.inputs) == 2:
        a, b = node.inputs
        if _const_all(b, opdef.right_identity):
            x = a
        elif opdef.commutative and _const_all(a, opdef.right_identity):
            x = b
    elif opdef.noop_same_type is not None:
        static = opdef.noop_same_type == "always" or node.inputs[0].type.is_static
        x = node.inputs[0] if static else None
    elif node.op == "transpose" and node.inputs[0].node.op == "transpose":
        inner = node.inputs[0].node
        perm = tuple(inner.attrs["perm"][p] for p in node.attrs["perm"])
        source = inner.inputs[0]
        if perm == tuple(range(len(perm))):
            x = source
        else:
            attrs = dict(node.attrs, perm=perm)
            types = get_op("transpose").infer([source.type], attrs)
            return Node("transpose", (source,), attrs, types, node.name, node.layer).outputs
    if x is not None and out is not None and x.type == out:
        return (x,)
    if node.op == "add" and out is not None:
        return _joined_pads(node, out)
    if node.op == "tile" and out is not None:
        return _tiled_fill(node, out)
    return None


_FILLS = ("zeros_like", "ones_like")  # ops whose values do not depend on the operand's


def _tiled_fill(node: Node, out):
    """``tile(fill(y), reps)`` as ``fill(y + zeros)`` (module docstring), or ``None``."""
    fill = node.inputs[0].node
    if fill.op not in _FILLS or len(node.inputs[0].node.outputs) != 1:
        return None
    (y,) = fill.inputs
    reps = node.attrs["reps"]
    if not y.dtype.startswith("float") or len(reps) != y.ndim or any(
            r != 1 and d != 1 for r, d in zip(reps, y.shape)):
        return None
    zeros = np.zeros(tuple(reps), dtype=y.dtype)
    zeros.flags.writeable = False
    c = Node("const", (), {"value": zeros}, (TensorType.of(zeros),)).outputs[0]
    wide = Node("add", (y, c), {}, tuple(get_op("add").infer([y.type, c.type], {})),
                node.name, node.layer).outputs[0]
    types = tuple(get_op(fill.op).infer([wide.type], fill.attrs))
    if types[0] != out:
        return None
    return Node(fill.op, (wide,), fill.attrs, types, node.name, node.layer).outputs


def _pad_leaves(t, out, leaves) -> bool:
    """Collect the ``pad`` results summed into ``t`` by ``add`` nodes of type ``out``."""
    if t.type != out:
        return False
    if t.node.op == "pad":
        leaves.append(t)
        return True
    return t.node.op == "add" and all(_pad_leaves(x, out, leaves) for x in t.node.inputs)


def _joined_pads(node: Node, out):
    """``concatenate`` of the parts when ``node`` sums zero paddings that tile
    one axis of ``out`` (module docstring), else ``None``."""
    leaves: list = []
    if len(node.inputs) != 2 or not all(_pad_leaves(x, out, leaves) for x in node.inputs):
        return None
    axes = {k for t in leaves for k, p in enumerate(t.node.attrs["pads"]) if tuple(p) != (0, 0)}
    if len(axes) != 1 or len(set(map(id, leaves))) != len(leaves):
        return None
    (axis,) = axes
    parts = sorted(((t.node.attrs["pads"][axis][0], t.node.inputs[0]) for t in leaves),
                   key=lambda p: p[0])
    at = 0
    for before, x in parts:
        if before != at or x.shape[axis] is None:
            return None
        at += x.shape[axis]
    if at != out.shape[axis]:
        return None
    inputs = tuple(x for _, x in parts)
    attrs = {"axis": axis}
    types = get_op("concatenate").infer([x.type for x in inputs], attrs)
    if types[0] != out:
        return None
    return Node("concatenate", inputs, attrs, types, node.name, node.layer).outputs
