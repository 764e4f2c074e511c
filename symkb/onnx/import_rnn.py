"""ONNX ``LSTM``, ``GRU``, ``RNN`` and ``Scan`` as symkb loops (``K.rnn``).

The recurrent ops follow the ONNX definitions: gates ``iofc`` (LSTM) and
``zrh`` (GRU, with ``linear_before_reset`` either way), weights ``W``
``(dirs, gates*H, I)``, ``R`` ``(dirs, gates*H, H)``, bias ``(dirs,
2*gates*H)``; ``direction`` forward, reverse or bidirectional (a reverse
direction runs ``go_backwards`` and its outputs are put back in time order);
``layout`` 0 (time-major) or 1. Peepholes, ``clip``, ``input_forget``,
``sequence_lens`` and activations other than Sigmoid/Tanh/Relu are refused
with an error naming the attribute.

``Scan`` runs its body graph as the step function: the first ``N`` inputs
are the carried states, the rest the scanned sequences (one axis and one
direction for all of them).
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from ..ir import build
from ..ir.errors import FileFormatError
from .values import Scope, as_tensor, index as _index, run_graph, static
from .writer import onnx_module

_ACT = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu"}
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                 "RNN": ["Tanh"]}


def _act(name):
    op = _ACT[name]
    if op == "relu":
        return lambda x: build.call("relu", x, alpha=0.0, max_value=None, threshold=0.0)
    return lambda x: build.call(op, x)


def _cols(x, lo, hi):
    return _index(x, (slice(None), slice(lo, hi)))


def _refuse_options(kind, node, ins, attrs):
    bad = [k for k in ("clip",) if attrs.get(k) is not None]
    if attrs.get("input_forget", 0):
        bad.append("input_forget")
    if len(ins) > 4 and ins[4] is not None:
        bad.append("sequence_lens")
    if kind == "LSTM" and len(ins) > 7 and ins[7] is not None:
        bad.append("P (peepholes)")
    acts = attrs.get("activations")
    if acts and any(a not in _ACT for a in acts):
        bad.append(f"activations={acts}")
    if bad:
        raise FileFormatError(f"symkb.onnx.load: {kind} {node.name!r} uses {bad}, which "
                              "symkb does not import", field=kind)


def _zeros_state(x, time_major, hidden):
    step = _index(x, (0,) if time_major else (slice(None), 0))
    column = _index(step, (slice(None), slice(0, 1)))
    return build.call("tile", build.call("zeros_like", column, dtype=x.dtype),
                      reps=(1, hidden))


def _step(kind, w, r, b, hidden, acts, linear_before_reset):
    f, g = _act(acts[0]), _act(acts[1]) if len(acts) > 1 else None
    h_act = _act(acts[2]) if len(acts) > 2 else None
    n = _GATES[kind] * hidden
    wb, rb = b[:n], b[n:]

    def lstm(x, states):
        h, c = states[0], states[1]
        z = build.call("add", build.call("add", build.call("matmul", x, w),
                                         build.call("matmul", h, r)), wb + rb)
        i, o = f(_cols(z, 0, hidden)), f(_cols(z, hidden, 2 * hidden))
        fg, cc = f(_cols(z, 2 * hidden, 3 * hidden)), g(_cols(z, 3 * hidden, 4 * hidden))
        c_new = build.call("add", build.call("multiply", fg, c), build.call("multiply", i, cc))
        h_new = build.call("multiply", o, h_act(c_new))
        return h_new, [h_new, c_new]

    def gru(x, states):
        h = states[0]
        xz = build.call("add", build.call("matmul", x, w), wb)
        hz = build.call("add", build.call("matmul", h, _cols(r, 0, 2 * hidden)),
                        rb[:2 * hidden])
        z = f(build.call("add", _cols(xz, 0, hidden), _cols(hz, 0, hidden)))
        rr = f(build.call("add", _cols(xz, hidden, 2 * hidden),
                          _cols(hz, hidden, 2 * hidden)))
        rh = _cols(r, 2 * hidden, 3 * hidden)
        if linear_before_reset:
            inner = build.call("multiply", rr, build.call("add", build.call("matmul", h, rh),
                                                          rb[2 * hidden:]))
        else:
            inner = build.call("add", build.call("matmul", build.call("multiply", rr, h), rh),
                               rb[2 * hidden:])
        hh = g(build.call("add", _cols(xz, 2 * hidden, 3 * hidden), inner))
        one_minus = build.call("subtract", np.asarray(1.0, hh.dtype), z)
        h_new = build.call("add", build.call("multiply", one_minus, hh),
                           build.call("multiply", z, h))
        return h_new, [h_new]

    def simple(x, states):
        h = states[0]
        z = build.call("add", build.call("add", build.call("matmul", x, w),
                                         build.call("matmul", h, r)), wb + rb)
        h_new = f(z)
        return h_new, [h_new]
    return {"LSTM": lstm, "GRU": gru, "RNN": simple}[kind]


def import_recurrent(kind, node, ins, attrs) -> list:
    """The ``[Y, Y_h(, Y_c)]`` of an ONNX recurrent node (see the module docstring)."""
    _refuse_options(kind, node, ins, attrs)
    x = as_tensor(ins[0])
    W, R = static(ins[1], "W").astype(np.float32), static(ins[2], "R").astype(np.float32)
    hidden = int(attrs["hidden_size"])
    gates = _GATES[kind]
    dirs = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
    B = static(ins[3], "B").astype(np.float32) if len(ins) > 3 and ins[3] is not None else \
        np.zeros((dirs, 2 * gates * hidden), np.float32)
    time_major = int(attrs.get("layout", 0)) == 0
    acts = attrs.get("activations") or _DEFAULT_ACTS[kind] * dirs
    per = len(acts) // dirs
    ys, hs, cs = [], [], []
    for d in range(dirs):
        backwards = d == 1 or attrs.get("direction") == "reverse"
        initial = []
        for k, slot in enumerate((5, 6)[: 2 if kind == "LSTM" else 1]):
            given = ins[slot] if len(ins) > slot else None
            if given is None:
                initial.append(_zeros_state(x, time_major, hidden))
            else:
                state = as_tensor(given)
                initial.append(_index(state, (d,) if time_major else (slice(None), d)))
        w = K.variable(W[d].T.copy(), name=f"{node.name or kind}/W{d}")
        r = K.variable(R[d].T.copy(), name=f"{node.name or kind}/R{d}")
        step = _step(kind, w, r, B[d], hidden, acts[d * per:(d + 1) * per],
                     attrs.get("linear_before_reset", 0))
        _, outputs, finals = K.rnn(step, x, initial, go_backwards=backwards,
                                   time_major=time_major)
        if backwards:
            outputs = build.call("reverse", outputs, axes=(0 if time_major else 1,))
        ys.append(outputs)
        hs.append(finals[0])
        if kind == "LSTM":
            cs.append(finals[1])
    out = [build.call("stack", *ys, axis=1 if time_major else 2),
           build.call("stack", *hs, axis=0 if time_major else 1)]
    if kind == "LSTM":
        out.append(build.call("stack", *cs, axis=0 if time_major else 1))
    return out


def import_scan(node, ins, attrs) -> list:
    """The final states and scan outputs of an ONNX ``Scan``."""
    onnx = onnx_module("symkb.onnx.load")
    body, outer = attrs["body"], attrs["_scope"]
    m = int(attrs["num_scan_inputs"])
    n = len(ins) - m
    k = len(body.output) - n
    axes = set(attrs.get("scan_input_axes") or [0] * m)
    dirs = set(attrs.get("scan_input_directions") or [0] * m)
    out_axes = list(attrs.get("scan_output_axes") or [0] * k)
    out_dirs = list(attrs.get("scan_output_directions") or [0] * k)
    if len(axes) != 1 or axes - {0, 1} or len(dirs) != 1:
        raise FileFormatError(f"symkb.onnx.load: Scan {node.name!r} scans axes {sorted(axes)} "
                              f"in directions {sorted(dirs)}; symkb imports one axis (0 or "
                              "1) and one direction for all its inputs", field="Scan")
    time_major = axes == {0}
    seqs = [as_tensor(s) for s in ins[n:]]
    flat = [len(s.shape) == 2 for s in seqs]
    seqs = [build.call("expand_dims", s, axis=2) if f else s for s, f in zip(seqs, flat)]

    def step(x_ts, states):
        x_ts = x_ts if isinstance(x_ts, (list, tuple)) else [x_ts]
        x_ts = [build.call("squeeze", x, axis=1) if f else x for x, f in zip(x_ts, flat)]
        scope = Scope(parent=outer)
        for vi, value in zip(body.input, list(states[:n]) + list(x_ts)):
            scope[vi.name] = value
        results = [as_tensor(v) for v in run_graph(body, scope, onnx)]
        new, outs = results[:n], results[n:]
        output = outs[0] if len(outs) == 1 else (list(outs) if outs else new[0])
        return output, new

    states = [as_tensor(s) for s in ins[:n]]
    _, outputs, finals = K.rnn(step, seqs if len(seqs) > 1 else seqs[0], states,
                               go_backwards=dirs == {1}, time_major=time_major)
    outputs = outputs if isinstance(outputs, (list, tuple)) and k > 1 else [outputs]
    made = []
    t_axis = 0 if time_major else 1
    for out, axis, direction in zip(outputs[:k], out_axes, out_dirs):
        if direction:
            out = build.call("reverse", out, axes=(t_axis,))
        if axis != t_axis:
            rank = len(out.shape)
            out = build.call("transpose", out, perm=(1, 0) + tuple(range(2, rank)))
        made.append(out)
    return list(finals) + made
