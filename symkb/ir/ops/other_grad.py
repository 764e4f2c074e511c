"""Gradient declarations of the sources, random draws, effects, fused groups and loops.

A fused group (``fused_elementwise``, ``fused_dot``, ``fused_conv``) is differentiated
through its body, replayed on the node's operands, so a gradient can be
taken of an optimised graph too. The loop ops' rules are in ``scan_grad.py``.

``dropout``'s backward must use the forward's mask. ``K.dropout`` records the
mask as a value of its own (``x * dropout(ones_like(x))``), so its gradient
is the rule of ``multiply`` and the op itself is never differentiated there.
A ``dropout`` node of a differentiated tensor (``ir.call("dropout", x)``)
gets its mask from a twin node that draws from ones with the same seed: the
same draws, since a seeded node draws from ``numpy.random.default_rng(seed)``
on every target that runs it. Unseeded, a twin would draw another mask: the
rule refuses it, naming ``K.dropout``.
"""
from __future__ import annotations

from ..build import call
from ..gradients import through
from ..registry import NoGradient, declare
from ..replay import replay
from .fused import conv_part


def _fused_elementwise(node, cts):
    body = node.attrs["body"]
    return through(node, cts, lambda *args: replay(body, args))


def _fused_dot(node, cts):
    body = node.attrs["body"]
    return through(node, cts, lambda x, w, *args: replay(body, [call("dot", x, w), *args]))


def _fused_conv(node, cts):
    body, conv, pool = node.attrs["body"], conv_part(node), node.attrs.get("pool", ())

    def forward(x, w, *args):
        (out,) = replay(body, [call("conv", x, w, **conv), *args])
        if not pool:
            return [out]
        return [call("pool", out, mode="max", window=tuple(pool), strides=tuple(pool),
                     pads=((0, 0),) * len(pool))]
    return through(node, cts, forward)


declare("fused_elementwise", grad=_fused_elementwise)
declare("fused_conv", grad=_fused_conv)
declare("fused_dot", grad=_fused_dot)
declare("print_tensor", grad=lambda node, cts: [cts[0]])
for _name in ("input", "param", "const"):
    declare(_name, grad=NoGradient("a source: it has no operands"))
for _name in ("random_uniform", "random_normal", "truncated_normal", "random_bernoulli"):
    declare(_name, grad=NoGradient("a random draw from a shape (tf: None)"))


def _dropout(node, cts):
    """``ct * mask / (1 - rate)``, the mask redrawn by a seeded twin (module docstring)."""
    x = node.inputs[0]
    if node.attrs.get("seed") is None:
        raise NotImplementedError(
            f"gradients: a dropout node without a seed ({node.outputs[0].name} of "
            f"{x.name}) cannot be differentiated: its backward needs the forward's mask, "
            "which the node does not return; record dropout with K.dropout (the mask "
            "is a value of its own there) or give the node a seed")
    twin = call("dropout", call("ones_like", x), **node.attrs)
    return [call("multiply", cts[0], twin)]


declare("dropout", grad=_dropout)
