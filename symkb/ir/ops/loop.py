"""The ``loop`` op: a recurrence over the time axis with a closed body graph.

``K.rnn`` on symbolic inputs records exactly one ``loop`` node. This module is
its full definition: operand layout, attributes, result layout, type rule,
numpy reference (the interpreter's meaning and, through :func:`run_loop`, the
eager ``K.rnn`` too) and the verifier check.

Operands, flat and grouped by counts (in this order)::

    (*sequences, *initial_states, *constants, [mask])

* ``sequences`` (``num_sequences`` >= 1): ``(batch, time, ...)`` tensors, or
  ``(time, batch, ...)`` when ``time_major``. All share the time and batch
  sizes. Nested ``K.rnn`` inputs are flattened in ``tf.nest`` order.
* ``initial_states`` (``num_states`` >= 0): the loop-carried values, any
  shape (usually ``(batch, units)``), flattened.
* ``constants`` (``num_constants`` >= 0): values read by every step and never
  changed: the step function's ``constants`` and every outer tensor, Variable
  (``param``) or array the step function closed over.
* ``mask`` (present iff ``has_mask``): ``bool``, ``(batch, time)`` or
  ``(time, batch)`` when ``time_major`` (the same major-ness as the sequences).

Attributes:

* ``body``: a closed :class:`~symkb.ir.Graph` with inputs
  ``(*x_t, *states, *constants)`` and outputs ``(*step_outputs, *new_states)``.
  ``x_t`` of a sequence of type ``(B, T, *rest)`` (or ``(T, B, *rest)``) has
  exactly the type ``(B, *rest)``; each state and constant input has exactly
  its operand's type. A new state has its state's dtype and a shape
  compatible with it (known dims equal). Closed means: every body input is a
  fresh ``input`` node and the body holds no ``param`` node, so nothing in it
  reaches outside; scalar ``const`` nodes may stay inside the body.
* ``num_sequences``, ``num_states``, ``num_constants``: the group sizes.
* ``num_outputs``: how many step outputs the body returns (1 unless the step
  function returned a nested output).
* ``has_mask``: whether the last operand is the mask.
* ``go_backwards``: process the time steps from last to first (the mask is
  read in the same reversed order).
* ``zero_output_for_mask``: the output at a masked step is zeros instead of
  the previous step's output.
* ``return_all_outputs``: ``outputs`` holds every step (time axis ``T``);
  otherwise only the last one (time axis of length 1).
* ``time_major``: sequences, mask and ``outputs`` are ``(time, batch, ...)``.
* ``length``: the static number of time steps, or ``None`` when unknown. It
  must agree with the sequences' time dimension where that is known (K.rnn
  always records the known one).

Results, flat::

    (*last_outputs, *outputs, *final_states)

(with ``num_outputs == 1``: ``(last_output, outputs, *final_states)``).
``last_output`` has the body output's type; ``outputs`` inserts the time axis
(size ``length``, or 1 without ``return_all_outputs``) at position 1
(batch-major) or 0 (time-major); each final state has its initial state's type.

Semantics (tf_keras 2.x ``backend.rnn``), for ``t`` in processing order
(``0..T-1``, or ``T-1..0`` with ``go_backwards``)::

    out_t, new = body(x[t], states, constants)
    if has_mask:
        m = mask[t]                                  # (batch,), broadcast over the rest
        prev = zeros if zero_output_for_mask else previous (masked) output
        out_t = where(m, out_t, prev)                # "previous" before step one: zeros
        new = where(m, new, states)                  # masked steps carry the states
    states = new; record out_t

``outputs`` stacks the recorded ``out_t`` in processing order (index 0 is the
last input step under ``go_backwards``); ``last_output`` is the last recorded
one; ``final_states`` the last states. A loop over zero time steps is an error.

:func:`symkb.ir.ops.canonical.canonical_loop` rewrites a loop into plain nodes
around one ``scan`` (``symkb/ir/ops/scan.py``), the form every target lowers;
:func:`symkb.ir.ops.canonical.unroll_loop` expands that scan into ``T``
inlined copies of the body (``K.rnn(unroll=True)``); both give the same values.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError, VerifyError
from ..graph import Graph, evaluate
from ..node import KerasTensor, Node
from ..registry import get_op, register
from ..types import TensorType
from ..verify import NODE_CHECKS

LOOP_ATTRS = ("body", "num_sequences", "num_states", "num_constants", "num_outputs", "has_mask",
              "go_backwards", "zero_output_for_mask", "return_all_outputs", "time_major",
              "length")


def split_operands(operands, *, num_sequences, num_states, num_constants, has_mask=False, **_):
    """``(sequences, initial_states, constants, mask or None)`` of a loop's (or a
    ``scan``'s, which has no mask) operands."""
    operands = tuple(operands)
    a = num_sequences
    b = a + num_states
    c = b + num_constants
    mask = operands[c] if has_mask else None
    return operands[:a], operands[a:b], operands[b:c], mask


