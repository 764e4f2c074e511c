#!/usr/bin/env python3
"""Gradient benchmark: loss and gradients w.r.t. every weight, W1-W5 (W1g-W5g).

    python benchmarks/grad.py [--workloads W1,W2] [--repeats 7]
        [--impls torch,jax,tf,pytensor,symkb]
        [--tf-python /opt/tfenv/bin/python] [--pytensor-python PYTHON]

The loss is the mean squared error of the full output sequence (batch,
time, units) against a fixed target; the gradients are taken w.r.t. the
recurrent layer's kernel, recurrent kernel and bias (tf_keras layout, the
weights and data of ``rnn.py``, the same for everyone). Each implementation
returns the loss and the three gradients; before it is timed it is checked
against symkb's numpy interpreter (relative max difference < ``--tol`` on
the loss and every gradient): a failing one is reported, never timed. After
the timing every implementation is also compared with every other (the
"pairwise" line). Median of >= 7 calls after warm-up (more until 0.25 s
are timed), first call (the trace / compile) apart, 2 threads everywhere,
one markdown table with symkb's ratio to the best peer.

Peers (each optional; a missing one is named under the table):
  torch       nn.RNN / nn.LSTM / nn.GRU forward, loss.backward() (eager autograd)
  jax         jax.jit(jax.value_and_grad(loss)) of rnn.py's lax.scan, both forms
              of the input projection (per step; ``jax hoisted``: one GEMM)
  tf.fn       tf.GradientTape inside tf.function, K.rnn over the cell's step
  tf.fn+XLA   the same with jit_compile=True     (tf: both forms, in --tf-python)
  pytensor    pytensor.grad of a scan, mode NUMBA (C mode only with a printed
              note), in --pytensor-python: PyTensor pins an older numba
The tf and pytensor peers run in a subprocess of their interpreter
(``peers_tf.py``, ``peers_pytensor.py``; ``peer_io.py`` carries the weights,
data and reference there and the timings and gradients back).
symkb:
  symkb cpu      K.function([x, y], [loss] + K.gradients(loss, weights)), target cpu
  symkb interp   the same on the interpreter: the reference (not timed)
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer_io  # noqa: E402  (standard library only: nothing loads a BLAS yet)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="symkb gradient benchmark (W1g-W5g)")
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.25,
                   help="keep timing past --repeats until this many seconds are timed")
    p.add_argument("--retry-busy", type=int, default=1,
                   help="re-time an implementation disturbed by other processes up to N times")
    p.add_argument("--wait-quiet", type=float, default=5.0,
                   help="before each timing wait up to S s for other processes to idle")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--impls", default="torch,jax,tf,pytensor,symkb",
                   help="comma-separated subset of torch,jax,tf,pytensor,symkb")
    p.add_argument("--tf-python", default=peer_io.default_tf_python(),
                   help="the interpreter that has tensorflow and tf_keras")
    p.add_argument("--pytensor-python", default=os.environ.get("SYMKB_BENCH_PYTENSOR_PYTHON")
                   or sys.executable, help="the interpreter that has pytensor")
    p.add_argument("--tol", type=float, default=1e-3)
    args = p.parse_args(argv)
    bad = sorted(set(args.impls.split(",")) - {"torch", "jax", "tf", "pytensor", "symkb"})
    if bad:
        p.error(f"--impls: unknown {bad}; choose from torch,jax,tf,pytensor,symkb")
    unknown = sorted(set(args.workloads.split(",")) - set("W1,W2,W3,W4,W5".split(",")))
    if unknown:
        p.error(f"--workloads: unknown {unknown}; choose from W1,W2,W3,W4,W5")
    return args


if __name__ == "__main__":
    ARGS = parse_args()
    AFFINITY = peer_io.setup_threads(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402

import ratios  # noqa: E402
import rnn  # noqa: E402  (workloads, weights and the JAX scan of the forward benchmark)

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
    import symkb
    symkb.wait_compiles()  # nothing compiles beside the timed calls
    return lambda x, t: f([x, t])


def make_jax(wl, hoist=False):
    """jit(value_and_grad) of ``rnn.jax_forward`` (the forward benchmark's scan)."""
    import jax
    import jax.numpy as jnp

    fwd = rnn.jax_forward(wl, hoist)

    def loss_fn(p, x, t):
        return jnp.mean((fwd(p, x) - t) ** 2)

    params = jax.device_put(rnn.jax_params(wl))
    f = jax.jit(jax.value_and_grad(loss_fn))

    def run(x, t):
        value, g = f(params, jax.device_put(x), jax.device_put(t))
        bias = np.stack([g["b_in"], g["b_rec"]]) if wl.cell == "gru" else g["b_in"]
        return [np.asarray(value), np.asarray(g["k"]), np.asarray(g["r"]), np.asarray(bias)]
    return run


def make_torch(wl):
    import torch
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already set by an earlier workload
        pass
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
        # torch's b_ih and b_hh enter a SimpleRNN/LSTM step as one sum, so
        # each one's gradient is already the keras bias' gradient
        gb = np.stack([gbi, gbh]) if wl.cell == "gru" else gbi
        return [loss.detach().numpy(), gk, gr, gb]
    return run


def in_process(wl, x, t):
    """(name, family, build) of the peers and symkb that run in this process;
    ``build()`` returns the implementation as a call without arguments."""
    factories = [("torch", "torch", make_torch, {}),
                 ("jax", "jax", make_jax, {}),
                 ("jax hoisted", "jax", make_jax, {"hoist": True}),
                 ("symkb cpu", "symkb", make_symkb, {"target": "cpu"})]

    def builder(factory, kw):
        def build():
            fn = factory(wl, **kw)
            return lambda: fn(x, t)
        return build
    return [(name, fam, builder(f, kw)) for name, fam, f, kw in factories]


WORKERS = (("tf", "peers_tf.py", ["tf.fn", "tf.fn per-step", "tf.fn+XLA", "tf.fn+XLA hoisted"]),
           ("pytensor", "peers_pytensor.py", ["pytensor"]))


def worker_job(wl, x, t, ref, names, args):
    spec = {"kind": "grad", "cell": wl.cell, "units": wl.units, "impls": names,
            "tol": args.tol, "timing": timing(args), "n_ref": len(ref)}
    k, r, b = wl.weights
    arrays = dict(k=k, r=r, b=b, x=x, t=t, **{f"ref_{i}": np.asarray(a, F32)
                                             for i, a in enumerate(ref)})
    return spec, arrays


def timing(args):
    return {"repeats": args.repeats, "warmup": args.warmup, "min_time": args.min_time,
            "wait_quiet": args.wait_quiet, "retry_busy": args.retry_busy}


def reference(wl, x, t):
    """symkb's interpreter: loss and gradients, float32 (None when symkb cannot)."""
    try:
        return [np.asarray(a) for a in make_symkb(wl, "interpreter")(x, t)], None
    except Exception as e:  # noqa: BLE001  (said under the table; peers then check each other)
        return None, f"{type(e).__name__}: {e}"


def run_workload(wl, args, wanted):
    """Every implementation's record (checked, then timed) and results on one workload."""
    x, t = wl.x, target_of(wl)
    ref, why = reference(wl, x, t)
    job = {"kind": "grad", "tol": args.tol, "timing": timing(args)}
    records, results = [], ({"symkb interp": ref} if ref is not None else {})
    if why:
        print(f"  {wl.id}: no interpreter reference ({why}); checked against the first peer")
    for name, fam, build in in_process(wl, x, t):
        if fam not in wanted:
            continue
        rec, got = peer_io.check_and_time(name, build, job, ref)
        records.append(rec)
        if got is not None and rec["status"] == "ok":
            results[name] = got
            ref = ref if ref is not None else got
    for fam, worker, names in WORKERS:
        if fam not in wanted:
            continue
        if ref is None:
            records.append({"impl": fam, "status": "error",
                            "reason": "no reference to check against"})
            continue
        python = args.tf_python if fam == "tf" else args.pytensor_python
        recs, arrays = peer_io.run_worker(python, worker, *worker_job(wl, x, t, ref, names, args))
        for rec in recs:
            if rec["impl"] == "*":  # the worker could not run at all
                records += [dict(rec, impl=n) for n in names]
                continue
            records.append(rec)
            if rec["status"] == "ok":
                results[rec["impl"]] = [arrays[f"{rec['impl']}/{i}"] for i in range(len(ref))]
    return records, results


def main(args):
    wanted = set(args.impls.split(","))
    print(f"symkb gradient benchmark: loss + gradients of every weight; {args.threads} threads, "
          f"affinity {AFFINITY}, {rnn.cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    per_wl, pairs = {}, []
    for wid in args.workloads.split(","):
        wl = rnn.WORKLOADS[wid]
        t0 = time.perf_counter()
        records, results = run_workload(wl, args, wanted)
        per_wl[f"{wid}g"] = ratios.best_by_column(records)
        worst, pair = ratios.pairwise(results, peer_io.rel_err)
        pairs.append(f"{wid}g {worst:.1e}" + (f" ({pair[0]} vs {pair[1]})" if pair else ""))
        print(f"  {wid}g {wl.label}: {len(results)} implementations passed their check, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        print(ratios.progress_line(f"{wid}g", per_wl[f"{wid}g"]), flush=True)
    columns = [c for c in ("torch", "jax", "tf.fn", "tf.fn+XLA", "pytensor", "symkb cpu")
               if any(c in cols for cols in per_wl.values())]
    ratios.print_table("Median ms per call: loss + gradients of every weight "
                       "(**bold** = best peer; numpy in, numpy out)",
                       ["", *columns, "symkb / best peer"],
                       ratios.ratio_rows(per_wl, columns, "symkb cpu"))
    ratios.print_table("Set-up + first call (trace / compile), seconds",
                       ["", *columns], ratios.first_rows(per_wl, columns))
    print(f"\nLargest relative difference between any two implementations: {'; '.join(pairs)}")
    print(f"load average after the run {os.getloadavg()[0]:.2f}")
    return 0 if ratios.print_notes(per_wl) else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
