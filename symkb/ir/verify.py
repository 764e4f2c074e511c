"""The verifier: checks the invariants every pass must preserve.

* every operand is defined before use (an input of the graph, or a result of
  an earlier node);
* every non-source node's recorded result types equal its op's type rule
  applied to its operands' types;
* ops are registered; ``input`` nodes are graph inputs;
* source nodes hold what their type declares: a ``param`` node's type is its
  Variable's, a ``const`` node's is its array's (a compiled kernel is
  generated for the declared type, so a smaller payload would be read past
  its end; their ``check`` hooks in ``ops/source.py`` compare them);
* nested bodies verify too, and are the attributes their op declares
  (``bodies``); loop-like nodes are checked by their op's own hook, the
  ``check`` trait of its :class:`~symkb.ir.registry.OpDef`.
"""
from __future__ import annotations

from .errors import VerifyError
from .node import Body
from .registry import REGISTRY, declare


class _CheckTable:
    """``NODE_CHECKS[op] = check``: the older spelling of ``register(op, ..., check=check)``
    (kept for an op module that defines its hook after registering the op)."""

    def __setitem__(self, op: str, check) -> None:
        declare(op, check=check)

    def __getitem__(self, op: str):
        check = REGISTRY[op].check
        if check is None:
            raise KeyError(op)
        return check

    def __contains__(self, op) -> bool:
        return op in REGISTRY and REGISTRY[op].check is not None


NODE_CHECKS = _CheckTable()


def verify(graph) -> None:
    """Raise :class:`VerifyError` (with the printed graph) when ``graph`` is invalid."""
    try:
        _verify(graph)
        _check_writes(graph)
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
        where = node_where(node)
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
        _check_bodies_declared(node, where)
        if REGISTRY[node.op].check is not None:
            REGISTRY[node.op].check(node)
        for body in node.bodies():
            _verify(body)
        defined.update(node.outputs)
    for i, t in enumerate(graph.outputs):
        if t not in defined:
            raise VerifyError(f"output {i} ({t.name}) is not computed by the graph")


def _check_writes(graph) -> None:
    """``assign`` nodes are results of the top-level graph, one per Variable:
    their writes happen after the call, so nothing inside may read them."""
    outputs = set(graph.outputs)
    written = {}
    for body, node in graph.walk():
        if node.op != "assign":
            for i, t in enumerate(node.inputs):
                if t.node.op == "assign":
                    raise VerifyError(f"{node_where(node)}: operand {i} is the result of an "
                                      "assign; an assignment takes effect after the graph "
                                      "runs, so only the graph's results may hold it")
            continue
        if body is not graph or node.outputs[0] not in outputs:
            raise VerifyError(f"{node_where(node)}: an assign must be a result of the "
                              "top-level graph (its write happens after the call)")
        variable = node.inputs[0].node.attrs.get("variable")
        if id(variable) in written:
            raise VerifyError(f"{node_where(node)}: Variable {variable.name!r} is assigned "
                              "twice in one graph; expected at most one write per Variable")
        written[id(variable)] = node


def _check_bodies_declared(node, where: str) -> None:
    """A graph-valued attribute is a body its op declares: the passes reach
    bodies through the ``bodies`` trait, so an undeclared one would be skipped."""
    declared = REGISTRY[node.op].bodies
    for key, value in sorted(node.attrs.items()):
        if isinstance(value, Body) and key not in declared:
            raise VerifyError(f"{where}: attribute {key!r} holds a graph, but op {node.op!r} "
                              f"declares the bodies {declared}; register it with "
                              f"bodies=({key!r},) so the passes reach it")


def node_where(node) -> str:
    """``node param (layer dense)``: how an error names a node."""
    return f"node {node.op}{' (layer ' + node.layer + ')' if node.layer else ''}"


def _check_source(node, where: str) -> None:
    """``input``/``param``/``const`` nodes: no operands and one result (each op's
    own ``check`` then compares its payload with the declared type)."""
    if len(node.out_types) != 1 or node.inputs:
        raise VerifyError(f"{where}: a {node.op} node has no operands and one result; it has "
                          f"{len(node.inputs)} operand(s) and {len(node.out_types)} result(s)")
