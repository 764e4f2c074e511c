"""The gradient rules of the loop ops: the backward of a ``scan`` is a ``scan``.

A ``loop`` is differentiated through its canonical form
(:func:`symkb.ir.ops.canonical.canonical_loop`): masks, ``go_backwards``,
``time_major``, ``return_all_outputs`` and ``zero_output_for_mask`` are plain
nodes around one ``scan`` there, so their gradients are the plain nodes'
rules, and only the ``scan`` needs a rule of its own.

The rule of a ``scan`` (``reverse`` r, step body ``f``):

* the body's vector-Jacobian product is built on the body graph by the same
  transform (:func:`symkb.ir.gradients.vjp`), the cotangents of the step
  outputs and of the new states being fresh placeholders;
* the forward values that product reads and that change from step to step
  (the *residuals*: the state inputs, the activations) become extra step
  outputs of a second forward scan (the same operands, the body with more
  outputs), stacked over time; a residual that is a step output is that
  output. Shape nodes between the residuals and the product (a transposed
  state) are recomputed in the backward step instead of saved, and so are
  the values computed from the constants alone;
* the backward is one canonical ``scan`` with ``reverse = not r``: its
  sequences are the stacked output cotangents, the residuals and the forward
  sequences the product reads; it carries the state cotangents (initialised
  to the final states' cotangents), one pending cotangent per last output
  (added at the first backward step, the forward's last one) and the
  constants' accumulators; its step outputs are the sequences' cotangents
  ``dx_t``, stacked in time order;
* the initial states' cotangents are its final states. A constant's
  cotangent ``sum_t dot(a_t^T, g_t)`` (a kernel's) or ``sum_t sum(g_t, 0)``
  (a bias's) is not summed in the loop: the loop returns ``g_t`` (and
  ``a_t`` unless it is a sequence or a residual already stacked) and one
  ``(batch * time)`` product or sum after it computes the sum; the other
  terms of a constant's cotangent are summed in the loop, in an accumulator.

The compiler's ``merge_scans`` pass then has the forward values read from the
scan that saves the residuals, so the recurrence runs forward once. Saved
memory is ``O(T x batch x residual width)``. Only the operands the
transform needs get a cotangent (the rule reads the transform's liveness):
a gradient for the weights alone builds no ``dx_t``.
"""
from __future__ import annotations

import contextlib
import contextvars

from ..build import call
from ..graph import Graph
from ..errors import ShapeError
from ..gradients import vjp
from ..node import Node
from ..registry import declare, get_op
from ..replay import fresh_copy as _copy
from ..types import is_float
from .canonical import canonical_loop
from .loop import split_operands, step_type
from .scan import scan_results
from .scan_checkpoint import checkpoint_every, checkpointed_scan_grad

_RECOMPUTED = ("shape",)
# what the forward saves per step: "activations" (every value the backward
# reads) or "states" (the state inputs only; the backward step recomputes the
# rest from them): see :func:`recompute_loop_steps`
_SAVE = contextvars.ContextVar("symkb_loop_residuals", default="activations")


@contextlib.contextmanager
def recompute_loop_steps():
    """Within it, the gradient of a loop saves only the state inputs of each
    step and its backward step recomputes the step's values from them.

    Memory per step falls to the states (two ``(batch, units)`` arrays for an
    LSTM instead of about seven); each backward step then redoes its forward
    step first (the recurrent product and the activations), so the gradient
    costs about one more forward pass.
    """
    token = _SAVE.set("states")
    try:
        yield
    finally:
        _SAVE.reset(token)


def scan_grad(node, cts, live=None) -> list:
    """The cotangents of a ``scan`` node's operands (module docstring).

    Args:
        node: the forward ``scan`` node.
        cts: one cotangent (or ``None``) per result.
        live: one bool per operand: whether the transform wants its cotangent
            (default: every floating-point operand).

    Returns:
        One cotangent or ``None`` per operand.
    """
    attrs = node.attrs
    body, no = attrs["body"], attrs["num_outputs"]
    n_x, n_s = attrs["num_sequences"], attrs["num_states"]
    live = [is_float(t.dtype) for t in node.inputs] if live is None else list(live)
    live = [w and is_float(t.dtype) for w, t in zip(live, node.inputs)]
    every = checkpoint_every(node)
    if every is not None:
        return checkpointed_scan_grad(node, cts, live, every, scan_grad)
    step = _StepVjp(body, no, n_x, n_s, cts, live, split_operands(node.inputs, **attrs)[1])
    if step.empty:
        return [None] * len(node.inputs)
    residuals = step.residuals()
    stacked = _forward_with_residuals(node, residuals)
    return _backward_scan(node, step, residuals, stacked)