def step_type(seq: TensorType, time_major: bool) -> TensorType:
    """The type of one time step ``x_t`` of a sequence (its time axis removed)."""
    axis = 0 if time_major else 1
    return TensorType(seq.shape[:axis] + seq.shape[axis + 1:], seq.dtype)


def _compatible(a: TensorType, b: TensorType) -> bool:
    return (a.dtype == b.dtype and a.ndim == b.ndim
            and all(x is None or y is None or x == y for x, y in zip(a.shape, b.shape)))


def _join(dims, what, op="loop"):
    known = {d for d in dims if d is not None}
    if len(known) > 1:
        raise ShapeError(f"{op}: the sequences disagree on their {what} size: {sorted(known)}")
    return known.pop() if known else None


def _loop_rule(types, *, body, num_sequences, num_states, num_constants, has_mask,
               go_backwards, zero_output_for_mask, return_all_outputs, time_major, length,
               num_outputs=1, op="loop"):
    """The result types of a ``loop`` (and, with ``op='scan'``, of a ``scan``:
    the same rule without a mask, batch-major, every step recorded)."""
    if not isinstance(body, Graph):
        raise TypeError(f"{op}: attribute `body` must be a Graph, received {type(body).__name__}")
    expected = num_sequences + num_states + num_constants + (1 if has_mask else 0)
    if num_sequences < 1 or len(types) != expected:
        raise ValueError(f"{op}: expected {expected} operands ({num_sequences} sequences >= 1, "
                         f"{num_states} states, {num_constants} constants"
                         f"{', a mask' if has_mask else ''}), received {len(types)}")
    seqs, states, consts, mask = split_operands(types, num_sequences=num_sequences,
                                                num_states=num_states,
                                                num_constants=num_constants, has_mask=has_mask)
    t_axis, b_axis = (0, 1) if time_major else (1, 0)
    for i, s in enumerate(seqs):
        if s.ndim < 2:
            raise ShapeError(f"{op}: sequence {i} must have rank >= 2 (batch and time), "
                             f"received shape {s.shape}")
    steps = _join([s.shape[t_axis] for s in seqs], "time", op)
    batch = _join([s.shape[b_axis] for s in seqs], "batch", op)
    if mask is not None:
        if mask.dtype != "bool" or mask.ndim != 2:
            raise ShapeError(f"{op}: the mask must be a 2-D bool tensor, received {mask}")
        steps = _join([steps, mask.shape[t_axis]], "time (sequences and mask)", op)
        batch = _join([batch, mask.shape[b_axis]], "batch (sequences and mask)", op)
    if length is not None and steps is not None and length != steps:
        raise ShapeError(f"{op}: attribute length={length} but the sequences have {steps} "
                         "time steps")
    want_in = [step_type(s, time_major) for s in seqs] + list(states) + list(consts)
    got_in = [t.type for t in body.inputs]
    if got_in != want_in:
        raise ValueError(f"{op}: body inputs {[str(t) for t in got_in]} do not match the "
                         f"operands; expected (*x_t, *states, *constants) = "
                         f"{[str(t) for t in want_in]}")
    if len(body.outputs) != num_outputs + num_states:
        raise ValueError(f"{op}: the body returns {len(body.outputs)} values; expected "
                         f"{num_outputs} output(s) and {num_states} new state(s)")
    outs = [t.type for t in body.outputs[:num_outputs]]
    for i, (new, old) in enumerate(zip(body.outputs[num_outputs:], states)):
        if not _compatible(new.type, old):
            raise ShapeError(f"{op}: new state {i} from the body has type {new.type}, which does "
                             f"not fit the state's type {old}")
    for i, o in enumerate(outs):
        if o.ndim < 1:
            raise ShapeError(f"{op}: step output {i} must have a batch axis, received {o}")
    n = (length if length is not None else steps) if return_all_outputs else 1
    seq_outs = []
    for o in outs:
        ob = o.shape[0] if o.shape[0] is not None else batch
        rest = o.shape[1:]
        shape = (n, ob) + rest if time_major else (ob, n) + rest
        seq_outs.append(TensorType(shape, o.dtype))
    return tuple(outs) + tuple(seq_outs) + tuple(states)


