"""Elementwise kernels: one generated ``@cuda.jit`` kernel per fused group or plain op.

Every kernel walks the flattened iteration space with a grid-stride loop
(``i = cuda.grid(1)``; ``i += cuda.gridsize(1)``), so any launch size covers
any array. Operands are read with numpy broadcasting, decided per operand
from its static type:

* *scalar* (one element): read once, before the loop;
* *direct* (the iteration shape itself): read at the flat index ``i``;
* *strided*: ``i`` is split into coordinates ``c0..c{r-1}`` (once per
  element) and the operand is read at ``sum(c_d * s_d)`` with runtime element
  strides that are 0 along broadcast axes; axes where the operand statically
  has size 1 (or no axis at all) drop out of the sum at code generation.

:class:`Body` turns a closed graph of elementwise ops into typed scalar
statements (the shared rules of :mod:`symkb.lower.scalar`, read in the cuda
dialect of ``scalar.py``); the matrix-product epilogue (``linalg.py``) reuses
it with the accumulator as one of the body inputs.
"""
from __future__ import annotations

import numpy as np

from ...ir import Graph
from ..emitters import registrar
from . import adapter
from ..scalar import RULES
from .program import UNSUPPORTED, CudaLoweringError, Step, contiguous_strides, size_of
from .scalar import CudaScalars, lit
from .source import KERNEL, SourceWriter

EMITTERS: dict = {}  # this module's ops (executable.py merges the tables)
emitter = registrar(EMITTERS)

#: the elementwise ops this target compiles: every shared scalar rule but the
#: ops program.UNSUPPORTED gives a reason for
SCALAR_OPS = tuple(op for op in RULES if op not in UNSUPPORTED)


class Body:
    """Scalar code for a closed graph of elementwise ops."""

    def __init__(self, inputs, nodes, outputs):
        self.inputs = list(inputs)
        self.nodes = [n for n in nodes if n.op != "input"]
        self.outputs = list(outputs)
        self.array_consts = [n.outputs[0] for n in self.nodes
                             if n.op == "const" and np.asarray(n.attrs["value"]).size != 1]

    @classmethod
    def of_graph(cls, graph: Graph):
        return cls(graph.inputs, graph.nodes, graph.outputs)

    @classmethod
    def of_node(cls, node):
        return cls(list(dict.fromkeys(node.inputs)), [node], node.outputs)

    def emit(self, w, names: dict) -> list:
        """Write the statements; ``names`` maps body inputs (and array consts) to locals."""
        env = dict(names)
        count = [len(env)]

        def new_name(base):
            count[0] += 1
            return f"{base}{count[0] - 1}"

        d = CudaScalars(w, new_name)
        for node in self.nodes:
            if node.op == "const":
                t = node.outputs[0]
                if t not in env:
                    value = np.asarray(node.attrs["value"]).reshape(-1)[0]
                    env[t] = lit(value.item(), t.dtype)
                continue
            if node.op not in SCALAR_OPS:
                raise CudaLoweringError(f"cuda target: no scalar code for elementwise op "
                                        f"{node.op!r}", node=node)
            # zeros_like / ones_like read their operand for its shape only
            args = [] if node.op in ("zeros_like", "ones_like") else [env[t] for t in node.inputs]
            expr = d.result(RULES[node.op](d, node, args), node.out_types[0].dtype)
            var = new_name("v")
            w.line(f"{var} = {expr}")
            env[node.outputs[0]] = var
        return [env[t] for t in self.outputs]


class OperandPlan:
    """How a kernel reads one operand against an iteration shape of rank ``rank``."""

    def __init__(self, index: int, shape: tuple, out_shape: tuple):
        self.index = index
        self.rank = len(out_shape)
        pad = self.rank - len(shape)
        self.aligned = (1,) * pad + tuple(shape)
        if all(d == 1 for d in shape):
            self.kind = "scalar"
        elif tuple(self.aligned) == tuple(out_shape):
            self.kind = "direct"
        else:
            self.kind = "strided"
        # axes that contribute a term: the operand has them and they are not statically 1
        self.axes = [d for d in range(self.rank) if d >= pad and self.aligned[d] != 1] \
            if self.kind == "strided" else []

    def stride_args(self):
        return [f"s{self.index}_{d}" for d in self.axes]

    def runtime_strides(self, shape, out_shape):
        pad = self.rank - len(shape)
        own = contiguous_strides(shape)
        return [own[d - pad] if shape[d - pad] == out_shape[d] else 0 for d in self.axes]


def emit_coords(w, rank, index="i"):
    """Split the flat ``index`` into coordinates ``c0..`` over dims ``d0..``."""
    if rank == 0:
        return
    if rank == 1:
        w.line(f"c0 = {index}")
        return
    w.line(f"r_ = {index}")
    for d in range(rank - 1, 0, -1):
        w.line(f"c{d} = r_ % d{d}")
        w.line(f"r_ = r_ // d{d}")
    w.line("c0 = r_")


def operand_read(plan: OperandPlan, array: str, index="i") -> str:
    if plan.kind == "scalar":
        return f"{array}[0]"
    if plan.kind == "direct":
        return f"{array}[{index}]"
    terms = [f"c{d} * s{plan.index}_{d}" for d in plan.axes]
    return f"{array}[{' + '.join(terms) if terms else '0'}]"


