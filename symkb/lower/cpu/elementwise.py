"""CPU emitters of elementwise work: fused groups, dot epilogues, lone elementwise ops.

A ``fused_elementwise`` node becomes one explicit loop nest over its
iteration shape; inside, each body node is one scalar statement (the shared
rules of :mod:`symkb.lower.scalar`, read in the cpu dialect of ``scalar.py``)
and each result is stored once: no temporaries. ``fused_dot`` computes the
matrix product into its result buffer (``gemm_serial`` for float32 products
with a static right operand in a function that runs on row blocks,
``np.dot(x, w, out)`` otherwise) and runs its body in place over it. A lone
elementwise node (when the fusion pass did not run) is emitted as a group of
one.

Broadcasting follows the static types: an axis of static size 1 is read at
index 0. Two operands whose sizes on an axis are both unknown (``None``) are
taken to be equal at run time (the batch axis, in practice); an unknown axis
that turns out to be 1 against a larger one is not broadcast.
"""
from __future__ import annotations

from ...ir import Graph, Node, get_op
from ...ir.types import is_float
from ..emitters import registrar
from ..errors import Unsupported
from . import gemm
from .in_place import emit_update_in_place
from ..scalar import RULES
from .scalar import CpuScalars, lit, np_type

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)


def iteration_dims(cg, node, t_out) -> list:
    """Runtime dims of the iteration shape ``t_out`` of ``node``."""
    rank = t_out.ndim
    dims = []
    for k, d in enumerate(t_out.shape):
        if d is not None:
            dims.append(d)
            continue
        expr = None
        for t in node.inputs:
            j = k - (rank - t.ndim)
            if j >= 0 and t.shape[j] is None:
                expr = cg.dims(t)[j]
                break
        if expr is None:
            raise Unsupported(f"cpu codegen: cannot size axis {k} of {node.op} "
                              f"({node.outputs[0].name})", node=node)
        dims.append(expr)
    return dims


def emit_body(cg, body: Graph, operand_elems: list, out_elems: list) -> list:
    """Scalar statements computing ``body`` from operand element expressions;
    returns the expressions of the body's results."""
    d = CpuScalars(cg.w, cg.fresh)
    env = dict(zip(body.inputs, operand_elems))
    for node in body.nodes:
        if node.op == "const":
            value = node.attrs["value"]
            env[node.outputs[0]] = lit(value.reshape(-1)[0], value.dtype.name)
            continue
        fn = RULES.get(node.op)
        if fn is None:
            raise Unsupported(f"cpu codegen: no scalar code for elementwise op {node.op!r}",
                              node=node)
        expr = d.result(fn(d, node, [env[t] for t in node.inputs]), node.out_types[0].dtype)
        name = cg.fresh("v")
        cg.w.line(f"{name} = {expr}")
        env[node.outputs[0]] = name
    for target, t in zip(out_elems, body.outputs):
        cg.w.line(f"{target} = {env[t]}")
    return [env[t] for t in body.outputs]


@emitter("fused_elementwise")
def emit_fused(cg, node, out_names=None) -> None:
    body = node.attrs["body"]
    t0 = node.out_types[0]
    for t in node.inputs:
        if t.dtype == "float16":
            raise Unsupported("cpu codegen: float16 is not supported", node=node)
    dims = iteration_dims(cg, node, t0)
    if out_names is None and _zero_states(cg, node):
        # read only as time loops' initial states: each loop starts from
        # zeros of its own (``loops.emit_scan``), with no loop nest here
        cg.zero_states.add(node.outputs[0])
        cg.bind(node.outputs[0], f"zeros({cg.shape_text(dims)}, {np_type(t0.dtype)})", dims)
        return
    names = []
    for i, o in enumerate(node.outputs):
        if out_names:
            cg.bind(o, out_names[i], dims)
            names.append(out_names[i])
        else:
            names.append(cg.result_buffer(o, dims))
    rank = t0.ndim
    idx, close = cg.w.loop_nest(dims)
    operand_elems = [cg.elem(t, idx, rank) for t in node.inputs]
    where = f"[{', '.join(idx)}]" if rank else "[()]"
    values = emit_body(cg, body, operand_elems, [f"{n}{where}" for n in names])
    for o, value in zip(node.outputs, values):
        cg.extra_store_lines(o, idx, value)
    close()