def run_loop(step, sequences, initial_states, mask=None, *, go_backwards=False,
             zero_output_for_mask=False, return_all_outputs=True, time_major=False,
             reverse=False):
    """The loop semantics on numpy arrays (see the module docstring); the one
    reference of both ``loop`` and ``scan``.

    Args:
        step: ``step(xs, states) -> (outputs, new_states)`` on lists of arrays
            (one ``x_t`` per sequence; constants are bound by the caller).
        sequences: list of arrays ``(batch, time, ...)`` (``(time, batch, ...)``
            when ``time_major``).
        initial_states: list of arrays.
        mask: ``None`` or a bool array ``(batch, time)`` (``(time, batch)``).
        reverse: process the steps from last to first, like ``go_backwards``,
            but record the outputs in time order (``outputs[:, t]`` is the step
            that read ``x[:, t]``): the ``scan`` semantics.

    Returns:
        ``(last_outputs, outputs, final_states)``: three lists of arrays.
    """
    t_axis = 0 if time_major else 1
    steps = sequences[0].shape[t_axis]
    if steps == 0:
        raise ValueError("loop: cannot iterate over zero time steps (the sequences have "
                         f"shape {sequences[0].shape})")
    order = range(steps - 1, -1, -1) if go_backwards or reverse else range(steps)
    states = [np.asarray(s) for s in initial_states]
    recorded, prev = [], None
    for t in order:
        xs = [np.take(s, t, axis=t_axis) for s in sequences]
        outs, new = step(xs, list(states))
        outs = [np.asarray(o) for o in outs]
        new = [np.asarray(s) for s in new]
        if mask is not None:
            m = np.asarray(np.take(mask, t, axis=t_axis), dtype=bool)
            if prev is None or zero_output_for_mask:
                fill = [np.zeros_like(o) for o in outs]
            else:
                fill = prev
            outs = [np.where(_bcast(m, o), o, f) for o, f in zip(outs, fill)]
            new = [np.where(_bcast(m, n), n, s).astype(n.dtype, copy=False)
                   for n, s in zip(new, states)]
        states = new
        prev = outs
        if return_all_outputs:
            recorded.append(outs)
        else:
            recorded = [outs]
    if reverse:
        recorded.reverse()
    outputs = [np.stack([r[i] for r in recorded], axis=t_axis) for i in range(len(prev))]
    return list(prev), outputs, states


def _bcast(m, x):
    """The per-sample mask ``m`` (batch,) shaped to broadcast against ``x``."""
    return m.reshape(m.shape + (1,) * (np.ndim(x) - 1))


@register("loop", type_rule=_loop_rule, kind="control")
def loop(*arrays, body, num_sequences, num_states, num_constants, has_mask, go_backwards,
         zero_output_for_mask, return_all_outputs, time_major, length, num_outputs=1):
    """Iterate ``body`` over the time axis (see the module docstring)."""
    seqs, states, consts, mask = split_operands(arrays, num_sequences=num_sequences,
                                                num_states=num_states,
                                                num_constants=num_constants, has_mask=has_mask)
    consts = list(consts)

    def step(xs, st):
        res = evaluate(body, list(xs) + list(st) + consts)
        return res[:num_outputs], res[num_outputs:]

    last, outputs, final = run_loop(step, list(seqs), list(states), mask,
                                    go_backwards=go_backwards,
                                    zero_output_for_mask=zero_output_for_mask,
                                    return_all_outputs=return_all_outputs,
                                    time_major=time_major)
    return tuple(last) + tuple(outputs) + tuple(final)


def check_loop(node, required=LOOP_ATTRS) -> None:
    """Verifier hook (of ``loop`` and ``scan``): the body is closed and its
    signature fits the operands."""
    attrs, op = node.attrs, node.op
    missing = [a for a in required if a not in attrs]
    if missing:
        raise VerifyError(f"node {op}: missing attributes {missing}")
    body = attrs["body"]
    for i, t in enumerate(body.inputs):
        if not isinstance(t, KerasTensor) or t.node.op != "input":
            raise VerifyError(f"node {op}: body input {i} ({t.name}) is not a fresh placeholder "
                              f"(it is computed by a {t.node.op!r} node); the body must be "
                              "closed")
    if len({id(t.node) for t in body.inputs}) != len(body.inputs):
        raise VerifyError(f"node {op}: the same placeholder appears twice among the body inputs")
    for n in body.nodes:
        if n.op == "param":
            raise VerifyError(f"node {op}: the body reads the variable "
                              f"{n.attrs['variable'].name!r} directly; variables must be "
                              "passed in as constant operands (the body must be closed)")
    no = attrs.get("num_outputs", 1)
    if len(node.outputs) != 2 * no + attrs["num_states"]:
        raise VerifyError(f"node {op}: {len(node.outputs)} results; expected "
                          f"{2 * no + attrs['num_states']}")


NODE_CHECKS["loop"] = check_loop


def _inline(body: Graph, inputs) -> list:
    """Replay ``body``'s nodes on ``inputs`` (symbolic), re-inferring types."""
    env = dict(zip(body.inputs, inputs))
    for node in body.nodes:
        if all(o in env for o in node.outputs):
            continue
        opdef = get_op(node.op)
        if opdef.kind == "source":
            env.update(zip(node.outputs, node.outputs))
            continue
        ins = tuple(env[t] for t in node.inputs)
        types = opdef.infer([t.type for t in ins], node.attrs)
        new = Node(node.op, ins, node.attrs, types, node.name, node.layer)
        env.update(zip(node.outputs, new.outputs))
    return [env[t] for t in body.outputs]
