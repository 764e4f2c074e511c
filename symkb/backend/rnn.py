"""``K.rnn``: iterate a step function over the time axis of a tensor.

Eager (numpy) arguments run the step function step by step with
:func:`symkb.ir.ops.loop.run_loop`. When any argument is a KerasTensor, the
step function is traced ONCE on fresh per-step placeholders into a closed
body graph, and one ``loop`` node is recorded (see ``symkb/ir/ops/loop.py``
for its operands and semantics). Every outer tensor, Variable or array the
step function closes over becomes an explicit constant operand of the loop,
so the body never reaches outside itself. Which values the step function
built is recorded while it runs, in a trace frame (``symkb/ir/frames.py``,
one per thread), not inferred from the order nodes were made in: a graph
built by another thread meanwhile cannot change what the body captures.
``unroll=True`` inlines the body once per time step instead (no loop node).

Nested inputs, states and constants are flattened in ``tf.nest`` order (lists
and tuples in order, dict values by sorted key) and packed back before each
call of the step function, as tf_keras does.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..ir import KerasTensor, Node, Variable
from ..ir.build import as_tensor, current_layer, to_array
from ..ir.frames import TraceFrame, trace_frame
from ..ir.ops.canonical import unroll_loop
from ..ir.ops.loop import run_loop, step_type
from .nest import flatten, pack_sequence_as

__all__ = ["rnn"]


# ---------------------------------------------------------------- the public op

def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None,
        unroll=False, input_length=None, time_major=False, zero_output_for_mask=False,
        return_all_outputs=True):
    """Iterates over the time dimension of a tensor (tf_keras ``backend.rnn``).

    Args:
        step_function: ``step_function(inputs_t, states) -> (output, new_states)``;
            ``inputs_t`` has the structure of ``inputs`` without the time axis,
            ``states`` is ``tuple(states) + tuple(constants)``; ``new_states``
            must match ``initial_states`` in number and shapes.
        inputs: ``(samples, time, ...)`` (at least 3-D), or a nest of them.
        initial_states: list of the initial states (possibly nested).
        go_backwards: iterate from the last time step to the first; ``outputs``
            are then in processing order.
        mask: ``(samples, time)`` (or ``(samples, time, 1)``), zero/False where
            masked; ``(time, samples)`` when ``time_major``. At a masked step
            the states are carried over and the output is the previous output
            (zeros before the first step), or zeros with
            ``zero_output_for_mask``.
        constants: values passed to every step after the states.
        unroll: inline every step (needs a static number of time steps).
        input_length: the static number of time steps (an int, checked against
            the inputs), or per-sample lengths ``(samples,)`` used as a
            mask when no ``mask`` is given (the time axis may be unknown).
        time_major: inputs (and mask, and outputs) are ``(time, samples, ...)``.
        zero_output_for_mask: see ``mask``.
        return_all_outputs: when False, ``outputs`` only holds the last output
            (a time axis of length 1).

    Returns:
        ``(last_output, outputs, new_states)``: ``last_output`` ``(samples, ...)``;
        ``outputs`` ``(samples, time, ...)`` (``(time, samples, ...)`` when
        ``time_major``); ``new_states`` a list like ``initial_states``.

    Raises:
        ValueError: ``unroll=True`` with an unknown number of time steps; a mask
            with no states; inputs of rank < 3; a step function whose new states
            differ from the initial states in number or shape.
    """
    flat_inputs = flatten(inputs)
    if not flat_inputs:
        raise ValueError("K.rnn: `inputs` is empty; expected a tensor (samples, time, ...) "
                         "or a nest of them")
    states = tuple(initial_states) if initial_states is not None else ()
    flat_states = flatten(states)
    constants = [] if constants is None else constants
    flat_consts = flatten(constants)
    for x in flat_inputs:
        shape = _shape(x)
        if len(shape) < 3:
            raise ValueError(f"Shape {tuple(shape)} must have rank at least 3 (K.rnn inputs "
                             "are (samples, time, ...))")
    t_axis = 0 if time_major else 1
    steps = _shape(flat_inputs[0])[t_axis]
    if unroll and steps is None:
        raise ValueError("Unrolling requires a fixed number of timesteps.")
    if input_length is not None and mask is None and not isinstance(input_length, (int, np.integer)):
        mask = _mask_from_lengths(input_length, steps, time_major, flat_inputs[0],
                                  bool(go_backwards))
    elif isinstance(input_length, (int, np.integer)) and steps is not None \
            and int(input_length) != steps:
        raise ValueError(f"K.rnn: input_length={input_length} but the inputs have {steps} time "
                         f"steps. Received: inputs of shape {tuple(_shape(flat_inputs[0]))}")
    if mask is not None and not flat_states:
        raise ValueError("K.rnn: a mask needs at least one state (masked steps carry the "
                         "states over), but initial_states is empty. Pass the initial states "
                         "or drop the mask. Received: mask of shape "
                         f"{tuple(_shape(mask))}, initial_states={list(states)!r}")
    opts = dict(go_backwards=bool(go_backwards), zero_output_for_mask=bool(zero_output_for_mask),
                return_all_outputs=bool(return_all_outputs), time_major=bool(time_major))
    args = dict(step_function=step_function, inputs=inputs, flat_inputs=flat_inputs,
                states=states, flat_states=flat_states, constants=constants,
                flat_consts=flat_consts, mask=mask, unroll=bool(unroll), opts=opts)
    everything = flat_inputs + flat_states + flat_consts + ([mask] if mask is not None else [])
    if any(isinstance(v, KerasTensor) for v in everything):
        return _symbolic(**args)
    try:
        return _eager(**args)
    except _SymbolicStep:
        # the step function closes over symbolic tensors: record a loop instead
        return _symbolic(**args)


def _shape(x) -> tuple:
    if isinstance(x, (KerasTensor, Variable)):
        return tuple(x.shape)
    return np.shape(x)


def _mask_from_lengths(lengths, steps, time_major, reference, go_backwards):
    """The mask tf_keras derives from per-sample lengths, in input time order
    (``(samples, time)``, ``(time, samples)`` when time-major).

    Forwards, position ``p`` is valid while ``p < length``. Backwards, tf_keras
    keeps step ``t`` of the reversed sequence while ``max(lengths) - 1 - length
    < t``: position ``p = time - 1 - t`` is valid while ``max(lengths) - 1 -
    length < time - 1 - p`` (the same as forwards when the longest sample
    fills the time axis). With an unknown number of steps the positions are
    counted at run time along the first input's time axis.
    """
    if not isinstance(lengths, KerasTensor) and steps is not None:
        lens = np.asarray(lengths).reshape(-1).astype("int64")
        positions = np.arange(steps)
        if go_backwards:
            before_end = steps - 1 - positions
            mask = (lens.max() - 1 - lens)[:, None] < before_end[None, :]
        else:
            mask = positions[None, :] < lens[:, None]
        return mask.T if time_major else mask
    lens = ir.call("cast", as_tensor(lengths), dtype="int32")
    if lens.ndim != 1:
        raise ValueError(f"K.rnn: a per-sample `input_length` must be 1-D (one length per "
                         f"sample); received shape {lens.shape}")
    t_axis = 0 if time_major else 1
    lens = ir.call("expand_dims", lens, axis=t_axis)
    if go_backwards:
        before_end = _positions(steps, reference, t_axis, from_end=True)
        longest = ir.call("max", lens, axis=(1 - t_axis,), keepdims=True)
        return ir.call("less", longest - 1 - lens, before_end)
    return ir.call("less", _positions(steps, reference, t_axis, from_end=False), lens)


def _positions(steps, reference, t_axis, *, from_end):
    """Time positions broadcastable against ``(samples, 1)`` lengths (or
    ``(1, samples)`` when time-major), counted from the end when ``from_end``.
    A static ``steps`` gives a constant; else a running count of ones over
    ``reference``'s ``(samples, time)`` plane."""
    if steps is not None:
        positions = np.arange(steps, dtype="int32")
        if from_end:
            positions = positions[::-1].copy()
        return ir.const(positions[:, None] if t_axis == 0 else positions[None, :])
    ref = as_tensor(reference)
    plane = ref
    if ref.ndim > 2:
        index = (("slice", None, None, None),) * 2 + (("int", 0),) * (ref.ndim - 2)
        plane = ir.call("getitem", ref, index=index)
    ones = ir.call("ones_like", ir.call("cast", plane, dtype="int32"))
    if from_end:
        ones = ir.call("reverse", ones, axes=(t_axis,))
    count = ir.call("cumsum", ones, axis=t_axis)
    if from_end:
        count = ir.call("reverse", count, axes=(t_axis,))
    return count - 1