class _StepVjp:
    """The step body's vector-Jacobian product, built on the body graph."""

    def __init__(self, body: Graph, no, n_x, n_s, cts, live, states):
        self.body, self.no, self.n_x, self.n_s = body, no, n_x, n_s
        self.states = states
        ins = body.inputs
        self.xp, self.sp, self.cp = ins[:n_x], ins[n_x:n_x + n_s], ins[n_x + n_s:]
        live_x, live_s, live_c = live[:n_x], live[n_x:n_x + n_s], live[n_x + n_s:]
        ct_last, ct_outs, ct_final = cts[:no], cts[no:2 * no], cts[2 * no:]
        self.ct_last, self.ct_outs, self.ct_final = ct_last, ct_outs, ct_final
        # the carried state cotangents: every float state (a cotangent crosses steps)
        self.float_s = [j for j, s in enumerate(self.sp) if is_float(s.dtype)]
        self.want_x = [i for i, w in enumerate(live_x) if w]
        self.want_c = [k for k, w in enumerate(live_c) if w]
        self.want_s = [j for j in self.float_s if live_s[j]]
        has_out = [c1 is not None or c2 is not None for c1, c2 in zip(ct_last, ct_outs)]
        self.empty = not ((any(has_out) or any(ct_final[j] is not None for j in self.float_s))
                          and (self.want_x or self.want_c or self.want_s))
        if self.empty:
            return
        self._build(has_out)

    def _build(self, has_out):
        body, no = self.body, self.no
        self.ct_seq_ph, self.pend_ph, seeds, outs = {}, {}, [], []
        for i in range(no):
            if not has_out[i]:
                continue
            o = body.outputs[i]
            parts = []
            if self.ct_outs[i] is not None:
                ph = _placeholder(step_type(self.ct_outs[i].type, False), f"ct_out{i}")
                self.ct_seq_ph[i] = ph
                parts.append(ph)
            if self.ct_last[i] is not None:
                self.pend_ph[i] = _placeholder(self.ct_last[i].type, f"ct_last{i}")
                parts.append(self.pend_ph[i])
            seed = parts[0] if len(parts) == 1 else call("add", *parts)
            outs.append(o)
            seeds.append(seed if seed.dtype == o.dtype else call("cast", seed, dtype=o.dtype))
        self.ds_init = {}
        self.ds_ph = {}
        for j in self.float_s:
            self.ds_init[j] = _state_ct_init(self.ct_final[j], self.states[j])
            self.ds_ph[j] = _placeholder(self.ds_init[j].type, f"ct_state{j}")
            outs.append(body.outputs[no + j])
            seeds.append(self.ds_ph[j])
        wrt = ([self.xp[i] for i in self.want_x] + [self.sp[j] for j in self.float_s]
               + [self.cp[k] for k in self.want_c])
        grads = vjp(outs, wrt, seeds, stop=body.inputs)
        grads = [g if g is not None else call("zeros_like", w) for g, w in zip(grads, wrt)]
        nx, nf = len(self.want_x), len(self.float_s)
        self.dx, self.ds, self.dc = grads[:nx], grads[nx:nx + nf], grads[nx + nf:]

    def residuals(self) -> list:
        """The per-step forward tensors the product reads (module docstring),
        in a fixed order; records the body inputs it reads in ``self.reads``."""
        fwd = {id(n) for n in self.body.nodes} | {id(t.node) for t in self.body.inputs}
        per_step = self.body.downstream(set(self.xp) | set(self.sp))
        inputs = set(self.body.inputs)
        res, reads, seen = [], [], set()
        states_only = _SAVE.get() == "states"
        self.terms = {k: _weight_terms(dc) for k, dc in zip(self.want_c, self.dc)}
        stack = list(self.dx + self.ds)
        for looped, prods, sums in self.terms.values():
            stack += looped + sums + [g for _, g in prods]
            stack += [a for a, _ in prods if a not in self.xp]
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            if t in inputs:
                reads.append(t)
                if t in self.sp:
                    res.append(t)
                continue
            n = t.node
            if id(n) in fwd and t in per_step and _saved(t, states_only):
                res.append(t)
                continue
            stack.extend(n.inputs)
        self.reads = set(reads)
        order = {t: i for i, t in enumerate(self.body.inputs)}
        pos = {o: i for i, n in enumerate(self.body.nodes) for o in n.outputs}
        return sorted(res, key=lambda t: (order.get(t, -1), pos.get(t, -1)))


