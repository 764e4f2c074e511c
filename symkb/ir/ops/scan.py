"""The ``scan`` op: the canonical loop every target lowers.

A ``loop`` (what ``K.rnn`` records, with the tf_keras options) is rewritten
into plain nodes around one ``scan`` by :func:`symkb.ir.ops.canonical.canonical_loop`
(the ``canonicalize_loops`` pass); the targets, the row-wise analysis and the
unrolling only ever see this form. A scan has no mask, no ``go_backwards``,
no ``zero_output_for_mask``, no ``time_major`` and records every step: those
options became ordinary nodes (an extra bool sequence with ``where`` selects in
the body, an extra carried state, transposes, ``reverse`` and ``expand_dims``
outside).

Operands, flat and grouped by counts (in this order)::

    (*sequences, *initial_states, *constants)

* ``sequences`` (``num_sequences`` >= 1): ``(batch, time, ...)`` tensors (always
  batch-major), all of the same time and batch sizes; step ``t`` reads
  ``x_t = seq[:, t]``;
* ``initial_states`` (``num_states`` >= 0) and ``constants`` (``num_constants``
  >= 0) as in a ``loop``.

Attributes: ``body`` (a closed graph ``(*x_t, *states, *constants) ->
(*step_outputs, *new_states)``, exactly as a loop's), ``num_sequences``,
``num_states``, ``num_constants``, ``num_outputs``, ``reverse`` (process the
steps ``T-1 .. 0``) and ``length`` (the static number of steps or ``None``).

Results, flat::

    (*last_outputs, *outputs, *final_states)

``outputs[i]`` stacks step output ``i`` on axis 1 in *time* order: position
``t`` holds the step that read ``x[:, t]``, whichever way the steps ran, so a
reverse scan's ``last_outputs`` is the step at ``t = 0``. Semantics::

    for t in (T-1 .. 0 if reverse else 0 .. T-1):
        out_t, states = body(x[:, t], states, constants)
        outputs[:, t] = out_t

The numpy reference is :func:`symkb.ir.ops.loop.run_loop` (with ``reverse``),
the one reference of both ops.
"""
from __future__ import annotations

from ..graph import evaluate
from ..node import Node, encode_index
from ..registry import get_op, register
from ..verify import NODE_CHECKS
from .loop import _inline, _loop_rule, check_loop, run_loop, split_operands

SCAN_ATTRS = ("body", "num_sequences", "num_states", "num_constants", "num_outputs", "reverse",
              "length")


def _scan_rule(types, *, body, num_sequences, num_states, num_constants, num_outputs, reverse,
               length):
    return _loop_rule(types, body=body, num_sequences=num_sequences, num_states=num_states,
                      num_constants=num_constants, has_mask=False, go_backwards=reverse,
                      zero_output_for_mask=False, return_all_outputs=True, time_major=False,
                      length=length, num_outputs=num_outputs, op="scan")


@register("scan", type_rule=_scan_rule, kind="control")
def scan(*arrays, body, num_sequences, num_states, num_constants, num_outputs, reverse, length):
    """Iterate ``body`` over axis 1 of the sequences (see the module docstring)."""
    seqs, states, consts, _ = split_operands(arrays, num_sequences=num_sequences,
                                             num_states=num_states, num_constants=num_constants)
    consts = list(consts)

    def step(xs, st):
        res = evaluate(body, list(xs) + list(st) + consts)
        return res[:num_outputs], res[num_outputs:]

    last, outputs, final = run_loop(step, list(seqs), list(states), reverse=reverse)
    return tuple(last) + tuple(outputs) + tuple(final)


def check_scan(node) -> None:
    """Verifier hook: the body is closed and the result count fits."""
    check_loop(node, SCAN_ATTRS)


NODE_CHECKS["scan"] = check_scan


def scan_results(operands, attrs, *, name=None, layer=None) -> tuple:
    """The results of a new ``scan`` node over ``operands`` with ``attrs``."""
    operands = tuple(operands)
    types = get_op("scan").infer([t.type for t in operands], attrs)
    return Node("scan", operands, dict(attrs), types, name, layer).outputs


def unroll_scan(operands, attrs, *, name=None, layer=None) -> tuple:
    """The results of a scan built as ``length`` inlined copies of its body.

    The step slices are ``getitem`` nodes and the outputs ``stack`` nodes (in
    time order); requires a static ``length``.
    """
    length = attrs["length"]
    if length is None:
        raise ValueError("Unrolling requires a fixed number of timesteps.")
    no = attrs["num_outputs"]
    seqs, states, consts, _ = split_operands(operands, **attrs)

    def mk(op, *ins, **a):
        return Node(op, ins, a, get_op(op).infer([t.type for t in ins], a), layer=layer).outputs[0]

    order = range(length - 1, -1, -1) if attrs["reverse"] else range(length)
    states, recorded = list(states), {}
    for t in order:
        xs = [mk("getitem", s, index=encode_index((slice(None), t), s.ndim)) for s in seqs]
        res = _inline(attrs["body"], xs + states + list(consts))
        recorded[t], states = res[:no], res[no:]
    last = recorded[order[-1]]
    outputs = [mk("stack", *[recorded[t][i] for t in range(length)], axis=1) for i in range(no)]
    return tuple(last) + tuple(outputs) + tuple(states)


def is_loop_op(op: str) -> bool:
    """Whether nodes of ``op`` iterate a body over time (``loop`` or ``scan``)."""
    return op in ("loop", "scan")


__all__ = ["SCAN_ATTRS", "scan", "check_scan", "scan_results", "unroll_scan", "is_loop_op"]