def _normalize_mask(mask, symbolic: bool):
    if symbolic or isinstance(mask, KerasTensor):
        m = as_tensor(mask)
        if m.ndim == 3 and m.shape[-1] in (1, None):
            m = ir.call("getitem", m, index=(("ellipsis",), ("int", 0)))
        if m.ndim != 2:
            raise ValueError(f"K.rnn: the mask must be (samples, time) or (samples, time, 1); "
                             f"received shape {m.shape}")
        if m.dtype != "bool":
            m = ir.call("cast", m, dtype="bool")
        return m
    m = np.asarray(to_array(mask))
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"K.rnn: the mask must be (samples, time) or (samples, time, 1); "
                         f"received shape {m.shape}")
    return m.astype(bool)


class _SymbolicStep(Exception):
    """The eager step function returned a KerasTensor."""


def _check_states(flat_new, flat_states, shape_of, compatible):
    if len(flat_new) != len(flat_states):
        raise ValueError(
            f"K.rnn: the step function returned {len(flat_new)} new state(s), but "
            f"initial_states holds {len(flat_states)}. It must return (output, new_states) "
            "with new_states matching initial_states in number and shapes. Received: new "
            f"states of shapes {[tuple(shape_of(s)) for s in flat_new]}")
    for i, (new, old) in enumerate(zip(flat_new, flat_states)):
        if not compatible(tuple(shape_of(new)), tuple(shape_of(old))):
            raise ValueError(
                f"K.rnn: new state {i} returned by the step function has shape "
                f"{tuple(shape_of(new))}, but initial state {i} has shape "
                f"{tuple(shape_of(old))}; every new state must keep its initial state's shape. "
                f"Received: new state {i} = {new!r}")


