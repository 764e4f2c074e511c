"""Small questions about a graph: op histogram, ancestors, critical path.

They work on :class:`Graph` directly (no networkx needed); the same questions
on ``symkb.ir.to_networkx(graph)`` are recipes in :mod:`symkb.ir.export`.
"""
from __future__ import annotations

from collections import Counter

from .graph import Graph
from .printer import print_order
from .stats import stats


def op_histogram(graph: Graph, *, bodies: bool = True) -> Counter:
    """``Counter({op: count})`` over the graph's nodes (nested bodies too by default)."""
    if bodies:
        return Counter(node.op for _, node in graph.walk())
    return Counter(node.op for node in graph.nodes)


def ancestors(graph: Graph, tensor) -> list:
    """The nodes of ``graph`` that ``tensor`` depends on (its own node included),
    in the graph's topological order; the walk stops at the graph's inputs."""
    stop = set(graph.inputs)
    seen, stack = set(), [] if tensor in stop else [tensor.node]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(t.node for t in node.inputs if t not in stop)
    return [n for n in graph.nodes if n in seen]


def critical_path(graph: Graph, *, weight: str = "flops", batch_size: int | None = None):
    """The heaviest chain of dependent nodes from the inputs to an output.

    Args:
        graph: the graph (top level; a node with bodies weighs what its bodies
            cost, times its trip count).
        weight: ``'flops'`` (see :func:`symkb.ir.stats`) or ``'nodes'`` (each
            node weighs 1, ``input``/``param``/``const`` 0).
        batch_size: the size of unknown dimensions for ``'flops'``.

    Returns:
        ``(total weight, [nodes along the path, first to last])``.
    """
    if weight not in ("flops", "nodes"):
        raise ValueError(f"critical_path: weight must be 'flops' or 'nodes', received {weight!r}")
    if weight == "flops":
        rows = stats(graph, batch_size=batch_size).nodes
        cost = _top_level_costs(graph, rows)
    else:
        cost = {n: 0 if n.op in ("input", "param", "const") else 1 for n in graph.nodes}
    stop = set(graph.inputs)
    best: dict = {}
    for node in graph.nodes:
        preds = [t.node for t in node.inputs if t not in stop]
        prev = max(preds, key=lambda p: best[p][0], default=None)
        base = best[prev][0] if prev is not None else 0
        best[node] = (base + cost[node], prev)
    ends = [t.node for t in graph.outputs if t not in stop]
    if not ends:
        return 0, []
    end = max(ends, key=lambda n: best[n][0])
    path, node = [], end
    while node is not None:
        path.append(node)
        node = best[node][1]
    return best[end][0], path[::-1]


def _top_level_costs(graph: Graph, rows) -> dict:
    """FLOPs of each top-level node, its bodies' totals included."""
    order = print_order(graph)
    cost, k = {}, 0
    for node in order:
        row = rows[k]
        total = row.total_flops
        k += 1
        while k < len(rows) and rows[k].depth > 0:
            total += rows[k].total_flops
            k += 1
        cost[node] = total
    return cost
