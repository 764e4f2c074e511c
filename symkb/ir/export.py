"""Graphs as networkx graphs (:func:`to_networkx` / :func:`from_networkx`) and Graphviz DOT.

``to_networkx(graph)`` gives an ``nx.MultiDiGraph``. Its nodes are keyed by
the names ``print(graph)`` uses (without ``%``: ``'x'``, ``'kernel'``,
``'0'``, ...), one per IR node, graph inputs included, with the data

* ``op``, ``attrs`` (the non-graph attributes, as they are: arrays, Variables),
  ``types`` (strings such as ``'f32[?,4]'``; also as ``out_types``), ``outputs`` (the printed
  names of the results), ``layer``, ``name`` (the node's name hint);
* ``body``: for a node holding graphs (``loop``, ``fused_elementwise``), the
  first of them as its own MultiDiGraph (same layout), and ``bodies``:
  ``{attribute key: MultiDiGraph}`` for all of them;
* ``index``: the position of a graph input.

An edge ``producer -> consumer`` (edge key = operand index) carries
``operand``, ``output`` (the producer's result index), ``type``, ``shape``,
``dtype`` and ``name`` (the printed value name). The graph data holds
``name``, ``inputs`` (node keys) and ``outputs`` (``(key, result index)``).

Recipes on the result (``G = to_networkx(graph)``)::

    nx.ancestors(G, "3")                    # everything value %3 depends on
    collections.Counter(op for _, op in G.nodes(data="op"))    # op histogram
    nx.dag_longest_path(G)                  # the longest dependency chain

(:mod:`symkb.ir.query` has the same queries on graphs directly, bodies
included.) ``to_dot(graph)`` writes Graphviz source: one box per node, value
types on the edges, each body as a cluster inside its node's cluster.
networkx is imported only when these functions are called.
"""
from __future__ import annotations

from . import limits
from .build import placeholder_node
from .graph import Graph
from .json_read import check_const, check_param
from .node import Node
from .printer import Namer, attr_items, graph_attrs, name_values, print_order
from .serialize import GraphFormatError, parse_type
from .variable import Variable
from .verify import verify as run_verify


def _key(namer: Namer, tensor) -> str:
    return namer[tensor][1:]


def to_networkx(graph: Graph):
    """``graph`` as an ``nx.MultiDiGraph`` (see the module docstring)."""
    return _to_nx(graph, name_values(graph))


def _to_nx(graph: Graph, namer: Namer):
    import networkx as nx

    G = nx.MultiDiGraph(name=graph.name)
    given = set(graph.inputs)

    def source(t):
        return (_key(namer, t), 0) if t in given else (_key(namer, t.node.outputs[0]), t.index)

    for i, t in enumerate(graph.inputs):
        G.add_node(_key(namer, t), op="input", attrs={}, types=[str(t.type)],
                   out_types=[str(t.type)],
                   outputs=[namer[t]], layer=None, name=t.node.name, index=i)
    for node in print_order(graph):
        data = {"op": node.op,
                "attrs": {k: v for k, v in node.attrs.items() if not isinstance(v, Graph)},
                "types": [str(t) for t in node.out_types],
                "out_types": [str(t) for t in node.out_types],
                "outputs": [namer[t] for t in node.outputs],
                "layer": node.layer, "name": node.name}
        bodies = graph_attrs(node)
        if bodies:
            data["bodies"] = {k: _to_nx(b, namer) for k, b in bodies}
            data["body"] = data["bodies"][bodies[0][0]]
        key = _key(namer, node.outputs[0])
        G.add_node(key, **data)
        for i, t in enumerate(node.inputs):
            u, j = source(t)
            G.add_edge(u, key, key=i, operand=i, output=j, type=str(t.type), shape=t.shape,
                       dtype=t.dtype, name=namer[t])
    G.graph["inputs"] = [_key(namer, t) for t in graph.inputs]
    G.graph["outputs"] = [source(t) for t in graph.outputs]
    return G


