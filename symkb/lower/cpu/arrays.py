"""CPU emitters of whole-array ops: reductions, scans, data movement, products.

Reductions move the reduced axes last (one contiguous copy when they are not
already last), view the operand as ``(rows, reduced)`` and run one explicit
loop per row; float sums accumulate in float64. Data movement binds views
numba keeps C-contiguous and copies the rest with loops (every value a
generated function holds is C-contiguous, which ``np.dot`` and reshapes rely
on); numpy's copying functions each cost a cold compile of their own.
"""
from __future__ import annotations

import numpy as np

from ...ir import get_op
from ...ir.node import expand_index
from ...ir.ops.fused import reads_elementwise
from ...ir.ops.reduce import arg_bound, empty_axis_message, reduce_identity
from ...ir.types import is_float
from ..emitters import registrar
from ..errors import Unsupported
from . import heads
from .gemm import LANES
from .elementwise import emit_dot
from .row_groups import PARTIALS, running_sum
from .scalar import lit, np_type
from .sums import product_text, sum_leading

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)



def _rows_view(cg, t, axes):
    """``(name2d, kept_dims, reduced_dims)``: ``t`` as (rows, reduced), reduced axes last."""
    dims = cg.dims(t)
    kept = [i for i in range(t.ndim) if i not in axes]
    src = cg.name(t)
    perm = tuple(kept) + tuple(axes)
    name = cg.fresh(f"{cg.name(t)}_rows")
    if perm != tuple(range(t.ndim)):
        # reduced axes moved last by a copy in loops (numba's ascontiguousarray
        # of a transposed view costs a cold compile about 0.5 s per layout)
        src = cg.fresh(f"{cg.name(t)}_moved")
        moved = [dims[i] for i in perm]
        cg.alloc_buffer(src, moved, t.dtype)
        _permuted_copy(cg, t, src, perm)
    cg.w.line(f"{name} = reshaped({src}, ({product_text([dims[i] for i in kept])}, "
              f"{product_text([dims[i] for i in axes])}))")
    return name, [dims[i] for i in kept], [dims[i] for i in axes]


def _out_dims(t_in, dims_in, axes, keepdims):
    return [(1 if keepdims else None) if i in axes else d for i, d in enumerate(dims_in)
            if keepdims or i not in axes]


def _fold_sum(cg, rows, flat, op, dt, xdt) -> None:
    """``sum`` and ``mean`` (which divides by the count): a float64 / int64 sum."""
    acc_t = "np.float64" if is_float(xdt) or xdt == "bool" else "np.int64"
    cg.w.line(f"acc = {acc_t}(0)")
    with cg.w.block(f"for k in range({rows}.shape[1]):"):
        cg.w.line(f"acc += {acc_t}({rows}[r, k])")
    if _DIVIDES[op]:
        n = f"{rows}.shape[1]"
        if is_float(dt):
            cg.w.line(f"acc = acc / {n}")
        else:
            cg.w.line(f"acc = np.int64(np.trunc(acc / {n}))")
    cg.w.line(f"{flat}[r] = {np_type(dt)}(acc)")


def _fold_prod(cg, rows, flat, op, dt, xdt) -> None:
    cg.w.line(f"acc = {lit(1, dt)}")
    with cg.w.block(f"for k in range({rows}.shape[1]):"):
        cg.w.line(f"acc = {np_type(dt)}(acc * {rows}[r, k])")
    cg.w.line(f"{flat}[r] = acc")


def _fold_extreme(cg, rows, flat, op, dt, xdt) -> None:
    """``max`` and ``min``."""
    cmp = _BETTER[op]
    # an empty axis gives the identity, -inf / +inf (tf's answer)
    cg.w.line(f"acc = {rows}[r, 0] if {rows}.shape[1] > 0 else "
              f"{lit(reduce_identity(op, dt), dt)}")
    with cg.w.block(f"for k in range(1, {rows}.shape[1]):"):
        cg.w.line(f"v = {rows}[r, k]")
        # tf's fold: the first NaN stays; of equal values (0.0, -0.0) the later one
        nan = " or acc != acc" if is_float(dt) else ""
        with cg.w.block(f"if not (acc {cmp} v{nan}):"):
            cg.w.line("acc = v")
    cg.w.line(f"{flat}[r] = acc")


def _fold_truth(cg, rows, flat, op, dt, xdt) -> None:
    """``any`` and ``all``: the first element that decides stops the row."""
    start, stop, decides = _TRUTH[op]
    cg.w.line(f"acc = {start}")
    with cg.w.block(f"for k in range({rows}.shape[1]):"):
        with cg.w.block(f"if {rows}[r, k] {decides} 0:"):
            cg.w.line(f"acc = {stop}")
            cg.w.line("break")
    cg.w.line(f"{flat}[r] = acc")


# Each reduction's fold of one row, and the facts the shared folds need.
_FOLDS = {"sum": _fold_sum, "mean": _fold_sum, "prod": _fold_prod, "max": _fold_extreme,
          "min": _fold_extreme, "any": _fold_truth, "all": _fold_truth}
