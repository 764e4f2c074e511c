"""Checkpointed loop gradients: save the states every ``k`` steps, recompute the rest.

The plain rule of a ``scan`` (``scan_grad.py``) saves the step values its
backward reads for every step: ``O(T x batch x width)``. Inside
:func:`checkpoint_loops` (``ir.grad(..., checkpoint=k)``,
``K.gradients(..., checkpoint=k)``) the rule of a scan of ``T > k`` steps
(``T`` known at build time) is built from two scans over *segments* of ``k``
steps instead, each of whose steps runs an inner ``scan`` over the ``k`` steps
of its segment:

* the checkpoint scan runs the forward and returns, per segment, the states
  it starts from: ``ceil(T / k)`` saved states;
* the backward scan walks the segments in reverse. Its step reruns the
  segment's forward from the saved states and differentiates that inner scan
  with the plain rule (a residual-saving inner scan, then an inner reverse
  scan), with the state cotangents carried from the later segment as the
  cotangents of the inner scan's final states; the constants' cotangents of
  each segment are summed in carried states.

Memory: ``O(T/k x batch x state width)`` for the checkpoints plus ``O(k x batch
x residual width)`` for one segment's residuals; time: the forward runs once
more than with the plain rule (checkpoint scan, then the recomputation).

When ``k`` does not divide ``T`` the sequences are padded to ``ceil(T/k) x k``
steps, before the first step the scan runs (after the last for a reverse
scan); a padded step keeps the states (a ``where`` on a flag sequence) and
its cotangents are zeros, so the padding changes no value.
"""
from __future__ import annotations

from ..build import call
from ..errors import ShapeError
from ..gradients import checkpoint_loops, loop_checkpoint
from ..graph import Graph
from ..node import Node, encode_index
from ..replay import fresh_copy
from ..types import TensorType, is_float
from .loop import split_operands, step_type
from .scan import scan_results

def checkpoint_every(node) -> int | None:
    """The segment length to checkpoint ``node`` (a ``scan``) with, or ``None``
    for the plain rule (checkpointing off, or ``T <= k``)."""
    k = loop_checkpoint()
    if k is None:
        return None
    steps = _steps(node)
    if steps is None:
        seq = node.inputs[0]
        raise ShapeError(f"scan gradient: checkpoint={k} needs the number of time steps at "
                         f"build time; the sequence {seq.name} has shape {seq.shape} (give "
                         "the input a time size, or use ir.recompute_loop_steps())")
    return k if steps > k else None


def _steps(node):
    length = node.attrs["length"]
    return length if length is not None else node.inputs[0].shape[1]


def _placeholder(t, name):
    return Node("input", (), {}, (t,), name=name).outputs[0]


def checkpointed_scan_grad(node, cts, live, k, plain_rule) -> list:
    """The cotangents of ``node``'s operands by segments of ``k`` steps
    (module docstring); ``plain_rule`` differentiates one segment's scan."""
    if all(c is None for c in cts):
        return [None] * len(node.inputs)
    plan = _Plan(node, k)
    padded = plan.padded_operands(cts[plan.no:2 * plan.no])
    checkpoints = plan.checkpoint_scan(padded)
    return plan.backward_scan(padded, checkpoints, cts, live, plain_rule)