def _zero_states(cg, node) -> bool:
    """Whether ``node`` (a fused group) fills zeros (a recurrent layer's zero
    states: ``simplify``'s broadcast fill) that only time loops of this level
    read, as initial states."""
    body = node.attrs["body"]
    if len(node.outputs) != 1 or body.outputs[0].node.op != "zeros_like" \
            or node.out_types[0].ndim == 0 or node.out_types[0].dtype == "float16":
        return False
    users = cg.users.get(node.outputs[0], [])
    for user, index in users:
        if user is None or user.op != "scan":
            return False
        first = user.attrs["num_sequences"]
        if not first <= index < first + user.attrs["num_states"]:
            return False
    return bool(users)


def _single_group(node) -> Node:
    """``node`` as a ``fused_elementwise`` group of one."""
    phs, operands = [], []
    local = {}
    for t in node.inputs:
        if t in local:
            continue
        ph = Node("input", (), {}, (t.type,), name=f"x{len(phs)}").outputs[0]
        local[t] = ph
        phs.append(ph)
        operands.append(t)
    inner = node.with_inputs([local[t] for t in node.inputs])
    body = Graph(phs, list(inner.outputs), name="body")
    attrs = {"body": body, "ops": (node.op,)}
    types = get_op("fused_elementwise").infer([t.type for t in operands], attrs)
    return Node("fused_elementwise", tuple(operands), attrs, types, node.name, node.layer)


def emit_single(cg, node) -> None:
    group = _single_group(node)
    emit_fused(cg, group)
    for a, b in zip(node.outputs, group.outputs):
        cg.bind(a, cg.name(b), cg.dims(b))


for _op in RULES:
    emitter(_op)(emit_single)


# -- matrix products -----------------------------------------------------------

SMALL_N = 64  # below this many columns a per-step product is looped, not a BLAS call


def small_weight(w) -> bool:
    """A 2-D weight of static shape under ``SMALL_N`` x ``SMALL_N``."""
    k, n = w.shape
    return isinstance(k, int) and isinstance(n, int) and n < SMALL_N and k < SMALL_N


def small_product(x, w) -> bool:
    """A product small enough that, in a time loop, explicit loops beat a BLAS call."""
    return x.ndim == 2 and small_weight(w)


def packable(x, w, out_dtype: str) -> bool:
    """A product symkb's own kernel (``gemm.py``) takes: float32 throughout, a
    2-D right operand of static shape (columns padded to a multiple of 16)."""
    return (out_dtype == "float32" and x.dtype == w.dtype == "float32" and x.ndim >= 2
            and w.ndim == 2 and gemm.supported(*w.shape))


def _small_product(cg, x, w) -> bool:
    return cg.scope.depth > 0 and small_product(x, w)


def _panels(cg, x, w, out_dtype: str):
    """The name of ``w`` packed for ``gemm_serial``, or None for a BLAS product.

    In a function that runs on row blocks, one a thread (``cg.serial_products``),
    float32 products whose right operand has a static shape run on symkb's own
    register-tiled kernel (``gemm.py``) on the block's thread (any width: the
    kernel masks the stores of a last panel narrower than 16 columns).
    Elsewhere a product calls BLAS, which brings threads of its own. In a time
    loop the right operand must be the same at every step; it
    is packed once, before the loop. A matrix is packed once per place it is
    needed.
    """
    if not cg.serial_products or not packable(x, w, out_dtype):
        return None
    if x in cg.transposed_views:
        return None  # gemm_serial reads its left operand's rows with unit column stride
    if cg.scope.depth and w not in cg.scope.invariant:
        return None
    return panels_for(cg, w)