_DIVIDES = {"sum": False, "mean": True}
_BETTER = {"max": ">", "min": "<", "argmax": ">", "argmin": "<"}
_TRUTH = {"any": ("False", "True", "!="), "all": ("True", "False", "==")}


@emitter(*_FOLDS)
def emit_reduce(cg, node) -> None:
    (x,) = node.inputs
    out = node.outputs[0]
    axis = node.attrs.get("axis")
    axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
    keepdims = node.attrs.get("keepdims", False)
    odims = _out_dims(x, cg.dims(x), axes, keepdims)
    name = cg.alloc(out, odims)
    if node.op in _DIVIDES and 0 < len(axes) < x.ndim and axes == tuple(range(len(axes))):
        sum_leading(cg, x, name, len(axes), _DIVIDES[node.op], out.dtype)
        return
    rows, _, _ = _rows_view(cg, x, axes)
    flat = cg.fresh("flat")
    cg.w.line(f"{flat} = reshaped({name}, (-1,))")
    with cg.w.block(f"for r in range({rows}.shape[0]):"):
        _FOLDS[node.op](cg, rows, flat, node.op, out.dtype, x.dtype)


@emitter("argmax", "argmin")
def emit_arg(cg, node) -> None:
    (x,) = node.inputs
    axis = node.attrs["axis"]
    out = node.outputs[0]
    name = cg.alloc(out, _out_dims(x, cg.dims(x), (axis,), False))
    rows, _, _ = _rows_view(cg, x, (axis,))
    flat = cg.fresh("flat")
    cg.w.line(f"{flat} = reshaped({name}, (-1,))")
    cmp = _BETTER[node.op]
    with cg.w.block(f"if {rows}.shape[1] == 0:"):   # no element to start from
        cg.w.line(f"raise ValueError({empty_axis_message(node.op, axis)!r})")
    # tf's scan: from (0, the dtype's lowest / highest value), only a strictly
    # better value moves it, so NaN never wins and ties keep the first index
    with cg.w.block(f"for r in range({rows}.shape[0]):"):
        cg.w.line(f"best = {lit(arg_bound(node.op, x.dtype), x.dtype)}")
        cg.w.line("at = 0")
        with cg.w.block(f"for k in range({rows}.shape[1]):"):
            cg.w.line(f"v = {rows}[r, k]")
            with cg.w.block(f"if v {cmp} best:"):
                cg.w.line("best = v")
                cg.w.line("at = k")
        cg.w.line(f"{flat}[r] = at")


def _along_last(cg, node, axis, write_row) -> None:
    """Emit ``write_row(src_rows, dst_rows)`` over rows along ``axis``, moving it back."""
    (x,) = node.inputs
    out = node.outputs[0]
    dims = cg.dims(x)
    rows, kept, _ = _rows_view(cg, x, (axis,))
    res = cg.fresh(f"{cg.default_name(out)}_rows")
    whole = cg.fresh(cg.default_name(out))
    moved = list(kept) + [dims[axis]]
    # a large one is a workspace (``workspace.py``): fresh pages every call cost faults
    given = None if cg.scope.depth or out in cg._results else cg.scratch_arg(out, whole, moved)
    cg.alloc_buffer(whole, moved, out.dtype, given=given)
    cg.allocation_writer(moved).line(f"{res} = reshaped({whole}, ({product_text(kept)}, {dims[axis]}))")
    with cg.w.block(f"for r in range({rows}.shape[0]):"):
        write_row(rows, res)
    perm = list(range(x.ndim - 1))
    perm.insert(axis, x.ndim - 1)
    if axis == x.ndim - 1:
        name = whole
    else:
        name = cg.fresh(cg.default_name(out))
        cg.w.line(f"{name} = np.ascontiguousarray(reshaped({res}, {cg.shape_text(moved)})"
                  f".transpose({tuple(perm)}))")
    cg.bind(out, name, dims)


def softmax_lanes(cg, dt: str, width):
    """A buffer of 16 running maxima for :func:`softmax_row`, allocated here
    (before the loop over the rows); ``None`` for rows of a static ``width``
    too short to use it."""
    if isinstance(width, int) and width < 2 * LANES:
        return None
    lanes = cg.fresh("lanes")
    cg.alloc_buffer(lanes, [LANES], dt)
    return lanes


def _lane_maximum(cg, src: str, n: str, lanes: str) -> str:
    """Fold the first ``n // 16 * 16`` elements of row ``r`` of ``src`` into ``m``
    (which holds its first element) through 16 running maxima, for rows of 32
    and more; returns where the scalar loop over the rest starts."""
    with cg.w.block(f"if {n} >= {2 * LANES}:"):
        with cg.w.block(f"for j in range({LANES}):"):
            cg.w.line(f"{lanes}[j] = {src}[r, j]")
        with cg.w.block(f"for k in range({LANES}, {n} // {LANES} * {LANES}, {LANES}):"):
            with cg.w.block(f"for j in range({LANES}):"):
                cg.w.line(f"a = {src}[r, k + j]")
                cg.w.line(f"{lanes}[j] = a if a > {lanes}[j] else {lanes}[j]")
        with cg.w.block(f"for j in range({LANES}):"):
            cg.w.line(f"a = {lanes}[j]")
            cg.w.line("m = a if (a > m or a != a) else m")
    return f"{n} // {LANES} * {LANES} if {n} >= {2 * LANES} else 1"