def _eager(step_function, inputs, flat_inputs, states, flat_states, constants, flat_consts,
           mask, unroll, opts):
    seqs = [np.asarray(to_array(x)) for x in flat_inputs]
    init = [np.asarray(to_array(s)) for s in flat_states]
    consts = [to_array(c) if isinstance(c, Variable) else c for c in flat_consts]
    packed_consts = tuple(pack_sequence_as(constants, consts))
    m = None if mask is None else _normalize_mask(mask, False)
    out_structure = []

    def step(xs, st):
        out, new = step_function(pack_sequence_as(inputs, xs),
                                 tuple(pack_sequence_as(states, st)) + packed_consts)
        flat_out, flat_new = flatten(out), flatten(new)
        if any(isinstance(v, KerasTensor) for v in flat_out + flat_new):
            raise _SymbolicStep
        if not out_structure:
            out_structure.append(out)
            _check_states(flat_new, st, np.shape, lambda a, b: a == b)
        return [np.asarray(v) for v in flat_out], [np.asarray(v) for v in flat_new]

    last, outputs, final = run_loop(step, seqs, init, m, **opts)
    structure = out_structure[0]
    return (pack_sequence_as(structure, last), pack_sequence_as(structure, outputs),
            list(pack_sequence_as(states, final)))


def _dims_fit(a, b) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _symbolic(step_function, inputs, flat_inputs, states, flat_states, constants, flat_consts,
              mask, unroll, opts):
    time_major = opts["time_major"]
    ref = next((x.dtype for x in flat_inputs if isinstance(x, (KerasTensor, Variable))), None)
    seqs = [as_tensor(x, ref) for x in flat_inputs]
    init = [as_tensor(s, ref) for s in flat_states]
    consts = [as_tensor(c, ref) for c in flat_consts]
    m = None if mask is None else _normalize_mask(mask, True)
    t_axis = 0 if time_major else 1
    length = next((s.shape[t_axis] for s in seqs if s.shape[t_axis] is not None), None)
    if m is not None and length is None:
        length = m.shape[t_axis]

    with trace_frame() as frame:   # records every node the step function builds
        placeholders, out_structure, flat_out, flat_new = _trace_step(
            step_function, inputs, states, constants, seqs, init, consts, ref, time_major)
    body, captured = _close_body(placeholders, flat_out + flat_new, frame)
    operands = seqs + init + consts + captured + ([m] if m is not None else [])
    attrs = dict(body=body, num_sequences=len(seqs), num_states=len(init),
                 num_constants=len(consts) + len(captured), num_outputs=len(flat_out),
                 has_mask=m is not None, length=length, **opts)
    layer = current_layer()
    if unroll:
        results = unroll_loop(operands, attrs, layer=layer)
    else:
        types = ir.get_op("loop").infer([t.type for t in operands], attrs)
        results = Node("loop", operands, attrs, types, layer=layer).outputs
    no = len(flat_out)
    last, outputs, final = results[:no], results[no:2 * no], results[2 * no:]
    return (pack_sequence_as(out_structure, last), pack_sequence_as(out_structure, outputs),
            list(pack_sequence_as(states, final)))


