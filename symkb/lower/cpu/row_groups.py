"""Row groups: last-axis sums and means with their elementwise neighbours, one pass a row.

A layer normalisation is, after the passes, six nodes over a ``(rows, n)``
value: ``mean(x, axis=-1, keepdims=True)``, ``x - mean``, its square, the
mean of that, ``1 / sqrt(var + eps)`` on the ``(rows, 1)`` values and the
scale and shift back at full width. Emitted one by one, each is a pass over
the whole tensor and each mean a chain of dependent float64 adds (about 1 ms
of a 16 ms Transformer block per normalisation). A *row group* emits them as
one loop over the rows: for each row, each member in order, the full-width
ones as a loop over the row's ``n`` elements (into a scratch row the size of
one row, which stays in the L1 cache, or straight into the result's buffer
where the value leaves the group), the row-shaped ones as scalars, and each
sum or mean as eight running sums that vectorise.

Members: ``sum`` and ``mean`` over the last axis with ``keepdims`` (float
dtypes), and ``fused_elementwise`` nodes whose iteration shape is the
group's full shape ``F = (lead..., n)`` or its row shape ``(lead..., 1)``,
linked to each other producer to consumer. A group holds at least one
reduction and one elementwise node, and is emitted where its last member
stood: every value it makes that a node outside reads is read after that
point (else the group is not formed). Only the function's top level has
groups (not a time loop's body).

The sums run in the input's dtype in eight interleaved partial sums, not in
float64 as a lone ``sum``/``mean`` does: the order of the additions differs
from numpy's pairwise sum by float32 rounding (relative 1e-6 on rows of a
few hundred), as TensorFlow's own vectorised reductions do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...ir.types import is_float
from .elementwise import emit_body
from .scalar import lit, np_type

REDUCTIONS = ("sum", "mean")
PARTIALS = 8  # running sums of a row's reduction


@dataclass
class RowGroup:
    """A row group: its members in graph order and its full shape."""

    members: list
    full: tuple
    outputs: list = field(default_factory=list)  # values read outside the group


def _is_reduction(node) -> bool:
    if node.op not in REDUCTIONS or not node.attrs.get("keepdims"):
        return False
    (x,) = node.inputs
    return (x.ndim >= 2 and node.attrs.get("axis") == (x.ndim - 1,) and is_float(x.dtype)
            and x.dtype == node.out_types[0].dtype and x.shape[-1] != 1)


def _row_shape(full) -> tuple:
    return tuple(full[:-1]) + (1,)


def _elementwise_shape(node):
    shapes = {t.shape for t in node.out_types}
    return shapes.pop() if len(shapes) == 1 else None


def plan_row_groups(graph, users, outputs) -> dict:
    """``node -> RowGroup`` for the members of every group of ``graph``
    (its top level); ``users`` is ``consumers(graph)``."""
    nodes = graph.nodes
    position = {node: k for k, node in enumerate(nodes)}
    kind = {}  # node -> ("reduce", full) | ("full", shape) | ("row", shape)
    for node in nodes:
        if _is_reduction(node):
            kind[node] = ("reduce", node.inputs[0].shape)
        elif node.op == "fused_elementwise":
            shape = _elementwise_shape(node)
            if shape is not None and len(shape) >= 2:
                kind[node] = ("row" if shape[-1] == 1 else "full", shape)
    parent = {node: node for node in kind}

    def find(n):
        while parent[n] is not n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def joins(p, c, t) -> bool:
        (pk, ps), (ck, cs) = kind[p], kind[c]
        out = p.out_types[0].shape if pk == "reduce" else ps
        if ck == "reduce":
            return pk == "full" and ps == cs
        if ck == "full":
            return out == (cs if pk == "full" else _row_shape(cs))
        return pk != "full" and out == cs  # a row-shaped consumer of row values

    for node in kind:
        for t in node.inputs:
            p = t.node
            if p in kind and joins(p, node, t):
                parent[find(node)] = find(p)
    sets: dict = {}
    for node in kind:
        sets.setdefault(find(node), []).append(node)
    plan = {}
    for members in sets.values():
        group = _group(members, kind, position, users, outputs)
        if group is not None:
            for node in members:
                plan[node] = group
    return plan


def _group(members, kind, position, users, outputs):
    if not any(kind[n][0] == "reduce" for n in members) or \
            all(kind[n][0] == "reduce" for n in members):
        return None
    fulls = {kind[n][1] for n in members if kind[n][0] != "row"}
    if len(fulls) != 1:
        return None
    full = fulls.pop()
    if any(kind[n][0] == "row" and kind[n][1] != _row_shape(full) for n in members):
        return None
    members = sorted(members, key=position.get)
    last = position[members[-1]]
    inside = set(members)
    leaving = []
    for node in members:
        for t in node.outputs:
            readers = users.get(t, [])
            outside = [u for u, _ in readers if u is not None and u not in inside]
            if any(position[u] < last for u in outside):
                return None  # read before the group's place: not formed
            if outside or t in outputs:
                leaving.append(t)
    return RowGroup(members, full, leaving)


def _sources(group):
    """Per axis of the full shape: ``None`` for a static size, else an
    ``(operand, axis)`` from outside the group whose size it is (``False``
    when there is none)."""
    inside = {t for n in group.members for t in n.outputs}
    rank = len(group.full)
    found = []
    for k, d in enumerate(group.full):
        source = None if d is not None else False
        for node in group.members:
            for t in node.inputs:
                j = k - (rank - t.ndim)
                if source is False and t not in inside and j >= 0 and t.shape[j] is None:
                    source = (t, j)
        found.append(source)
    return found


def sizable(group) -> bool:
    """Whether every unknown size of the group's shape can be read off an operand."""
    return all(s is not False for s in _sources(group))


