"""Reverse-mode differentiation of the graph IR: a transform from graph to graph.

:func:`vjp` takes output tensors, the tensors to differentiate with respect
to and (optionally) the cotangents of the outputs, and builds the nodes that
compute ``sum_i <cotangent_i, d output_i / d wrt>`` for each ``wrt``: plain IR
nodes of registered ops, so the result is a graph like any other (printed,
parsed, verified, compiled) and can itself be differentiated. Without
cotangents each output's is ``ones_like(output)`` (the gradient of the sum of
the outputs, as ``tf.gradients``). :func:`grad` is the same transform on a
closed :class:`~symkb.ir.Graph`, returning a new graph.

Each op's rule is its :class:`~symkb.ir.registry.OpDef` ``grad`` trait
(``grad(node, cotangents) -> [cotangent per operand or None]``). The transform
around the rules:

* only floating-point tensors carry gradients: an integer or bool operand or
  ``wrt`` gets ``None``, as in TensorFlow;
* an op declared :class:`~symkb.ir.registry.NoGradient` (comparisons, integer
  casts, ``argmax``, ``round``, random draws, ``stop_gradient``) passes
  nothing back; one declared ``pending`` (differentiable, rule not written
  yet) raises ``NotImplementedError`` naming the op when a gradient would have
  to cross it;
* a rule's cotangent for an operand that was broadcast is summed back to the
  operand's shape (:func:`unbroadcast`) and cast to its dtype, so elementwise
  rules may ignore broadcasting. An axis unknown at build time in both the
  operand and the result is taken as not broadcast (the batch axis of two
  placeholders): a graph broadcasting a size-1 axis it cannot see at build
  time gets its gradient in the result's shape there;
* contributions reaching a tensor from several uses are added.
* a rule with the attribute ``wants_live = True`` (the loop ops') is called
  as ``grad(node, cotangents, wanted)``, ``wanted`` one bool per operand:
  whether a cotangent of that operand is needed (a loop then builds no
  per-step cotangent nobody reads).

The result for a ``wrt`` the outputs do not depend on is ``None``
(``tf.gradients``'s answer); :func:`grad`, which must return tensors, gives
zeros there.
"""
from __future__ import annotations

import contextlib
import contextvars

from .build import call, layer_scope
from .graph import Graph, _toposort
from .node import KerasTensor, Node
from .registry import NoGradient, get_op
from .types import is_float
from .variable import Variable


_CHECKPOINT = contextvars.ContextVar("symkb_loop_checkpoint", default=None)


@contextlib.contextmanager
def checkpoint_loops(every):
    """Within it, the gradient of a loop of more than ``every`` steps saves its
    states every ``every`` steps only and recomputes each segment's steps in
    the backward (``symkb/ir/ops/scan_checkpoint.py``); ``None`` turns
    checkpointing off."""
    if every is not None and (isinstance(every, bool) or not isinstance(every, int)
                              or every < 1):
        raise ValueError(f"checkpoint: expected a number of steps >= 1 (or None), "
                         f"received {every!r}")
    token = _CHECKPOINT.set(every)
    try:
        yield
    finally:
        _CHECKPOINT.reset(token)


def loop_checkpoint():
    """The segment length :func:`checkpoint_loops` set here, or ``None``."""
    return _CHECKPOINT.get()


