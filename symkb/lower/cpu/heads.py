"""Attention heads as strided views: no copies around a multi-head ``batch_dot``.

Multi-head attention splits each projection ``(batch, steps, heads * size)``
into heads, ``reshape(transpose(reshape(p, (-1, steps, heads, size)),
(0, 2, 1, 3)), (-1, steps, size))``, multiplies head by head with
``batch_dot`` and merges the heads back the same way. Emitted op by op, each
split and merge is a copy of the whole tensor (and ``batch_dot`` copied the
keys once more to transpose them). On row blocks (``cg.serial_products``),
where the float32 products run on ``gemm_serial``, which reads a left
operand of any row stride and packs its right operand from any layout:

* a split whose every user is a ``batch_dot`` operand becomes the view
  ``p4.transpose((0, 2, 1, 3))``, and the product of batch entry ``b`` reads
  head ``b % heads`` of row ``b // heads`` of it in place (the keys'
  transposition is the packing's, ``gemm.pack_rhs_t``);
* a ``batch_dot`` whose result is merged back is written straight into the
  merged buffer, each head's ``(steps, size)`` block at its columns;
* ``batch_dot(softmax(batch_dot(q, k)), v)`` (reshapes between allowed, each
  value read by the next alone) runs one batch entry at a time: both
  products and the softmax of one head's ``(m, n)`` scores, which stay in the
  cache, instead of three passes over ``(batch * heads, m, n)`` tensors
  (``arrays._emit_attention``, emitted where the second product stands, once
  ``v`` is computed).
"""
from __future__ import annotations

import math

from .gemm import LANES, NR

SPLIT = (0, 2, 1, 3)


def _static(shape) -> bool:
    return all(isinstance(d, int) for d in shape)


def on_gemm(cg, bd) -> bool:
    """Whether the ``batch_dot`` node ``bd`` runs on ``gemm_serial``: on a row
    block's thread (``cg.serial_products``), float32, the right operand's free
    axes (the result's columns) a static whole number of vectors."""
    y = bd.inputs[1]
    ay = bd.attrs["axes"][1]
    rest = [y.shape[i] for i in range(1, y.ndim) if i != ay]
    return (cg.serial_products and bd.outputs[0].dtype == "float32" and None not in rest
            and math.prod(rest) % LANES == 0)


def _operand_ok(cg, bd, i: int) -> bool:
    """Whether a head view can be operand ``i`` of ``bd``: the left one contracted
    on its last axis, the right one on either of its two."""
    ax, ay = bd.attrs["axes"]
    return on_gemm(cg, bd) and bd.inputs[i].ndim == 3 and (ax == 2 if i == 0 else ay in (1, 2))


def split_view(cg, node) -> bool:
    """Emit the transpose ``node`` as a head-split view when it qualifies (module
    docstring); returns whether it did."""
    (x,), (out,) = node.inputs, node.outputs
    if (cg.scope.depth or not cg.serial_products or x.ndim != 4 or tuple(node.attrs["perm"]) != SPLIT
            or x.dtype != "float32" or not _static(x.shape[1:]) or out in cg._results):
        return False
    steps, heads, size = x.shape[1:]
    users = cg.users.get(out, [])
    if not users:
        return False
    for user, _ in users:
        if user is None or user.op != "reshape" or user.outputs[0].shape[1:] != (steps, size) \
                or user.outputs[0] in cg._results:
            return False
        readers = cg.users.get(user.outputs[0], [])
        if not readers or not all(bd is not None and bd.op == "batch_dot" and _operand_ok(cg, bd, i)
                                  for bd, i in readers):
            return False
    name = cg.fresh(cg.default_name(out))
    cg.w.line(f"{name} = {cg.name(x)}.transpose({SPLIT})")
    cg.bind(out, name, [cg.dims(x)[0], heads, steps, size])
    cg.head_views[out] = (name, heads)
    cg.head_rows[name] = (cg.name(x), steps, heads, size)
    return True


def merged_reshape(cg, node) -> bool:
    """Bind the reshape ``node`` of a head-split view (no code); returns whether it was one."""
    (x,), (out,) = node.inputs, node.outputs
    if x not in cg.head_views:
        return False
    name, heads = cg.head_views[x]
    cg.bind(out, name, [f"({name}.shape[0] * {heads})"] + list(out.shape[1:]))
    cg.merged[out] = (name, heads)
    return True


