"""The CPU code generator: one readable Python function for a whole graph.

:class:`Codegen` walks the graph in order and hands each node to its emitter
(``EMITTERS[op](cg, node)``, merged from each emitter module's table). The
result is a module source: one header comment, the
imports, and one ``@njit(cache=True, error_model="numpy")`` function whose
arguments are the graph's inputs, then its parameters (read at call time, so
``set_value`` never recompiles), then its array constants. A graph that runs
on row blocks (``loops.row_split``) is compiled ``nogil=True`` and takes one
more argument per row-wise result: the block's rows of the whole-batch
result, used as the result's buffer when its shape fits. A large buffer the
function allocates at its top level for itself (a time loop's stacked
residuals, a loss's temporaries) is also an argument, ``ws<k>``, used when its
shape fits, and comes back after the results: the executable hands it to the
next call, so a call does not fault fresh pages in (``workspace.py``). Each
IR node's line is a comment above the statements it became; identifiers come
from layer and variable names; literals are typed (``np.float32(0.5)``).

Emitters use these services of the code generator:

* ``cg.w``: the :class:`SourceWriter` of the current position, and
  ``cg.scope``: the :class:`~.scope.LoopScope` of the loop level being
  emitted (where buffers are hoisted, the body's invariants, the buffers and
  extra stores the scan emitter proposed, the values read in place); the scan
  emitter enters a body's scope with ``cg.entered(scope, writer)``, which
  restores the enclosing one on exit;
* ``cg.name(t)``, ``cg.dims(t)``: a tensor's identifier and its dimensions as
  ints or expressions; ``cg.bind(t, name, dims)`` after computing it;
* ``cg.fresh(base)``: a new unique identifier; ``cg.alloc(t, dims)``;
* ``cg.elem(t, index_vars, rank)``: the element of ``t`` at the iteration
  index, with numpy broadcasting;
* ``cg.result_buffer(t, dims)``: the buffer an elementwise emitter writes
  ``t`` into (a state buffer the scan emitter proposed in the scope's
  ``targets``, or a new one), and ``cg.extra_store_lines``: the scope's more
  element destinations of ``t`` (the scan's outputs at this step), written
  from the emitter's own loop.
"""
from __future__ import annotations

import keyword
import re
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ...ir import Graph, get_op
from ..canonical import SMALL
from ...ir.printer import name_values
from ..emitters import merge
from ..errors import Unsupported
from ..passes.rewrite import consumers
from ..writer import SourceWriter, ir_line
from . import arrays, elementwise, impure, loops, row_groups, windows
from .loops import row_split, step_projections
from .merge_nests import merge_nests
from .scalar import np_type
from .scope import LoopScope

# A buffer allocated once a call of at least this many bytes (an unknown
# first size taken as 1, any other as SCRATCH_LENGTH) is kept from call to
# call (``scratch_arg``)
SCRATCH_BYTES = 8 * 1024
SCRATCH_LENGTH = 32

# The cpu target's table, op -> emitter: each emitter module declares its own.
EMITTERS = merge("cpu", elementwise.EMITTERS, arrays.EMITTERS, impure.EMITTERS, loops.EMITTERS,
                 windows.EMITTERS)

# The function body's first line where its loops vectorise with the machine's
# widest vectors (``runtime.wide_vectors``): a graph with a value at least
# WIDE_ROWS wide along its last axis. Measured on AVX-512: an LSTM or GRU of
# 128 units ran about 10% faster on 16-float vectors, a SimpleRNN of 16 units
# 14% slower (its loops of 16 no longer split into two of 8), 64 units alike.
# The line follows the size-generic cache key: sizes up to SMALL stay literals
# (each compiles apart anyway), larger ones are lifted, so two models that
# differ only in lifted sizes both have the line or both lack it.
WIDE_VECTORS = "    wide_vectors()"
WIDE_ROWS = SMALL + 1


def wide_rows(graph: Graph) -> bool:
    """Whether a value of ``graph`` (nested bodies included) has a last axis of
    a known size of at least :data:`WIDE_ROWS`."""
    for _, node in graph.walk():
        for t in node.out_types:
            if t.shape and isinstance(t.shape[-1], int) and t.shape[-1] >= WIDE_ROWS:
                return True
    return False

