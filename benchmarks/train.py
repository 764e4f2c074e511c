#!/usr/bin/env python3
"""Training-step benchmark: one SGD step (forward, loss, gradients, update), T1-T3.

    python benchmarks/train.py [--models T1,T2,T3] [--repeats 7]
        [--impls torch,jax,tf,pytensor,symkb]
        [--tf-python /opt/tfenv/bin/python] [--pytensor-python PYTHON]
    python benchmarks/train.py --fit [--models T1] [--fit-samples 10000]

``--fit`` measures symkb's ``fit`` against the sum of its compiled steps
instead (``fit_overhead.py``; the target is <= 1.05x).

Workloads (BENCHMARKS.md):
  T1  LSTM(128) over (32, 100, 64) -> Dense(10)
  T2  MLP 784 -> 512 relu -> 512 relu -> 10, batch 256
  T3  GRU(128, reset_after) over (32, 100, 64) -> Dense(10)
softmax cross-entropy on integer labels, plain SGD (``--lr``), float32,
2 threads. Every implementation starts from the same weights (tf_keras
layout) and data, runs 6 steps and must report the same 6 losses (each
step's loss before its update: the last is the loss after 5 steps) as the
first peer, within ``--tol`` relative, before it is timed: a step is then
timed from wherever its weights have got to (median of >= 7 steps after
warm-up). The pairwise line compares every implementation's losses with
every other's.

Peers (each optional; a missing one is named under the table):
  torch       eager autograd, nn.LSTM / nn.GRU / nn.Linear, CrossEntropyLoss,
              optim.SGD (the LSTM's b_hh frozen at 0: keras has one bias)
  jax         jit of value_and_grad + the update (parameters donated); the
              recurrent models in both forms of the input projection
  tf.fn       tf_keras model, GradientTape and SGD.apply_gradients in one
              tf.function                                  (in --tf-python)
  tf.fn+XLA   the same with jit_compile=True               (in --tf-python)
  pytensor    scan + grad + SGD updates in one pytensor.function, mode NUMBA
              (C mode only with a printed note)            (in --pytensor-python)
symkb (``symkb cpu``): the tf_keras-style training API that the training issue
adds -- ``model.compile(optimizer=symkb.optimizers.SGD(lr),
loss='sparse_categorical_crossentropy')`` and ``model.train_on_batch(x, y)``.
While that API is missing the run prints ``symkb training not available: ...``
and the column says ``n/a``.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer_io  # noqa: E402  (standard library only: nothing loads a BLAS yet)

STEPS = 5  # the losses of STEPS + 1 steps are compared before timing


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="symkb training-step benchmark (T1-T3)")
    p.add_argument("--models", default="T1,T2,T3")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.25)
    p.add_argument("--retry-busy", type=int, default=1,
                   help="re-time an implementation disturbed by other processes up to N times")
    p.add_argument("--wait-quiet", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--impls", default="torch,jax,tf,pytensor,symkb",
                   help="comma-separated subset of torch,jax,tf,pytensor,symkb")
    p.add_argument("--tf-python", default=peer_io.default_tf_python(),
                   help="the interpreter that has tensorflow and tf_keras")
    p.add_argument("--pytensor-python", default=os.environ.get("SYMKB_BENCH_PYTENSOR_PYTHON")
                   or sys.executable)
    p.add_argument("--fit", action="store_true",
                   help="time symkb's fit against its compiled steps (fit_overhead.py)")
    p.add_argument("--fit-samples", type=int, default=10000)
    p.add_argument("--fit-repeats", type=int, default=3)
    p.add_argument("--tol", type=float, default=1e-4,
                   help="relative difference allowed between the losses of two implementations")
    args = p.parse_args(argv)
    bad = sorted(set(args.impls.split(",")) - {"torch", "jax", "tf", "pytensor", "symkb"})
    if bad:
        p.error(f"--impls: unknown {bad}; choose from torch,jax,tf,pytensor,symkb")
    unknown = sorted(set(args.models.split(",")) - set("T1,T2,T3".split(",")))
    if unknown:
        p.error(f"--models: unknown {unknown}; choose from T1,T2,T3")
    return args


if __name__ == "__main__":
    ARGS = parse_args()
    AFFINITY = peer_io.setup_threads(ARGS.threads)

import numpy as np  # noqa: E402

import ratios  # noqa: E402
import rnn  # noqa: E402  (orthogonal initialiser, torch weight mapping, the JAX scan)

F32 = np.float32
MODELS = {
    "T1": dict(cell="lstm", batch=32, time=100, input=64, units=128, seed=201),
    "T2": dict(cell=None, batch=256, input=784, units=512, seed=202),
    "T3": dict(cell="gru", batch=32, time=100, input=64, units=128, seed=203),
}


def _glorot(rng, rows, cols):
    lim = np.sqrt(6.0 / (rows + cols))
    return rng.uniform(-lim, lim, (rows, cols))


def make_data(spec):
    """(weights in tf_keras layout, x, y): the same for every implementation.

    Recurrent models: [kernel, recurrent_kernel, bias, dense kernel, dense
    bias]; the MLP: [kernel, bias] per Dense. Biases are small and random
    (not keras' zeros) so that a mis-mapped bias shows in the check.
    """
    rng = np.random.default_rng(spec["seed"])
    u, n_in = spec["units"], spec["input"]
    if spec["cell"] is None:
        sizes = [n_in, u, u, 10]
        weights = []
        for a, b in zip(sizes, sizes[1:]):
            weights += [_glorot(rng, a, b), rng.uniform(-0.1, 0.1, b)]
        x = rng.standard_normal((spec["batch"], n_in))
    else:
        g = rnn.GATES[spec["cell"]]
        bshape = (2, g * u) if spec["cell"] == "gru" else (g * u,)
        weights = [_glorot(rng, n_in, g * u), rnn._orthogonal(rng, u, g * u),
                   rng.uniform(-0.1, 0.1, bshape), _glorot(rng, u, 10), rng.uniform(-0.1, 0.1, 10)]
        x = rng.standard_normal((spec["batch"], spec["time"], n_in))
    y = rng.integers(0, 10, spec["batch"]).astype(np.int32)
    return [np.ascontiguousarray(w, F32) for w in weights], x.astype(F32), y


# ---- torch ----------------------------------------------------------------------

def make_torch(spec, weights, x, y, lr):
    import torch
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass
    nn = torch.nn
    t = [torch.from_numpy(np.ascontiguousarray(w)) for w in weights]
    if spec["cell"] is None:
        net = nn.Sequential(nn.Linear(spec["input"], spec["units"]), nn.ReLU(),
                            nn.Linear(spec["units"], spec["units"]), nn.ReLU(),
                            nn.Linear(spec["units"], 10))
        with torch.no_grad():
            for lin, (k, b) in zip(net[::2], zip(t[::2], t[1::2])):
                lin.weight.copy_(k.T)
                lin.bias.copy_(b)
        forward = net
    else:
        cls = nn.LSTM if spec["cell"] == "lstm" else nn.GRU
        rec = cls(spec["input"], spec["units"], batch_first=True)
        head = nn.Linear(spec["units"], 10)
        mapped = rnn.torch_params(spec["cell"], *weights[:3])
        with torch.no_grad():
            names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
            for name, val in zip(names, mapped):
                getattr(rec, name).copy_(torch.from_numpy(np.ascontiguousarray(val, F32)))
            head.weight.copy_(t[3].T)
            head.bias.copy_(t[4])
        if spec["cell"] == "lstm":  # keras' LSTM has one bias: b_hh stays 0
            rec.bias_hh_l0.requires_grad_(False)
        net = nn.ModuleList([rec, head])

        def forward(xt):
            return head(rec(xt)[0][:, -1])
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    yt = torch.from_numpy(y.astype(np.int64))

    def step():
        opt.zero_grad()
        loss = loss_fn(forward(torch.from_numpy(x)), yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


# ---- JAX ------------------------------------------------------------------------

def make_jax(spec, weights, x, y, lr, hoist=False):
    import jax
    import jax.numpy as jnp

    if spec["cell"] is None:
        params = {f"w{i}": w for i, w in enumerate(weights)}

        def logits(p, x):
            h = jax.nn.relu(x @ p["w0"] + p["w1"])
            h = jax.nn.relu(h @ p["w2"] + p["w3"])
            return h @ p["w4"] + p["w5"]
    else:
        wl = rnn.Workload("T", spec["cell"], spec["batch"], spec["time"], spec["input"],
                          spec["units"], seed=spec["seed"])
        fwd = rnn.jax_forward(wl, hoist)
        b = weights[2]
        params = {"k": weights[0], "r": weights[1],
                  "b_in": b[0] if spec["cell"] == "gru" else b,
                  "b_rec": b[1] if spec["cell"] == "gru" else np.zeros(1, F32),
                  "dk": weights[3], "db": weights[4]}

        def logits(p, x):
            return fwd(p, x)[:, -1] @ p["dk"] + p["db"]

    def loss_fn(p, x, y):
        logp = jax.nn.log_softmax(logits(p, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def update(p, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)  # b_rec: unused (grad 0) but for the GRU
        return loss, jax.tree_util.tree_map(lambda w, d: w - lr * d, p, g)

    f = jax.jit(update, donate_argnums=0)
    state = [jax.device_put(params)]

    def step():
        loss, state[0] = f(state[0], jax.device_put(x), jax.device_put(y))
        return float(loss)
    return step


# ---- symkb (the training issue's API) ---------------------------------------------

def symkb_training_api():
    """The pieces of symkb's training API this benchmark calls; raises while one is missing."""
    import symkb
    return symkb.optimizers.SGD, symkb.Sequential.compile, symkb.Sequential.train_on_batch


def make_symkb(spec, weights, x, y, lr):
    import symkb
    from symkb import layers
    if spec["cell"] is None:
        stack = [layers.Input((spec["input"],)), layers.Dense(spec["units"], activation="relu"),
                 layers.Dense(spec["units"], activation="relu")]
    else:
        rec = (layers.LSTM(spec["units"]) if spec["cell"] == "lstm"
               else layers.GRU(spec["units"], reset_after=True))
        stack = [layers.Input((spec["time"], spec["input"])), rec]
    model = symkb.Sequential(stack + [layers.Dense(10, activation="softmax")])
    model.set_weights(list(weights))
    model.compile(optimizer=symkb.optimizers.SGD(lr), loss="sparse_categorical_crossentropy")

    first = [True]

    def step():
        out = model.train_on_batch(x, y)
        if first:  # the compile: after it, nothing compiles beside the timed calls
            first.clear()
            symkb.wait_compiles()
        return out[0] if isinstance(out, (list, tuple)) else out
    return step


# ---- the run ----------------------------------------------------------------------

def in_process(spec, weights, x, y, lr):
    """(name, family, build) of what runs in this process; ``build()`` returns the step."""
    out = [("torch", "torch", lambda: make_torch(spec, weights, x, y, lr)),
           ("jax", "jax", lambda: make_jax(spec, weights, x, y, lr))]
    if spec["cell"] is not None:
        out.append(("jax hoisted", "jax", lambda: make_jax(spec, weights, x, y, lr, hoist=True)))
    return out


WORKERS = (("tf", "peers_tf.py", ["tf.fn", "tf.fn+XLA"]),
           ("pytensor", "peers_pytensor.py", ["pytensor"]))


def symkb_record(spec, weights, x, y, job, ref):
    """symkb's entry: checked and timed like a peer once the training API exists."""
    try:
        symkb_training_api()
    except (ImportError, AttributeError, NotImplementedError) as e:
        why = f"{type(e).__name__}: {e}"
        print(f"  symkb training not available: {why}")
        return {"impl": "symkb cpu", "status": "n/a", "reason": why}, None
    return peer_io.check_and_time("symkb cpu", lambda: make_symkb(spec, weights, x, y, job["lr"]),
                                  job, ref)


def run_model(mid, args, wanted):
    """Every implementation's record (losses checked, then a step timed) on one model."""
    spec = MODELS[mid]
    weights, x, y = make_data(spec)
    job = {"kind": "train", "steps": STEPS, "lr": args.lr, "tol": args.tol,
           "timing": {"repeats": args.repeats, "warmup": args.warmup,
                      "min_time": args.min_time, "wait_quiet": args.wait_quiet,
                      "retry_busy": args.retry_busy},
           "model": mid, "cell": spec["cell"], "units": spec["units"],
           "x_shape": list(x.shape), "n_weights": len(weights)}
    records, losses, ref = [], {}, None
    for name, fam, build in in_process(spec, weights, x, y, args.lr):
        if fam in wanted:
            rec, got = peer_io.check_and_time(name, build, job, ref)
            records.append(rec)
            if rec["status"] == "ok":
                losses[name] = got
                ref = ref if ref is not None else got
    for fam, worker, names in WORKERS:
        if fam not in wanted:
            continue
        arrays = {f"w_{i}": w for i, w in enumerate(weights)}
        arrays.update(x=x, y=y, **({"ref_0": ref[0]} if ref is not None else {}))
        python = args.tf_python if fam == "tf" else args.pytensor_python
        recs, out = peer_io.run_worker(python, worker, dict(job, impls=names, n_ref=len(ref or ())),
                                       arrays)
        for rec in recs:
            if rec["impl"] == "*":
                records += [dict(rec, impl=n) for n in names]
                continue
            records.append(rec)
            if rec["status"] == "ok":
                losses[rec["impl"]] = [out[f"{rec['impl']}/0"]]
                ref = ref if ref is not None else losses[rec["impl"]]
    if "symkb" in wanted:
        rec, got = symkb_record(spec, weights, x, y, job, ref)
        records.append(rec)
        if rec["status"] == "ok":
            losses["symkb cpu"] = got
    return records, losses, ref


def main(args):
    wanted = set(args.impls.split(","))
    print(f"symkb training-step benchmark: one SGD step (lr {args.lr}); {args.threads} threads, "
          f"affinity {AFFINITY}, {rnn.cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    per_model, lines = {}, []
    for mid in args.models.split(","):
        records, losses, ref = run_model(mid, args, wanted)
        per_model[mid] = ratios.best_by_column(records)
        worst, pair = ratios.pairwise(losses, peer_io.rel_err)
        after = f"{float(ref[0][-1]):.6f}" if ref is not None else "n/a"
        lines.append(f"{mid}: loss {float(ref[0][0]):.6f} -> {after} after {STEPS} steps; "
                     f"largest relative difference {worst:.1e}"
                     + (f" ({pair[0]} vs {pair[1]})" if pair else "") if ref is not None
                     else f"{mid}: no implementation ran")
        print("  " + lines[-1], flush=True)
        print(ratios.progress_line(mid, per_model[mid]), flush=True)
    columns = [c for c in ("torch", "jax", "tf.fn", "tf.fn+XLA", "pytensor", "symkb cpu")
               if any(c in cols for cols in per_model.values())]
    ratios.print_table("Median ms per training step (**bold** = best peer; numpy in)",
                       ["", *columns, "symkb / best peer"],
                       ratios.ratio_rows(per_model, columns, "symkb cpu"))
    ratios.print_table("Set-up + first step (trace / compile), seconds",
                       ["", *columns], ratios.first_rows(per_model, columns))
    print("\nLosses of the first step and after %d steps, checked across implementations:" % STEPS)
    print("\n".join("  " + ln for ln in lines))
    print(f"load average after the run {os.getloadavg()[0]:.2f}")
    return 0 if ratios.print_notes(per_model) else 1


if __name__ == "__main__":
    if ARGS.fit:
        import fit_overhead  # noqa: E402
        sys.exit(fit_overhead.main(ARGS, MODELS, make_data))
    sys.exit(main(ARGS))