def from_networkx(G, variables=None, *, verify: bool = True) -> Graph:
    """Rebuild a :class:`Graph` from :func:`to_networkx`'s layout.

    Nodes are rebuilt from their data alone (``op``, ``attrs``, ``out_types``,
    ``layer``, ``name``, ``bodies``) in a topological order of ``G``;
    operands come from the in-edges (``operand``, ``output``). ``param``
    nodes keep their Variable; ``variables`` (name -> Variable) replaces them.
    Like every loader it checks each declared type against what the node
    holds (a ``param``'s Variable, a ``const``'s array) and verifies the
    result (``verify=False`` skips that, for graphs of a trusted origin).

    Raises:
        GraphFormatError: (a :class:`~symkb.ir.errors.FileFormatError`) for a
            networkx graph that is not in this layout, naming the node and field.
    """
    with limits.reading("<networkx graph>", "symkb networkx layout", GraphFormatError):
        graph = _from_nx(G, dict(variables or {}), 0)
        if verify:
            run_verify(graph)
        return graph


def _nx_fail(where: str, message: str):
    raise GraphFormatError(f"{where}: {message}", field=where)


def _from_nx(G, variables, depth: int) -> Graph:
    import networkx as nx


    limits.check_depth(depth, "graph")
    if not isinstance(G, nx.DiGraph):
        _nx_fail("graph", f"expected a networkx DiGraph/MultiDiGraph. Received: "
                          f"{type(G).__name__}")
    limits.check_nodes(G.number_of_nodes(), "graph")
    try:
        order = list(nx.lexicographical_topological_sort(G, key=str))
    except nx.NetworkXException as exc:  # a cycle
        _nx_fail("graph", f"the nodes have no topological order ({exc})")
    built: dict = {}
    for key in order:
        where = f"node {str(key)[:40]!r}"
        data = G.nodes[key]
        op, raw_types = data.get("op"), data.get("types", data.get("out_types"))
        if not isinstance(op, str) or not isinstance(raw_types, (list, tuple)) or not raw_types:
            _nx_fail(where, "needs 'op' (a string) and 'types' (a list of types such as "
                            f"'f32[?,4]'). Received: op={str(op)[:40]}, "
                            f"types={str(raw_types)[:40]}")
        types = tuple(parse_type(s, f"{where}.types") for s in raw_types)
        name, layer = data.get("name"), data.get("layer")
        for field, v in (("name", name), ("layer", layer)):
            if v is not None and not isinstance(v, str):
                _nx_fail(f"{where}.{field}", f"expected a string. Received: {str(v)[:40]}")
        if op == "input" and "index" in data:
            if len(types) != 1:
                _nx_fail(f"{where}.types", f"an input has one type. Received: {len(types)}")
            (t,) = types
            built[key] = placeholder_node(t.shape, t.dtype, name or str(key)).node
            continue
        edges = sorted(G.in_edges(key, data=True), key=lambda e: _edge_int(e[2], "operand", where))
        if [_edge_int(d, "operand", where) for _, _, d in edges] != list(range(len(edges))):
            _nx_fail(where, "the in-edges' 'operand' numbers must be 0, 1, ... once each")
        inputs = []
        for u, _, d in edges:
            j = _edge_int(d, "output", where, 0)
            if j >= len(built[u].outputs):
                _nx_fail(where, f"an in-edge reads result {j} of a node with "
                                f"{len(built[u].outputs)}")
            inputs.append(built[u].outputs[j])
        attrs = data.get("attrs", {})
        bodies = data.get("bodies", {})
        if not isinstance(attrs, dict) or not isinstance(bodies, dict):
            _nx_fail(where, "'attrs' and 'bodies' must be dicts")
        attrs = dict(attrs)
        for k, body in bodies.items():
            attrs[k] = _from_nx(body, variables, depth + 1)
        if op == "param":
            var = attrs.get("variable")
            if not isinstance(var, Variable):
                _nx_fail(f"{where}.attrs", "a param node holds its Variable in "
                                           "attrs['variable']")
            attrs = {"variable": variables.get(var.name, var)}
            check_param(attrs["variable"], types, where)
        elif op == "const":
            check_const(attrs, types, where)
        built[key] = Node(op, tuple(inputs), attrs, types, name, layer)
    ins, outs = G.graph.get("inputs"), G.graph.get("outputs")
    try:
        inputs = [built[k].outputs[0] for k in ins]
        outputs = [built[k].outputs[j] for k, j in outs]
    except (TypeError, KeyError, IndexError, ValueError):
        _nx_fail("graph", "G.graph needs 'inputs' (node keys) and 'outputs' ((node key, "
                          f"result index) pairs). Received: inputs={str(ins)[:40]}, "
                          f"outputs={str(outs)[:40]}")
    name = G.graph.get("name", "graph")
    if not isinstance(name, str):
        _nx_fail("graph.name", f"expected a string. Received: {str(name)[:40]}")
    return Graph(inputs, outputs, name=name)


