"""The verifier: checks the invariants every pass must preserve.

* every operand is defined before use (an input of the graph, or a result of
  an earlier node);
* every non-source node's recorded result types equal its op's type rule
  applied to its operands' types;
* ops are registered; ``input`` nodes are graph inputs;
* nested bodies verify too, and loop-like nodes are checked by their op's own
  ``verify`` hook when the op module declares one.
"""
from __future__ import annotations

from .errors import VerifyError
from .registry import REGISTRY

# op name -> callable(node) raising VerifyError; ops with bodies add theirs.
NODE_CHECKS: dict = {}


def verify(graph) -> None:
    """Raise :class:`VerifyError` (with the printed graph) when ``graph`` is invalid."""
    try:
        _verify(graph)
    except VerifyError as exc:
        raise VerifyError(f"{exc}\nin graph:\n{graph}") from None


def _verify(graph) -> None:
    defined = set(graph.inputs)
    for node in graph.nodes:
        where = f"node {node.op}{' (layer ' + node.layer + ')' if node.layer else ''}"
        if node.op not in REGISTRY:
            raise VerifyError(f"{where}: op {node.op!r} is not registered")
        for i, t in enumerate(node.inputs):
            if t not in defined:
                raise VerifyError(f"{where}: operand {i} ({t.name}) is used before it is defined")
        if node.op == "input" and node.outputs[0] not in set(graph.inputs):
            raise VerifyError(f"{where}: placeholder {node.name!r} is not a graph input")
        if REGISTRY[node.op].kind != "source":
            try:
                expected = REGISTRY[node.op].infer([t.type for t in node.inputs], node.attrs)
            except (ValueError, TypeError) as exc:
                raise VerifyError(f"{where}: its operands no longer fit its op: {exc}") from None
            if tuple(expected) != tuple(node.out_types):
                raise VerifyError(f"{where}: recorded types {[str(t) for t in node.out_types]} "
                                  f"but the type rule gives {[str(t) for t in expected]}")
        if node.op in NODE_CHECKS:
            NODE_CHECKS[node.op](node)
        for body in node.bodies():
            _verify(body)
        defined.update(node.outputs)
    for i, t in enumerate(graph.outputs):
        if t not in defined:
            raise VerifyError(f"output {i} ({t.name}) is not computed by the graph")