def panels_for(cg, w) -> str:
    """The name of ``w`` packed by ``pack_rhs``, before the outermost time loop."""
    wn = cg.name(w)
    hoist = cg.scope.pack_hoist
    key = (wn, id(hoist))
    if key not in cg.packed:
        name = cg.fresh(f"{wn}_panels")
        hoist.line(f"{name} = pack_rhs({wn})")
        cg.packed[key] = name
    return cg.packed[key]


def matmul_into(cg, x, w, out_name: str, out_dtype: str) -> None:
    """``out = x @ w`` for a 2-D ``w``; ``x`` of any rank >= 1 (leading axes flattened)."""
    xn, wn = cg.name(x), cg.name(w)
    xd, wd = cg.dims(x), cg.dims(w)
    if x.dtype != out_dtype:
        xn = f"{xn}.astype({np_type(out_dtype)})"
    if w.dtype != out_dtype:
        wn = f"{wn}.astype({np_type(out_dtype)})"
    small = _small_product(cg, x, w)
    panels = None if small else _panels(cg, x, w, out_dtype)
    if panels is not None:
        x2 = xn if x.ndim == 2 else f"reshaped({xn}, (-1, {xd[-1]}))"
        o2 = out_name if x.ndim == 2 else f"reshaped({out_name}, (-1, {wd[-1]}))"
        cg.w.line(f"gemm_serial({x2}, {panels}, {o2})")
        return
    if is_float(out_dtype) and not small and x.ndim >= 2 and _blas_f32(x, w, out_dtype):
        # BLAS through one cached helper: transposed views need no copy (``blas.py``)
        x2 = xn if x.ndim == 2 else f"reshaped({xn}, (-1, {xd[-1]}))"
        o2 = out_name if x.ndim == 2 else f"reshaped({out_name}, (-1, {wd[-1]}))"
        cg.w.line(f"sgemm_into({x2}, {wn}, {o2}, 1.0, 0.0)")
        return
    if is_float(out_dtype) and not small:
        if x.ndim <= 2:
            cg.w.line(f"np.dot({xn}, {wn}, {out_name})")
        else:
            cg.w.line(f"np.dot(reshaped({xn}, (-1, {xd[-1]})), {wn}, "
                      f"reshaped({out_name}, (-1, {wd[-1]})))")
        return
    # Integer products (numba's np.dot needs BLAS floats), and small per-step
    # products where a BLAS call costs more than the arithmetic: explicit loops,
    # the innermost over the result's contiguous columns (it vectorises).
    if x.ndim == 2:
        x2, o2 = xn, out_name
    else:
        x2, o2 = cg.fresh("x2"), cg.fresh("o2")
        cg.w.line(f"{x2} = reshaped({xn}, (-1, {xd[-1]}))")
        cg.w.line(f"{o2} = reshaped({out_name}, (-1, {wd[-1]}))")
    zero = lit(0, out_dtype)
    with cg.w.block(f"for r in range({x2}.shape[0]):"):
        with cg.w.block(f"for c in range({wd[-1]}):"):
            cg.w.line(f"{o2}[r, c] = {zero}")
        with cg.w.block(f"for k in range({xd[-1]}):"):
            cg.w.line(f"xv = {x2}[r, k]")
            with cg.w.block(f"for c in range({wd[-1]}):"):
                cg.w.line(f"{o2}[r, c] += xv * {wn}[k, c]")


def _blas_f32(x, w, out_dtype: str) -> bool:
    """A float32 product of matrices, for ``sgemm_into``."""
    return out_dtype == x.dtype == w.dtype == "float32" and w.ndim == 2


def _dot_dims(cg, x, w) -> list:
    return cg.dims(x)[:-1] + cg.dims(w)[-1:]