class _Plan:
    """Segment sizes, the guarded step body and the scans of one checkpointed
    scan gradient."""

    def __init__(self, node, k):
        a = node.attrs
        self.node, self.k, self.attrs = node, k, a
        self.no, self.n_x, self.n_s = a["num_outputs"], a["num_sequences"], a["num_states"]
        self.seqs, self.states, self.consts, _ = split_operands(node.inputs, **a)
        steps = _steps(node)
        self.nseg = -(-steps // k)
        self.pad = self.nseg * k - steps
        self.steps = steps
        self.float_s = [j for j, s in enumerate(self.states) if is_float(s.dtype)]
        self.body = _guarded_body(a["body"], self.n_x, self.n_s) if self.pad else a["body"]

    # -- the time axis: padding and segments --

    def _pads(self, ndim):
        """Padding before the first step the scan runs (after the last in time
        for a reverse scan)."""
        time = (0, self.pad) if self.attrs["reverse"] else (self.pad, 0)
        return ((0, 0), time) + ((0, 0),) * (ndim - 2)

    def segments(self, t):
        """``t`` (batch, T, ...) padded and reshaped to (batch, segments, k, ...)."""
        if None in t.shape[2:]:
            raise ShapeError(f"scan gradient: checkpointing needs the step sizes of {t.name} "
                             f"at build time; received shape {t.shape}")
        if self.pad:
            t = call("pad", t, pads=self._pads(t.ndim))
        return call("reshape", t, shape=(-1, self.nseg, self.k) + tuple(t.shape[2:]))

    def unsegment(self, t):
        """The inverse of :meth:`segments`: (batch, T, ...) without the padding."""
        t = call("reshape", t, shape=(-1, self.nseg * self.k) + tuple(t.shape[3:]))
        if not self.pad:
            return t
        lo = 0 if self.attrs["reverse"] else self.pad
        index = (slice(None), slice(lo, lo + self.steps))
        return call("getitem", t, index=encode_index(index, t.ndim))

    def padded_operands(self, ct_outs):
        """The segmented sequences (with the flag sequence of real steps when
        padded) and the segmented output cotangents."""
        seqs = [self.segments(s) for s in self.seqs]
        if self.pad:
            first = self.seqs[0]
            index = encode_index((slice(None), slice(None)) + (0,) * (first.ndim - 2), first.ndim)
            ones = call("ones_like", call("cast", call("getitem", first, index=index),
                                          dtype="float32"))
            seqs.append(self.segments(ones))
        cts = {i: self.segments(c) for i, c in enumerate(ct_outs) if c is not None}
        return seqs, cts

    # -- the scans --

    def inner_attrs(self):
        return {"body": self.body, "num_sequences": self.n_x + (1 if self.pad else 0),
                "num_states": self.n_s, "num_constants": len(self.consts),
                "num_outputs": self.no, "reverse": self.attrs["reverse"], "length": self.k}

    def checkpoint_scan(self, padded):
        """The states each segment starts from, stacked: (batch, segments, ...)."""
        seqs, _ = padded
        xs = [_placeholder(step_type(s.type, False), f"segment{i}") for i, s in enumerate(seqs)]
        st = [_placeholder(s.type, f"state{j}") for j, s in enumerate(self.states)]
        cs = [_placeholder(c.type, f"constant{i}") for i, c in enumerate(self.consts)]
        inner = scan_results(xs + st + cs, self.inner_attrs(), layer=self.node.layer)
        body = Graph(xs + st + cs, st + list(inner[2 * self.no:]), name="checkpoints")
        attrs = {"body": body, "num_sequences": len(seqs), "num_states": self.n_s,
                 "num_constants": len(self.consts), "num_outputs": self.n_s,
                 "reverse": self.attrs["reverse"], "length": self.nseg}
        res = scan_results(list(seqs) + list(self.states) + list(self.consts), attrs,
                           layer=self.node.layer)
        return res[self.n_s:2 * self.n_s]

    def backward_scan(self, padded, checkpoints, cts, live, plain_rule) -> list:
        """The reverse scan over the segments (module docstring)."""
        seqs, seg_cts = padded
        no, n_x = self.no, self.n_x
        ct_last, ct_final = cts[:no], cts[2 * no:]
        want_x = [i for i in range(n_x) if live[i]]
        want_c = [i for i in range(len(self.consts)) if live[n_x + self.n_s + i]]
        pend = [i for i in range(no) if ct_last[i] is not None]
        # the operands: (outer, placeholder) per group
        g_ck = [(c, _placeholder(step_type(c.type, False), f"checkpoint{j}"))
                for j, c in enumerate(checkpoints)]
        g_ct = [(seg_cts[i], _placeholder(step_type(seg_cts[i].type, False), f"ct_out{i}"))
                for i in sorted(seg_cts)]
        g_x = [(s, _placeholder(step_type(s.type, False), f"segment{i}"))
               for i, s in enumerate(seqs)]
        g_pend = [(ct_last[i], _placeholder(ct_last[i].type, f"ct_last{i}")) for i in pend]
        ds_init = [_state_ct_init(ct_final[j], self.states[j]) for j in self.float_s]
        g_ds = [(d, _placeholder(d.type, f"ct_state{j}")) for d, j in zip(ds_init, self.float_s)]
        g_acc = [(call("zeros_like", self.consts[i]),
                  _placeholder(self.consts[i].type, f"ct_constant{i}")) for i in want_c]
        g_c = [(c, _placeholder(c.type, f"constant{i}")) for i, c in enumerate(self.consts)]
        # the step: the segment's forward from its checkpoint, differentiated
        x_ph, ck_ph = [p for _, p in g_x], [p for _, p in g_ck]
        c_ph = [p for _, p in g_c]
        inner = scan_results(x_ph + ck_ph + c_ph, self.inner_attrs(), layer=self.node.layer)
        ds_of = dict(zip(self.float_s, [p for _, p in g_ds]))
        ct_of = dict(zip(sorted(seg_cts), [p for _, p in g_ct]))
        pend_of = dict(zip(pend, [p for _, p in g_pend]))
        inner_cts = ([pend_of.get(i) for i in range(no)] + [ct_of.get(i) for i in range(no)]
                     + [ds_of.get(j) for j in range(self.n_s)])
        inner_live = ([i in want_x for i in range(n_x)] + [False] * (len(seqs) - n_x)
                      + [j in ds_of for j in range(self.n_s)] + [i in want_c for i in
                                                                   range(len(self.consts))])
        with checkpoint_loops(None):
            grads = plain_rule(inner[0].node, inner_cts, inner_live)
        dx = [_or_zeros(grads[i], x_ph[i]) for i in want_x]
        off = len(seqs)
        ds = [_or_zeros(grads[off + j], ds_of[j]) for j in self.float_s]
        off += self.n_s
        acc = [p if grads[off + i] is None else call("add", p, grads[off + i])
               for (_, p), i in zip(g_acc, want_c)]
        news = [call("zeros_like", p) for _, p in g_pend] + ds + acc
        groups_x = g_ck + g_ct + g_x
        groups_s = g_pend + g_ds + g_acc
        ph = [p for _, p in groups_x + groups_s + g_c]
        body = Graph(ph, dx + news, name=f"{self.attrs['body'].name}_segment_vjp")
        attrs = {"body": body, "num_sequences": len(groups_x), "num_states": len(groups_s),
                 "num_constants": len(g_c), "num_outputs": len(dx),
                 "reverse": not self.attrs["reverse"], "length": self.nseg}
        res = scan_results([o for o, _ in groups_x + groups_s + g_c], attrs,
                           layer=self.node.layer)
        nb = len(dx)
        d_seq = dict(zip(want_x, [self.unsegment(r) for r in res[nb:2 * nb]]))
        finals = res[2 * nb + len(g_pend):]
        d_state = dict(zip(self.float_s, finals[:len(self.float_s)]))
        d_const = dict(zip(want_c, finals[len(self.float_s):]))
        return ([d_seq.get(i) for i in range(n_x)]
                + [d_state.get(j) if live[n_x + j] else None for j in range(self.n_s)]
                + [d_const.get(i) for i in range(len(self.consts))])


def _or_zeros(ct, like):
    return call("zeros_like", like) if ct is None else ct


def _state_ct_init(ct, state):
    """The cotangent of a final state, or zeros: in the initial state's type."""
    if ct is None:
        return call("zeros_like", state)
    return ct if ct.dtype == state.dtype else call("cast", ct, dtype=state.dtype)


def _guarded_body(body: Graph, n_x, n_s) -> Graph:
    """``body`` with one more sequence, a float flag per row: where it is 0 (a
    padded step) the new states are the old ones."""

    ins = body.inputs
    xs = [_placeholder(t.type, t.name) for t in ins[:n_x]]
    flag = _placeholder(TensorType((ins[0].shape[0],), "float32"), "real_step")
    rest = [_placeholder(t.type, t.name) for t in ins[n_x:]]
    outs = fresh_copy(body, xs + rest)
    real = call("not_equal", flag, 0.0)
    no = len(body.outputs) - n_s
    news = []
    for old, new in zip(rest[:n_s], outs[no:]):
        cond = call("reshape", real, shape=(-1,) + (1,) * (new.ndim - 1)) if new.ndim > 1 \
            else real
        news.append(call("where", cond, new, old))
    return Graph(xs + [flag] + rest, outs[:no] + news, name=body.name)
