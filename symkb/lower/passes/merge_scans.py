"""Pass ``merge_scans``: a scan whose steps another scan already computes is dropped.

Assumes: canonical loops (scans only), duplicate operands already merged
(``cse``). Guarantees: of two ``scan`` nodes over the same operands (the same
tensors), with the same ``reverse``, ``length`` and group sizes, where the
body of one computes every step output and new state of the other (the same
operations on the same step inputs, compared structurally), the smaller one's
results are read from the larger one. Values are unchanged.

This is how a gradient runs the forward recurrence once: the loop's rule
(``symkb/ir/ops/scan_grad.py``) saves its residuals with a second forward
scan over the loop's operands whose body is a copy of the step with more
outputs; the forward values the loss reads come from the loop itself. After
this pass the loss reads the scan that also saves the residuals.
"""
from __future__ import annotations

from ...ir import Graph, get_op
from .cse import _hashable
from .info import declare_pass
from .rewrite import map_bodies, rewrite

_SAME = ("reverse", "length", "num_sequences", "num_states", "num_constants")


@declare_pass(requires={"types", "canonical_loops"})
def merge_scans(graph: Graph) -> Graph:
    """Read a scan's results from a scan that computes them too (module docstring)."""
    graph = map_bodies(graph, merge_scans)
    scans = [n for n in graph.nodes if n.op == "scan"]
    if len(scans) < 2:
        return graph
    intern: dict = {}
    keys = {id(n): _body_keys(n.attrs["body"], intern) for n in scans}
    into = {}
    for small in scans:
        for big in scans:
            if big is small or id(big) in into or not _same_loop(small, big):
                continue
            where = _embedding(keys[id(small)], keys[id(big)], small, big)
            if where is not None:
                into[id(small)] = (big, where)
                break

    def read_from_the_larger(node):
        found = into.get(id(node))
        if found is None:
            return None
        big, where = found
        return tuple(big.outputs[i] for i in where)

    return rewrite(graph, read_from_the_larger) if into else graph


def _same_loop(a, b) -> bool:
    return (len(a.inputs) == len(b.inputs) and all(x is y for x, y in zip(a.inputs, b.inputs))
            and all(a.attrs[k] == b.attrs[k] for k in _SAME)
            and a.attrs["num_outputs"] <= b.attrs["num_outputs"])


def _embedding(small_keys, big_keys, small, big):
    """The index in ``big``'s results of each of ``small``'s, or ``None``."""
    no_s, no_b = small.attrs["num_outputs"], big.attrs["num_outputs"]
    if small_keys[no_s:] != big_keys[no_b:]:
        return None
    outs = {}
    for j, k in enumerate(big_keys[:no_b]):
        outs.setdefault(k, j)
    picks = [outs.get(k) for k in small_keys[:no_s]]
    if None in picks:
        return None
    ns = small.attrs["num_states"]
    return (picks + [no_b + j for j in picks]
            + [2 * no_b + s for s in range(ns)])


def _body_keys(body: Graph, intern: dict) -> list:
    """One int per body output, equal for outputs computed by the same
    operations from the same body inputs (``intern`` is shared, so keys of two
    bodies compare); a node whose attributes cannot be compared gets a key of
    its own."""
    keys = {t: intern.setdefault(("input", i, t.type), len(intern))
            for i, t in enumerate(body.inputs)}
    for n in body.nodes:
        if n.op == "input":
            continue
        if not get_op(n.op).pure:       # two draws differ, two prints print twice
            for i, o in enumerate(n.outputs):
                keys[o] = intern.setdefault(("node", id(n), i), len(intern))
            continue
        try:
            attrs = tuple(sorted((k, _hashable(v)) for k, v in n.attrs.items()))
            sig = (n.op, attrs, tuple(keys[t] for t in n.inputs), tuple(n.out_types))
            hash(sig)
        except TypeError:
            sig = ("node", id(n))
        for i, o in enumerate(n.outputs):
            keys[o] = intern.setdefault((sig, i), len(intern))
    return [keys[t] for t in body.outputs]