def build_kernel(name, body: Body, operand_shapes, out_shape, n_out) -> tuple:
    """Source of an elementwise kernel and its operand plans."""
    plans = [OperandPlan(j, s, out_shape) for j, s in enumerate(operand_shapes)]
    rank = len(out_shape)
    outs = [f"out{k}" for k in range(n_out)]
    ins = [f"a{j}" for j in range(len(plans))]
    dims = [f"d{d}" for d in range(rank)]
    strides = [s for p in plans for s in p.stride_args()]
    w = SourceWriter()
    w.line(KERNEL)
    w.line(f"def {name}({', '.join(outs + ins + ['n'] + dims + strides)}):")
    with w.indent():
        names = {}
        for p, t in zip(plans, body.inputs):
            if p.kind == "scalar":
                w.line(f"x{p.index} = a{p.index}[0]")
                names[t] = f"x{p.index}"
        w.line("i = cuda.grid(1)")
        w.line("step = cuda.gridsize(1)")
        w.line("while i < n:")
        with w.indent():
            if any(p.kind == "strided" for p in plans):
                emit_coords(w, rank)
            for p, t in zip(plans, body.inputs):
                if p.kind != "scalar":
                    w.line(f"x{p.index} = {operand_read(p, f'a{p.index}')}")
                    names[t] = f"x{p.index}"
            results = body.emit(w, names)
            for k, r in enumerate(results):
                w.line(f"out{k}[i] = {r}")
            w.line("i += step")
    return w.text(), plans


def launch_args(plans, arrays, out_shape):
    args = [adapter.flat(a) for a in arrays] + [size_of(out_shape)] + [int(d) for d in out_shape]
    for p, a in zip(plans, arrays):
        if p.kind == "strided":
            args.extend(p.runtime_strides(tuple(a.shape), tuple(out_shape)))
        elif p.kind == "direct" and tuple(a.shape) != tuple(out_shape):
            raise ValueError(f"cuda elementwise kernel: operand {p.index} has shape {a.shape} "
                             f"at run time, where the iteration shape is {tuple(out_shape)} "
                             "(both unknown when compiled); feed equal shapes")
    return args


def lower_group(low, node, body: Body, operands):
    """Lower an elementwise group: ``body`` over ``operands`` -> ``node.outputs``."""
    operands = list(operands) + body.array_consts
    for t in body.array_consts:
        low.upload_const(t)
    all_inputs = list(body.inputs) + body.array_consts
    body = Body(all_inputs, body.nodes, body.outputs)
    out_type = node.out_types[0]
    shapes = [t.shape for t in operands]
    text = {}

    def build(name):
        text[name], plans = build_kernel(name, body, shapes, out_type.shape, len(node.outputs))
        return text[name]

    kname = low.kernel(low.base_name(node, "_".join(_ops_of(body))[:40] or node.op), build, node)
    plans = [OperandPlan(j, s, out_type.shape) for j, s in enumerate(shapes)]
    out_types = node.out_types
    module = low.module

    def run(env):
        arrays = [env[t] for t in operands]
        shape = np.broadcast_shapes(*(tuple(a.shape) for a in arrays)) if arrays else ()
        outs = [adapter.empty(shape, t.dtype) for t in out_types]
        args = [adapter.flat(o) for o in outs] + launch_args(plans, arrays, shape)
        adapter.launch_1d(module[kname], size_of(shape), *args)
        for t, o in zip(node.outputs, outs):
            env[t] = o

    low.steps.append(Step(run, tuple(operands), node.op))


def _ops_of(body: Body):
    return [n.op for n in body.nodes if n.op != "const"]


@emitter(*SCALAR_OPS)
def lower_elementwise(low, node):
    if node.op in ("zeros_like", "ones_like"):
        # the operand is only read for its shape: no need to pass it to the kernel
        body = Body([], [node], node.outputs)
        return _lower_fill(low, node, body)
    lower_group(low, node, Body.of_node(node), list(dict.fromkeys(node.inputs)))


def _lower_fill(low, node, body):
    src = node.inputs[0]
    text_body = Body([], [node], node.outputs)

    def build(name):
        text, _ = build_kernel(name, text_body, [], node.out_types[0].shape, 1)
        return text

    kname = low.kernel(low.base_name(node, node.op), build, node)
    module = low.module

    def run(env):
        shape = tuple(env[src].shape)
        out = adapter.empty(shape, node.out_types[0].dtype)
        adapter.launch_1d(module[kname], size_of(shape), adapter.flat(out), size_of(shape),
                          *[int(d) for d in shape])
        env[node.outputs[0]] = out

    low.steps.append(Step(run, (src,), node.op))


@emitter("fused_elementwise")
def lower_fused(low, node):
    lower_group(low, node, Body.of_graph(node.attrs["body"]), node.inputs)


def is_elementwise(node) -> bool:
    return node.op == "fused_elementwise" or node.op in SCALAR_OPS


def body_of(node) -> Body:
    if node.op == "fused_elementwise":
        return Body.of_graph(node.attrs["body"])
    return Body(list(node.inputs), [node], node.outputs)