def _saved(t, states_only=False) -> bool:
    """Whether a per-step forward value the product reads is saved (else it is
    recomputed in the backward step from what it reads: shape nodes, a
    transpose of a state, say, cost nothing to redo; with ``states_only``
    every pure value is). A random draw is always saved: redrawn it would
    differ."""
    opdef = get_op(t.node.op)
    if not opdef.pure:
        return True
    return t.ndim >= 1 and not states_only and opdef.kind not in _RECOMPUTED


def _state_ct_init(ct, state):
    """The state cotangent the backward starts from: the final state's, or zeros
    (``state`` is the initial state operand, of the final state's type)."""
    if ct is None:
        return call("zeros_like", state)
    return ct if ct.dtype == state.dtype else call("cast", ct, dtype=state.dtype)


def _placeholder(t, name):
    return Node("input", (), {}, (t,), name=name).outputs[0]


def _forward_with_residuals(node, residuals) -> list:
    """The residuals stacked over time: a scan of the same operands whose body
    also returns them (a residual that is a step output is that output)."""
    if not residuals:
        return []
    attrs, no = node.attrs, node.attrs["num_outputs"]
    body = attrs["body"]
    outs = list(body.outputs[:no])
    extra = [r for r in residuals if r not in outs]
    for r in extra:
        if r.ndim < 1:
            raise ShapeError(f"scan gradient: the step value {r.name} of type {r.type} must be "
                             "saved per step but has no batch axis")
    # a copy of the body's nodes: two scans never share a node (a target keeps
    # one buffer per node)
    shared = Graph(body.inputs, outs + extra + list(body.outputs[no:]), name=body.name)
    fresh = [_placeholder(t.type, t.name) for t in body.inputs]
    aug = Graph(fresh, _copy(shared, fresh), name=body.name)
    n = no + len(extra)
    res = scan_results(node.inputs, dict(attrs, body=aug, num_outputs=n), layer=node.layer)
    where = {r: n + (outs.index(r) if r in outs else no + extra.index(r)) for r in residuals}
    return [res[where[r]] for r in residuals]


def _backward_scan(node, step: _StepVjp, residuals, stacked) -> list:
    """The reverse scan of the step's product and the operands' cotangents."""
    attrs = node.attrs
    seqs, states, consts, _ = split_operands(node.inputs, **attrs)
    outer = dict(zip(step.xp, seqs)) | dict(zip(residuals, stacked))
    to_stack = list(dict.fromkeys(
        [a for k in step.want_c for a, _ in step.terms[k][1] if a not in outer]
        + [g for k in step.want_c for g in [g for _, g in step.terms[k][1]] + step.terms[k][2]]))
    looped = [k for k in step.want_c if step.terms[k][0]]
    groups, ends, acc_ph = _backward_operands(step, residuals, stacked, seqs, consts, looped)
    outs = list(step.dx) + to_stack
    news = ([call("zeros_like", step.pend_ph[i]) for i in sorted(step.pend_ph)] + list(step.ds)
            + [_total([ph] + step.terms[k][0]) for k, ph in zip(looped, acc_ph)])
    cut = [g[1] if g[1] is not None else g[2] for g in groups]
    inner = _copy(Graph(cut, outs + news, name="cut"), [g[2] for g in groups])
    body = Graph([g[2] for g in groups], inner, name=f"{attrs['body'].name}_vjp")
    nb = len(outs)
    back_attrs = {"body": body, "num_sequences": ends[0], "num_states": ends[1] - ends[0],
                  "num_constants": len(groups) - ends[1], "num_outputs": nb,
                  "reverse": not attrs["reverse"], "length": attrs["length"]}
    res = scan_results([g[0] for g in groups], back_attrs, layer=node.layer)
    outer.update(zip(to_stack, res[nb + len(step.dx):2 * nb]))
    finals = res[2 * nb + len(step.pend_ph):]
    ds = dict(zip(step.float_s, finals))
    acc = dict(zip(looped, finals[len(step.float_s):]))
    dx = dict(zip(step.want_x, res[nb:nb + len(step.dx)]))
    dc = {k: _after_loop(acc.get(k), step.terms[k], outer) for k in step.want_c}
    return ([dx.get(i) for i in range(len(seqs))]
            + [ds[j] if j in step.want_s else None for j in range(len(states))]
            + [dc.get(k) for k in range(len(consts))])