@emitter("fused_dot")
def emit_fused_dot(cg, node) -> None:
    x, w, *rest = node.inputs
    body = node.attrs["body"]
    acc_t = body.inputs[0]
    out = node.outputs[0]
    dims = _dot_dims(cg, x, w)
    if emit_update_in_place(cg, node):
        return
    if _small_product(cg, x, w) and is_float(acc_t.dtype) and x.dtype == w.dtype == acc_t.dtype:
        # A small per-step product: each result element is a dot product
        # computed in a register right where the epilogue needs it (LLVM
        # unrolls the static inner loop); no BLAS call, no buffer round trip.
        # The rows of x are read while results are stored: never in place.
        name = cg.alloc(out, dims)
        idx, close = cg.w.loop_nest(dims)
        k = cg.fresh("k")
        cg.w.line(f"acc = {lit(0, acc_t.dtype)}")
        with cg.w.block(f"for {k} in range({cg.dims(x)[-1]}):"):
            cg.w.line(f"acc += {cg.name(x)}[{idx[0]}, {k}] * {cg.name(w)}[{k}, {idx[1]}]")
        operand_elems = ["acc"] + [cg.elem(t, idx, out.ndim) for t in rest]
        (value,) = emit_body(cg, body, operand_elems, [f"{name}[{', '.join(idx)}]"])
        cg.extra_store_lines(out, idx, value)
        close()
        return
    # The product goes to the result buffer, unless the result has a proposed
    # buffer (a state that x may be): then to a buffer of its own, and the
    # epilogue writes the result.
    name = cg.result_buffer(out, dims)
    if acc_t.dtype == out.dtype and out not in cg.scope.targets:
        acc = name
    else:
        acc = cg.fresh("acc" if acc_t.dtype != out.dtype else f"{name}_acc")
        cg.alloc_buffer(acc, dims, acc_t.dtype)
    matmul_into(cg, x, w, acc, acc_t.dtype)
    rank = out.ndim
    idx, close = cg.w.loop_nest(dims)
    where = f"[{', '.join(idx)}]"
    operand_elems = [f"{acc}{where}"] + [cg.elem(t, idx, rank) for t in rest]
    (value,) = emit_body(cg, body, operand_elems, [f"{name}{where}"])
    cg.extra_store_lines(out, idx, value)
    close()


@emitter("dot")
def emit_dot(cg, node) -> None:
    x, w = node.inputs
    out = node.outputs[0]
    if w.ndim == 2 and x.ndim >= 1:
        name = cg.alloc(out, _dot_dims(cg, x, w))
        matmul_into(cg, x, w, name, out.dtype)
        return
    if w.ndim == 1:
        # contract the last axis of x with w: a matrix-vector product.
        xd = cg.dims(x)
        name = cg.alloc(out, xd[:-1])
        xn, wn = cg.name(x), cg.name(w)
        flat = cg.fresh("flat")
        cg.w.line(f"{flat} = reshaped({name}, (-1,))")
        x2 = cg.fresh("x2")
        cg.w.line(f"{x2} = reshaped({xn}, (-1, {xd[-1]}))")
        with cg.w.block(f"for r in range({x2}.shape[0]):"):
            cg.w.line(f"acc = {lit(0, out.dtype)}")
            with cg.w.block(f"for k in range({xd[-1]}):"):
                cg.w.line(f"acc += {np_type(out.dtype)}({x2}[r, k]) * "
                          f"{np_type(out.dtype)}({wn}[k])")
            cg.w.line(f"{flat}[r] = acc")
        return
    # w of rank > 2: move its contracted axis (-2) first and flatten the rest.
    wd = cg.dims(w)
    perm = (w.ndim - 2,) + tuple(i for i in range(w.ndim) if i != w.ndim - 2)
    w2 = cg.fresh("w2")
    rest = [wd[i] for i in perm[1:]]
    cg.w.line(f"{w2} = reshaped(np.ascontiguousarray({cg.name(w)}.transpose({perm})), "
              f"({wd[-2]}, -1))")
    out_dims = cg.dims(x)[:-1] + rest
    name = cg.alloc(out, out_dims)
    tmp = cg.fresh("o2")
    cg.w.line(f"{tmp} = reshaped({name}, (-1, {' * '.join(str(d) for d in rest)}))")
    xn = cg.name(x)
    cg.w.line(f"np.dot(reshaped({xn}, (-1, {cg.dims(x)[-1]})), {w2}, {tmp})")
