"""The verifier: checks the invariants every pass must preserve.

* every operand is defined before use (an input of the graph, or a result of
  an earlier node);
* every non-source node's recorded result types equal its op's type rule
  applied to its operands' types;
* ops are registered; ``input`` nodes are graph inputs;
* source nodes hold what their type declares: a ``param`` node's type is its
  Variable's, a ``const`` node's is its array's (a compiled kernel is
  generated for the declared type, so a smaller payload would be read past
  its end);
* nested bodies verify too, and loop-like nodes are checked by their op's own
  ``verify`` hook when the op module declares one.
"""
from __future__ import annotations

from .errors import VerifyError
from .registry import REGISTRY
from .types import TensorType
from .variable import Variable

# op name -> callable(node) raising VerifyError; ops with bodies add theirs.
NODE_CHECKS: dict = {}


def verify(graph) -> None:
    """Raise :class:`VerifyError` (with the printed graph) when ``graph`` is invalid."""
    try:
        _verify(graph)
    except VerifyError as exc:
        try:
            printed = str(graph)
        except Exception as print_exc:  # noqa: BLE001 (a graph too broken to print)
            printed = f"(it cannot be printed: {type(print_exc).__name__}: {print_exc})"
        raise VerifyError(f"{exc}\nin graph:\n{printed}") from None


def _verify(graph) -> None:
    defined = set(graph.inputs)
    given = set(graph.inputs)
    for node in graph.nodes:
        where = f"node {node.op}{' (layer ' + node.layer + ')' if node.layer else ''}"
        if node.op not in REGISTRY:
            raise VerifyError(f"{where}: op {node.op!r} is not registered")
        for i, t in enumerate(node.inputs):
            if t not in defined:
                raise VerifyError(f"{where}: operand {i} ({t.name}) is used before it is defined")
        if node.op == "input" and node.outputs[0] not in given:
            raise VerifyError(f"{where}: placeholder {node.name!r} is not a graph input")
        if REGISTRY[node.op].kind == "source":
            _check_source(node, where)
        else:
            try:
                expected = REGISTRY[node.op].infer([t.type for t in node.inputs], node.attrs)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                # a malformed attribute (from a document) reaches the rule as it is
                raise VerifyError(f"{where}: its operands or attributes do not fit its op: "
                                  f"{type(exc).__name__}: {exc}") from None
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


def _check_source(node, where: str) -> None:
    """``input``/``param``/``const`` nodes: one result whose type is their payload's."""
    import numpy as np

    if len(node.out_types) != 1 or node.inputs:
        raise VerifyError(f"{where}: a {node.op} node has no operands and one result; it has "
                          f"{len(node.inputs)} operand(s) and {len(node.out_types)} result(s)")
    declared = node.out_types[0]
    if node.op == "param":
        var = node.attrs.get("variable")
        if not isinstance(var, Variable):
            raise VerifyError(f"{where}: a param node holds a Variable in attrs['variable']; "
                              f"it holds {type(var).__name__}")
        # a float16 Variable of a graph widened for a target without float16
        # arithmetic (``widened``) is declared float32: its value widens at call time
        widened = (node.attrs.get("widened") is True and var.dtype == "float16"
                   and declared == TensorType(var.shape, "float32"))
        if var.type != declared and not widened:
            raise VerifyError(f"{where}: param {var.name!r} declares type {declared} but its "
                              f"Variable holds {var.type}")
    elif node.op == "const":
        value = node.attrs.get("value")
        if not isinstance(value, np.ndarray):
            raise VerifyError(f"{where}: a const node holds an array in attrs['value']; it "
                              f"holds {type(value).__name__}")
        if TensorType.of(value) != declared:
            raise VerifyError(f"{where}: const declares type {declared} but its value is "
                              f"{TensorType.of(value)}")
