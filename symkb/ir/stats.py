"""Graph statistics: op counts, parameters, FLOPs and memory (:func:`stats`).

Counting rules (one FLOP = one scalar add, multiply, compare or function
evaluation; a multiply-add is two):

* ``input``, ``param``, ``const``, ``print_tensor`` and data-movement ops
  (``kind == 'shape'``, ``gather``, ``one_hot``): 0;
* elementwise and random ops: one per result element (``zeros_like``/``ones_like``: 0);
* ``dot``, ``matmul``, ``batch_dot``, ``fused_dot``: ``2 * K`` per result
  element, ``K`` the contracted size;
* reductions and ``cumsum``/``cumprod``: one per operand element (``mean`` adds one per
  result element, ``softmax`` counts 5 per element: max, subtract, exp, sum,
  divide);
* a node holding graphs (``loop``, ``scan``, ``fused_elementwise``, ...) costs
  what its bodies cost, times its trip count: a ``loop`` or ``scan`` runs its
  body ``length`` times (when ``length`` is unknown, once, with a note);
* any other op: 0, with a note naming it.

A parameter is listed under the layer of the first node that reads it (so
``by_layer()`` gives each layer's parameter count, as a model summary does).
Unknown dimensions (``None``, usually the batch) count as ``batch_size``
when it is given, else as 1 with a note. Memory: each node's result bytes;
``peak_bytes`` walks the graph in order, keeping each value alive until its
last use (parameters and constants are counted apart, as resident).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .safe_text import escape_controls
from .graph import Graph
from .printer import graph_attrs, name_values, print_order
from .registry import REGISTRY

_MATMUL_K = {
    "dot": lambda node: node.inputs[0].shape[-1],
    "matmul": lambda node: node.inputs[0].shape[-1],
    "fused_dot": lambda node: node.inputs[0].shape[-1],
    "batch_dot": lambda node: node.inputs[0].shape[node.attrs["axes"][0]],
}
_FREE = {"input", "param", "const", "zeros_like", "ones_like", "gather", "one_hot",
         "print_tensor",  # a print moves its value to the host, it computes nothing
         "assign"}  # a write of a value computed by other nodes
_PER_ELEMENT_OF_INPUT = {"cumsum", "cumprod"}
_SOFTMAX_COST = 5
# ops whose FLOPs follow a rule of their own: softmax's max, subtract, exp, sum
# and divide per element; mean's sum over the input, then a division per result
def _taps(shape) -> int:
    """Multiply-adds per result of a kernel ``(*window, channels // groups, filters)``."""
    return int(np.prod([d or 1 for d in shape[:-1]]))


_OWN_FLOPS = {
    # a multiply and an add per kernel tap and input channel of each result; the
    # two adjoints do the same products (per cotangent element, per kernel element)
    "conv": lambda counter, node: 2 * counter.size(node.out_types[0])
    * _taps(node.inputs[1].shape),
    "fused_conv": lambda counter, node: 2 * counter.size(node.out_types[0])
    * _taps(node.inputs[1].shape),
    "conv_transpose": lambda counter, node: 2 * counter.size(node.inputs[0].type)
    * _taps(node.inputs[1].shape),
    "conv_filter_grad": lambda counter, node: 2 * counter.size(node.inputs[1].type)
    * _taps(node.out_types[0].shape),
    # one comparison or addition per window element of each result
    "pool": lambda counter, node: counter.size(node.out_types[0])
    * int(np.prod(node.attrs["window"])),
    "pool_grad": lambda counter, node: counter.size(node.inputs[1].type)
    * int(np.prod(node.attrs["window"])),
    "pool_select": lambda counter, node: sum(counter.size(t) for t in node.out_types)
    * int(np.prod(node.attrs["window"])),
    "softmax": lambda counter, node: _SOFTMAX_COST * counter.size(node.out_types[0]),
    "mean": lambda counter, node: (counter.size(node.inputs[0].type)
                                   + counter.size(node.out_types[0])),
}


def _trip_count_loop(node):
    return node.attrs.get("length")


# op -> function(node) -> how many times its bodies run (None: unknown).
TRIP_COUNTS = {"loop": _trip_count_loop, "scan": _trip_count_loop}


@dataclass
class NodeStats:
    """The statistics of one node (``flops`` for one run; ``repeat`` runs)."""

    name: str
    op: str
    layer: str | None
    out_types: tuple
    flops: int
    bytes: int
    params: int = 0
    repeat: int = 1
    depth: int = 0

    @property
    def total_flops(self) -> int:
        return self.flops * self.repeat


@dataclass
class GraphStats:
    """What :func:`stats` returns; ``str()`` gives a table."""

    name: str
    nodes: list
    op_counts: Counter
    num_params: int
    trainable_params: int
    param_bytes: int
    constant_bytes: int
    input_bytes: int
    activation_bytes: int
    peak_bytes: int
    flops: int
    notes: list = field(default_factory=list)

    @property
    def total_flops(self) -> int:
        """The same as ``flops``: the whole graph, loop bodies times their trip counts."""
        return self.flops

    @property
    def non_trainable_params(self) -> int:
        return self.num_params - self.trainable_params

    def by_layer(self) -> dict:
        """``{layer: {"flops": ..., "params": ..., "bytes": ...}}`` (``None``: no layer)."""
        out: dict = {}
        for n in self.nodes:
            entry = out.setdefault(n.layer, {"flops": 0, "params": 0, "bytes": 0})
            entry["flops"] += n.total_flops
            entry["params"] += n.params
            entry["bytes"] += n.bytes
        return out

    def as_dict(self) -> dict:
        """Plain data (for JSON)."""
        return {
            "name": self.name, "flops": self.flops, "num_params": self.num_params,
            "trainable_params": self.trainable_params, "param_bytes": self.param_bytes,
            "constant_bytes": self.constant_bytes, "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes, "peak_bytes": self.peak_bytes,
            "op_counts": dict(sorted(self.op_counts.items())), "notes": list(self.notes),
            "nodes": [{"name": n.name, "op": n.op, "layer": n.layer,
                       "out_types": list(n.out_types), "flops": n.flops, "repeat": n.repeat,
                       "bytes": n.bytes, "params": n.params, "depth": n.depth}
                      for n in self.nodes],
        }

    def __str__(self) -> str:
        rows = [("value", "op", "layer", "type", "FLOPs", "bytes")]
        for n in self.nodes:
            pad = "  " * n.depth
            flops = f"{n.flops:,}" + (f" x{n.repeat}" if n.repeat != 1 else "")
            rows.append((pad + _cell(n.name), _cell(n.op), _cell(n.layer or ""),
                         ", ".join(n.out_types), flops, f"{n.bytes:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        lines = [f"Statistics of graph {self.name!r}"]
        for k, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) if i < 4 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip())
            if k == 0:
                lines.append("-" * len(lines[-1]))
        lines += [
            f"Total FLOPs: {self.flops:,}",
            f"Params: {self.num_params:,} (trainable {self.trainable_params:,}, "
            f"non-trainable {self.non_trainable_params:,}), {self.param_bytes:,} bytes",
            f"Constants: {self.constant_bytes:,} bytes; inputs: {self.input_bytes:,} bytes",
            f"Activations: {self.activation_bytes:,} bytes in all, peak {self.peak_bytes:,} bytes",
            "Ops: " + ", ".join(f"{op} {c}" for op, c in sorted(self.op_counts.items())),
        ]
        lines += [f"Note: {note}" for note in self.notes]
        return escape_controls("\n".join(lines))  # names come from files: no control codes


def _cell(text: str) -> str:
    """One table cell: names from files printed without control codes or line breaks."""
    return escape_controls(text, keep_newlines=False)


class _Counter:
    def __init__(self, batch_size):
        self.batch_size = batch_size
        self.notes: list = []
        self.unknown_dims = False

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def dim(self, d) -> int:
        if d is None:
            if self.batch_size is not None:
                return int(self.batch_size)
            self.unknown_dims = True
            return 1
        return int(d)

    def size(self, t) -> int:
        n = 1
        for d in t.shape:
            n *= self.dim(d)
        return n

    def nbytes(self, t) -> int:
        return self.size(t) * np.dtype(t.dtype).itemsize

    def node_flops(self, node) -> int:
        """FLOPs of one run of ``node`` itself (its bodies are counted apart)."""
        op = node.op
        if op in _FREE:
            return 0
        if op in _MATMUL_K:
            k = self.dim(_MATMUL_K[op](node))
            return 2 * k * self.size(node.out_types[0])
        if graph_attrs(node):
            return 0
        opdef = REGISTRY.get(op)
        kind = opdef.kind if opdef else None
        if kind == "shape":
            return 0
        if op in _OWN_FLOPS:
            return _OWN_FLOPS[op](self, node)
        if kind == "reduction" or op in _PER_ELEMENT_OF_INPUT:
            return self.size(node.inputs[0].type)
        if kind in ("elementwise", "random"):
            return sum(self.size(t) for t in node.out_types)
        self.note(f"no FLOP rule for op {op!r}; counted as 0")
        return 0

    def trip_count(self, node) -> int:
        rule = TRIP_COUNTS.get(node.op)
        if rule is None:
            return 1
        n = rule(node)
        if n is None:
            self.note(f"the trip count of a {node.op} node is unknown; its body is counted once")
            return 1
        return int(n)


def stats(graph: Graph, *, batch_size: int | None = None) -> GraphStats:
    """Op counts, parameter count, FLOPs and memory of ``graph`` (see the module docstring).

    Args:
        graph: the graph (bodies included).
        batch_size: the size to count unknown dimensions as (default: 1, noted).

    Returns:
        A :class:`GraphStats`: ``.flops``, ``.num_params``, ``.op_counts``,
        ``.peak_bytes``, ``.nodes`` (per node, bodies indented), ...
    """
    counter = _Counter(batch_size)
    names = name_values(graph)
    rows: list = []
    variables: dict = {}
    const_bytes = [0]

    def visit(g: Graph, repeat: int, depth: int) -> int:
        """Record ``g``'s nodes; return the FLOPs of one run of ``g``."""
        total = 0
        reader_layer = {}
        for node in g.nodes:
            for t in node.inputs:
                reader_layer.setdefault(t.node, node.layer)
        for node in print_order(g):
            flops = counter.node_flops(node)
            params, layer = 0, node.layer
            if node.op == "param":
                var = node.attrs["variable"]
                if id(var) not in variables:
                    params = int(np.prod(var.shape, dtype=np.int64))
                variables[id(var)] = var
                layer = layer or reader_layer.get(node)
            if node.op == "const":
                const_bytes[0] += int(np.asarray(node.attrs["value"]).nbytes)
            row = NodeStats(", ".join(names[t] for t in node.outputs), node.op, layer,
                            tuple(str(t) for t in node.out_types), flops,
                            sum(counter.nbytes(t) for t in node.out_types), params, repeat, depth)
            rows.append(row)
            own = flops
            bodies = graph_attrs(node)
            if bodies:
                trips = counter.trip_count(node)
                inner = sum(visit(b, repeat * trips, depth + 1) for _, b in bodies)
                own += trips * inner
            total += own
        return total

    flops = visit(graph, 1, 0)
    if counter.unknown_dims:
        counter.note("unknown dimensions (None) are counted as 1; ir.stats(graph, "
                     "batch_size=...) sets them")
    num = sum(int(np.prod(v.shape, dtype=np.int64)) for v in variables.values())
    trainable = sum(int(np.prod(v.shape, dtype=np.int64)) for v in variables.values()
                    if v.trainable)
    param_bytes = sum(v.value().nbytes for v in variables.values())
    activation = sum(r.bytes for r in rows if r.op not in ("param", "const", "input"))
    return GraphStats(
        name=graph.name, nodes=rows, op_counts=Counter(n.op for _, n in graph.walk()),
        num_params=num, trainable_params=trainable, param_bytes=param_bytes,
        constant_bytes=const_bytes[0],
        input_bytes=sum(counter.nbytes(t.type) for t in graph.inputs),
        activation_bytes=activation, peak_bytes=_peak(graph, counter), flops=flops,
        notes=counter.notes)


def _peak(graph: Graph, counter: _Counter) -> int:
    """The most bytes of values alive at once (inputs and results; parameters and
    constants excluded), each value freed after its last use; a node with
    bodies adds their own peak while it runs."""
    last_use: dict = {}
    order = graph.nodes
    for i, node in enumerate(order):
        for t in node.inputs:
            last_use[t] = i
    keep = set(graph.outputs)
    resident = {"param", "const"}
    live = {t: counter.nbytes(t.type) for t in graph.inputs}
    current = sum(live.values())
    peak = current
    for i, node in enumerate(order):
        if node.op in resident:
            continue
        extra = max((_peak(b, counter) for _, b in graph_attrs(node)), default=0)
        for t in node.outputs:
            if t not in live:
                live[t] = counter.nbytes(t.type)
                current += live[t]
        peak = max(peak, current + extra)
        for t in node.inputs:
            if last_use.get(t) == i and t not in keep and t in live:
                current -= live.pop(t)
        for t in node.outputs:
            if t not in last_use and t not in keep and t in live:
                current -= live.pop(t)
    return peak