# The generated module's imports: (module, names), a name "x as y" binding y.
IMPORTS = (
    ("numpy", ("numpy as np",)),
    ("numba", ("njit", "objmode")),
    ("symkb.lower.cpu.runtime", ("tanh_f32", "sigmoid_f32", "erf_f32", "erf_f64",
                                 "floordiv_float", "mod_float", "dropout_ref", "round_f16",
                                 "fresh_seed", "print_ref", "exp_neg_f32",
                                 "wide_vectors", "reshaped", "empty", "zeros",
                                 "store_step", "store_rows")),
    ("symkb.lower.cpu.gemm", ("pack_rhs", "pack_rhs_t", "gemm_serial")),
    ("symkb.lower.cpu.blas", ("sgemm_into",)),
    ("symkb.lower.cpu.conv_kernels", ("conv_packed", "conv_direct", "conv_transpose_direct",
                                      "conv_filter_direct", "conv_block")),
    ("symkb.lower.cpu.pool_kernels", ("pool_window", "pool_grad_window", "pool_select_window")),
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _used_imports(body: str) -> list:
    """The entries of :data:`IMPORTS` the function ``body`` uses (numpy and numba
    always): a module whose kernels it does not call is not imported."""
    used = set(_IDENTIFIER.findall(body))
    out = []
    for module, names in IMPORTS:
        if module in ("numpy", "numba"):
            out.append((module, names))
            continue
        kept = tuple(n for n in names if n.split(" as ")[-1] in used)
        if kept:
            out.append((module, kept))
    return out


# Names the generated module defines at its top.
MODULE_GLOBALS = {name.split(" as ")[-1] for _, names in IMPORTS for name in names}

RESERVED = MODULE_GLOBALS | {
    "range", "min", "max", "abs", "len",
    "True", "False", "None", "int", "float", "bool", "tuple", "list", "sum", "any",
    "all", "round", "pow", "divmod", "print", "type", "object", "slice", "map",
    "zip", "iter", "next", "id", "input", "keep", "acc", "v", "xv", "best", "at",
    "m", "s", "e", "c", "j", "r", "k", "b", "inv"} | {f"i{k}" for k in range(8)}

_OP_BASE = {"dot": "matmul", "fused_dot": "dense", "fused_elementwise": "ew"}




def sanitize(text: str) -> str:
    text = re.sub(r"\W", "_", text.split(":")[0]).strip("_") or "v"
    if text[0].isdigit():
        text = "v_" + text
    return text


def param_identifier(variable_name: str) -> str:
    """``'lstm/lstm_cell/kernel:0'`` -> ``'lstm_kernel'``: the layer and the weight."""
    parts = [p for p in variable_name.split(":")[0].split("/") if p]
    if len(parts) > 2:
        parts = [parts[0], parts[-1]]
    return "_".join(parts) or "param"


class Codegen:
    """Generates the module source for one graph (see the module docstring)."""

    def __init__(self, graph: Graph, fn_name: str, invariant_inputs: int = 0,
                 wide: bool = True):
        self.graph = graph
        # whether the wide-vector line may open the function (False: a size-generic form)
        self.wide = wide
        # the last inputs are the same for every batch row (``phases.py``)
        self.invariant_inputs = invariant_inputs
        self.fn_name = sanitize(fn_name)
        self.used = set(RESERVED) | {self.fn_name}
        self.names: dict = {}
        self.dimmap: dict = {}
        self.w = SourceWriter(1)
        self.scope = LoopScope(self.w, self.w)  # the top level; a scan enters its body's
        self.args: list = []        # (identifier, kind, payload)
        self.const_args: dict = {}  # id(const node) -> identifier
        self.namer = name_values(graph)
        self.users: dict = {}       # tensor -> [(node, operand index)] of the graph emitted
        self.packed: dict = {}      # name of a matrix -> name of its pack_rhs panels
        self.row_split = None       # per result, row-wise: the function runs on row blocks
        self.out_args: dict = {}    # result -> the argument its buffer may be (row blocks)
        self._order: dict = {}      # name -> when fresh() made it
        self.writes: list = []      # the assign nodes, stored after every result
        self.scratch: list = []     # (argument, buffer, (ndim, dtype)): workspace buffers
        self._results: set = set()  # the graph's results: their buffers are never kept
        self.head_views: dict = {}  # attention heads as views (``heads.py``): value -> (name, heads)
        self.merged: dict = {}      # their batch-merged reshapes: value -> (name, heads)
        self.head_rows: dict = {}   # a head view's name -> (its (b, s, h, d) source, s, h, d)
        self.row_packs: list = []   # (test, line): packings at the top of a loop over b
        self.transposed_views: set = set()  # values bound as ``x.T`` (``arrays.emit_transpose``)
        self.attention: dict = {}   # values' batch_dot -> its scores' batch_dot, deferred
        self.later: set = set()     # values computed by a node further down (the attention's)
        self.zero_states: set = set()  # zero fills only time loops read, as initial states
        self.store_helpers = False     # a step stores its matrices with runtime.store_step

    @contextmanager
    def entered(self, scope: LoopScope, writer: SourceWriter):
        """Emit into ``writer`` with ``scope`` (a loop body's); both restored on exit."""
        saved = self.scope, self.w
        self.scope, self.w = scope, writer
        try:
            yield scope
        finally:
            self.scope, self.w = saved

    @property
    def serial_products(self) -> bool:
        """On row blocks: products stay on the block's thread."""
        return self.row_split is not None

    # -- names and shapes ------------------------------------------------
    def fresh(self, base: str) -> str:
        base = sanitize(base)
        if keyword.iskeyword(base):
            base += "_"
        name, i = base, 1
        while name in self.used:
            name = f"{base}_{i}"
            i += 1
        self.used.add(name)
        self._order[name] = len(self._order)
        return name

    def order(self, name: str):
        """A sort key: names in the order they were made."""
        return (self._order.get(name, len(self._order)), name)

    def default_name(self, t) -> str:
        node = t.node
        if get_op(node.op).fused:
            ops = node.attrs.get("ops", ()) or (node.op,)
            base = ops[-1]
        else:
            base = _OP_BASE.get(node.op, node.op)
        if len(node.outputs) > 1:
            base = f"{base}{t.index}"
        return f"{node.layer}_{base}" if node.layer else base

    def name(self, t) -> str:
        if t not in self.names:
            raise Unsupported(f"cpu codegen: value {t.name} is used before it is computed")
        return self.names[t]

    def bind(self, t, name: str, dims=None, local: bool = False) -> None:
        """Record that ``t`` is held by ``name`` (``local``: computed in the time loop)."""
        self.names[t] = name
        if local and self.scope.depth:
            self.scope.local.add(name)
        if dims is not None:
            self.dimmap[t] = list(dims)

    def dims(self, t) -> list:
        if t in self.dimmap:
            return self.dimmap[t]
        name = self.name(t)
        return [d if d is not None else f"{name}.shape[{k}]" for k, d in enumerate(t.shape)]

    @staticmethod
    def shape_text(dims) -> str:
        dims = [str(d) for d in dims]
        if len(dims) == 1:
            return f"({dims[0]},)"
        return "(" + ", ".join(dims) + ")"

    def alloc(self, t, dims, name: str | None = None, zeros: bool = False) -> str:
        """Allocate the buffer of ``t`` (at the hoisting point) and bind it.

        A result of the function with an output argument (``out_args``) uses
        that argument when the caller passed one of the right shape."""
        name = name or self.fresh(self.default_name(t))
        given = None if zeros or self.scope.depth else self.out_args.pop(t, None)
        if given is None and not zeros and t not in self._results:
            given = self.scratch_arg(t, name, dims)
        self.alloc_buffer(name, dims, t.dtype, zeros, given)
        self.bind(t, name, dims)
        return name

    def allocation_writer(self, dims) -> SourceWriter:
        """Where a buffer of ``dims`` is allocated: the loop level's hoisting point,
        or the step itself when a dimension is computed in the step."""
        words = {w for d in dims if isinstance(d, str) for w in re.findall(r"[A-Za-z_]\w*", d)}
        return self.w if words & self.scope.local else self.scope.hoist

    def scratch_arg(self, t, name: str, dims) -> str | None:
        """The workspace argument for the buffer ``name`` of ``t``, when it is
        allocated once a call (the function's top level) and large: at least
        ``SCRATCH_BYTES`` with an unknown first size (the batch) taken as 1 and
        any other (a time length) as ``SCRATCH_LENGTH``."""
        where = self.allocation_writer(dims)
        if where.level != 1:
            return None  # in a loop (or a branch): allocated more than once a call
        size = np.dtype(t.dtype).itemsize
        for k, d in enumerate(dims):
            size *= d if isinstance(d, int) else 1 if k == 0 else SCRATCH_LENGTH
        if size < SCRATCH_BYTES:
            return None
        arg = self.fresh(f"ws{len(self.scratch)}")
        self.scratch.append((arg, name, (len(dims), t.dtype)))
        return arg

    def alloc_buffer(self, name: str, dims, dtype: str, zeros: bool = False,
                     given: str | None = None) -> None:
        """``name = empty(dims, dtype)`` at the hoisting point (in the step when a
        dimension is computed there); ``given``: an argument to use instead
        when its shape is ``dims``."""
        fn = "zeros" if zeros else "empty"   # runtime's intrinsics, not numba's np.empty
        where = self.allocation_writer(dims)
        shape = self.shape_text(dims)
        new = f"{fn}({shape}, {np_type(dtype)})"
        if given is None:
            where.line(f"{name} = {new}")
        else:
            where.line(f"{name} = {given}")
            with where.block(f"if {given}.shape != {shape}:"):
                where.line(f"{name} = {new}")

    def result_buffer(self, t, dims) -> str:
        """Bind ``t`` to its proposed buffer (the scope's ``targets``) or allocate one."""
        name = self.scope.targets.get(t)
        if name is None:
            return self.alloc(t, dims)
        self.bind(t, name, dims)
        return name

    def extra_store_lines(self, t, index_vars, value: str) -> None:
        """Write ``value`` (``t``'s element) to ``t``'s extra destinations too."""
        fns = self.scope.extra_stores.get(t)
        if not fns:
            return
        for fn in fns:
            self.w.line(f"{fn(index_vars)} = {value}")
        self.scope.stored.add(t)

    def elem(self, t, index_vars, rank: int, scope: LoopScope | None = None) -> str:
        """``t``'s element at the iteration index (numpy broadcasting, right-aligned);
        ``scope``: the level ``t`` belongs to, when not the current one."""
        views = (scope or self.scope).views
        if t in views:
            offset = rank - t.ndim
            return views[t](["0" if d == 1 else index_vars[j + offset]
                                     for j, d in enumerate(t.shape)])
        name = self.name(t)
        if t.ndim == 0:
            return f"{name}[()]"
        offset = rank - t.ndim
        idx = []
        for j, d in enumerate(t.shape):
            idx.append("0" if d == 1 else index_vars[j + offset])
        return f"{name}[{', '.join(idx)}]"

    # -- driving ----------------------------------------------------------
    def emit_nodes(self, graph: Graph) -> None:
        saved_users = self.users
        self.users = consumers(graph)
        if not self.scope.depth and self.row_split is not None:
            self.scope.sunk.update(step_projections(graph, self.users))
        self._emit_nodes(graph)
        self.users = saved_users

    def _row_groups(self, graph: Graph) -> dict:
        """The row groups of ``graph`` (``row_groups.py``), at the top level only."""
        if self.scope.depth:
            return {}
        plan = row_groups.plan_row_groups(graph, self.users, set(graph.outputs))
        taken = set(self.names) | set(self.scope.sunk) | set(self.scope.targets) \
            | set(self.scope.extra_stores)
        dropped = {id(g) for node, g in plan.items()
                   if any(t in taken for t in node.outputs) or not row_groups.sizable(g)}
        return {node: g for node, g in plan.items() if id(g) not in dropped}

    def _emit_nodes(self, graph: Graph) -> None:
        groups = self._row_groups(graph)
        for node in graph.nodes:
            group = groups.get(node)
            if group is not None:
                self.w.comment(ir_line(node, self.namer))
                if node is group.members[-1]:
                    row_groups.emit_row_group(self, group)
                else:
                    self.w.comment("  (in the row loop of the group's last node below)")
                continue
            if node.op == "input":
                continue
            if node.op == "param":
                name = self.fresh(param_identifier(node.attrs["variable"].name))
                self.args.append((name, "param", node.attrs["variable"]))
                self.bind(node.outputs[0], name)
                continue
            if node.op == "const":
                name = self.const_args.get(id(node))
                if name is None:
                    name = self.fresh("const")
                    self.const_args[id(node)] = name
                    self.args.append((name, "const", node.attrs["value"]))
                self.bind(node.outputs[0], name)
                continue
            if all(o in self.names for o in node.outputs):
                self.w.comment(ir_line(node, self.namer))
                self.w.comment("  (computed with the attention's second product below)"
                               if node.outputs[0] in self.later else "  (stored by the loop above)")
                continue
            if node.outputs[0] in self.scope.sunk:
                self.w.comment(ir_line(node, self.namer))
                self.w.comment("  (computed a step at a time inside the loop)")
                continue
            emit = EMITTERS.get(node.op)
            if emit is None:
                raise Unsupported(f"cpu codegen: no emitter for op {node.op!r} "
                                  f"(node {node.outputs[0].name})")
            self.w.comment(ir_line(node, self.namer))
            emit(self, node)

    def emit_writes(self) -> None:
        """Store each assign's value in its Variable's array, after every result.

        A value that may share memory with a Variable (a parameter read or a
        view of one) is copied first, so no store reads another's new value.
        Each store is a loop nest over the Variable's shape, not ``target[...] =
        value``: numba compiles a slice assignment's shape-mismatch message with
        its string machinery, over a second per pair of array types (a train
        step's update of six weights cost 5-6 s of a 9 s compile).
        """
        staged = []
        for node in self.writes:
            value = self.name(node.inputs[1])
            if get_op(node.inputs[1].node.op).kind in ("source", "shape"):
                copy = self.fresh("new_value")
                self.w.line(f"{copy} = {value}.copy()")
                value = copy
            staged.append((self.name(node.inputs[0]), value, self.dims(node.inputs[0])))
        if staged:
            self.w.comment("the assignments: the Variables' new values, stored in place")
        for target, value, dims in staged:
            if value == target:
                continue  # updated in place already (``in_place.py``)
            if not dims:
                self.w.line(f"{target}[()] = {value}[()]")
                continue
            # loops, not ``target[...] = value``: numba compiles the message of a
            # slice assignment's shape error with its string machinery (seconds cold)
            idx, close = self.w.loop_nest(dims)
            at = ", ".join(idx)
            self.w.line(f"{target}[{at}] = {value}[{at}]")
            close()

    def generate(self) -> str:
        graph = self.graph
        self._results = set(graph.outputs)
        writes = any(t.node.op == "assign" for t in graph.outputs)
        # a graph writing Variables runs whole (its writes are not row-wise)
        self.row_split = None if writes else row_split(graph, self.invariant_inputs)
        for t in graph.inputs:
            name = self.fresh(t.node.name or "input") if t.node.op == "input" else \
                self.fresh(self.default_name(t))
            self.args.append((name, "input", t))
            self.bind(t, name)
        out_params = []
        if self.row_split is not None:
            # the executable may pass each row-wise result's rows of a whole-batch
            # array: the blocks write there, and nothing is joined afterwards
            for k, (t, rows) in enumerate(zip(graph.outputs, self.row_split)):
                if rows and t not in self.out_args:
                    self.out_args[t] = self.fresh(f"out{k}")
                    out_params.append((self.out_args[t], "out", t))
        self.emit_nodes(graph)
        self.args.extend(out_params)
        self.args.extend((arg, "scratch", t) for arg, _, t in self.scratch)
        outs = []
        seen = set()
        for t in graph.outputs:
            name = self.name(t)
            kind = get_op(t.node.op).kind
            if kind == "source" or name in seen or (writes and kind == "shape"):
                # a result may be a view of a Variable the writes below change
                if writes and t.node.op != "assign":  # copied before the writes
                    copy = self.fresh("result")
                    self.w.line(f"{copy} = {name}.copy()")
                    name = copy
                else:
                    name = f"{name}.copy()"
            seen.add(name)
            outs.append(name)
        self.emit_writes()
        outs += [buffer for _, buffer, _ in self.scratch]  # back to the executable
        self.w.line(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
        wide = [WIDE_VECTORS] if self.wide and wide_rows(graph) else []
        body = "\n".join([*wide, *merge_nests(self.w.lines)]) + "\n"
        # a constant no line reads is no argument (the broadcast operand of a zero
        # fill that time loops take as zeros of their own: elementwise._zero_states)
        read = set(_IDENTIFIER.findall(body))
        self.args = [a for a in self.args if a[1] != "const" or a[0] in read]
        head = SourceWriter()
        head.line(f"# generated by symkb - target=cpu graph={graph.name}")
        for module, names in _used_imports(body):
            if len(names) == 1 and names[0].startswith(module + " as "):
                head.line(f"import {names[0]}")
            elif len(f"from {module} import {', '.join(names)}") <= 92:
                head.line(f"from {module} import {', '.join(names)}")
            else:
                head.call(f"from {module} import ", names)
        head.line("")
        head.line("")
        if self.row_split is not None:
            head.line("# the batch rows are independent: the executable calls this function on")
            head.line("# blocks of rows, one a thread, without the GIL")
            head.line('@njit(cache=True, error_model="numpy", nogil=True)')
        else:
            head.line('@njit(cache=True, error_model="numpy")')
        head.call(f"def {self.fn_name}", [a for a, _, _ in self.args], ":")
        return head.text() + body


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` makes of a graph."""

    source: str       # the module text
    args: list        # (identifier, kind, payload) of the function's arguments
    fn_name: str      # the function's name in the module
    row_split: tuple | None  # per result, row-wise: the function may run on row blocks


def generate(graph: Graph, fn_name: str, invariant_inputs: int = 0, *,
             wide: bool = True) -> Generated:
    """The module source for ``graph``, its arguments and how it may be called;
    its last ``invariant_inputs`` inputs are the same for every batch row.
    ``wide=False``: never the wide-vector line (a size-generic form, ``tiers.py``)."""
    cg = Codegen(graph, fn_name, invariant_inputs, wide)
    source = cg.generate()
    return Generated(source, cg.args, cg.fn_name, cg.row_split)