def _backward_operands(step, residuals, stacked, seqs, consts, looped):
    """The reverse scan's operands as ``(outer operand, the tensor it stands for
    in the step's product, its placeholder)``, where the sequences and the
    states end, and the placeholders of the constants' accumulators."""
    x_read = [i for i, x in enumerate(step.xp) if x in step.reads]
    c_read = [k for k, c in enumerate(step.cp) if c in step.reads]
    seq_ops = ([(step.ct_outs[i], step.ct_seq_ph[i], step.ct_seq_ph[i])
                for i in sorted(step.ct_seq_ph)]
               + [(s, r, _placeholder(step_type(s.type, False), f"res{k}"))
                  for k, (r, s) in enumerate(zip(residuals, stacked))]
               + [(seqs[i], step.xp[i], _placeholder(step.xp[i].type, step.xp[i].name))
                  for i in x_read])
    if not seq_ops:     # a scan needs one sequence (its time and batch sizes)
        seq_ops = [(seqs[0], None, _placeholder(step.xp[0].type, "unused"))]
    acc_init = [call("zeros_like", consts[k]) for k in looped]
    acc_ph = [_placeholder(a.type, f"ct_const{k}") for a, k in zip(acc_init, looped)]
    state_ops = ([(step.ct_last[i], step.pend_ph[i], step.pend_ph[i])
                  for i in sorted(step.pend_ph)]
                 + [(step.ds_init[j], step.ds_ph[j], step.ds_ph[j]) for j in step.float_s]
                 + [(a, p, p) for a, p in zip(acc_init, acc_ph)])
    const_ops = [(consts[k], step.cp[k], _placeholder(step.cp[k].type, step.cp[k].name))
                 for k in c_read]
    groups = seq_ops + state_ops + const_ops
    return groups, (len(seq_ops), len(seq_ops) + len(state_ops)), acc_ph


def _total(parts):
    total = parts[0]
    for p in parts[1:]:
        total = call("add", total, p)
    return total


def _weight_terms(dc) -> tuple:
    """A constant's step cotangent split into ``(terms summed in the loop,
    products (a, g) of dot(transpose(a), g), row sums g of sum(g, axis=0))``:
    the products and row sums are summed over the steps after the loop, as one
    ``(batch * time)`` product or sum each."""
    parts, stack = [], [dc]
    while stack:
        t = stack.pop()
        if t.node.op == "add" and all(i.shape == t.shape for i in t.node.inputs):
            stack.extend(t.node.inputs)
        else:
            parts.append(t)
    looped, prods, sums = [], [], []
    for t in parts:
        n = t.node
        a = n.inputs[0].node.inputs[0] if n.op == "dot" and n.inputs[0].node.op == "transpose" \
            else None
        if (a is not None and n.inputs[0].node.attrs["perm"] == (1, 0) and a.ndim == 2
                and n.inputs[1].ndim == 2 and None not in t.shape):
            prods.append((a, n.inputs[1]))
        elif (n.op == "sum" and tuple(n.attrs["axis"]) == (0,) and not n.attrs["keepdims"]
              and None not in t.shape and t.ndim >= 1):
            sums.append(n.inputs[0])
        else:
            looped.append(t)
    return looped, prods, sums


def _after_loop(acc, terms, outer):
    """A constant's cotangent: the loop's accumulator plus the products and row
    sums over (batch, time) of the stacked factors."""
    parts = [] if acc is None else [acc]
    for a, g in terms[1]:
        rows_a = call("reshape", outer[a], shape=(-1, a.shape[1]))
        rows_g = call("reshape", outer[g], shape=(-1, g.shape[1]))
        parts.append(call("dot", call("transpose", rows_a, perm=(1, 0)), rows_g))
    parts += [call("sum", outer[g], axis=(0, 1), keepdims=False) for g in terms[2]]
    return _total(parts)


def loop_grad(node, cts, live=None) -> list:
    """The cotangents of a ``loop`` node's operands: those of its canonical form
    (plain nodes around one ``scan``), whose rules are the plain ops' and
    :func:`scan_grad`."""
    fresh = [call("identity", t) for t in node.inputs]
    outs = canonical_loop(fresh, node.attrs, layer=node.layer)
    live = [is_float(t.dtype) for t in node.inputs] if live is None else list(live)
    wanted = [f for f, w in zip(fresh, live) if w and is_float(f.dtype)]
    used = [(o, c) for o, c in zip(outs, cts) if c is not None]
    grads = iter(vjp([o for o, _ in used], wanted, [c for _, c in used], stop=fresh))
    return [next(grads) if w and is_float(f.dtype) else None for f, w in zip(fresh, live)]


# the rules read which operands the transform wants a cotangent for
scan_grad.wants_live = True
loop_grad.wants_live = True
declare("scan", grad=scan_grad)
declare("loop", grad=loop_grad)
