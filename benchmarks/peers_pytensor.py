#!/usr/bin/env python3
"""PyTensor peers of ``grad.py`` and ``train.py``, run in PyTensor's own interpreter.

    PYTHON benchmarks/peers_pytensor.py JOB.npz RESULT.npz

(the parent scripts start it with ``--pytensor-python``; ``peer_io.py``
describes the job). PyTensor pins an older numba than symkb's, so it gets a
venv of its own and runs here, in a process of that venv.

Implementations (``pytensor``):
  grad jobs   ``pytensor.grad`` of a mean-squared loss on the output of a
              ``scan`` over the cell's step, w.r.t. the kernel, recurrent
              kernel and bias (shared variables), in one compiled function.
  train jobs  the model's forward (``scan`` for T1/T3), softmax cross-entropy,
              ``pytensor.grad`` and SGD updates in one
              ``pytensor.function(updates=...)``.
Mode NUMBA; when the NUMBA mode cannot compile the function the default C
mode (``cvm`` linker) is used and the record's note says so.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("PYTENSOR_FLAGS", "floatX=float32")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peer_io  # noqa: E402


def _pt():
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError as e:
        raise peer_io.Missing(f"pytensor: {e}") from e
    return pytensor, pt


def _step(pt, cell, u, k, r, b):
    """The cell's step over a time-major sequence (input projected per step)."""
    b_in = b[0] if cell == "gru" else b
    if cell == "simple":
        def step(xt, h):
            return pt.tanh(xt @ k + b_in + h @ r)
    elif cell == "lstm":
        def step(xt, h, c):
            z = xt @ k + b_in + h @ r
            i, f = pt.sigmoid(z[:, :u]), pt.sigmoid(z[:, u:2 * u])
            g, o = pt.tanh(z[:, 2 * u:3 * u]), pt.sigmoid(z[:, 3 * u:])
            c = f * c + i * g
            return o * pt.tanh(c), c
    else:  # gru, reset_after
        def step(xt, h):
            xp, mh = xt @ k + b_in, h @ r + b[1]
            z = pt.sigmoid(xp[:, :u] + mh[:, :u])
            rr = pt.sigmoid(xp[:, u:2 * u] + mh[:, u:2 * u])
            hh = pt.tanh(xp[:, 2 * u:] + rr * mh[:, 2 * u:])
            return z * h + (1 - z) * hh
    return step


def _sequence(pytensor, pt, cell, u, x, k, r, b):
    """(batch, time, units) outputs of the layer over x (batch, time, in)."""
    h0 = pt.zeros((x.shape[0], u), dtype="float32")
    init = [h0, h0] if cell == "lstm" else [h0]
    out = pytensor.scan(_step(pt, cell, u, k, r, b), sequences=[x.dimshuffle(1, 0, 2)],
                        outputs_info=init, return_updates=False)
    hs = out[0] if cell == "lstm" else out
    return hs.dimshuffle(1, 0, 2)


def _compile(pytensor, inputs, outputs, args, updates=None):
    """pytensor.function in mode NUMBA, else (noted) the C mode.

    NUMBA mode compiles at the first call, so the function is called once
    on ``args`` here; the shared variables ``updates`` wrote are then reset,
    so the caller's steps still start from the initial weights.
    """
    from pytensor.compile.mode import Mode, get_mode
    shared = [p for p, _ in updates or ()]
    saved = [p.get_value() for p in shared]
    try:
        f = pytensor.function(inputs, outputs, updates=updates, mode=get_mode("NUMBA"))
        f(*args)
        note = "NUMBA"
    except Exception as e:  # noqa: BLE001  (the note carries the reason)
        print(f"pytensor: NUMBA mode failed ({type(e).__name__}: {e}); using the C mode",
              file=sys.stderr)
        f = pytensor.function(inputs, outputs, updates=updates,
                              mode=Mode(linker="cvm", optimizer="fast_run"))
        note = f"C mode (NUMBA failed: {type(e).__name__})"
    for p, v in zip(shared, saved):
        p.set_value(v)
    return f, note


def build_grad(job, arrays):
    pytensor, pt = _pt()
    cell, u = job["cell"], job["units"]
    k, r, b = (pytensor.shared(arrays[n], name=n) for n in ("k", "r", "b"))
    x, t = pt.tensor3("x", dtype="float32"), pt.tensor3("t", dtype="float32")
    loss = pt.mean(pt.sqr(_sequence(pytensor, pt, cell, u, x, k, r, b) - t))
    xv, tv = arrays["x"], arrays["t"]
    f, mode = _compile(pytensor, [x, t], [loss] + pytensor.grad(loss, [k, r, b]), (xv, tv))

    def run():
        return f(xv, tv)
    run.note = mode
    return run


def _logits(pytensor, pt, job, x, w):
    if job["model"] == "T2":
        h = pt.maximum(x @ w[0] + w[1], 0)
        h = pt.maximum(h @ w[2] + w[3], 0)
        return h @ w[4] + w[5]
    hs = _sequence(pytensor, pt, job["cell"], job["units"], x, w[0], w[1], w[2])
    return hs[:, -1] @ w[3] + w[4]


def build_train(job, arrays):
    pytensor, pt = _pt()
    w = [pytensor.shared(arrays[f"w_{i}"]) for i in range(job["n_weights"])]
    x = (pt.matrix if job["model"] == "T2" else pt.tensor3)("x", dtype="float32")
    y = pt.ivector("y")
    logits = _logits(pytensor, pt, job, x, w)
    logp = logits - pt.logsumexp(logits, axis=1, keepdims=True)
    loss = -pt.mean(logp[pt.arange(y.shape[0]), y])
    lr = pt.constant(job["lr"], dtype="float32")
    updates = [(p, p - lr * g) for p, g in zip(w, pytensor.grad(loss, w))]
    xv, yv = arrays["x"], arrays["y"]
    f, mode = _compile(pytensor, [x, y], loss, (xv, yv), updates)

    def run():
        return f(xv, yv)
    run.note = mode
    return run


BUILDERS = {"grad": {"pytensor": build_grad}, "train": {"pytensor": build_train}}


if __name__ == "__main__":
    job, _ = peer_io.read_job(sys.argv[1])
    peer_io.serve(BUILDERS[job["kind"]])