def vjp(outputs, wrt, cotangents=None, *, stop=(), checkpoint=None) -> list:
    """Gradients of ``outputs`` with respect to each of ``wrt`` (module docstring).

    Args:
        outputs: a KerasTensor or a list of them.
        wrt: KerasTensors (placeholders, intermediate values, ``param``
            reads) or Variables (their ``param`` node); a list.
        cotangents: ``None``, or one KerasTensor (or ``None``: ones) per
            output, of the output's shape.
        stop: tensors the walk back from the outputs does not cross (a
            graph's inputs).
        checkpoint: an int ``k``: the loops' gradients save their states
            every ``k`` steps only and recompute the rest (see
            :func:`checkpoint_loops`); ``None``: as the enclosing
            ``checkpoint_loops`` says (by default, save every step's values).

    Returns:
        One KerasTensor or ``None`` per ``wrt``, in order.

    Raises:
        NotImplementedError: a gradient would cross an op whose rule is pending.
    """
    if checkpoint is not None:
        with checkpoint_loops(checkpoint):
            return vjp(outputs, wrt, cotangents, stop=stop)
    outputs = [outputs] if isinstance(outputs, KerasTensor) else list(outputs)
    targets = [_as_tensor(w, i) for i, w in enumerate(wrt)]
    if cotangents is not None and len(cotangents) != len(outputs):
        raise ValueError(f"gradients: {len(cotangents)} cotangents for {len(outputs)} outputs; "
                         "expected one per output (None for ones)")
    order = _toposort(outputs, set(stop))
    live = _dependent(order, {t for t in targets if is_float(t.dtype)})
    acc = _Cotangents()
    for i, out in enumerate(outputs):
        if out in live:
            given = None if cotangents is None else cotangents[i]
            acc.add(out, _seed(out, given, i))
    for node in reversed(order):
        cts = [acc.total(o) for o in node.outputs]
        if all(c is None for c in cts) or not any(t in live for t in node.inputs):
            continue
        with layer_scope(node.layer):
            wanted = [t in live for t in node.inputs]
            for operand, ct in zip(node.inputs, _apply_rule(node, cts, wanted)):
                if ct is not None and operand in live:
                    acc.add(operand, _fit(ct, operand, node))
    return [acc.total(t) if t in live else None for t in targets]


def grad(graph: Graph, wrt=None, *, cotangents: bool = False, with_outputs: bool = False,
         name: str | None = None, checkpoint: int | None = None) -> Graph:
    """The graph of the gradients of ``graph``'s outputs (module docstring).

    Args:
        graph: the forward graph.
        wrt: the tensors (inputs, intermediate values, ``param`` reads) or
            Variables of ``graph`` to differentiate with respect to; default:
            its floating-point inputs, then its params.
        cotangents: the vector-Jacobian form: the result takes one more
            input per output of ``graph``, its cotangent (named ``ct0``,
            ``ct1``, ...); otherwise each output's cotangent is ones.
        with_outputs: the result returns ``graph``'s outputs before the
            gradients (the forward computed once).
        name: the result's name (default ``<graph name>_grad``).
        checkpoint: loops save their states every ``checkpoint`` steps only
            (see :func:`vjp`).

    Returns:
        A :class:`Graph` with inputs ``(*graph.inputs, *cotangent inputs)`` and
        outputs ``(*outputs if with_outputs, *one gradient per wrt)``; zeros
        for a ``wrt`` the outputs do not depend on.
    """
    if wrt is None:
        wrt = [t for t in graph.inputs if is_float(t.dtype)] + [n.outputs[0] for n in graph.params]
    params = {id(n.attrs["variable"]): n.outputs[0] for n in graph.params}
    targets = [params.get(id(w), w) if isinstance(w, Variable) else w for w in wrt]
    cts = None
    if cotangents:
        cts = [Node("input", (), {}, (t.type,), name=f"ct{i}").outputs[0]
               for i, t in enumerate(graph.outputs)]
    grads = vjp(graph.outputs, targets, cts, stop=graph.inputs, checkpoint=checkpoint)
    grads = [g if g is not None else call("zeros_like", _as_tensor(w, i))
             for i, (g, w) in enumerate(zip(grads, targets))]
    outs = (list(graph.outputs) if with_outputs else []) + grads
    return Graph(list(graph.inputs) + (cts or []), outs, name=name or f"{graph.name}_grad")


def unbroadcast(ct: KerasTensor, operand: KerasTensor) -> KerasTensor:
    """``ct`` summed over the axes along which ``operand`` was broadcast."""
    lead = ct.ndim - operand.ndim
    if lead < 0:
        raise ValueError(f"unbroadcast: a cotangent of shape {ct.shape} has fewer axes than "
                         f"its operand {operand.shape}")
    if lead:
        ct = call("sum", ct, axis=tuple(range(lead)), keepdims=False)
    axes = tuple(i for i, (d, c) in enumerate(zip(operand.shape, ct.shape))
                 if d == 1 and c != 1)
    if axes:
        ct = call("sum", ct, axis=axes, keepdims=True)
    return ct