def _trace_step(step_function, inputs, states, constants, seqs, init, consts, ref, time_major):
    """Call ``step_function`` once on fresh per-step placeholders (inside the
    caller's trace frame); returns the placeholders, the output structure and
    the flat outputs and new states as tensors, checked against the states."""
    x_ph = [ir.placeholder_node(step_type(s.type, time_major).shape, s.dtype, "x_t")
            for s in seqs]
    s_ph = [ir.placeholder_node(s.shape, s.dtype, "state") for s in init]
    c_ph = [ir.placeholder_node(c.shape, c.dtype, "constant") for c in consts]
    out, new = step_function(pack_sequence_as(inputs, x_ph),
                             tuple(pack_sequence_as(states, s_ph))
                             + tuple(pack_sequence_as(constants, c_ph)))
    flat_out = [as_tensor(o, ref) for o in flatten(out)]
    flat_new = flatten(new)
    _check_states(flat_new, s_ph, _shape, _dims_fit)
    flat_new = [as_tensor(n, ref) for n in flat_new]
    for i, (n, s) in enumerate(zip(flat_new, s_ph)):
        if n.dtype != s.dtype:
            raise ValueError(f"K.rnn: new state {i} returned by the step function has dtype "
                             f"{n.dtype}, but initial state {i} has dtype {s.dtype}. Received: "
                             f"{n!r}")
    for i, o in enumerate(flat_out):
        if o.ndim < 1:
            raise ValueError(f"K.rnn: step output {i} must have a samples axis; received {o!r}")
    return x_ph + s_ph + c_ph, out, flat_out, flat_new


def _captured(t: KerasTensor, own: set, frame: TraceFrame) -> bool:
    """Whether the body must take ``t`` as an explicit constant operand: it was
    not built by this trace (an outer tensor, even one another thread built
    meanwhile), or it is a Variable, an input or a non-scalar constant."""
    if t in own:
        return False
    node = t.node
    if node.op in ("param", "input"):
        return True
    if node.op == "const":
        return np.size(node.attrs["value"]) > 1
    return not frame.built(node)


def _close_body(placeholders, outputs, frame: TraceFrame):
    """The closed body graph, and the outer tensors it captured (in first-use order).

    ``frame`` holds the nodes the step function's trace built; the walk from
    the outputs stops at every other value and captures it."""
    own = set(placeholders)
    captured, seen_nodes = {}, set()
    stack = list(reversed(outputs))
    while stack:
        t = stack.pop()
        if t in own:
            continue
        if _captured(t, own, frame):
            captured.setdefault(t, None)
            continue
        if t.node in seen_nodes:
            continue
        seen_nodes.add(t.node)
        stack.extend(reversed(t.node.inputs))
    captured = list(captured)
    if not captured:
        return ir.Graph(placeholders, outputs, name="body"), []
    fresh = [ir.placeholder_node(t.shape, t.dtype, _capture_name(t)) for t in captured]
    scratch = ir.Graph(list(placeholders) + captured, outputs, name="body")
    env = dict(zip(placeholders, placeholders))
    env.update(zip(captured, fresh))
    for node in scratch.nodes:
        if all(o in env for o in node.outputs):
            continue
        if not node.inputs:
            env.update(zip(node.outputs, node.outputs))
            continue
        rebuilt = Node(node.op, tuple(env[t] for t in node.inputs), node.attrs,
                       node.out_types, node.name, node.layer)
        env.update(zip(node.outputs, rebuilt.outputs))
    body = ir.Graph(list(placeholders) + fresh, [env[t] for t in outputs], name="body")
    return body, captured


def _capture_name(t: KerasTensor) -> str:
    node = t.node
    if node.op == "param":
        return node.attrs["variable"].name.rsplit("/", 1)[-1].split(":")[0]
    if node.op == "input" and node.name:
        return node.name
    return "captured"
