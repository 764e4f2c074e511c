"""Pass ``fuse_conv``: a convolution and its elementwise epilogue become one node.

Assumes: ``fuse_elementwise`` ran (epilogues are ``fused_elementwise`` nodes).
Guarantees: a ``conv(x, w)`` whose only user is a single-result
``fused_elementwise`` node of the convolution's type, reading it once, is
replaced with ``fused_conv(x, w, *other operands)``, whose body is the
epilogue's body with the convolution as its first input (see
``symkb/ir/ops/fused.py``). A convolution layer's ``bias_add``, its
activation and an inference-mode ``BatchNormalization`` after it are then
applied to each block of output positions while the block is in the cache,
instead of in passes of their own over the whole result. A channels_first
model gets the same node: ``sink_transposes`` has moved its transposes out
of the epilogue by then, except where the result leaves the graph or goes
to an op they do not pass: there the epilogue reads ``transpose(conv)``, and
becomes ``transpose(fused_conv(x, w, *operands transposed back))`` (operands
of the result's rank or scalars only). A max ``pool`` whose windows tile the
epilogue's result (strides equal to the window, no padding), its only
reader, is folded in as well (the attribute ``pool``): the full-size
activations are then never written. Bodies are handled too.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from ...ir.build import placeholder_node
from ...ir.replay import fresh_copy
from .info import declare_pass
from .rewrite import consumers, map_bodies

_CONV_ATTRS = ("strides", "dilation", "pads", "groups")


@declare_pass(requires={"types", "fused_elementwise"}, invalidates={"unfused"})
def fuse_conv(graph: Graph) -> Graph:
    """Merge ``conv`` nodes into their elementwise epilogues (see the module docstring)."""
    graph = map_bodies(graph, fuse_conv)
    chosen = _choose(graph)
    if not chosen:
        return graph
    pools = _pools(graph, chosen)
    env = {t: t for t in graph.inputs}
    for node in graph.nodes:
        ins = tuple(env.get(t, t) for t in node.inputs)
        new = node if ins == node.inputs else node.with_inputs(ins)
        if node in chosen:
            new = conv_epilogue_node(new, chosen[node])
        elif node in pools:
            new = with_pool(ins[0].node, node.attrs["window"])
        env.update(zip(node.outputs, new.outputs))
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)


def _choose(graph: Graph) -> dict:
    """``fused_elementwise node -> index of the conv (or transposed conv) operand
    it absorbs``."""
    users = consumers(graph)
    outside = set(graph.inputs) | set(graph.outputs)

    def once(t):
        return t not in outside and len(users.get(t, [])) == 1

    chosen = {}
    for node in graph.nodes:
        if node.op != "fused_elementwise" or len(node.outputs) != 1:
            continue
        for i, t in enumerate(node.inputs):
            if t.type != node.out_types[0] or node.inputs.count(t) != 1 or not once(t):
                continue
            if t.node.op == "conv" or (
                    t.node.op == "transpose" and t.node.inputs[0].node.op == "conv"
                    and once(t.node.inputs[0])
                    and all(u.ndim in (0, t.ndim) for u in node.inputs)):
                chosen[node] = i
                break
    return chosen


def _pools(graph: Graph, chosen: dict) -> set:
    """The ``pool`` nodes folded into the ``fused_conv`` before them: a maximum
    over windows that tile the result (strides equal to the window, no
    padding) of an epilogue of a plain ``conv`` read by nothing else."""
    users = consumers(graph)
    outside = set(graph.outputs)
    found = set()
    for node in graph.nodes:
        if node.op != "pool" or node.attrs["mode"] != "max":
            continue
        a, t = node.attrs, node.inputs[0]
        if (t.node in chosen and t.node.inputs[chosen[t.node]].node.op == "conv"
                and tuple(a["strides"]) == tuple(a["window"])
                and all(tuple(p) == (0, 0) for p in a["pads"])
                and t not in outside and len(users.get(t, [])) == 1):
            found.add(node)
    return found


def with_pool(fused: Node, window) -> Node:
    """``fused`` (a ``fused_conv``) followed by a max pooling of ``window``."""
    attrs = dict(fused.attrs, pool=tuple(int(w) for w in window))
    attrs["ops"] = tuple(attrs["ops"]) + ("pool",)
    types = get_op("fused_conv").infer([t.type for t in fused.inputs], attrs)
    return Node("fused_conv", fused.inputs, attrs, types, fused.name, fused.layer)


def conv_epilogue_node(fused: Node, index: int) -> Node:
    """``fused_conv`` for ``fused``'s operand ``index`` (a ``conv``, or a
    ``transpose`` of one: then the transpose of a ``fused_conv``) and its body."""
    source = fused.inputs[index].node
    order = [index] + [j for j in range(len(fused.inputs)) if j != index]
    body = fused.attrs["body"]
    inputs = [body.inputs[j] for j in order]
    rest = [fused.inputs[j] for j in order[1:]]
    perm = None
    if source.op == "transpose":
        perm = tuple(source.attrs["perm"])
        back = tuple(sorted(range(len(perm)), key=perm.__getitem__))
        rest = [_transpose(t, back) if t.ndim else t for t in rest]
        source = source.inputs[0].node
        inputs = [placeholder_node(t.shape, t.dtype, p.node.name)
                  for t, p in zip([source.outputs[0], *rest], inputs)]
        new_body = Graph(inputs, fresh_copy(Graph(
            [body.inputs[j] for j in order], body.outputs, name=body.name), inputs),
            name=body.name)
    else:
        new_body = Graph(inputs, body.outputs, name=body.name)
    operands = (source.inputs[0], source.inputs[1], *rest)
    attrs = {k: source.attrs[k] for k in _CONV_ATTRS}
    attrs.update(body=new_body, ops=("conv",) + tuple(fused.attrs.get("ops", ())))
    types = get_op("fused_conv").infer([t.type for t in operands], attrs)
    node = Node("fused_conv", operands, attrs, types, fused.name, fused.layer)
    return node if perm is None else _transpose(node.outputs[0], perm).node


def _transpose(t, perm):
    attrs = {"perm": tuple(perm)}
    return Node("transpose", (t,), attrs, get_op("transpose").infer([t.type], attrs)).outputs[0]
