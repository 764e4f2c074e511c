"""The pass pipeline: plain functions ``Graph -> Graph``, one per module.

``PIPELINE`` is the default pass list, an immutable tuple: to change what a
compile runs, build a list of your own from it and pass it to that compile
(``symkb.compile(g, passes=(*PIPELINE[:3], my_pass, *PIPELINE[3:]))``).
:func:`run_pipeline` first checks the list's order against what each pass
declares it requires and ensures (``info.py``; a :class:`PassOrderError`
names the pass and the missing property), then runs the passes in order and records,
for each, whether it changed the graph and how the node counts moved; with
``dump=True`` it prints the graph after every pass, and with
``verify_each=True`` (what the tests use) it verifies after every pass and
names the pass that broke the graph.

Order matters, and the passes' declarations say why: loops first become
canonical scans (``canonicalize_loops``, which ensures ``canonical_loops``:
every later pass and target sees ``scan`` only), then types, then the cheap
clean-ups (fold, simplify, CSE, DCE), then slices sunk through elementwise ops
in loop bodies (so each gate reads the products' columns), then
loop-invariant code motion (both require ``unfused``, so they see
``dot(x_t, W)``), then fusion (elementwise groups, which ensure
``fused_elementwise``, then dot and convolution epilogues, which require it).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ...ir import Graph, VerifyError
from ...ir import verify as _verify
from .canonicalize_loops import canonicalize_loops
from .cse import cse
from .dce import dce
from .fold_constants import fold_constants
from .fuse_conv import fuse_conv
from .fuse_dot import fuse_dot
from .fuse_elementwise import fuse_elementwise
from .infer_types import infer_types
from .info import PassInfo, PassOrderError, check_order, declare_pass, pass_info
from .licm import licm
from .merge_scans import merge_scans
from .rewrite import consumers, map_bodies, rewrite
from .simplify import simplify
from .sink_slices import sink_slices
from .sink_transposes import sink_transposes
from .verify import verify

PIPELINE = (verify, canonicalize_loops, infer_types, fold_constants, simplify, cse, merge_scans,
            dce, sink_slices, sink_transposes, licm, cse, dce, fuse_elementwise, fuse_dot,
            fuse_conv, dce,
            verify)


@dataclass
class PassRecord:
    """What one pass did: its name, whether the graph changed, node counts
    (nested bodies included, so a fusion that moves nodes into a body adds
    the fused node)."""

    name: str
    changed: bool
    nodes_before: int
    nodes_after: int
    ops_before: dict = field(default_factory=dict, repr=False)
    ops_after: dict = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        if not self.changed:
            return f"{self.name}: no change"
        diff = []
        for op in sorted(set(self.ops_before) | set(self.ops_after)):
            d = self.ops_after.get(op, 0) - self.ops_before.get(op, 0)
            if d:
                diff.append(f"{op} {d:+d}")
        detail = ", ".join(diff) if diff else "nodes rewritten or moved, same ops"
        return f"{self.name}: {self.nodes_before} -> {self.nodes_after} nodes ({detail})"

    def __str__(self) -> str:
        return self.summary()


class PassReport(list):
    """The :class:`PassRecord` of each pass, in order (a list), printed one
    line per pass: ``print(compiled.passes_report)`` gives
    ``cse: 96 -> 89 nodes (add -3, ...)``."""

    def __str__(self) -> str:
        return "\n".join(str(record) for record in self) if self else "(no passes ran)"

    __repr__ = __str__


def _op_counts(graph: Graph) -> dict:
    counts: dict = {}
    for _, node in graph.walk():
        counts[node.op] = counts.get(node.op, 0) + 1
    return counts


def pass_name(p) -> str:
    return getattr(p, "__name__", type(p).__name__)


def run_pipeline(graph: Graph, passes=None, *, dump: bool = False, verify_each: bool = False,
                 file=None):
    """Run ``passes`` (default :data:`PIPELINE`) on ``graph``.

    Returns:
        ``(graph, report)``: the final graph and a :class:`PassReport` (a list of
        :class:`PassRecord` that prints one line per pass).

    Raises:
        PassOrderError: a pass of ``passes`` requires a graph property that
            no earlier pass ensures (or an earlier one invalidated).
        VerifyError: with ``verify_each``, naming the pass after which the
            graph stopped verifying.
    """
    passes = PIPELINE if passes is None else tuple(passes)
    check_order(passes, pass_name, PIPELINE)
    out = file or sys.stdout
    report = PassReport()
    counts = _op_counts(graph)
    for p in passes:
        before, before_counts = graph, counts
        try:
            graph = p(graph)
        except VerifyError as exc:
            raise VerifyError(f"pass {pass_name(p)!r} found an invalid graph: {exc}") from None
        if not isinstance(graph, Graph):
            raise TypeError(f"pass {pass_name(p)!r} returned {type(graph).__name__}, "
                            "expected a Graph")
        counts = _op_counts(graph) if graph is not before else before_counts
        record = PassRecord(pass_name(p), graph is not before, sum(before_counts.values()),
                            sum(counts.values()), before_counts, counts)
        report.append(record)
        if verify_each and graph is not before:
            try:
                _verify(graph)
            except VerifyError as exc:
                raise VerifyError(f"the graph no longer verifies after pass "
                                  f"{pass_name(p)!r}: {exc}") from None
        if dump:
            print(f"--- after {record.summary()}", file=out)
            if record.changed:
                print(graph, file=out)
    return graph, report


__all__ = ["PIPELINE", "run_pipeline", "PassRecord", "PassReport", "rewrite", "map_bodies",
           "consumers", "PassInfo", "PassOrderError", "check_order", "declare_pass", "pass_info",
           "verify", "canonicalize_loops", "infer_types", "fold_constants", "simplify", "cse",
           "merge_scans", "dce", "sink_slices", "sink_transposes",
           "licm",
           "fuse_elementwise", "fuse_dot", "fuse_conv"]
