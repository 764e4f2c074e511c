"""The interpreter target: runs a graph with the ops' numpy references.

It is the oracle every compiled target is tested against. Subclass
:class:`Interpreter` and override :meth:`run_node` to observe or alter
execution (tracing values, counting ops, ...).
"""
from __future__ import annotations

from ..ir import Graph, evaluate, run_node
from .executable import Executable


class Interpreter(Executable):
    """Executes ``graph`` node by node with numpy."""

    target = "interpreter"

    def __init__(self, graph: Graph, **kwargs):
        kwargs.setdefault("source", f"# interpreter: {len(graph.nodes)} nodes run with numpy\n")
        super().__init__(graph, **kwargs)

    def run_node(self, node, arrays):
        """Compute one node (override to instrument)."""
        return run_node(node, arrays)

    def _run(self, arrays) -> list:
        self._ran_on("interpreter")
        if type(self).run_node is Interpreter.run_node:
            results = list(evaluate(self.graph, arrays))
            self._write_on_host(results)
            return results
        env = dict(zip(self.graph.inputs, arrays))
        for node in self.graph.nodes:
            if all(o in env for o in node.outputs):
                continue
            env.update(zip(node.outputs, self.run_node(node, [env[t] for t in node.inputs])))
        results = [env[t] for t in self.graph.outputs]
        self._write_on_host(results)
        return results