# a softmax row of a static size up to this is summed in one running sum, in the
# loop of its exps (one loop less; numba and LLVM compile the eight partial sums
# of a long row 0.1 s slower, and a row this short has no chain to hide)
SHORT_ROW = 16


def softmax_row(cg, src: str, dst: str, dt: str, lanes: str, width=None) -> None:
    """Row ``r`` of ``dst`` = the softmax of row ``r`` of ``src`` (may be ``dst``);
    ``lanes`` from :func:`softmax_lanes`; ``width``: the rows' static size, if known."""
    # float32: an exp of x <= 0 that vectorises (x - max is never positive)
    exp = "exp_neg_f32" if dt == "float32" else "np.exp"
    one = "np.float32(1.0)" if dt == "float32" else "1.0"
    if isinstance(width, int) and 1 <= width <= SHORT_ROW and lanes is None:
        cg.w.line(f"m = {src}[r, 0]")
        with cg.w.block(f"for k in range(1, {width}):"):
            cg.w.line(f"a = {src}[r, k]")
            cg.w.line("m = a if (a > m or a != a) else m")
        cg.w.line(f"s = {lit(0, dt)}")
        with cg.w.block(f"for k in range({width}):"):
            cg.w.line(f"e = {exp}({src}[r, k] - m)")
            cg.w.line(f"{dst}[r, k] = e")
            cg.w.line("s += e")
        cg.w.line(f"inv = {one} / s")
        with cg.w.block(f"for k in range({width}):"):
            cg.w.line(f"{dst}[r, k] = {dst}[r, k] * inv")
        return
    # the row's maximum as 16 running maxima (a select in a loop of 16 lanes
    # vectorises; one running maximum is a chain). The lanes skip NaNs: a row
    # holding one gives NaN everywhere all the same, through its exp and the sum.
    # (The scalar maximum keeps its NaN test: without it numba failed to type
    # a training step's function, whose other lines were unchanged.)
    n = f"{src}.shape[1]"
    cg.w.line(f"m = {src}[r, 0]")
    start = 1 if lanes is None else _lane_maximum(cg, src, n, lanes)
    with cg.w.block(f"for k in range({start}, {n}):"):
        cg.w.line(f"a = {src}[r, k]")
        cg.w.line("m = a if (a > m or a != a) else m")
    # the exps in a loop of their own (it vectorises), then their sum in
    # eight running sums: one running sum is a chain of dependent adds that
    # neither vectorises nor overlaps (a 128-wide softmax ran 4x slower)
    with cg.w.block(f"for k in range({src}.shape[1]):"):
        cg.w.line(f"{dst}[r, k] = {exp}({src}[r, k] - m)")
    total = running_sum(cg, lambda k: f"{dst}[r, {k}]", f"{src}.shape[1]", dt,
                        names=[f"s{j}" for j in range(PARTIALS)])
    # times the sum's reciprocal, as TensorFlow's kernel does (a division per
    # element cost a 128-wide attention row 3 us of its 9)
    # (in two statements: with the reciprocal of the sum's expression in one,
    # numba failed to type an unrelated reshape further down the function)
    cg.w.line(f"s = {total}")
    cg.w.line(f"inv = {one} / s")
    with cg.w.block(f"for k in range({src}.shape[1]):"):
        cg.w.line(f"{dst}[r, k] = {dst}[r, k] * inv")


@emitter("softmax")
def emit_softmax(cg, node) -> None:
    dt = node.outputs[0].dtype
    width = node.inputs[0].shape[node.attrs["axis"]]
    lanes = softmax_lanes(cg, dt, width)
    _along_last(cg, node, node.attrs["axis"],
                lambda src, dst: softmax_row(cg, src, dst, dt, lanes, width))


_SCANS = {"cumsum": ("+", 0), "cumprod": ("*", 1)}  # each scan's combine and start


@emitter(*_SCANS)
def emit_scan(cg, node) -> None:
    dt = node.outputs[0].dtype
    sym, start = _SCANS[node.op]

    def row(src, dst):
        cg.w.line(f"acc = {lit(start, dt)}")
        with cg.w.block(f"for k in range({src}.shape[1]):"):
            cg.w.line(f"acc = {np_type(dt)}(acc {sym} {src}[r, k])")
            cg.w.line(f"{dst}[r, k] = acc")
    _along_last(cg, node, node.attrs["axis"], row)


# -- data movement -----------------------------------------------------------------