def operand(cg, t, right: bool, transposed: bool = False):
    """The text of batch entry ``b`` of ``t`` when ``t`` is a merged head view,
    else ``None``; a ``right`` operand's packed panels (``transposed``: of its
    matrix transposed, ``pack_rhs_t``)."""
    if t not in cg.merged:
        return None
    name, heads = cg.merged[t]
    entry = f"{name}[b // {heads}, b % {heads}]"
    if not right:
        return entry
    if transposed:
        return f"pack_rhs_t({entry})"
    source, steps, _, size = cg.head_rows[name]
    if size % NR:
        return f"pack_rhs({entry})"
    # heads of whole panels: the batch row's (steps, heads * size) matrix packed
    # once, at its first head, holds each head's panels one after the other (a
    # head view packed alone is read with its row stride: 3x slower a float)
    panels = cg.fresh(f"{name}_row_panels")
    cg.w.line(f"{panels} = empty((0,), np.float32)")
    cg.row_packs.append(
        (f"b % {heads} == 0",
         f"{panels} = pack_rhs(reshaped({source}[b // {heads}], ({steps}, {heads * size})))"))
    span = steps * size
    return f"{panels}[(b % {heads}) * {span}:(b % {heads} + 1) * {span}]"


def emit_row_packs(cg) -> None:
    """The packings :func:`operand` asked for, at the top of the loop over ``b``."""
    for test, line in cg.row_packs:
        with cg.w.block(f"if {test}:"):
            cg.w.line(line)
    cg.row_packs.clear()


def merge_target(cg, node, rows):
    """For ``batch_dot`` ``node`` (``rows`` batch entries) whose result is merged back into
    ``(batch, steps, heads, size)``: allocate that buffer, bind the merge's
    values to it and return the text of batch entry ``b``'s block; else ``None``."""
    out = node.outputs[0]
    if cg.scope.depth or not on_gemm(cg, node) or out.ndim != 3 \
            or out in cg._results or not _static(out.shape[1:]):
        return None
    users = cg.users.get(out, [])
    if len(users) != 1 or users[0][0] is None or users[0][0].op != "reshape":
        return None
    split = users[0][0].outputs[0]
    if split.ndim != 4 or split.shape[2:] != out.shape[1:] or split in cg._results:
        return None
    heads = split.shape[1]
    movers = cg.users.get(split, [])
    if len(movers) != 1 or movers[0][0] is None or movers[0][0].op != "transpose" \
            or tuple(movers[0][0].attrs["perm"]) != SPLIT:
        return None
    merged = movers[0][0].outputs[0]
    dims = [f"({rows}) // {heads}", out.shape[1], heads, out.shape[2]]
    name = cg.alloc(merged, dims)
    cg.bind(split, f"{name}.transpose({SPLIT})", [dims[0], heads, out.shape[1], out.shape[2]])
    cg.bind(out, name, None)
    return name


def _only_user(cg, t, ops):
    """The one node reading ``t`` when its op is in ``ops`` and ``t`` is not a
    result, else ``None``."""
    users = cg.users.get(t, [])
    if len(users) != 1 or users[0][0] is None or users[0][0].op not in ops \
            or t in cg._results:
        return None
    return users[0][0]


def defer_attention(cg, scores) -> bool:
    """Whether the ``batch_dot`` ``scores`` starts an attention the second
    product emits whole (module docstring); then the values between are bound
    to the scores' block and ``cg.attention`` maps the second product to it."""
    if cg.scope.depth or not on_gemm(cg, scores) \
            or scores.attrs["axes"][0] != 2 or scores.inputs[0].ndim != 3 \
            or not _static(scores.outputs[0].shape[1:]):
        return False
    chain, t = [], scores.outputs[0]
    node = _only_user(cg, t, ("reshape", "softmax"))
    if node is not None and node.op == "reshape":
        chain.append(node)
        node = _only_user(cg, node.outputs[0], ("softmax",))
    if node is None or node.attrs["axis"] != node.inputs[0].ndim - 1 \
            or node.outputs[0].dtype != "float32":
        return False
    chain.append(node)
    node = _only_user(cg, node.outputs[0], ("reshape", "batch_dot"))
    if node is not None and node.op == "reshape":
        if node.outputs[0].shape[1:] != scores.outputs[0].shape[1:]:
            return False
        chain.append(node)
        node = _only_user(cg, node.outputs[0], ("batch_dot",))
    if node is None or tuple(node.attrs["axes"]) != (2, 1) or not on_gemm(cg, node) \
            or node.inputs[1].ndim != 3 or node.inputs[0] is node.inputs[1]:
        return False
    block = cg.fresh("scores")
    for t in [scores.outputs[0]] + [n.outputs[0] for n in chain]:
        cg.bind(t, block, None)
    cg.later.update(n.outputs[0] for n in chain)
    cg.attention[node] = scores
    cg.w.comment("  (computed a head at a time with the softmax and the second product below)")
    return True