class _Cotangents:
    """The cotangent contributions of each tensor, added once when first read."""

    def __init__(self):
        self.parts: dict = {}
        self.sums: dict = {}

    def add(self, tensor, ct) -> None:
        if tensor in self.sums:
            raise AssertionError(f"gradients: a cotangent of {tensor.name} arrived after it "
                                 "was used (the walk is not in reverse topological order)")
        self.parts.setdefault(tensor, []).append(ct)

    def total(self, tensor):
        if tensor in self.sums:
            return self.sums[tensor]
        parts = self.parts.get(tensor)
        if not parts:
            return None
        total = parts[0]
        for p in parts[1:]:
            total = call("add", total, p)
        self.sums[tensor] = total
        return total


def _as_tensor(w, i) -> KerasTensor:
    if isinstance(w, Variable):
        return w.tensor
    if not isinstance(w, KerasTensor):
        raise TypeError(f"gradients: wrt[{i}] is a {type(w).__name__}; expected a KerasTensor "
                        "(a placeholder, an intermediate value) or a Variable")
    return w


def _dependent(order, sources) -> set:
    """The floating-point tensors of ``order`` that depend on ``sources`` through
    ops that pass gradients (a ``pending`` op counts: crossing it is an error)."""
    live = set(sources)
    for node in order:
        rule = get_op(node.op).grad
        passes = callable(rule) or (isinstance(rule, NoGradient) and rule.pending)
        if passes and any(t in live for t in node.inputs):
            live.update(o for o in node.outputs if is_float(o.dtype))
    return live


def _seed(out: KerasTensor, given, i) -> KerasTensor:
    if given is None:
        return call("ones_like", out)
    if not isinstance(given, KerasTensor):
        raise TypeError(f"gradients: cotangent {i} is a {type(given).__name__}; expected a "
                        f"KerasTensor of output {i}'s type {out.type}")
    if given.ndim != out.ndim or any(a is not None and b is not None and a != b
                                     for a, b in zip(given.shape, out.shape)):
        raise ValueError(f"gradients: cotangent {i} has shape {given.shape}; expected output "
                         f"{i}'s shape {out.shape}")
    return given if given.dtype == out.dtype else call("cast", given, dtype=out.dtype)


def _apply_rule(node: Node, cts, wanted) -> list:
    rule = get_op(node.op).grad
    if rule is None:
        raise NotImplementedError(f"gradients: op {node.op!r} declares no gradient rule and "
                                  "no NoGradient (tests/test_gradients.py lists every op)")
    if isinstance(rule, NoGradient):
        if rule.pending:
            raise NotImplementedError(f"gradients: the gradient of op {node.op!r} is not "
                                      f"implemented yet ({rule.reason})")
        return [None] * len(node.inputs)
    # a rule whose cost grows with the operands it differentiates (a loop's)
    # declares ``wants_live`` and is told which operands need a cotangent
    out = list(rule(node, cts, wanted) if getattr(rule, "wants_live", False)
               else rule(node, cts))
    if len(out) != len(node.inputs):
        raise AssertionError(f"gradients: the rule of op {node.op!r} returned {len(out)} "
                             f"cotangents for {len(node.inputs)} operands")
    return out


def _fit(ct, operand: KerasTensor, node: Node) -> KerasTensor:
    """``ct`` in ``operand``'s shape (summed over broadcast axes) and dtype."""
    ct = unbroadcast(ct, operand)
    if ct.dtype != operand.dtype:
        ct = call("cast", ct, dtype=operand.dtype)
    if ct.ndim != operand.ndim or any(a is not None and b is not None and a != b
                                      for a, b in zip(ct.shape, operand.shape)):
        raise AssertionError(f"gradients: the rule of op {node.op!r} gave a cotangent of "
                             f"shape {ct.shape} for an operand of shape {operand.shape}")
    return ct


def through(node: Node, cts, forward) -> list:
    """A rule by composition: the cotangents of ``node``'s operands, taken
    through ``forward(*operands) -> results``, an expression of other ops that
    computes what ``node`` computes. Each operand enters through its own
    ``identity`` node, so an operand given twice (``matmul(x, x)``) gets each
    use's share once."""
    fresh = [call("identity", t) for t in node.inputs]
    outs = forward(*fresh)
    outs = [outs] if isinstance(outs, KerasTensor) else list(outs)
    used = [(o, c) for o, c in zip(outs, cts) if c is not None]
    return vjp([o for o, _ in used], fresh, [c for _, c in used], stop=fresh)