def _bind_expr(cg, node, expr, dims=None, contiguous=True) -> None:
    out = node.outputs[0]
    name = cg.fresh(cg.default_name(out))
    if contiguous and out.ndim == 0:
        expr = f"({expr}).copy()"  # np.ascontiguousarray gives a 0-d array one axis
    elif contiguous:
        expr = f"np.ascontiguousarray({expr})"
    cg.w.line(f"{name} = {expr}")
    cg.bind(out, name, dims, local=True)


def elementwise_readers_only(cg, t) -> bool:
    """Whether every user of ``t`` reads it element by element in a fused loop."""
    users = cg.users.get(t, [])
    return bool(users) and all(
        node is not None and get_op(node.op).fused and reads_elementwise(node, i)
        for node, i in users)


def _view(cg, node):
    """``(elem_fn, dims)`` reading ``node``'s getitem result in place, or ``None``."""
    (x,) = node.inputs
    out = node.outputs[0]
    xdims = cg.dims(x)
    plan, dims = [], []
    k = 0
    for item in expand_index(node.attrs["index"], x.ndim):
        kind = item[0]
        if kind == "newaxis":
            plan.append(("new", None))
            dims.append(1)
            continue
        d = x.shape[k]
        if kind == "int":
            i = item[1]
            if i < 0:
                if d is None:
                    return None
                i += d
            plan.append(("int", i))
        else:
            start, stop, step = item[1:]
            if (start, stop, step) in ((None, None, None), (None, None, 1)):
                plan.append(("slice", (0, 1)))
                dims.append(out.shape[len(dims)] if out.shape[len(dims)] is not None
                            else xdims[k])
            else:
                if d is None:
                    return None
                start, _, step = slice(start, stop, step).indices(d)
                plan.append(("slice", (start, step)))
                dims.append(out.shape[len(dims)])
        k += 1
    src_fn = cg.scope.views.get(x)
    name = cg.name(x)

    def elem(idx):
        src, j = [], 0
        for kind, arg in plan:
            if kind == "new":
                j += 1
            elif kind == "int":
                src.append(str(arg))
            else:
                start, step = arg
                v = idx[j]
                j += 1
                v = v if step == 1 else f"{v} * {step}"
                src.append(v if start == 0 else f"{start} + {v}")
        return src_fn(src) if src_fn else f"{name}[{', '.join(src)}]"
    return elem, dims


@emitter("reshape")
def emit_reshape(cg, node) -> None:
    (x,) = node.inputs
    if heads.merged_reshape(cg, node):
        return
    shape = [-1 if d is None else d for d in node.attrs["shape"]]
    _bind_expr(cg, node, f"reshaped({cg.name(x)}, {cg.shape_text(shape)})", contiguous=False)


def _reshaped(cg, node, dims) -> None:
    (x,) = node.inputs
    _bind_expr(cg, node, f"reshaped({cg.name(x)}, {cg.shape_text(dims) if dims else '()'})",
               dims, contiguous=False)


@emitter("expand_dims")
def emit_expand_dims(cg, node) -> None:
    dims = list(cg.dims(node.inputs[0]))
    dims.insert(node.attrs["axis"], 1)
    _reshaped(cg, node, dims)


@emitter("squeeze")
def emit_squeeze(cg, node) -> None:
    dims = list(cg.dims(node.inputs[0]))
    dims.pop(node.attrs["axis"])
    _reshaped(cg, node, dims)


@emitter("transpose")
def emit_transpose(cg, node) -> None:
    """A copy by loops (numba's ``np.ascontiguousarray`` of a transposed view
    costs a cold compile about 0.5 s per layout)."""
    (x,) = node.inputs
    perm = tuple(node.attrs["perm"])
    if x.ndim == 0:
        _bind_expr(cg, node, cg.name(x))
        return
    if heads.split_view(cg, node):
        return
    dims = [cg.dims(x)[p] for p in perm]
    if _product_operand_only(cg, node):
        # a transposed view: BLAS reads it as it is (``blas.py``), and so do
        # the packing and loop products; no copy of the matrix
        name = cg.fresh(cg.default_name(node.outputs[0]))
        cg.w.line(f"{name} = {cg.name(x)}.T")
        cg.bind(node.outputs[0], name, dims, local=True)
        cg.transposed_views.add(node.outputs[0])  # not a left operand of gemm_serial
        return
    _permuted_copy(cg, x, cg.alloc(node.outputs[0], dims), perm)


def _product_operand_only(cg, node) -> bool:
    """Whether ``node``, a transpose, swaps a matrix's axes outside time loops
    for matrix products alone: each user a ``dot`` or ``fused_dot`` of two
    matrices reading it as its left or right operand."""
    out = node.outputs[0]
    if out.ndim != 2 or cg.scope.depth or out in cg.scope.targets:
        return False
    users = cg.users.get(out, [])
    return bool(users) and all(
        user is not None and user.op in ("dot", "matmul", "fused_dot") and i < 2
        and user.inputs[0].ndim == 2 and user.inputs[1].ndim == 2
        for user, i in users)


