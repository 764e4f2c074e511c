"""Pass ``licm``: loop-invariant code motion, above all the input projection.

Assumes: a valid graph whose ``scan`` (and ``loop``) nodes follow
``symkb/ir/ops/scan.py`` (``loop.py``). Guarantees, for every scan or loop
(nested ones first):

* *Invariant values*: a body value computed from constants only (the loop's
  constant operands and scalar ``const`` nodes) is computed once before the
  loop and passed in as a new constant operand.
* *Per-step values*: a body value that, at every step, is the same function of
  that step's slice of the sequences -- a sequence input, an elementwise op of
  such values and invariants that do not touch the batch axis, or
  ``dot(value, invariant 2-D matrix)`` -- is computed for all steps at once
  before the loop and becomes a new sequence operand. ``x_t @ W`` for every
  step becomes one ``(batch, time, in) @ W`` product (one BLAS call for all
  steps); only ``h @ U`` stays in the loop. A per-step value with no product
  in it (elementwise ops of the sequences alone: ``1 - tanh(c_t)**2`` of a
  gradient's saved residuals) is hoisted only as part of a product's operand:
  on its own it would be written for all steps and read back, where the
  loop's fused gate loops compute it from the step slices they read anyway. The loop still slices the new
  sequence per step, so ``reverse`` (and a raw loop's mask, ``go_backwards``
  and ``time_major``) mean what they meant.
* Nothing that depends on a state (on the step's recurrence) moves; no random
  op moves. Sequences and constants the body no longer reads are dropped (one
  sequence always stays). Results are unchanged.

Only values the rest of the body reads are hoisted (the frontier), so no
intermediate is materialised for all steps without need.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from ...ir.ops.loop import split_operands, step_type
from .info import declare_pass
from ...ir.ops.scan import is_loop_op
from .rewrite import map_bodies

INVARIANT, STEP = "invariant", "step"


@declare_pass(requires={"types", "unfused"})
def licm(graph: Graph) -> Graph:
    """Hoist invariant and per-step values out of loop bodies (see the module docstring)."""
    graph = map_bodies(graph, licm)
    if not any(is_loop_op(n.op) for n in graph.nodes):
        return graph
    env = {t: t for t in graph.inputs}
    changed = False
    for node in graph.nodes:
        ins = tuple(env.get(t, t) for t in node.inputs)
        new = node if ins == node.inputs else node.with_inputs(ins)
        if is_loop_op(new.op):
            hoisted = hoist_loop(new)
            if hoisted is not None:
                new, changed = hoisted, True
        env.update(zip(node.outputs, new.outputs))
    if not changed:
        return graph
    return Graph(graph.inputs, [env.get(t, t) for t in graph.outputs], name=graph.name)


def _replay(node: Node, inputs) -> Node:
    opdef = get_op(node.op)
    types = opdef.infer([t.type for t in inputs], node.attrs)
    return Node(node.op, tuple(inputs), node.attrs, types, node.name, node.layer)


def _elementwise_step(node, ks, out_rank) -> bool:
    """Per-step operands, and invariants that do not touch the batch axis."""
    return all(k == STEP or t.ndim < out_rank for k, t in zip(ks, node.inputs))


def _dot_step(node, ks, out_rank) -> bool:
    """``dot(per-step value, invariant 2-D matrix)``: one product for all steps."""
    return ks == [STEP, INVARIANT] and node.inputs[1].ndim == 2


# The step rules by name: an op names its rule in its ``step`` trait
# (``symkb.ir.registry``); ``rule(node, kinds of its operands, result rank)``
# is True when the node's result is per-step.
STEP_RULES = {"elementwise": _elementwise_step, "dot": _dot_step}


def classify(body: Graph, attrs) -> dict:
    """``body tensor -> INVARIANT | STEP`` for the values that may move (others absent)."""
    ns, nst = attrs["num_sequences"], attrs["num_states"]
    kinds = {}
    step_rank = {}
    for i, t in enumerate(body.inputs):
        if i < ns:
            kinds[t] = STEP
        elif i >= ns + nst:
            kinds[t] = INVARIANT
    for node in body.nodes:
        opdef = get_op(node.op)
        if node.op == "const":
            kinds[node.outputs[0]] = INVARIANT
            continue
        if opdef.kind == "source" or not opdef.pure or node.bodies():
            continue
        ks = [kinds.get(t) for t in node.inputs]
        if not node.inputs or any(k is None for k in ks):
            continue
        if all(k == INVARIANT for k in ks):
            kinds.update((o, INVARIANT) for o in node.outputs)
            continue
        out_rank = node.out_types[0].ndim if len(node.out_types) == 1 else -1
        rule = STEP_RULES.get(opdef.step)
        if rule is not None and rule(node, ks, out_rank):
            kinds[node.outputs[0]] = STEP
            step_rank[node.outputs[0]] = out_rank
    return kinds


def _without_products(body: Graph, kinds: dict) -> set:
    """The per-step values computed without a product (module docstring)."""
    heavy, light = set(), set()
    for node in body.nodes:
        if any(kinds.get(o) != STEP for o in node.outputs):
            continue
        if get_op(node.op).step == "dot" or any(t in heavy for t in node.inputs):
            heavy.update(node.outputs)
        else:
            light.update(node.outputs)
    return light


def hoist_loop(loop: Node):
    """The loop with its invariant and per-step values hoisted, or ``None``."""
    attrs = dict(loop.attrs)
    body = attrs["body"]
    ns, nst, nc = attrs["num_sequences"], attrs["num_states"], attrs["num_constants"]
    seqs, states, consts, mask = split_operands(loop.inputs, **attrs)
    kinds = classify(body, attrs)
    inputs = set(body.inputs)
    light = _without_products(body, kinds)
    # The frontier: movable values read by body nodes that stay, or returned.
    frontier = []
    for node in body.nodes:
        if node.outputs[0] in kinds and all(o in kinds for o in node.outputs):
            continue
        for t in node.inputs:
            if t in kinds and t not in inputs and t.node.op != "const" and t not in frontier \
                    and t not in light:
                frontier.append(t)
    for t in body.outputs:
        if t in kinds and t not in inputs and t.node.op != "const" and t not in frontier \
                and t not in light:
            frontier.append(t)
    if not frontier:
        return None
    # Outer values of the body's movable values.
    outer = {}
    for i, t in enumerate(body.inputs):
        if i < ns:
            outer[t] = seqs[i]
        elif i >= ns + nst:
            outer[t] = consts[i - ns - nst]
    for node in body.nodes:
        if node.outputs[0] not in kinds or node.outputs[0] in outer:  # placeholders
            continue
        if node.op == "const":
            outer[node.outputs[0]] = node.outputs[0]
            continue
        new = _replay(node, [outer[t] for t in node.inputs])
        outer.update(zip(node.outputs, new.outputs))
    # The new body.
    time_major = attrs.get("time_major", False)
    new_seq_ph, new_seq_ops, new_const_ph, new_const_ops = [], [], [], []
    local = {}
    for t in frontier:
        ph = Node("input", (), {}, (t.type,), name=t.node.name or f"hoisted{len(local)}").outputs[0]
        local[t] = ph
        if kinds[t] == STEP:
            if step_type(outer[t].type, time_major) != t.type:
                return None
            new_seq_ph.append(ph)
            new_seq_ops.append(outer[t])
        else:
            new_const_ph.append(ph)
            new_const_ops.append(outer[t])
    for node in body.nodes:
        if node.outputs[0] in local or node.outputs[0] in inputs:  # placeholders
            continue
        if node.op == "const":
            continue
        ins = [local.get(t, t) for t in node.inputs]
        new = node if all(a is b for a, b in zip(ins, node.inputs)) else node.with_inputs(ins)
        local.update(zip(node.outputs, new.outputs))
    outs = [local.get(t, t) for t in body.outputs]
    probe = Graph(body.inputs + tuple(new_seq_ph) + tuple(new_const_ph), outs)
    used = {t for n in probe.nodes for t in n.inputs} | set(outs)
    old_x = [(ph, op) for ph, op in zip(body.inputs[:ns], seqs) if ph in used]
    old_c = [(ph, op) for ph, op in zip(body.inputs[ns + nst:], consts) if ph in used]
    seq_pairs = old_x + list(zip(new_seq_ph, new_seq_ops))
    if not seq_pairs:
        seq_pairs = [(body.inputs[0], seqs[0])]
    const_pairs = old_c + list(zip(new_const_ph, new_const_ops))
    new_body = Graph([p for p, _ in seq_pairs] + list(body.inputs[ns:ns + nst])
                     + [p for p, _ in const_pairs], outs, name=body.name)
    operands = ([o for _, o in seq_pairs] + list(states) + [o for _, o in const_pairs]
                + ([mask] if mask is not None else []))
    attrs.update(body=new_body, num_sequences=len(seq_pairs), num_constants=len(const_pairs))
    types = get_op(loop.op).infer([t.type for t in operands], attrs)
    return Node(loop.op, tuple(operands), attrs, types, loop.name, loop.layer)
