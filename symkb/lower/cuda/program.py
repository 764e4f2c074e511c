"""From an optimised graph to a device program: kernels plus host launch steps.

:class:`Lowering` offers each node of the graph to the cuda target's emitter
table (``op -> emitter``, merged from the kernel modules' tables in
``executable.py`` and handed to the lowering; the per-element code of
elementwise ops is the shared :data:`symkb.lower.scalar.RULES`). An
emitter adds kernels to the :class:`~.source.KernelModule` and appends
:class:`Step` objects: small host closures that read device arrays from the
environment, allocate the result on the device, and launch. Values never
leave the device between steps; the executable copies inputs in and outputs
out once per call.

An op without a kernel may be lowered by *decomposition*: its emitter builds
the same computation from other ops (``softmax`` from ``max``, ``exp``,
``sum`` and ``divide``, ``stack`` from ``expand_dims`` and ``concatenate``)
and lowers those nodes. Ops that can do neither are listed in
:data:`UNSUPPORTED` with the reason, and compiling a graph that uses one
raises a clear error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...ir import Graph, KerasTensor, Node, get_op
from ...ir.printer import name_values
from ...ir.types import TensorType
from ..errors import CudaLoweringError
from ..writer import ir_line
from . import adapter
from .source import KernelModule

UNSUPPORTED = {
    "dropout": "a random op: numpy's generator stream (the interpreter's meaning) cannot be "
               "reproduced on the device; inference graphs do not contain it",
    **{op: "a random op: it draws on the host (the cpu target under 'auto')"
       for op in ("random_uniform", "random_normal", "truncated_normal", "random_bernoulli")},
    "print_tensor": "it prints from the host (the cpu target under 'auto')",
    "round_float16": "it only appears in graphs the cpu target widens from float16",
}


@dataclass
class Step:
    """One host action: launch kernel(s) on device arrays read from ``env``."""

    run: Callable
    reads: tuple = ()
    label: str = ""
    frees: list = field(default_factory=list)


def make_node(op, *inputs, layer=None, **attrs) -> Node:
    """A new node of ``op`` over ``inputs`` with inferred types."""
    types = get_op(op).infer([t.type for t in inputs], attrs)
    return Node(op, tuple(inputs), attrs, types, layer=layer)


def concrete(t: KerasTensor, array) -> TensorType:
    return TensorType(tuple(array.shape), t.dtype)


def runtime_types(node: Node, arrays) -> tuple:
    """The node's result types for these concrete operands (shapes all known)."""
    types = [concrete(t, a) for t, a in zip(node.inputs, arrays)]
    return get_op(node.op).infer(types, node.attrs)


class Lowering:
    """Lowers one graph (and, through :meth:`lower_body`, loop bodies) to steps."""

    def __init__(self, graph: Graph, module: KernelModule | None = None, *, options=None,
                 emitters: dict):
        self.graph = graph
        self.emitters = emitters  # op -> emitter: the target's table
        self.module = module or KernelModule(graph.name)
        self.options = dict(options or {})
        self.steps: list[Step] = []
        self.consts: dict = {}          # const node -> device array (uploaded on first run)
        self.absorbed: set = set()      # nodes computed inside another node's kernel
        self.uses = _use_counts(graph)
        self.namer = name_values(graph)  # value names of the kernels' IR-line comments
        self.position = {n: i for i, n in enumerate(graph.nodes)}
        self.consumers = {}
        for n in graph.nodes:
            for t in n.inputs:
                self.consumers.setdefault(t, []).append(n)

    # -- driving -------------------------------------------------------------
    def lower(self) -> "Lowering":
        for node in self.graph.nodes:
            self.lower_node(node)
        self._plan_frees(keep=set(self.graph.outputs) | set(self.graph.inputs))
        return self

    def lower_node(self, node: Node):
        if node in self.absorbed:
            return
        fn = self.emitters.get(node.op)
        if fn is None:
            reason = UNSUPPORTED.get(node.op, "no kernel or decomposition is registered for it")
            raise CudaLoweringError(
                f"target='cuda' cannot compile op {node.op!r} "
                f"(node {ir_line(node, self.namer)}): {reason}. "
                "Use target='cpu' or 'interpreter' for this graph.", node=node)
        fn(self, node)

    def add(self, run, reads=(), label=""):
        self.steps.append(Step(run, tuple(reads), label))

    def kernel(self, base, build, node=None) -> str:
        return self.module.add(base, build, ir_line(node, self.namer) if node is not None else "")

    def base_name(self, node: Node, suffix: str) -> str:
        prefix = (node.layer or node.name or "").replace("/", "_")
        return f"{prefix}_{suffix}" if prefix else suffix

    def single_use(self, t: KerasTensor) -> bool:
        return self.uses.get(t, 0) == 1 and t not in self.graph.outputs

    def upload_const(self, t: KerasTensor):
        """A step putting const ``t`` in the environment (uploaded on the first run only)."""
        if t in self.consts:
            return
        value = np.ascontiguousarray(np.asarray(t.node.attrs["value"], dtype=t.dtype))
        cache = self.consts[t] = {}

        def run(env):
            if "device" not in cache:
                cache["device"] = adapter.to_device(value)
            env[t] = cache["device"]
        self.add(run, label="const")

    # -- decomposition -------------------------------------------------------
    def decompose(self, node: Node, new_outputs):
        """Lower the nodes between ``node.inputs`` and ``new_outputs``; alias the results."""
        sub = Graph(node.inputs, new_outputs, name=f"{node.op}_decomposition")
        for inner in sub.nodes:
            self.lower_node(inner)
        pairs = list(zip(node.outputs, new_outputs))

        def alias(env):
            for old, new in pairs:
                env[old] = env[new]
        self.add(alias, reads=[n for _, n in pairs], label=f"{node.op} (decomposed)")

    # -- memory --------------------------------------------------------------
    def _plan_frees(self, keep):
        last = {}
        for i, step in enumerate(self.steps):
            for t in step.reads:
                last[t] = i
        for t, i in last.items():
            if t not in keep:
                self.steps[i].frees.append(t)

    def run(self, env):
        for step in self.steps:
            step.run(env)
            for t in step.frees:
                env.pop(t, None)
        return env


def _use_counts(graph: Graph) -> dict:
    uses = {}
    for node in graph.nodes:
        for t in node.inputs:
            uses[t] = uses.get(t, 0) + 1
    for t in graph.outputs:
        uses[t] = uses.get(t, 0) + 1
    return uses


def size_of(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def contiguous_strides(shape) -> list:
    """Element strides of a C-contiguous array of ``shape``."""
    strides, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = acc
        acc *= int(shape[d])
    return strides