def _lead_dims(cg, group):
    """The runtime dims of the group's full shape."""
    return [d if d is not None else cg.dims(s[0])[s[1]]
            for d, s in zip(group.full, _sources(group))]


def running_sum(cg, elem, n: str, dt: str, names=None) -> str:
    """Emit the sum of ``elem(k)`` for ``k`` in ``range(n)`` as :data:`PARTIALS`
    running sums of dtype ``dt`` (one running sum is a chain of dependent adds
    that neither vectorises nor overlaps); returns the total's expression.
    ``names``: the partial sums' names (default: fresh ones)."""
    sums = list(names) if names else [cg.fresh("s") for _ in range(PARTIALS)]
    tail = cg.fresh("n8") if not names else "n8"
    cg.w.line(f"{' = '.join(sums)} = {lit(0, dt)}")
    cg.w.line(f"{tail} = {n} // {PARTIALS} * {PARTIALS}")
    with cg.w.block(f"for k in range(0, {tail}, {PARTIALS}):"):
        for j, sj in enumerate(sums):
            cg.w.line(f"{sj} += {elem(f'k + {j}' if j else 'k')}")
    with cg.w.block(f"for k in range({tail}, {n}):"):
        cg.w.line(f"{sums[0]} += {elem('k')}")
    pairs = sums
    while len(pairs) > 1:
        pairs = [f"({a} + {b})" for a, b in zip(pairs[::2], pairs[1::2])]
    return pairs[0][1:-1]


def emit_row_group(cg, group) -> None:
    """Emit ``group`` (see the module docstring) at the current point."""
    dims = _lead_dims(cg, group)
    rank = len(dims)
    n = dims[-1]
    leaving = set(group.outputs)
    local = {}  # in-group value -> (element function of the k index, or a scalar name)
    buffers = []
    for node in group.members:
        for t in node.outputs:
            row = t.shape[-1] == 1
            tdims = dims[:-1] + [1] if row else dims
            if t in leaving:
                buffers.append((t, cg.result_buffer(t, tdims), row))
            elif not row:
                name = cg.fresh(f"{cg.default_name(t)}_row")
                cg.alloc_buffer(name, [n], t.dtype)
                local[t] = (lambda k, name=name: f"{name}[{k}]")
    where = {t: (name, row) for t, name, row in buffers}
    idx, close = cg.w.loop_nest(dims[:-1])

    def at(name, k):
        return f"{name}[{', '.join(idx + [k])}]"

    for t, (name, row) in where.items():
        if not row:
            local[t] = (lambda k, name=name: at(name, k))

    def element(t, k):
        if t in local:
            v = local[t]
            return v(k) if callable(v) else v
        return cg.elem(t, idx + [k], rank)

    for node in group.members:
        if node.op in REDUCTIONS:
            (x,) = node.inputs
            (out,) = node.outputs
            dt = out.dtype
            total = running_sum(cg, lambda k, x=x: element(x, k), n, dt)
            value = cg.fresh(cg.default_name(out))
            if node.op == "mean":
                cg.w.line(f"{value} = {np_type(dt)}(({total}) / {n})")
            else:
                cg.w.line(f"{value} = {total}")
            local[out] = value
            if out in where:
                cg.w.line(f"{at(where[out][0], '0')} = {value}")
            continue
        shape = node.out_types[0].shape
        if shape[-1] == 1:
            names = [cg.fresh(cg.default_name(t)) for t in node.outputs]
            emit_body(cg, node.attrs["body"], [element(t, "0") for t in node.inputs], names)
            for t, name in zip(node.outputs, names):
                local[t] = name
                if t in where:
                    cg.w.line(f"{at(where[t][0], '0')} = {name}")
            continue
        with cg.w.block(f"for k in range({n}):"):
            targets = [local[t]("k") for t in node.outputs]
            emit_body(cg, node.attrs["body"], [element(t, "k") for t in node.inputs], targets)
    close()
    for t, (name, row) in where.items():
        cg.bind(t, name, dims[:-1] + [1] if row else dims)
