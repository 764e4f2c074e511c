"""A ``loop`` as plain nodes around one ``scan``: where the tf_keras options live.

:func:`canonical_loop` is the one place that turns the options of a ``loop``
(``symkb/ir/ops/loop.py``) into ordinary nodes, so the targets lower a single
canonical form (``symkb/ir/ops/scan.py``):

* ``time_major``: the sequences and the mask are transposed to batch-major
  before the scan and the stacked outputs transposed back after it;
* the mask becomes one more sequence: ``mask`` reshaped to ``(batch, time, 1,
  ...)`` (one per rank the selects need, so ``x_t`` broadcasts against the
  values without a reshape in the step). In the body each new state becomes
  ``where(m_t, new, old)`` and each step output ``where(m_t, out, prev)``, where
  ``prev`` is one more carried state (the previous selected output, zeros
  before the first step) or, with ``zero_output_for_mask``, the scalar 0 (no
  extra state);
* ``go_backwards``: ``reverse=True``; the scan records its outputs in time
  order, tf_keras's are in processing order: a ``reverse`` on the time axis
  after the scan (only built when something reads them);
* ``return_all_outputs=False``: the outputs result is ``expand_dims`` of the
  last output on the time axis.

The last outputs and the final states are the scan's own. Nested loops in the
body are left as they are (the pass rewrites every body).
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..graph import Graph
from ..node import Node, encode_index
from ..registry import get_op
from ..types import TensorType
from .loop import split_operands, step_type
from .scan import scan_results, unroll_scan


class _Builder:
    """Makes nodes of one layer (type rules applied)."""

    def __init__(self, layer):
        self.layer = layer

    def __call__(self, op, *ins, **attrs):
        types = get_op(op).infer([t.type for t in ins], attrs)
        return Node(op, tuple(ins), attrs, types, None, self.layer).outputs[0]

    def const(self, array):
        array = np.asarray(array)
        array.flags.writeable = False
        return Node("const", (), {"value": array}, (TensorType.of(array),)).outputs[0]

    def batch_major(self, t):
        perm = (1, 0) + tuple(range(2, t.ndim))
        return self("transpose", t, perm=perm)


def canonical_loop(operands, attrs, *, name=None, layer=None, build=scan_results) -> tuple:
    """The results of a ``loop`` node, as plain nodes around one scan.

    Args:
        operands, attrs: the loop's operands and attributes.
        name, layer: given to the scan (and ``layer`` to the nodes around it).
        build: ``build(operands, attrs, name=, layer=) -> results`` makes the
            scan (``scan_results``, or ``unroll_scan`` to inline it).

    Returns:
        The loop's results, in its order (``symkb/ir/ops/loop.py``).
    """
    mk = _Builder(layer)
    seqs, states, consts, mask = split_operands(operands, **attrs)
    no, ns, body = attrs.get("num_outputs", 1), len(states), attrs["body"]
    time_major = attrs["time_major"]
    if time_major:
        seqs = [mk.batch_major(s) for s in seqs]
        mask = mk.batch_major(mask) if mask is not None else None
    keep_prev = mask is not None and not attrs["zero_output_for_mask"]
    if mask is None:
        new_body, mask_seqs, prevs = body, [], []
    else:
        new_body, mask_seqs, prevs = _masked_body(mk, body, attrs, mask, keep_prev)
    seq_ops = list(seqs) + mask_seqs
    scan_attrs = {"body": new_body, "num_sequences": len(seq_ops),
                  "num_states": ns + len(prevs), "num_constants": len(consts),
                  "num_outputs": no, "reverse": attrs["go_backwards"],
                  "length": attrs["length"]}
    res = build(seq_ops + list(states) + prevs + list(consts), scan_attrs, name=name,
                layer=layer)
    last, outputs, final = res[:no], res[no:2 * no], res[2 * no:2 * no + ns]
    outputs = [_loop_outputs(mk, o, l, attrs) for o, l in zip(outputs, last)]
    return tuple(last) + tuple(outputs) + tuple(final)


def _loop_outputs(mk, stacked, last, attrs):
    """The loop's ``outputs`` result from the scan's (time order, batch-major)."""
    time_major = attrs["time_major"]
    if not attrs["return_all_outputs"]:
        return mk("expand_dims", last, axis=0 if time_major else 1)
    if attrs["go_backwards"]:
        stacked = mk("reverse", stacked, axes=(1,))
    return mk.batch_major(stacked) if time_major else stacked


def _masked_body(mk, body: Graph, attrs, mask, keep_prev):
    """``(body, mask sequences, initial prev outputs)`` of a masked loop: the
    selects of the module docstring added to ``body``."""
    nseq, no = attrs["num_sequences"], attrs.get("num_outputs", 1)
    ns = attrs["num_states"]
    x_ph, st_ph, c_ph = (body.inputs[:nseq], body.inputs[nseq:nseq + ns],
                         body.inputs[nseq + ns:])
    outs, news = body.outputs[:no], body.outputs[no:]
    ranks = sorted({t.ndim for t in list(outs) + list(news)})
    mask_seqs, m_ph = [], {}
    for r in ranks:
        seq = mask
        for _ in range(r - 1):
            seq = mk("expand_dims", seq, axis=seq.ndim)
        mask_seqs.append(seq)
        m_ph[r] = _placeholder(step_type(seq.type, False), f"mask{r}" if r > 1 else "mask")
    inner = _Builder(mk.layer)
    new_states = [inner("where", m_ph[n.ndim], n, s) for n, s in zip(news, st_ph)]
    prevs, prev_ph, new_outs = [], [], []
    for k, o in enumerate(outs):
        if keep_prev:
            prevs.append(_zeros_like_step(mk, mask_seqs[ranks.index(o.ndim)], o, attrs))
            prev_ph.append(_placeholder(prevs[-1].type, f"prev{k}" if k else "prev"))
            fill = prev_ph[-1]
        else:
            fill = inner.const(np.zeros((), dtype=o.dtype))
        new_outs.append(inner("where", m_ph[o.ndim], o, fill))
    new_body = Graph(list(x_ph) + [m_ph[r] for r in ranks] + list(st_ph) + prev_ph + list(c_ph),
                     new_outs + new_states + (new_outs if keep_prev else []), name=body.name)
    return new_body, mask_seqs, prevs


def _placeholder(t: TensorType, name: str):
    return Node("input", (), {}, (t,), name=name).outputs[0]


def _zeros_like_step(mk, mask_seq, out, attrs):
    """Zeros of a step output's type ``(batch, *rest)``, the batch taken from the
    mask sequence ``(batch, time, 1, ...)`` (its first step, cast)."""
    rest = out.shape[1:]
    if any(d is None for d in rest):
        raise ShapeError(f"loop: a masked step output needs static sizes after the batch axis "
                         f"to carry the previous output; received {out.type}")
    first = mk("getitem", mask_seq, index=encode_index((slice(None), 0), mask_seq.ndim))
    zeros = mk("zeros_like", mk("cast", first, dtype=out.dtype))
    if all(d == 1 for d in rest):
        return zeros
    return mk("add", zeros, mk.const(np.zeros(rest, dtype=out.dtype)))


def unroll_loop(operands, attrs, layer=None) -> tuple:
    """The results of a loop as ``length`` inlined copies of its body: the
    canonical form (:func:`canonical_loop`) with its scan unrolled
    (:func:`symkb.ir.ops.scan.unroll_scan`). Requires a static ``length``."""
    return canonical_loop(operands, attrs, layer=layer, build=unroll_scan)
