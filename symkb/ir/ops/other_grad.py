"""Gradient declarations of the sources, random draws, effects, fused groups and loops.

A fused group (``fused_elementwise``, ``fused_dot``) is differentiated
through its body, replayed on the node's operands, so a gradient can be
taken of an optimised graph too. ``dropout`` is differentiable but has no
rule yet: reverse mode through it raises ``NotImplementedError`` naming the
op. The loop ops' rules are in ``scan_grad.py``.
"""
from __future__ import annotations

from ..build import call
from ..gradients import through
from ..registry import NoGradient, declare
from ..replay import replay


def _fused_elementwise(node, cts):
    body = node.attrs["body"]
    return through(node, cts, lambda *args: replay(body, args))


def _fused_dot(node, cts):
    body = node.attrs["body"]
    return through(node, cts, lambda x, w, *args: replay(body, [call("dot", x, w), *args]))


declare("fused_elementwise", grad=_fused_elementwise)
declare("fused_dot", grad=_fused_dot)
declare("print_tensor", grad=lambda node, cts: [cts[0]])
for _name in ("input", "param", "const"):
    declare(_name, grad=NoGradient("a source: it has no operands"))
for _name in ("random_uniform", "random_normal", "truncated_normal", "random_bernoulli"):
    declare(_name, grad=NoGradient("a random draw from a shape (tf: None)"))
declare("dropout", grad=NoGradient("the backward needs the forward's mask, which the node "
                                   "does not return", pending=True))
