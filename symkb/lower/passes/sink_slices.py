"""Pass ``sink_slices``: in loop bodies, column slices move above elementwise ops.

Assumes: a valid graph, unfused (run before ``licm``). Guarantees, in every
``scan`` (or ``loop``) body (nested ones included; the outer graph is left alone): a value
``v = op(a, b, ...)`` of an elementwise op whose only users are
``getitem[:, ..., lo:hi]`` slices of its last axis (disjoint in total: they
cover at most its width), and that depends on a state (a value that does not
stays whole, for ``licm`` to hoist), is replaced, for each slice, by ``op(a[..., lo:hi],
b[..., lo:hi], ...)`` (an operand broadcast along the last axis, or a scalar,
is not sliced). Repeated until nothing moves.

Why: the recurrent cell computes ``z = x_t @ W + h @ U + b`` for all gates at
once and then slices ``z`` per gate. With the slices sunk onto the products
and the bias, each gate's additions join its fused gate loop (which reads the
products' columns in place), and the product ``h @ U`` is computed straight
into a buffer; no separate pass over ``z`` per step. ``licm`` then hoists the
bias slices (invariant) and ``x_t @ W`` (one product for all steps) as
before. Every element is computed by the same operations in the same order:
results are unchanged, bit for bit.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from .info import declare_pass
from ...ir.ops.scan import is_loop_op
from .rewrite import consumers, replace_bodies, rewrite


@declare_pass(requires={"types", "unfused"})
def sink_slices(graph: Graph) -> Graph:
    """Sink last-axis slices through elementwise ops in loop bodies (see the module docstring)."""

    def rule(node):
        if not is_loop_op(node.op):
            return None
        body = sink_slices(node.attrs["body"])  # nested loops first
        a = node.attrs
        states = body.inputs[a["num_sequences"]:a["num_sequences"] + a["num_states"]]
        while True:
            new = _sink_once(body, body.downstream(states))
            if new is body:
                break
            body = new
        if body is node.attrs["body"]:
            return None
        return replace_bodies(node, {"body": body}).outputs

    return rewrite(graph, rule)


def _last_axis_slice(node: Node):
    """``(lo, hi)`` when ``node`` is ``getitem`` of a full-slice prefix and one
    step-1 slice of the last axis of a value of static width, else ``None``."""
    if node.op != "getitem":
        return None
    x = node.inputs[0]
    items = node.attrs["index"]
    width = x.shape[-1] if x.ndim else None
    if not isinstance(width, int) or len(items) != x.ndim:
        return None
    if any(it != ("slice", None, None, None) for it in items[:-1]):
        return None
    last = items[-1]
    if last[0] != "slice" or last[3] not in (None, 1):
        return None
    lo, hi, _ = slice(last[1], last[2]).indices(width)
    return (lo, hi) if hi > lo else None


def _sinkable(v, users, dependent) -> bool:
    node = v.node
    if v not in dependent:
        return False
    opdef = get_op(node.op)
    if opdef.kind != "elementwise" or not opdef.pure or len(node.outputs) != 1 or v.ndim == 0:
        return False
    uses = users.get(v, [])
    spans = [_last_axis_slice(u) if u is not None else None for u, _ in uses]
    if not uses or any(s is None for s in spans):
        return False
    return sum(hi - lo for lo, hi in spans) <= v.shape[-1]


def _slice_operand(x, index, layer):
    """``x`` sliced on its last axis like the result (right-aligned broadcasting)."""
    if x.ndim == 0 or x.shape[-1] == 1:
        return x
    items = (("slice", None, None, None),) * (x.ndim - 1) + (index[-1],)
    opdef = get_op("getitem")
    types = opdef.infer([x.type], {"index": items})
    return Node("getitem", (x,), {"index": items}, types, None, layer).outputs[0]


def _sink_once(graph: Graph, dependent: set) -> Graph:
    users = consumers(graph)
    env = {t: t for t in graph.inputs}
    changed = False
    for node in graph.nodes:
        ins = tuple(env.get(t, t) for t in node.inputs)
        new = node if ins == node.inputs else node.with_inputs(ins)
        if _last_axis_slice(node) is not None and node.inputs[0] not in graph.inputs \
                and _sinkable(node.inputs[0], users, dependent):
            op = new.inputs[0].node
            index = node.attrs["index"]
            operands = [_slice_operand(x, index, node.layer)
                        for x in op.inputs]
            opdef = get_op(op.op)
            types = opdef.infer([t.type for t in operands], op.attrs)
            new = Node(op.op, tuple(operands), op.attrs, types, op.name, op.layer)
            changed = True
        env.update(zip(node.outputs, new.outputs))
    if not changed:
        return graph
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)