def _permuted_copy(cg, x, dst: str, perm) -> None:
    """``dst = x.transpose(perm)`` by loops in ``x``'s order: the reads run
    along contiguous memory (4x faster than loops in ``dst``'s order, or
    numba's ``np.ascontiguousarray``, on a (32, 100, 512) -> (512, 32, 100))."""
    idx, close = cg.w.loop_nest(cg.dims(x))
    cg.w.line(f"{dst}[{', '.join(idx[p] for p in perm)}] = {cg.elem(x, idx, x.ndim)}")
    close()


def _cast_to(cg, t, dtype) -> str:
    return cg.name(t) if t.dtype == dtype else f"{cg.name(t)}.astype({np_type(dtype)})"


_JOINS = {"concatenate": "np.concatenate", "stack": "np.stack"}


def _dim_sum(dims) -> int | str:
    """The sum of ``dims`` (ints, or texts of expressions) as an int or a text."""
    if all(isinstance(d, int) for d in dims):
        return sum(dims)
    # bracketed whole: a dim's text may be multiplied or taken modulo later
    return "(" + " + ".join(f"({d})" if isinstance(d, str) else str(d) for d in dims) + ")"


@emitter(*_JOINS)
def emit_join(cg, node) -> None:
    """Each operand copied by loops into its place in the result: numba's
    ``np.concatenate`` / ``np.stack`` cost a cold compile about 0.15 s each."""
    out = node.outputs[0]
    stack = node.op == "stack"
    axis = node.attrs["axis"] % out.ndim
    parts = [cg.dims(t) for t in node.inputs]
    if stack:
        dims = list(parts[0])
        dims.insert(axis, len(parts))
    else:
        dims = list(parts[0])
        dims[axis] = _dim_sum([p[axis] for p in parts])
    name = cg.alloc(out, dims)
    convert = np_type(out.dtype)
    offset: list = []
    for k, (t, pdims) in enumerate(zip(node.inputs, parts)):
        idx, close = cg.w.loop_nest(pdims)
        value = cg.elem(t, idx, t.ndim)
        if t.dtype != out.dtype:
            value = f"{convert}({value})"
        if stack:
            dst = idx[:axis] + [str(k)] + idx[axis:]
        else:
            at = idx[axis] if not offset else f"{_dim_sum(offset)} + {idx[axis]}"
            dst = idx[:axis] + [at] + idx[axis + 1:]
        cg.w.line(f"{name}[{', '.join(dst)}] = {value}")
        close()
        if not stack:
            offset.append(pdims[axis])


@emitter("reverse")
def emit_reverse(cg, node) -> None:
    """A copy by loops (numba's ``np.ascontiguousarray`` of a reversed view
    costs a cold compile about 0.3 s)."""
    (x,) = node.inputs
    if x.ndim == 0:
        _bind_expr(cg, node, cg.name(x))
        return
    axes = {a % x.ndim for a in node.attrs["axes"]}
    xd = cg.dims(x)

    def source(idx):
        return [f"{d} - 1 - {v}" if i in axes else v for i, (v, d) in enumerate(zip(idx, xd))]
    out = node.outputs[0]
    if _element_readers_only(cg, out):
        # read in place, reversed, by the loops of its readers: no copy
        src_fn, name = cg.scope.views.get(x), cg.name(x)
        cg.scope.views[out] = (lambda idx: src_fn(source(idx)) if src_fn
                               else f"{name}[{', '.join(source(idx))}]")
        idx = ", ".join("::-1" if i in axes else ":" for i in range(x.ndim))
        cg.bind(out, f"{name}[{idx}]", xd)
        return
    _copy_from(cg, node, xd, source)


def _element_readers_only(cg, t) -> bool:
    """Whether every user of ``t`` reads it element by element through
    ``cg.elem``: fused loops, and the joins' copy loops."""
    users = cg.users.get(t, [])
    return bool(users) and all(
        node is not None and (node.op in _JOINS or (get_op(node.op).fused
                                                     and reads_elementwise(node, i)))
        for node, i in users)


@emitter("getitem")
def emit_getitem(cg, node) -> None:
    (x,) = node.inputs
    parts = []
    for item in node.attrs["index"]:
        kind = item[0]
        if kind == "int":
            parts.append(str(item[1]))
        elif kind == "slice":
            parts.append(":".join("" if v is None else str(v) for v in item[1:]))
        elif kind == "newaxis":
            parts.append("None")
        else:
            parts.append("...")
    out = node.outputs[0]
    if out.ndim and elementwise_readers_only(cg, out):
        view = _view(cg, node)
        if view is not None:
            # read in place by the fused loops: no copy
            cg.scope.views[out] = view[0]
            cg.bind(out, f"{cg.name(x)}[{', '.join(parts)}]", view[1])
            return
    expr = f"{cg.name(x)}[{', '.join(parts) if parts else '...'}]"
    if out.ndim == 0:
        name = cg.alloc(out, [])
        cg.w.line(f"{name}[()] = {expr}")
        return
    if _contiguous_view(cg, node):
        # numba types this view C-contiguous: no copy (nothing at this level
        # writes into a value, and results are not views of weights)
        name = cg.fresh(cg.default_name(out))
        cg.w.line(f"{name} = {_index_text(node, trim=True)(cg.name(x))}")
        cg.bind(out, name)
        return
    view = _view(cg, node)
    if view is not None:
        # a copy by loops: numba's np.ascontiguousarray costs a cold compile
        # 0.05 to 0.3 s per layout of its operand
        elem, dims = view
        name = cg.alloc(out, dims)
        idx, close = cg.w.loop_nest(dims)
        cg.w.line(f"{name}[{', '.join(idx)}] = {elem(idx)}")
        close()
        return
    _bind_expr(cg, node, expr)


