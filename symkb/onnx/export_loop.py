"""The ``loop`` node as an ONNX ``Scan``, with its exact semantics.

``Scan`` iterates a body over axis 0 of its scan inputs, carrying state
variables; its scan outputs are stacked in processing order, as the loop's
``outputs``. ``go_backwards`` reverses the inputs (a ``Slice`` of step -1)
before a forward ``Scan``. The
loop's masking and "last output" are written into the body:

* the body's state variables are the loop's states followed by the previous
  step outputs (zeros before the first step, as the loop's reference);
* batch-major sequences and mask are transposed to time-major around the
  ``Scan``, which then iterates axis 0 (the axis every ONNX runtime
  implements);
* with a mask, the mask is one more scan input; a masked step keeps the states
  and writes the previous output (zeros with ``zero_output_for_mask``), both
  through ``Where``;
* ``last_output`` is the carried previous output after the last step;
  without ``return_all_outputs``, ``outputs`` is it with a time axis of 1.

The body's constants are read from the outer graph by name (ONNX scoping).
"""
from __future__ import annotations

import numpy as np

from .writer import Writer, value_info


def _swap01(w, x: str, rank: int) -> str:
    """``x`` with its first two axes swapped (batch-major <-> time-major)."""
    return w.one("Transpose", [x], perm=[1, 0] + list(range(2, rank)))


def _reversed(w, x: str) -> str:
    """``x`` reversed along axis 0."""
    big = np.iinfo(np.int64).max
    return w.one("Slice", [x, w.const(np.array([-1], np.int64)),
                           w.const(np.array([-big], np.int64)),
                           w.const(np.array([0], np.int64)), w.const(np.array([-1], np.int64))])


def _batch_dims(w, seq, time_major: bool) -> str:
    """A 1-D int64 tensor holding the batch size of sequence ``seq``."""
    axis = 1 if time_major else 0
    shape = w.one("Shape", [seq])
    return w.one("Slice", [shape, w.const(np.array([axis], np.int64)),
                           w.const(np.array([axis + 1], np.int64))])


def _zeros(w, batch: str, ttype, what: str) -> str:
    rest = ttype.shape[1:]
    if any(d is None for d in rest):
        raise ValueError(f"symkb.onnx.export: loop {what} has type {ttype}; its dims after "
                         "the batch must be known to write it as an ONNX Scan")
    shape = w.one("Concat", [batch, w.const(np.array(rest, np.int64))], axis=0)
    tensor = w.onnx.numpy_helper.from_array(np.zeros([1], dtype=ttype.dtype))
    return w.one("ConstantOfShape", [shape], value=tensor)


def _mask_for(sub, m_t: str, rank: int) -> str:
    if rank <= 1:
        return m_t
    return sub.one("Unsqueeze", [m_t, sub.const(np.arange(1, rank, dtype=np.int64))])


def _body(w, node, consts, mask_in: bool):
    """The Scan body graph and the number of its scan outputs."""
    onnx, a = w.onnx, node.attrs
    body = a["body"]
    ns, nst, nout = a["num_sequences"], a["num_states"], a["num_outputs"]
    sub = Writer(onnx, w.opset, parent=w)
    x_ts, states = body.inputs[:ns], body.inputs[ns:ns + nst]
    out_types = [t.type for t in body.outputs[:nout]]
    state_in = [sub.fresh("state") for _ in states]
    prev_in = [sub.fresh("prev") for _ in range(nout)]
    x_in = [sub.fresh("x_t") for _ in x_ts]
    m_in = sub.fresh("m_t") if mask_in else None
    for t, name in zip(list(x_ts) + list(states), x_in + state_in):
        sub.names[(id(t.node), t.index)] = name
    for t, name in zip(body.inputs[ns + nst:], consts):
        sub.names[(id(t.node), t.index)] = name
    sub.write_nodes(body)
    outs = [sub.name_of(t) for t in body.outputs[:nout]]
    new = [sub.name_of(t) for t in body.outputs[nout:]]
    if mask_in:
        masked = []
        for out, prev, ttype in zip(outs, prev_in, out_types):
            fill = prev
            if a["zero_output_for_mask"]:
                zero = onnx.numpy_helper.from_array(np.zeros([1], dtype=ttype.dtype))
                fill = sub.one("ConstantOfShape", [sub.one("Shape", [out])], value=zero)
            masked.append(sub.one("Where", [_mask_for(sub, m_in, len(ttype.shape)), out, fill]))
        outs = masked
        new = [sub.one("Where", [_mask_for(sub, m_in, len(t.type.shape)), n, s])
               for n, s, t in zip(new, state_in, states)]
    finals = [sub.one("Identity", [n]) for n in new] + [sub.one("Identity", [o]) for o in outs]
    scanned = [sub.one("Identity", [o]) for o in outs] if a["return_all_outputs"] else []
    inputs = [value_info(onnx, n, t.type) for n, t in zip(state_in, states)]
    inputs += [value_info(onnx, n, t) for n, t in zip(prev_in, out_types)]
    inputs += [value_info(onnx, n, t.type) for n, t in zip(x_in, x_ts)]
    if mask_in:
        inputs.append(onnx.helper.make_tensor_value_info(m_in, onnx.TensorProto.BOOL,
                                                         ["batch"]))
    outputs = [value_info(onnx, n, t.type) for n, t in zip(finals[:nst], states)]
    outputs += [value_info(onnx, n, t) for n, t in zip(finals[nst:], out_types)]
    outputs += [value_info(onnx, n, t) for n, t in zip(scanned, out_types)]
    graph = onnx.helper.make_graph(sub.nodes, w.fresh("loop_body"), inputs, outputs)
    return graph, len(scanned)


def write_loop(w, node, ins) -> list:
    """The ONNX names of the loop's results (see the module docstring)."""
    a = node.attrs
    ns, nst, nc, nout = (a["num_sequences"], a["num_states"], a["num_constants"],
                         a["num_outputs"])
    seqs, states = ins[:ns], ins[ns:ns + nst]
    consts = ins[ns + nst:ns + nst + nc]
    mask = [ins[ns + nst + nc]] if a["has_mask"] else []
    t_axis = 0 if a["time_major"] else 1
    body = a["body"]
    batch = _batch_dims(w, seqs[0], a["time_major"])
    zeros = [_zeros(w, batch, t.type, "output") for t in body.outputs[:nout]]
    graph, n_scanned = _body(w, node, consts, bool(mask))
    n_scan_in = ns + len(mask)
    if not a["time_major"]:  # Scan over axis 0 (every ONNX runtime has it): time first
        seqs = [_swap01(w, x, len(t.shape)) for x, t in zip(seqs, node.inputs[:ns])]
        mask = [_swap01(w, x, 2) for x in mask]
    if a["go_backwards"]:  # reversed inputs, scanned forwards (outputs in processing order)
        seqs = [_reversed(w, x) for x in seqs]
        mask = [_reversed(w, x) for x in mask]
    attrs = {"num_scan_inputs": n_scan_in}
    results = w.add("Scan", list(states) + zeros + list(seqs) + mask,
                    nst + nout + n_scanned, body=graph, **attrs)
    finals, last = results[:nst], results[nst:nst + nout]
    if n_scanned:
        outputs = results[nst + nout:]
        if not a["time_major"]:
            outputs = [_swap01(w, x, len(t.shape) + 1)
                       for x, t in zip(outputs, body.outputs[:nout])]
    else:
        outputs = [w.one("Unsqueeze", [x, w.const(np.array([t_axis], np.int64))])
                   for x in last]
    return list(last) + list(outputs) + list(finals)