def _edge_int(data, key: str, where: str, default=None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _nx_fail(where, f"an in-edge's {key!r} must be a non-negative int. Received: "
                        f"{str(value)[:40]}")
    return value


# -- DOT ----------------------------------------------------------------------

_FILL = {"input": "#dbeafe", "param": "#fef3c7", "const": "#e5e7eb"}


def _quote(text: str) -> str:
    """A DOT double-quoted string (``\\n`` line breaks kept as DOT escapes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _fill(items, width: int = 40) -> list:
    """Join ``items`` with commas into lines of about ``width`` characters."""
    lines, current = [], ""
    for item in items:
        if current and len(current) + 2 + len(item) > width:
            lines.append(current + ",")
            current = item
        else:
            current = f"{current}, {item}" if current else item
    return lines + ([current] if current else [])


class _Dot:
    def __init__(self, namer, show_shapes, show_layer_names, show_attrs, group_layers,
                 expand_bodies=True):
        self.namer = namer
        self.expand_bodies = expand_bodies
        self.inputs_of: dict = {}
        self.show_shapes = show_shapes
        self.show_layer_names = show_layer_names
        self.show_attrs = show_attrs
        self.group_layers = group_layers
        self.lines: list = []
        self.clusters = 0

    def node_id(self, tensor, scope) -> str:
        return _quote(f"{scope}{self.namer[tensor]}" if tensor in self.inputs_of[scope]
                      else f"{scope}{self.namer[tensor.node.outputs[0]]}")

    def emit_graph(self, graph: Graph, scope: str, pad: str):
        self.inputs_of[scope] = set(graph.inputs)
        for i, t in enumerate(graph.inputs):
            label = f"{self.namer[t]}\n{t.type}" if self.show_shapes else self.namer[t]
            self.lines.append(f"{pad}{self.node_id(t, scope)} [label={_quote(label)}, "
                              f'shape=ellipse, fillcolor="{_FILL["input"]}"];')
        by_layer: dict = {}
        for node in print_order(graph):
            if self.group_layers and node.layer and not graph_attrs(node):
                by_layer.setdefault(node.layer, []).append(node)
            else:
                by_layer.setdefault(None, []).append(node)
        for layer, nodes in by_layer.items():
            inner = pad
            if layer is not None:
                self.clusters += 1
                self.lines.append(f"{pad}subgraph {_quote(f'cluster_{self.clusters}')} {{")
                self.lines.append(f"{pad}  label={_quote(layer)}; style=dashed;")
                inner = pad + "  "
            for node in nodes:
                self.emit_node(node, scope, inner)
            if layer is not None:
                self.lines.append(f"{pad}}}")
        for node in print_order(graph):
            for i, t in enumerate(node.inputs):
                attrs = []
                if self.show_shapes:
                    label = str(t.type) + (f" #{t.index}" if len(t.node.outputs) > 1
                                           and t not in graph.inputs else "")
                    attrs.append(f"label={_quote(label)}")
                if len(node.inputs) > 1:
                    attrs.append(f"headlabel={_quote(str(i))}")
                self.lines.append(f"{pad}{self.node_id(t, scope)} -> "
                                  f"{self.node_id(node.outputs[0], scope)}"
                                  + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
        for i, t in enumerate(graph.outputs):
            out = _quote(f"{scope}@output{i}")
            self.lines.append(f"{pad}{out} [label={_quote(f'output {i}')}, shape=ellipse, "
                              f'fillcolor="{_FILL["input"]}"];')
            multi = len(t.node.outputs) > 1 and t not in self.inputs_of[scope]
            label = f" [label={_quote(str(t.type) + (f' #{t.index}' if multi else ''))}]" \
                if self.show_shapes else ""
            self.lines.append(f"{pad}{self.node_id(t, scope)} -> {out}{label};")

    def label(self, node) -> str:
        names = ", ".join(self.namer[t] for t in node.outputs)
        head = f"{names} = {node.op}"
        parts = [head]
        if node.op == "param":
            parts.append(node.attrs["variable"].name)
        elif self.show_attrs:
            parts.extend(_fill([_short(s) for s in attr_items(node)]))
        if self.show_shapes:
            parts.append(", ".join(str(t) for t in node.out_types))
        if self.show_layer_names and node.layer and not self.group_layers:
            parts.append(f"({node.layer})")
        return "\n".join(parts)

    def emit_node(self, node, scope, pad):
        nid = self.node_id(node.outputs[0], scope)
        fill = _FILL.get(node.op, "#ffffff")
        bodies = graph_attrs(node) if self.expand_bodies else []
        if not bodies:
            if graph_attrs(node):
                fill = "#fce7f3"
            self.lines.append(f"{pad}{nid} [label={_quote(self.label(node))}, "
                              f'fillcolor="{fill}"];')
            return
        self.clusters += 1
        self.lines.append(f"{pad}subgraph {_quote(f'cluster_{self.clusters}')} {{")
        title = node.op + (f" ({node.layer})" if node.layer and self.show_layer_names else "")
        self.lines.append(f"{pad}  label={_quote(title)}; style=rounded;")
        self.lines.append(f"{pad}  {nid} [label={_quote(self.label(node))}, "
                          f'fillcolor="#fce7f3"];')
        for key, body in bodies:
            self.clusters += 1
            sub_scope = f"{scope}{self.namer[node.outputs[0]]}.{key}/"
            self.lines.append(f"{pad}  subgraph {_quote(f'cluster_{self.clusters}')} {{")
            self.lines.append(f"{pad}    label={_quote(key)}; style=dotted;")
            self.emit_graph(body, sub_scope, pad + "    ")
            self.lines.append(f"{pad}  }}")
        self.lines.append(f"{pad}}}")


def to_dot(graph: Graph, *, show_shapes: bool = True, show_layer_names: bool = True,
           show_attrs: bool = True, group_layers: bool = False, expand_bodies: bool = True,
           rankdir: str = "TB", dpi: int | None = None) -> str:
    """Graphviz source for ``graph``.

    Args:
        graph: the graph.
        show_shapes: value types on the edges and in the boxes.
        show_layer_names: the layer of each node in its box.
        show_attrs: the attributes of each node in its box (long values cut).
        group_layers: put the nodes of each layer in a dashed cluster.
        expand_bodies: draw the graphs nested in nodes (loop bodies, fused
            groups) as clusters; else such a node is one box.
        rankdir: ``'TB'`` (top to bottom) or ``'LR'`` (left to right).
        dpi: the resolution ``dot`` renders images at.

    Returns:
        The DOT text (render it with ``dot -Tpng file.dot -o file.png``).
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', received {rankdir!r}")
    dot = _Dot(name_values(graph), show_shapes, show_layer_names, show_attrs, group_layers,
               expand_bodies)
    head = [f"digraph {_quote(graph.name)} {{",
            f"  graph [rankdir={rankdir}, compound=true, fontname=\"Helvetica\""
            + (f", dpi={int(dpi)}" if dpi else "") + "];",
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
            '  edge [fontname="Helvetica", fontsize=9];']
    dot.emit_graph(graph, "", "  ")
    return "\n".join(head + dot.lines + ["}"]) + "\n"