def _index_text(node, trim: bool = False):
    """``name -> name[index]`` for a getitem's index; ``trim``: without its
    trailing full slices (``x[2:5, :]`` is ``x[2:5]``)."""
    items = list(node.attrs["index"])
    while trim and items and items[-1][0] == "slice" and tuple(items[-1][1:]) == (None,) * 3:
        items.pop()
    parts = []
    for item in items:
        if item[0] == "int":
            parts.append(str(item[1]))
        elif item[0] == "slice":
            parts.append(":".join("" if v is None else str(v) for v in item[1:]))
        elif item[0] == "newaxis":
            parts.append("None")
        else:
            parts.append("...")
    return lambda name: f"{name}[{', '.join(parts) if parts else '...'}]"


def _contiguous_view(cg, node) -> bool:
    """Whether ``node`` (a getitem) may bind a view of its operand: outside
    time loops, not a result of the function, its operand a value (C
    layout) rather than a view, and an index numba keeps C-contiguous:
    integers, then at most one slice without a step, innermost."""
    (x,) = node.inputs
    out = node.outputs[0]
    if cg.scope.depth or x in cg.scope.views or out in cg.graph.outputs or not out.ndim:
        return False
    items = list(node.attrs["index"])
    while items and items[-1][0] == "slice" and tuple(items[-1][1:]) == (None,) * 3:
        items.pop()
    if not items or any(item[0] != "int" for item in items[:-1]):
        return False
    last = items[-1]
    return last[0] == "int" or (last[0] == "slice" and last[3] is None)


def _copy_from(cg, node, odims, source) -> None:
    """Fill the result (``odims``) element by element from ``x[source(index)]``."""
    (x,) = node.inputs
    name = cg.alloc(node.outputs[0], odims)
    idx, close = cg.w.loop_nest(odims)
    cg.w.line(f"{name}[{', '.join(idx)}] = {cg.name(x)}[{', '.join(source(idx))}]")
    close()


@emitter("tile")
def emit_tile(cg, node) -> None:
    xd = cg.dims(node.inputs[0])
    odims = [d if r == 1 else f"({d} * {r})" if isinstance(d, str) else d * r
             for d, r in zip(xd, node.attrs["reps"])]
    _copy_from(cg, node, odims, lambda idx: [f"{v} % {d}" for v, d in zip(idx, xd)])


@emitter("repeat_elements")
def emit_repeat_elements(cg, node) -> None:
    xd = cg.dims(node.inputs[0])
    rep, axis = node.attrs["rep"], node.attrs["axis"]
    odims = [(f"({d} * {rep})" if isinstance(d, str) else d * rep) if i == axis else d
             for i, d in enumerate(xd)]
    _copy_from(cg, node, odims,
               lambda idx: [f"{v} // {rep}" if i == axis else v for i, v in enumerate(idx)])


@emitter("pad")
def emit_pad(cg, node) -> None:
    (x,) = node.inputs
    pads = node.attrs["pads"]
    xd = cg.dims(x)
    # a dim's text is bracketed whole: later code multiplies it or takes it modulo
    odims = [d + a + b if isinstance(d, int) else f"({d} + {a + b})" for d, (a, b) in zip(xd, pads)]
    name = cg.alloc(node.outputs[0], odims, zeros=True)
    # loops, not a slice assignment (see matmul_into)
    idx, close = cg.w.loop_nest(xd)
    dst = [v if a == 0 else f"{a} + {v}" for v, (a, _) in zip(idx, pads)]
    cg.w.line(f"{name}[{', '.join(dst)}] = {cg.elem(x, idx, x.ndim)}")
    close()


@emitter("shape")
def emit_shape(cg, node) -> None:
    (x,) = node.inputs
    dims = cg.dims(x)
    name = cg.alloc(node.outputs[0], [x.ndim])
    for k, d in enumerate(dims):
        cg.w.line(f"{name}[{k}] = {d}")


