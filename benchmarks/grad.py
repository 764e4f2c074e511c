#!/usr/bin/env python3
"""Gradient benchmark: loss and gradients w.r.t. every weight, W1-W5 (W1g-W5g).

    python benchmarks/grad.py [--workloads W1,W2] [--repeats 7] [--impls jax,torch,symkb]

The loss is the mean squared error of the full output sequence (batch,
time, units) against a fixed target; the gradients are taken w.r.t. the
recurrent layer's kernel, recurrent kernel and bias (tf_keras layout, the
weights of ``rnn.py``). Each implementation returns the loss and the three
gradients; before it is timed it is checked against symkb's numpy
interpreter (relative max difference < 1e-3 on every gradient): a failing
one is reported, never timed. Median of >= 7 calls after warm-up, first
call (the compile) apart, 2 threads everywhere, ratios to the best peer in
one run.

Peers (each an optional import):
  jax     jax.jit(jax.value_and_grad(loss)) of a lax.scan step loop
  torch   nn.RNN / nn.LSTM / nn.GRU forward, loss.backward()
symkb:
  symkb cpu      K.function([x, y], [loss] + K.gradients(loss, weights)), target cpu
  symkb interp   the same on the interpreter (the reference; timed on W1/W4 only)
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="symkb gradient benchmark (W1g-W5g)")
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--impls", default="jax,torch,symkb",
                   help="comma-separated subset of jax,torch,symkb")
    p.add_argument("--tol", type=float, default=1e-3)
    return p.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS", "XLA_FLAGS"):
        if var == "XLA_FLAGS":
            os.environ.setdefault(var, "--xla_cpu_multi_thread_eigen=true "
                                       f"intra_op_parallelism_threads={ARGS.threads}")
        else:
            os.environ[var] = str(ARGS.threads)

sys.path.insert(0, HERE)
import time  # noqa: E402

import numpy as np  # noqa: E402

import rnn  # noqa: E402  (workloads, weights and timing of the forward benchmark)

F32 = np.float32


def target_of(wl):
    rng = np.random.default_rng(wl.seed + 1)
    return rng.standard_normal((wl.batch, wl.time, wl.units)).astype(F32)


def make_symkb(wl, target):
    """loss and gradients as one symkb K.function on ``target``."""
    from symkb import backend as K
    K.clear_session()
    model = rnn.symkb_build_model(wl)
    y = K.placeholder(shape=(None, wl.time, wl.units), name="y")
    loss = K.mean(K.square(model.output - y))
    grads = K.gradients(loss, model.trainable_weights)
    f = K.function([model.input, y], [loss] + grads, target=target)
    return lambda x, t: f([x, t])


def make_jax(wl):
    """jit(value_and_grad) of ``rnn.jax_forward`` (the forward benchmark's scan)."""
    import jax
    import jax.numpy as jnp

    fwd = rnn.jax_forward(wl)

    def loss_fn(p, x, t):
        return jnp.mean((fwd(p, x) - t) ** 2)

    params = jax.device_put(rnn.jax_params(wl))
    f = jax.jit(jax.value_and_grad(loss_fn))

    def run(x, t):
        value, g = f(params, x, t)
        bias = np.stack([g["b_in"], g["b_rec"]]) if wl.cell == "gru" else g["b_in"]
        return [np.asarray(value), np.asarray(g["k"]), np.asarray(g["r"]), np.asarray(bias)]
    return run


def make_torch(wl):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    k, r, b = wl.weights
    u = wl.units
    cls = {"simple": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[wl.cell]
    net = cls(wl.input, u, batch_first=True)
    order = {"simple": [0], "lstm": [0, 1, 2, 3], "gru": [1, 0, 2]}[wl.cell]  # keras -> torch gates

    def gates(a):  # keras (.., g*u) columns in keras gate order -> torch rows
        return np.concatenate([a[..., j * u:(j + 1) * u] for j in order], axis=-1)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(gates(k).T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(gates(r).T.copy()))
        b_in = b[0] if wl.cell == "gru" else b
        net.bias_ih_l0.copy_(torch.from_numpy(gates(b_in).copy()))
        net.bias_hh_l0.copy_(torch.from_numpy(gates(b[1]).copy()) if wl.cell == "gru"
                             else torch.zeros(net.bias_hh_l0.shape))
    inverse = np.argsort(order)

    def back(a):  # torch gate blocks -> keras order, keras layout
        blocks = [a[..., j * u:(j + 1) * u] for j in inverse]
        return np.concatenate(blocks, axis=-1)

    def run(x, t):
        net.zero_grad()
        out, _ = net(torch.from_numpy(x))
        loss = torch.mean((out - torch.from_numpy(t)) ** 2)
        loss.backward()
        gk = back(net.weight_ih_l0.grad.numpy().T)
        gr = back(net.weight_hh_l0.grad.numpy().T)
        gbi = back(net.bias_ih_l0.grad.numpy())
        gbh = back(net.bias_hh_l0.grad.numpy())
        gb = np.stack([gbi, gbh]) if wl.cell == "gru" else gbi + gbh
        return [loss.detach().numpy(), gk, gr, gb]
    return run


def check(got, ref, tol):
    """The largest difference over the gradients, relative to each one's scale."""
    worst = 0.0
    for g, r in zip(got[1:], ref[1:]):
        g, r = np.asarray(g, np.float64), np.asarray(r, np.float64)
        if g.shape != r.shape:
            return float("inf")
        worst = max(worst, float(np.abs(g - r).max() / (np.abs(r).max() + 1e-12)))
    return worst


def bench(name, factory, wl, x, t, ref, args):
    t0 = time.perf_counter()
    try:
        fn = factory()
        first = fn(x, t)
    except ImportError as exc:
        return {"impl": name, "missing": str(exc)}
    first_s = time.perf_counter() - t0
    err = check(first, ref, args.tol)
    if not err < args.tol:
        return {"impl": name, "error": f"gradients differ from the interpreter by {err:.1e}"}
    for _ in range(args.warmup):
        fn(x, t)
    times = []
    for _ in range(args.repeats):
        s = time.perf_counter()
        fn(x, t)
        times.append(time.perf_counter() - s)
    return {"impl": name, "ms": float(np.median(times) * 1e3), "first_s": first_s, "err": err}


def main(args):
    wanted = set(args.impls.split(","))
    print(f"symkb gradient benchmark: loss + gradients of every weight, {args.threads} threads")
    rows = []
    for wid in args.workloads.split(","):
        wl = rnn.WORKLOADS[wid]
        x, t = wl.x, target_of(wl)
        ref = make_symkb(wl, "interpreter")(x, t)
        impls = []
        if "jax" in wanted:
            impls.append(("jax", lambda: make_jax(wl)))
        if "torch" in wanted:
            impls.append(("torch", lambda: make_torch(wl)))
        if "symkb" in wanted:
            impls.append(("symkb cpu", lambda: make_symkb(wl, "cpu")))
        results = [bench(n, f, wl, x, t, ref, args) for n, f in impls]
        peers = [r["ms"] for r in results if "ms" in r and not r["impl"].startswith("symkb")]
        best = min(peers) if peers else None
        for r in results:
            if "ms" in r:
                ratio = f"{r['ms'] / best:.2f}x" if best and r["impl"].startswith("symkb") else ""
                rows.append(f"{wid}g  {r['impl']:10s} {r['ms']:10.3f} ms  first {r['first_s']:6.2f} s"
                            f"  err {r['err']:.1e}  {ratio}")
            else:
                rows.append(f"{wid}g  {r['impl']:10s} {r.get('missing') or r.get('error')}")
        print("\n".join(rows[-len(results):]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
