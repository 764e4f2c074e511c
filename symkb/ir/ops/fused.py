"""Fused ops: the elementwise groups and matrix-product epilogues the passes build.

``fused_elementwise``
    Operands ``(*args)``; attribute ``body``: a closed :class:`Graph` whose
    inputs are placeholders with exactly the operands' types and whose nodes
    are elementwise ops only (``kind == 'elementwise'``, consts allowed).
    Its results are the body's outputs; every body output has the shape of
    the broadcast of all operand shapes (the *iteration shape*), so a code
    generator may emit one loop nest over that shape, bind each operand's
    element (numpy broadcasting, right-aligned) and evaluate the body's
    nodes as scalar expressions in order, with no temporaries. The
    attribute ``ops`` (a tuple of op names, informative) is shown by the
    printer as ``fused{...}``-like text and ignored by the type rule.

``fused_dot``
    Operands ``(x, w, *args)`` with ``w`` 2-D; attribute ``body``: a closed
    graph of elementwise ops over ``(acc, *args)`` where ``acc`` has the type
    of ``dot(x, w)``. Result: ``body(dot(x, w), *args)`` (one output, the
    shape of ``dot(x, w)``). Code generators compute the product into the
    result buffer (``np.dot(x, w, out)``) and run the body in place over it:
    the dense layer's ``dot + bias_add + activation`` becomes one node.

``fused_conv``
    Operands ``(x, w, *args)``; attributes those of ``conv`` (``strides``,
    ``dilation``, ``pads``, ``groups``) and ``body``: a closed graph of
    elementwise ops over ``(acc, *args)`` where ``acc`` has the type of
    ``conv(x, w)``. Result: ``body(conv(x, w), *args)``, the shape of the
    convolution. The cpu target applies the body to each block of output
    positions while the block is still in the cache (the convolution's bias,
    activation and an inference-mode batch normalisation, folded by the pass
    ``fuse_conv``). Attribute ``pool`` (a window size per spatial dim, or
    ``()``): the result is then the maximum of the body's values over the
    windows that tile it (strides equal to the window, no padding, what is
    left over at the end of an axis dropped), as ``pool`` computes it: the
    pooling that follows a convolution, folded in too.

Both references evaluate the body with the other ops' numpy references, so
the interpreter runs optimised graphs unchanged.
"""
from __future__ import annotations

from ..errors import ShapeError
from ..graph import evaluate
from ..registry import get_op, register
from ..types import TensorType, broadcast_shapes
from .linalg import _dot_rule


def _check_body(name, types, body):
    if len(body.inputs) != len(types):
        raise ShapeError(f"{name}: the body takes {len(body.inputs)} values but the node has "
                         f"{len(types)} operands")
    for i, (t, b) in enumerate(zip(types, body.inputs)):
        if t != b.type:
            raise ShapeError(f"{name}: operand {i} has type {t} but the body's input {i} "
                             f"expects {b.type}")
    for node in body.nodes:
        kind = get_op(node.op).kind
        if kind not in ("elementwise", "source") or node.op == "param":
            raise ShapeError(f"{name}: the body may hold elementwise ops only, found "
                             f"{node.op!r} ({kind})")


def _fused_rule(types, *, body, ops=()):
    _check_body("fused_elementwise", types, body)
    shape = broadcast_shapes(*(t.shape for t in types), op="fused_elementwise")
    outs = []
    for t in body.outputs:
        if broadcast_shapes(t.shape, shape, op="fused_elementwise") != shape:
            raise ShapeError(f"fused_elementwise: body result {t.type} does not have the "
                             f"iteration shape {shape}")
        outs.append(TensorType(shape, t.dtype))
    return tuple(outs)


@register("fused_elementwise", type_rule=_fused_rule, kind="other", fused=True,
          bodies=("body",), rows="elementwise")
def fused_elementwise(*args, body, ops=()):
    """Evaluate ``body`` on the operands (see the module docstring)."""
    outs = evaluate(body, args)
    return tuple(outs) if len(outs) != 1 else outs[0]


def _fused_dot_rule(types, *, body, ops=()):
    x, w, *rest = types
    if w.ndim != 2:
        raise ShapeError(f"fused_dot: expected a 2-D right operand, received {w.shape}")
    acc = _dot_rule((x, w))
    _check_body("fused_dot", (acc, *rest), body)
    if len(body.outputs) != 1:
        raise ShapeError("fused_dot: the body must have exactly one result")
    out = body.outputs[0].type
    return TensorType(acc.shape, out.dtype)


@register("fused_dot", type_rule=_fused_dot_rule, kind="linalg", fused=True,
          bodies=("body",), rows="dot")
def fused_dot(x, w, *args, body, ops=()):
    """``body(dot(x, w), *args)``: a matrix product with an elementwise epilogue."""
    import numpy as np

    acc = np.dot(x, w)
    (out,) = evaluate(body, (acc, *args))
    return out


_CONV_ATTRS = ("strides", "dilation", "pads", "groups")


def _fused_conv_rule(types, *, body, ops=(), pool=(), **conv):
    x, w, *rest = types
    acc = get_op("conv").infer([x, w], {k: conv[k] for k in _CONV_ATTRS})[0]
    _check_body("fused_conv", (acc, *rest), body)
    if len(body.outputs) != 1:
        raise ShapeError("fused_conv: the body must have exactly one result")
    if broadcast_shapes(body.outputs[0].shape, acc.shape, op="fused_conv") != acc.shape:
        raise ShapeError(f"fused_conv: body result {body.outputs[0].type} does not have the "
                         f"convolution's shape {acc.shape}")
    if not pool:
        return TensorType(acc.shape, body.outputs[0].dtype)
    if len(pool) != acc.ndim - 2 or any(int(p) < 1 for p in pool):
        raise ShapeError(f"fused_conv: pool must be {acc.ndim - 2} window sizes >= 1, "
                         f"received {pool}")
    pooled = tuple(None if o is None else o // p for o, p in zip(acc.shape[1:-1], pool))
    if any(o == 0 for o in pooled):
        raise ShapeError(f"fused_conv: a pool window {pool} larger than the convolution's "
                         f"result {acc.shape}")
    return TensorType((acc.shape[0],) + pooled + acc.shape[-1:], body.outputs[0].dtype)


@register("fused_conv", type_rule=_fused_conv_rule, kind="linalg", fused=True,
          bodies=("body",), rows="conv")
def fused_conv(x, w, *args, body, ops=(), pool=(), strides, dilation, pads, groups):
    """``body(conv(x, w), *args)``, then its maximum over windows of ``pool``
    (strides equal to the window, no padding) when ``pool`` is not empty."""
    acc = get_op("conv").impl(x, w, strides=strides, dilation=dilation, pads=pads,
                              groups=groups)
    (out,) = evaluate(body, (acc, *args))
    return max_pool(out, pool) if pool else out


def max_pool(x, pool):
    """``pool(x)``, the maximum over windows of sizes ``pool`` that tile ``x``."""
    return get_op("pool").impl(x, mode="max", window=tuple(pool), strides=tuple(pool),
                               pads=((0, 0),) * len(pool))


def conv_part(node) -> dict:
    """The ``conv`` attributes of a ``fused_conv`` node."""
    return {k: node.attrs[k] for k in _CONV_ATTRS}


def reads_elementwise(node, i: int) -> bool:
    """Whether the fused ``node`` reads its operand ``i`` element by element,
    in its body: every operand of ``fused_elementwise``, the epilogue's
    operands (after ``x`` and ``w``) of ``fused_dot`` and ``fused_conv``."""
    return i >= (2 if node.op in ("fused_dot", "fused_conv") else 0)