@emitter("one_hot")
def emit_one_hot(cg, node) -> None:
    (x,) = node.inputs
    n = node.attrs["num_classes"]
    name = cg.alloc(node.outputs[0], cg.dims(x) + [n], zeros=True)
    flat, src = cg.fresh("flat"), cg.fresh("idx")
    cg.w.line(f"{flat} = reshaped({name}, (-1, {n}))")
    cg.w.line(f"{src} = reshaped({cg.name(x)}, (-1,))")
    with cg.w.block(f"for r in range({src}.shape[0]):"):
        cg.w.line(f"c = {src}[r]")
        with cg.w.block(f"if c >= 0 and c < {n}:"):
            cg.w.line(f"{flat}[r, c] = np.float32(1.0)")


@emitter("gather")
def emit_gather(cg, node) -> None:
    ref, idx = node.inputs
    rd = cg.dims(ref)
    name = cg.alloc(node.outputs[0], cg.dims(idx) + rd[1:])
    row = product_text(rd[1:])
    flat, src, table = cg.fresh("flat"), cg.fresh("idx"), cg.fresh("table")
    cg.w.line(f"{flat} = reshaped({name}, (-1, {row}))")
    cg.w.line(f"{src} = reshaped({cg.name(idx)}, (-1,))")
    cg.w.line(f"{table} = reshaped({cg.name(ref)}, ({rd[0]}, {row}))")
    with cg.w.block(f"for r in range({src}.shape[0]):"):
        cg.w.line(f"j = {src}[r]")
        if not _constant_in_range(idx, ref.shape[0]):
            # no check for constant indices known in range: numba compiles the
            # message's int-to-str with its string machinery (about a second cold)
            with cg.w.block(f"if j < 0 or j >= {rd[0]}:"):
                # the interpreter's message: the first index out of range
                cg.w.line(f"raise IndexError('gather: indices must be in [0, ' + "
                          f"str({rd[0]}) + '), received ' + str(j))")
        with cg.w.block(f"for c in range({row}):"):  # no slice assignment (see matmul_into)
            cg.w.line(f"{flat}[r, c] = {table}[j, c]")


def _constant_in_range(idx, rows) -> bool:
    """Whether ``idx`` is a constant whose every value lies in ``[0, rows)``."""
    node = getattr(idx, "node", None)
    if node is None or node.op != "const" or rows is None:
        return False
    values = np.asarray(node.attrs["value"])
    return bool(values.size == 0 or (values.min() >= 0 and values.max() < rows))


@emitter("matmul")
def emit_matmul(cg, node) -> None:
    x, y = node.inputs
    if x.ndim <= 2 and y.ndim == 2 or (x.ndim >= 1 and y.ndim == 2):
        return emit_dot(cg, node)
    out = node.outputs[0]
    if x.ndim != y.ndim or not is_float(out.dtype):
        raise Unsupported(f"cpu codegen: matmul of shapes {x.shape} and {y.shape} "
                          f"(broadcast batch axes) is not supported")
    _batched(cg, node, cg.name(x), cg.name(y), cg.dims(x), cg.dims(y), out)


def _batched(cg, node, xn, yn, xd, yd, out) -> None:
    batch = xd[:-2]
    odims = batch + [xd[-2], yd[-1]]
    name = cg.alloc(out, odims)
    x3, y3, o3 = cg.fresh("x3"), cg.fresh("y3"), cg.fresh("o3")
    dt = np_type(out.dtype)
    cg.w.line(f"{x3} = reshaped(np.ascontiguousarray({xn}).astype({dt}), (-1, {xd[-2]}, {xd[-1]}))")
    cg.w.line(f"{y3} = reshaped(np.ascontiguousarray({yn}).astype({dt}), (-1, {yd[-2]}, {yd[-1]}))")
    cg.w.line(f"{o3} = reshaped({name}, (-1, {xd[-2]}, {yd[-1]}))")
    with cg.w.block(f"for b in range({o3}.shape[0]):"):
        cg.w.line(f"np.dot({x3}[b], {y3}[b], {o3}[b])")


def _moved(cg, t, dt: str, perm) -> str:
    """``t`` cast to ``dt`` and transposed by ``perm``, each only when it changes
    something (numba's ``astype`` always copies)."""
    text = cg.name(t)
    if np_type(t.dtype) != dt:
        text = f"{text}.astype({dt})"
    if tuple(perm) != tuple(range(len(perm))):
        text = f"{text}.transpose({tuple(perm)})"
    return text


