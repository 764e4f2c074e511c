"""Graphs: the closed program between some inputs and some outputs.

``Graph(inputs, outputs)`` walks back from the outputs once (iteratively, so
deep graphs are fine) and keeps its nodes in topological order. It stops at
the input tensors: any tensor may be an input (feeding an intermediate value
cuts the graph there). Every ``input`` node reached must be one of the inputs.

Graphs nest: a loop node holds its body as a :class:`Graph` in its attributes.
:meth:`Graph.walk` visits every node of every nested body, so utilities handle
bodies through that one mechanism.
"""
from __future__ import annotations

from .node import Body, KerasTensor, Node
from .printer import format_graph
from .registry import get_op


class Graph(Body):
    """A closed computation; nodes in topological order (``graph.nodes``)."""

    def __init__(self, inputs, outputs, name: str = "graph"):
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.name = name
        for kind, seq in (("input", self.inputs), ("output", self.outputs)):
            for i, t in enumerate(seq):
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"Graph {name!r}: {kind} {i} is a {type(t).__name__}, "
                                    "expected a KerasTensor")
        self.nodes = _toposort(self.outputs, set(self.inputs))
        given = {t.node for t in self.inputs}
        for node in self.nodes:
            if node.op == "input" and node not in given:
                raise ValueError(
                    f"Graph {name!r}: the outputs depend on the placeholder {node.name!r} "
                    f"(shape {node.out_types[0].shape}), which is not among the inputs "
                    f"{[t.name for t in self.inputs]}")

    @property
    def params(self) -> list:
        """The ``param`` nodes of this graph (not of nested bodies), in order."""
        return [n for n in self.nodes if n.op == "param"]

    @property
    def variables(self) -> list:
        return [n.attrs["variable"] for n in self.params]

    def walk(self):
        """Yield ``(graph, node)`` for every node, nested bodies included (pre-order)."""
        stack = [iter([(self, n) for n in self.nodes])]
        while stack:
            try:
                graph, node = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            yield graph, node
            for body in node.bodies():
                stack.append(iter([(body, n) for n in body.nodes]))

    def downstream(self, sources) -> set:
        """``sources`` and every value of this graph's nodes (not their bodies)
        computed from one of them: what changes with them (a step body's
        values that depend on its states, say)."""
        dep = set(sources)
        for node in self.nodes:
            if any(t in dep for t in node.inputs):
                dep.update(node.outputs)
        return dep

    def __str__(self) -> str:
        return format_graph(self)

    def __repr__(self) -> str:
        return (f"<Graph {self.name!r}: {len(self.inputs)} inputs, {len(self.nodes)} nodes, "
                f"{len(self.outputs)} outputs>")


def _toposort(outputs, stop) -> list:
    order, state = [], {}
    for out in outputs:
        if out in stop:
            continue
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if state.get(node) != 2:
                    state[node] = 2
                    order.append(node)
                continue
            if state.get(node):
                continue
            state[node] = 1
            stack.append((node, True))
            for t in reversed(node.inputs):
                if t not in stop and not state.get(t.node):
                    stack.append((t.node, False))
    return order


def evaluate(graph: Graph, inputs) -> list:
    """Run ``graph`` on concrete ``inputs`` with the ops' numpy references."""
    import numpy as np

    env = {}
    for t, a in zip(graph.inputs, inputs):
        env[t] = np.asarray(a)
    for node in graph.nodes:
        if all(o in env for o in node.outputs):
            continue
        outs = run_node(node, [env[t] for t in node.inputs])
        env.update(zip(node.outputs, outs))
    return [env[t] for t in graph.outputs]


def run_node(node: Node, arrays) -> tuple:
    """The numpy reference of one node applied to concrete operands."""
    return get_op(node.op).run(arrays, node.attrs, node.out_types)