def _batch_operands(cg, node, left: bool = True):
    """Emit ``node``'s (a ``batch_dot``) operands as ``(batch, m, k)`` and
    ``(batch, k, n)`` stacks; returns ``(x_b, y_b, m, n)``: the texts of batch
    entry ``b`` of each (``x_b`` ``None`` without ``left``; ``y_b`` packed by
    ``pack_rhs`` when the product runs on ``gemm_serial``) and the result's
    matrix sizes. Attention heads are read in place (``heads.py``)."""
    x, y = node.inputs
    ax, ay = node.attrs["axes"]
    xd, yd = cg.dims(x), cg.dims(y)
    xperm = (0,) + tuple(i for i in range(1, x.ndim) if i != ax) + (ax,)
    yperm = (0, ay) + tuple(i for i in range(1, y.ndim) if i != ay)
    dt = np_type(node.outputs[0].dtype)
    m = product_text([xd[i] for i in xperm[1:-1]])
    n = product_text([yd[i] for i in yperm[2:]])
    xb = heads.operand(cg, x, False) if left else None
    yb = heads.operand(cg, y, True, ay == 2)
    if left and xb is None:
        x3 = cg.fresh("x3")
        cg.w.line(f"{x3} = reshaped(np.ascontiguousarray({_moved(cg, x, dt, xperm)}), "
                  f"({xd[0]}, {m}, {xd[ax]}))")
        xb = f"{x3}[b]"
    if yb is None:
        y3 = cg.fresh("y3")
        cg.w.line(f"{y3} = reshaped(np.ascontiguousarray({_moved(cg, y, dt, yperm)}), "
                  f"({yd[0]}, {yd[ay]}, {n}))")
        yb = f"pack_rhs({y3}[b])" if heads.on_gemm(cg, node) else f"{y3}[b]"
    return xb, yb, m, n


def _batch_result(cg, node, rows, m, n) -> str:
    """Allocate ``node``'s result of ``rows`` batch entries (or find the merged
    heads it is written into); returns the text of entry ``b``'s ``(m, n)`` block."""
    out = node.outputs[0]
    merged = heads.merge_target(cg, node, rows)
    if merged is not None:
        split = cg.users[out][0][0].outputs[0]
        return f"{merged}[b // {split.shape[1]}, :, b % {split.shape[1]}, :]"
    odims = [rows] + [d if d is not None else "-1" for d in out.shape[1:]]
    if any(d == "-1" for d in odims[1:]):
        raise Unsupported("cpu codegen: batch_dot with unknown non-batch dims")
    name = cg.alloc(out, odims)
    o3 = cg.fresh("o3")
    cg.w.line(f"{o3} = reshaped({name}, ({rows}, {m}, {n}))")
    return f"{o3}[b]"


@emitter("batch_dot")
def emit_batch_dot(cg, node) -> None:
    x, y = node.inputs
    out = node.outputs[0]
    if not is_float(out.dtype):
        raise Unsupported("cpu codegen: batch_dot of integer tensors is not supported")
    if node in cg.attention:
        return _emit_attention(cg, cg.attention.pop(node), node)
    if heads.defer_attention(cg, node):
        return
    xb, yb, m, n = _batch_operands(cg, node)
    ob = _batch_result(cg, node, cg.dims(x)[0], m, n)
    with cg.w.block(f"for b in range({cg.dims(x)[0]}):"):
        heads.emit_row_packs(cg)
        if heads.on_gemm(cg, node):
            # in a row block's thread: symkb's serial kernel, not a threaded BLAS call
            cg.w.line(f"gemm_serial({xb}, {yb}, {ob})")
        else:
            cg.w.line(f"np.dot({xb}, {yb}, {ob})")


def _emit_attention(cg, scores, values) -> None:
    """``batch_dot(softmax(batch_dot(q, k)), v)`` (``heads.defer_attention``) one
    batch entry at a time: its ``(m, n)`` scores stay in the cache between the
    two products and the softmax, and no ``(batch, m, n)`` tensor is made."""
    qb, kb, m, n = _batch_operands(cg, scores)
    _, vb, _, width = _batch_operands(cg, values, left=False)
    rows = cg.dims(scores.inputs[0])[0]
    ob = _batch_result(cg, values, rows, m, width)
    block = cg.name(scores.outputs[0])
    cg.alloc_buffer(block, [m, n], "float32")
    lanes = softmax_lanes(cg, "float32", n)
    with cg.w.block(f"for b in range({rows}):"):
        heads.emit_row_packs(cg)
        cg.w.line(f"gemm_serial({qb}, {kb}, {block})")
        with cg.w.block(f"for r in range({m}):"):
            softmax_row(cg, block, block, "float32", lanes)
        cg.w.line(f"gemm_serial({block}, {vb}, {ob})")


@emitter("dropout")
def emit_dropout(cg, node) -> None:
    """The numpy reference through ``objmode``: the same seeded draws as the interpreter."""
    (x,) = node.inputs
    out = node.outputs[0]
    name = cg.fresh(cg.default_name(out))
    numba_t = {"float32": "float32", "float64": "float64"}.get(out.dtype)
    if numba_t is None:
        raise Unsupported(f"cpu codegen: dropout of {out.dtype}")
    typ = f"{numba_t}[{', '.join([':'] * (out.ndim - 1) + ['::1'])}]" if out.ndim else numba_t
    attrs = {k: node.attrs.get(k) for k in ("rate", "seed", "noise_shape")}
    with cg.w.block(f"with objmode({name}='{typ}'):"):
        cg.w.line(f"{name} = dropout_ref({cg.name(x)}, {attrs['rate']!r}, {attrs['seed']!r}, "
                  f"{attrs['noise_shape']!r})")
    cg.bind(out, name)
