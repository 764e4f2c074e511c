#!/usr/bin/env python3
"""RNN inference benchmark: symkb against its peers (see benchmarks/README.md).

    python benchmarks/rnn.py [--workloads W1,W2] [--repeats 7] [--target cpu|cuda]
                             [--quick] [--json PATH] [--cold-start]

Rules (BENCHMARKS.md): float32 inference, zero initial state, the full output
sequence (batch, time, units), 2 threads everywhere, every implementation is
checked against a float64 numpy reference (max abs diff < 1e-4) before it is
timed (a failing one is reported, never timed), median of >= 7 timed calls
after warm-up, first-call latency reported apart.

Every implementation is called the way a user calls symkb's compiled model:
numpy array in, numpy array out (conversions included; they are zero-copy or
negligible next to the recurrence).

Peers (each an optional import; the table says which are missing):
  torch       torch nn.RNN / nn.LSTM / nn.GRU, inference_mode
  jax         jax.jit(lax.scan)                                     [both forms]
  tf.fn       tf_keras.backend.rnn inside tf.function               [both forms]
  tf.fn+XLA   the same with jit_compile=True                        [both forms]
  tf eager    tf_keras.backend.rnn, eager            (hoisted input projection)
  numpy       a float32 numpy step loop (hoisted input projection, np.dot(out=))
"both forms": the input projection x @ kernel hoisted out of the time loop as
one GEMM, and done per step; both are checked and timed, the faster is shown
(see HOIST_BOTH).
symkb (the hook ``symkb_impls``; 'n/a' until symkb's public API lands):
  symkb cpu   symkb.compile(model, target='cpu')   (or 'cuda' with --target cuda)
  symkb interp symkb.compile(model, target='interpreter')

Nothing here imports numpy (or any peer) before the thread variables are set:
the argument parser and the environment set-up below use the standard library
only.
"""

from __future__ import annotations

import argparse
import os
import sys

# --------------------------------------------------------------------------
# 0. Arguments and environment -- BEFORE numpy / any peer is imported.
# --------------------------------------------------------------------------

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS")
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog=os.environ.get("SYMKB_BENCH_PROG") or None,  # `symkb bench` sets it
        description="symkb RNN benchmark against torch / JAX / tf_keras / numpy "
                    "(workloads W1-W5 of benchmarks/README.md)")
    p.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                   help="comma-separated workload ids (default: all)")
    p.add_argument("--repeats", type=int, default=7,
                   help="timed calls per implementation, at least (default 7)")
    p.add_argument("--warmup", type=int, default=3,
                   help="untimed calls after the first call (default 3)")
    p.add_argument("--min-time", type=float, default=0.25,
                   help="keep timing past --repeats until this many seconds "
                        "have been timed (caps at 1000 calls; default 0.25)")
    p.add_argument("--target", choices=("cpu", "cuda"), default="cpu",
                   help="symkb compile target; with cuda, torch and JAX also "
                        "run on the GPU when they can (tf_keras/numpy stay CPU)")
    p.add_argument("--quick", action="store_true",
                   help="3 timed calls, 1 warm-up, no --min-time: a smoke run, "
                        "NOT a BENCHMARKS-conforming measurement")
    p.add_argument("--impls", default=None,
                   help="comma-separated subset of implementations "
                        "(torch,jax,tf.fn,tf.fn+XLA,tf eager,numpy,symkb)")
    p.add_argument("--threads", type=int, default=2,
                   help="thread count for every library (default 2)")
    p.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                   help="restrict CPU affinity to --threads cores when the "
                        "machine has more (XLA sizes its pool from it)")
    p.add_argument("--unset-openblas-coretype",
                   action=argparse.BooleanOptionalAction, default=True,
                   help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in this "
                        "process (and its children) before numpy loads, as the "
                        "BENCHMARKS measurements do (default on)")
    p.add_argument("--wait-quiet", type=float, default=30.0, metavar="SECONDS",
                   help="before timing an implementation, wait up to this long "
                        "for other processes to leave the CPUs idle (default 30; "
                        "0 = never wait)")
    p.add_argument("--retry-busy", type=int, default=2, metavar="N",
                   help="re-time an implementation up to N times when other "
                        "processes were busy while it was timed (default 2)")
    p.add_argument("--tol", type=float, default=1e-4,
                   help="max abs diff against the reference (default 1e-4)")
    p.add_argument("--json", metavar="PATH", default=None,
                   help="write the raw numbers to PATH")
    p.add_argument("--compile", action="store_true",
                   help="run the compile-time benchmark instead (benchmarks/compile.py; the "
                        "other arguments go to it: --compile --help)")
    p.add_argument("--cold-start", action="store_true",
                   help="also run cold_start_report() (import / cold compile / "
                        "warm-cache second process; needs symkb)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup, args.min_time = 3, 1, 0.0
        args.wait_quiet, args.retry_busy = min(args.wait_quiet, 5.0), 0
    elif args.repeats < 7:
        print(f"note: --repeats {args.repeats} < 7 is below the BENCHMARKS rule",
              file=sys.stderr)
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in args.workloads if w not in ALL_WORKLOADS]
    if bad:
        p.error(f"unknown workload(s) {bad}; choose from {ALL_WORKLOADS}")
    if args.impls:
        args.impls = [s.strip() for s in args.impls.split(",") if s.strip()]
        known = ("torch", "jax", "tf.fn", "tf.fn+XLA", "tf eager", "numpy", "symkb",
                 "symkb cpu", "symkb interp")
        bad = [s for s in args.impls if s not in known]
        if bad:
            p.error(f"unknown implementation(s) {bad}; choose from {list(known)}")
    return args


def setup_environment(threads, target, unset_openblas, pin):
    """Thread variables, OpenBLAS overrides, affinity, quiet logs.

    Must run before numpy (or anything that loads a BLAS / OpenMP runtime) is
    imported: those read their variables once, at load time.  Returns a dict
    describing what was done (it goes into the report and the JSON).
    """
    done = {"threads": threads}
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    removed = {}
    if unset_openblas:
        for var in OPENBLAS_OVERRIDES:
            if var in os.environ:
                removed[var] = os.environ.pop(var)
    done["openblas_unset"] = removed
    done["openblas_kept"] = {v: os.environ[v] for v in OPENBLAS_OVERRIDES if v in os.environ}
    # XLA (JAX, and TF with jit_compile) has no "N threads" flag: its CPU
    # thread pool is sized from the schedulable CPUs, so the affinity below
    # is what limits it to `threads`.  For a single thread the Eigen pool can
    # be switched off by flag.
    xla = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in xla:
        xla = (xla + " --xla_cpu_multi_thread_eigen=false").strip()
    if xla:
        os.environ["XLA_FLAGS"] = xla
    done["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "")
    if target == "cpu":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KMP_AFFINITY", "disabled")
    affinity = None
    if hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if pin and len(cpus) > threads:
            os.sched_setaffinity(0, cpus[:threads])
        affinity = sorted(os.sched_getaffinity(0))
    done["affinity"] = affinity
    return done


def delegate_compile():
    """``--compile``: the compile-time benchmark (``compile.py``), given the other arguments."""
    import subprocess
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compile.py")
    rest = [a for a in sys.argv[1:] if a != "--compile"]
    sys.exit(subprocess.call([sys.executable, script, *rest]))


if __name__ == "__main__" and "--compile" in sys.argv[1:]:
    delegate_compile()
if __name__ == "__main__":
    ARGS = parse_args()
    ENV_INFO = setup_environment(ARGS.threads, ARGS.target,
                                 ARGS.unset_openblas_coretype, ARGS.pin)
else:  # imported (e.g. by a test or by symkb's own tooling): leave the env alone
    ARGS = None
    ENV_INFO = {"threads": int(os.environ.get("OMP_NUM_THREADS", "2") or 2)}

# Only now: numpy.
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
F32 = np.float32


def _symkb_paths():
    """Repository directories that hold the symkb package (root or src/)."""
    return [str(d) for d in (REPO_ROOT, REPO_ROOT / "src")
            if (d / "symkb" / "__init__.py").is_file()]


for _p in reversed(_symkb_paths()):  # benchmark the working tree's symkb
    if _p not in sys.path:
        sys.path.insert(0, _p)

# --------------------------------------------------------------------------
# 1. Workloads, weights (tf_keras layout and gate order), numpy reference.
# --------------------------------------------------------------------------

GATES = {"simple": 1, "lstm": 4, "gru": 3}


@dataclass
class Workload:
    id: str
    cell: str          # 'simple' | 'lstm' | 'gru' (reset_after=True)
    batch: int
    time: int
    input: int
    units: int
    seed: int
    _data: dict = field(default=None, repr=False)

    @property
    def label(self):
        name = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[self.cell]
        return f"{name} b{self.batch} t{self.time} i{self.input} u{self.units}"

    def data(self):
        """(x, kernel, recurrent_kernel, bias, reference); built once."""
        if self._data is None:
            x, k, r, b = make_weights(self)
            self._data = dict(x=x, kernel=k, recurrent=r, bias=b,
                              ref=reference(self.cell, x, k, r, b))
        return self._data

    @property
    def x(self):
        return self.data()["x"]

    @property
    def weights(self):
        d = self.data()
        return [d["kernel"], d["recurrent"], d["bias"]]


WORKLOADS = {
    "W1": Workload("W1", "simple", 32, 100, 32, 64, seed=101),
    "W2": Workload("W2", "lstm", 32, 100, 64, 128, seed=102),
    "W3": Workload("W3", "lstm", 128, 50, 256, 512, seed=103),
    "W4": Workload("W4", "simple", 1, 2000, 8, 16, seed=104),
    "W5": Workload("W5", "gru", 32, 100, 64, 128, seed=105),
}


def _orthogonal(rng, rows, cols):
    """keras Orthogonal initializer: a (rows, cols) matrix with orthonormal
    rows or columns (whichever are fewer)."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T


def make_weights(wl: Workload):
    """Deterministic weights in tf_keras layout (keras default initialisers:
    glorot-uniform kernel, orthogonal recurrent kernel; the bias is small and
    random instead of zero so that a mis-mapped bias shows).

      SimpleRNN: kernel (in, u), recurrent (u, u), bias (u,)
      LSTM:      kernel (in, 4u), recurrent (u, 4u), bias (4u,)    gates i,f,c,o
      GRU (reset_after=True):
                 kernel (in, 3u), recurrent (u, 3u), bias (2, 3u)  gates z,r,h
                 bias[0] = input bias, bias[1] = recurrent bias
    """
    rng = np.random.default_rng(wl.seed)
    g, n_in, u = GATES[wl.cell], wl.input, wl.units
    lim = np.sqrt(6.0 / (n_in + g * u))
    kernel = rng.uniform(-lim, lim, (n_in, g * u))
    recurrent = _orthogonal(rng, u, g * u)
    bshape = (2, 3 * u) if wl.cell == "gru" else (g * u,)
    bias = rng.uniform(-0.1, 0.1, bshape)
    x = rng.standard_normal((wl.batch, wl.time, n_in))
    return tuple(np.ascontiguousarray(a, dtype=F32) for a in (x, kernel, recurrent, bias))


def _sigmoid64(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference(cell, x, kernel, recurrent, bias):
    """float64 step loop, written straight from the tf_keras cell equations
    (no hoisting, no tricks): the truth every implementation is checked
    against.  Returns float64 (batch, time, units)."""
    x, k, r, b = (np.asarray(a, np.float64) for a in (x, kernel, recurrent, bias))
    batch, steps, _ = x.shape
    u = r.shape[0]
    h = np.zeros((batch, u))
    c = np.zeros((batch, u))
    out = np.empty((batch, steps, u))
    for t in range(steps):
        xt = x[:, t, :]
        if cell == "simple":
            h = np.tanh(xt @ k + b + h @ r)
        elif cell == "lstm":
            z = xt @ k + h @ r + b
            i = _sigmoid64(z[:, :u])
            f = _sigmoid64(z[:, u:2 * u])
            g = np.tanh(z[:, 2 * u:3 * u])
            o = _sigmoid64(z[:, 3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
        elif cell == "gru":  # reset_after=True
            mx = xt @ k + b[0]
            mh = h @ r + b[1]
            z = _sigmoid64(mx[:, :u] + mh[:, :u])
            rr = _sigmoid64(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = np.tanh(mx[:, 2 * u:] + rr * mh[:, 2 * u:])
            h = z * h + (1.0 - z) * hh
        else:
            raise ValueError(cell)
        out[:, t, :] = h
    return out


# --------------------------------------------------------------------------
# 2. Peers.  Each factory takes a Workload and returns run(x) -> np.ndarray.
# --------------------------------------------------------------------------

class Missing(Exception):
    """A peer that cannot run here (not installed, no GPU...)."""


_FAMILY_CACHE = {}


def _family(name):
    """Import a peer family once; raise Missing with the reason if it fails."""
    if name in _FAMILY_CACHE:
        mod = _FAMILY_CACHE[name]
        if isinstance(mod, Missing):
            raise mod
        return mod
    try:
        mod = _IMPORTERS[name]()
    except Missing as e:
        _FAMILY_CACHE[name] = e
        raise
    except Exception as e:  # ImportError, or a broken install
        err = Missing(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        _FAMILY_CACHE[name] = err
        raise err from e
    _FAMILY_CACHE[name] = mod
    return mod


def _threads():
    return int(ENV_INFO.get("threads", 2))


def _import_torch():
    import torch
    torch.set_num_threads(_threads())
    try:
        torch.set_num_interop_threads(_threads())
    except RuntimeError:  # already set / parallel work already started
        pass
    if _target() == "cuda":
        if not torch.cuda.is_available():
            raise Missing("torch: no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch


def _import_jax():
    import jax
    if _target() == "cuda":
        try:
            jax.devices("gpu")
        except RuntimeError as e:
            raise Missing(f"jax: no GPU backend ({e})") from e
        jax.config.update("jax_default_matmul_precision", "highest")
    return jax


def _import_tf():
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(_threads())
        tf.config.threading.set_inter_op_parallelism_threads(_threads())
    except RuntimeError:  # runtime already initialised
        pass
    try:
        tf.config.set_visible_devices([], "GPU")  # tf_keras peers run on CPU
    except (RuntimeError, ValueError):
        pass
    from tf_keras import backend as K
    return tf, K


_IMPORTERS = {"torch": _import_torch, "jax": _import_jax, "tf": _import_tf}


def _target():
    return ARGS.target if ARGS is not None else "cpu"


# ---- numpy step loop (float32) --------------------------------------------

def _sig_(a):
    """In-place float32 sigmoid, 0.5*tanh(0.5*a)+0.5 (no exp overflow)."""
    a *= F32(0.5)
    np.tanh(a, out=a)
    a *= F32(0.5)
    a += F32(0.5)
    return a


def make_numpy(wl: Workload):
    k, r, b = wl.weights
    u = wl.units
    cell = wl.cell
    b_in = b[0] if cell == "gru" else b
    b_rec = b[1] if cell == "gru" else None

    def run(x):
        batch, steps, n_in = x.shape
        gu = k.shape[1]
        xp = np.dot(x.reshape(batch * steps, n_in), k).reshape(batch, steps, gu)
        xp += b_in
        h = np.zeros((batch, u), F32)
        c = np.zeros((batch, u), F32)
        m = np.empty((batch, gu), F32)
        tmp = np.empty((batch, u), F32)
        out = np.empty((batch, steps, u), F32)
        for t in range(steps):
            np.dot(h, r, out=m)
            if cell == "simple":
                m += xp[:, t]
                np.tanh(m, out=h)
            elif cell == "lstm":
                m += xp[:, t]
                _sig_(m[:, :2 * u])
                np.tanh(m[:, 2 * u:3 * u], out=m[:, 2 * u:3 * u])
                _sig_(m[:, 3 * u:])
                c *= m[:, u:2 * u]
                np.multiply(m[:, :u], m[:, 2 * u:3 * u], out=tmp)
                c += tmp
                np.tanh(c, out=h)
                h *= m[:, 3 * u:]
            else:  # gru, reset_after
                m += b_rec
                xt = xp[:, t]
                zr = m[:, :2 * u]
                zr += xt[:, :2 * u]
                _sig_(zr)
                hh = m[:, 2 * u:]
                hh *= m[:, u:2 * u]          # r * (h U_h + b_rec_h)
                hh += xt[:, 2 * u:]
                np.tanh(hh, out=hh)
                np.subtract(h, hh, out=tmp)  # h = hh + z * (h - hh)
                tmp *= m[:, :u]
                np.add(hh, tmp, out=h)
            out[:, t] = h
        return out

    return run


# ---- torch ----------------------------------------------------------------

def torch_params(cell, kernel, recurrent, bias):
    """tf_keras weights -> torch (weight_ih, weight_hh, bias_ih, bias_hh).

    torch computes x W_ih^T + b_ih + h W_hh^T + b_hh, so its weights are the
    transposed keras kernels.  Gate orders: keras LSTM i,f,c,o == torch
    i,f,g,o (no permutation).  keras GRU z,r,h -> torch r,z,n; torch's GRU has
    b_hn inside r * (W_hn h + b_hn), which is keras' reset_after=True, with
    keras bias[0] -> b_ih and bias[1] -> b_hh.
    """
    u = recurrent.shape[0]
    if cell == "gru":
        perm = np.r_[u:2 * u, 0:u, 2 * u:3 * u]  # [r, z, h] from [z, r, h]
        return (kernel[:, perm].T, recurrent[:, perm].T, bias[0][perm], bias[1][perm])
    return kernel.T, recurrent.T, bias, np.zeros_like(bias)


def make_torch(wl: Workload):
    torch = _family("torch")
    cls = {"simple": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[wl.cell]
    kw = {"nonlinearity": "tanh"} if wl.cell == "simple" else {}
    mod = cls(wl.input, wl.units, num_layers=1, bias=True, batch_first=True, **kw)
    dev = torch.device("cuda" if _target() == "cuda" else "cpu")
    w_ih, w_hh, b_ih, b_hh = torch_params(wl.cell, *wl.weights)
    with torch.no_grad():
        for name, val in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh),
                          ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(mod, name).copy_(torch.from_numpy(np.ascontiguousarray(val, F32)))
    mod = mod.to(dev).eval()

    if dev.type == "cpu":
        def run(x):
            with torch.inference_mode():
                y, _ = mod(torch.from_numpy(x))
            return y.numpy()
    else:
        def run(x):
            with torch.inference_mode():
                y, _ = mod(torch.from_numpy(x).to(dev))
                return y.cpu().numpy()
    return run


# ---- JAX ------------------------------------------------------------------

def jax_params(wl: Workload) -> dict:
    """The workload's weights as :func:`jax_forward` reads them."""
    k, r, b = wl.weights
    return {"k": k, "r": r, "b_in": b[0] if wl.cell == "gru" else b,
            "b_rec": b[1] if wl.cell == "gru" else np.zeros(1, F32)}


def make_jax(wl: Workload, hoist=False):
    jax = _family("jax")
    dev = jax.devices("gpu" if _target() == "cuda" else "cpu")[0]
    params = jax.device_put(jax_params(wl), dev)
    f = jax.jit(jax_forward(wl, hoist))

    def run(x):
        return np.asarray(f(params, jax.device_put(x, dev)))
    return run


def jax_forward(wl: Workload, hoist=False):
    """``fwd(params, x) -> (batch, time, units)``: the workload's layer as a
    ``lax.scan`` (also differentiated by ``grad.py``)."""
    jax = _family("jax")
    import jax.numpy as jnp
    from jax import lax

    u, cell = wl.units, wl.cell

    def fwd(p, x):
        batch, steps, n_in = x.shape
        if hoist:  # one (batch*time, in) @ kernel before the scan
            xp = (x.reshape(batch * steps, n_in) @ p["k"] + p["b_in"]).reshape(batch, steps, -1)
            xs = jnp.swapaxes(xp, 0, 1)  # (time, batch, g*u)
            proj = lambda xt: xt  # noqa: E731
        else:      # x_t @ kernel inside the step (faster under XLA:CPU here)
            xs = jnp.swapaxes(x, 0, 1)   # (time, batch, in)
            proj = lambda xt: xt @ p["k"] + p["b_in"]  # noqa: E731
        # (XLA:CPU ran this un-hoisted form up to 2.4x faster on W2-W5 here)
        h0 = jnp.zeros((batch, u), x.dtype)

        if cell == "simple":
            def step(h, xt):
                h = jnp.tanh(proj(xt) + h @ p["r"])
                return h, h
            init = h0
        elif cell == "lstm":
            def step(carry, xt):
                h, c = carry
                z = proj(xt) + h @ p["r"]
                i = jax.nn.sigmoid(z[:, :u])
                f = jax.nn.sigmoid(z[:, u:2 * u])
                g = jnp.tanh(z[:, 2 * u:3 * u])
                o = jax.nn.sigmoid(z[:, 3 * u:])
                c = f * c + i * g
                h = o * jnp.tanh(c)
                return (h, c), h
            init = (h0, h0)
        else:
            def step(h, xt):
                mh = h @ p["r"] + p["b_rec"]
                xt = proj(xt)
                z = jax.nn.sigmoid(xt[:, :u] + mh[:, :u])
                rr = jax.nn.sigmoid(xt[:, u:2 * u] + mh[:, u:2 * u])
                hh = jnp.tanh(xt[:, 2 * u:] + rr * mh[:, 2 * u:])
                h = z * h + (1 - z) * hh
                return h, h
            init = h0
        _, ys = lax.scan(step, init, xs)
        return jnp.swapaxes(ys, 0, 1)
    return fwd


# ---- tf_keras K.rnn ---------------------------------------------------------

def _make_tf(wl: Workload, mode, hoist=True):
    tf, K = _family("tf")
    k, r, b = wl.weights
    u, cell = wl.units, wl.cell
    kc, rc = tf.constant(k), tf.constant(r)
    b_in = tf.constant(b[0] if cell == "gru" else b)
    b_rec = tf.constant(b[1]) if cell == "gru" else None

    def fwd(x):
        batch, steps, n_in = x.shape
        if hoist:  # one (batch*time, in) @ kernel before the loop
            xp = tf.reshape(tf.matmul(tf.reshape(x, [-1, n_in]), kc) + b_in,
                            [batch, steps, k.shape[1]])
            proj = lambda xt: xt  # noqa: E731
        else:
            xp = x
            proj = lambda xt: tf.matmul(xt, kc) + b_in  # noqa: E731
        if cell == "simple":
            def step(xt, states):
                h = tf.tanh(proj(xt) + tf.matmul(states[0], rc))
                return h, [h]
            init = [tf.zeros((batch, u))]
        elif cell == "lstm":
            def step(xt, states):
                h, c = states
                z = proj(xt) + tf.matmul(h, rc)
                i, f, g, o = tf.split(z, 4, axis=1)
                c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
                h = tf.sigmoid(o) * tf.tanh(c)
                return h, [h, c]
            init = [tf.zeros((batch, u)), tf.zeros((batch, u))]
        else:
            def step(xt, states):
                h = states[0]
                mh = tf.matmul(h, rc) + b_rec
                xz, xr, xh = tf.split(proj(xt), 3, axis=1)
                hz, hr, hh_ = tf.split(mh, 3, axis=1)
                z = tf.sigmoid(xz + hz)
                rr = tf.sigmoid(xr + hr)
                hh = tf.tanh(xh + rr * hh_)
                h = z * h + (1 - z) * hh
                return h, [h]
            init = [tf.zeros((batch, u))]
        _, outputs, _ = K.rnn(step, xp, init)
        return outputs

    if mode == "eager":
        fn = fwd
    else:
        sig = [tf.TensorSpec((wl.batch, wl.time, wl.input), tf.float32)]
        fn = tf.function(fwd, input_signature=sig, jit_compile=(mode == "xla"),
                         reduce_retracing=True)

    def run(x):
        return fn(tf.constant(x)).numpy()
    return run


def make_tf_function(wl, hoist=True):
    return _make_tf(wl, "function", hoist)


def make_tf_xla(wl, hoist=True):
    return _make_tf(wl, "xla", hoist)


def make_tf_eager(wl, hoist=True):
    return _make_tf(wl, "eager", hoist)


# Whether the input projection x @ kernel is hoisted out of the time loop (one
# big GEMM) or done per step changes some peers' speed both ways, by workload
# and by machine (measured here: XLA -- JAX and tf.fn+XLA -- up to 2.4x faster
# un-hoisted on W2-W5; tf.fn's two forms trade places by workload and run,
# within about 25%).  So that "symkb / best peer" is against each peer's best, those
# peers are measured in both forms (each checked) and the column shows the
# faster; the JSON keeps both.  --quick measures the first form only.
HOIST_BOTH = ({"hoist": False}, {"hoist": True})

# (column name, family or None, factory, variants: kwargs for the factory)
PEERS = [
    ("torch", "torch", make_torch, ({},)),
    ("jax", "jax", make_jax, HOIST_BOTH),
    ("tf.fn", "tf", make_tf_function, ({"hoist": True}, {"hoist": False})),
    ("tf.fn+XLA", "tf", make_tf_xla, HOIST_BOTH),
    ("tf eager", "tf", make_tf_eager, ({"hoist": True},)),
    ("numpy", None, make_numpy, ({},)),
]

# --------------------------------------------------------------------------
# 3. THE SYMKB HOOK.  Written against symkb's public API (which may not exist
#    yet): while it does not, the harness shows 'n/a' for symkb.
# --------------------------------------------------------------------------

SYMKB_EXPECTED_ERRORS = (ImportError, AttributeError, NotImplementedError)


def symkb_build_model(workload):
    """The workload's model built with symkb's public API, weights set."""
    import symkb
    from symkb import layers

    wl = workload
    if wl.cell == "simple":
        rnn = layers.SimpleRNN(wl.units, return_sequences=True)
    elif wl.cell == "lstm":
        rnn = layers.LSTM(wl.units, return_sequences=True)
    else:
        rnn = layers.GRU(wl.units, return_sequences=True, reset_after=True)
    m = symkb.Sequential([layers.Input((wl.time, wl.input)), rnn])
    m.set_weights(list(wl.weights))  # [kernel, recurrent_kernel, bias]
    return m


def cuda_unavailable():
    """'' when a real CUDA GPU can run symkb's cuda target, else the reason why not.

    Numba's CUDA simulator does not count: it is for tests, far too slow to time.
    """
    try:
        import numba
        from numba import cuda
    except ImportError as e:
        return f"numba's CUDA support cannot be imported ({e})"
    if numba.config.ENABLE_CUDASIM:
        return ("NUMBA_ENABLE_CUDASIM=1 is set: the CUDA simulator is for tests, not timings; "
                "unset it on a GPU machine")
    try:
        if not cuda.is_available():
            return "no CUDA GPU is available on this machine (numba.cuda.is_available() is False)"
        return ""
    except Exception as e:  # a broken driver
        return f"the CUDA driver does not work ({type(e).__name__}: {e})"


def symkb_impls(workload, target=None):
    """symkb implementations of `workload`: {name: (callable, first_call_s)}.

    For each target ('cpu' -- or 'cuda' with --target cuda -- and
    'interpreter') the model is built, compiled with
    ``symkb.compile(m, target=...)`` and called once; first_call_s is
    build + compile + that first call.  The callables take the numpy input
    (batch, time, input) and return a numpy array (batch, time, units).

    Raises ImportError / AttributeError / NotImplementedError while symkb's
    API is not there (the harness shows 'n/a').  A target that fails while
    the other works is returned as an exception instance in place of the
    tuple, so the table shows it as an error for that column only.
    """
    import symkb  # ImportError until the package exists

    target = target or _target()
    x = workload.x
    impls = {}
    errors = []
    for name, tgt in ((f"symkb {target}", target), ("symkb interp", "interpreter")):
        try:
            t0 = time.perf_counter()
            m = symkb_build_model(workload)
            c = symkb.compile(m, target=tgt)
            y = c(x)
            np.asarray(y)
            t1 = time.perf_counter()
            impls[name] = (c, t1 - t0)
            symkb.wait_compiles()  # nothing compiles beside the timed calls
        except SYMKB_EXPECTED_ERRORS as e:
            errors.append(e)
            impls[name] = e
    if all(isinstance(v, BaseException) for v in impls.values()):
        raise errors[0]
    return impls


# --------------------------------------------------------------------------
# 4. COLD-START REPORT (planned; works once symkb's API lands).
# --------------------------------------------------------------------------

_CHILD_IMPORT = r"""
import gc, json, sys, time
t0 = time.perf_counter()
import symkb
t1 = time.perf_counter()
compiled = None
if "numba" in sys.modules:
    from numba.core.dispatcher import Dispatcher
    compiled = sum(1 for o in gc.get_objects()
                   if isinstance(o, Dispatcher) and o.signatures)
print("RESULT " + json.dumps({"import_s": t1 - t0,
                              "numba_loaded": "numba" in sys.modules,
                              "numba_dispatchers_compiled": compiled}))
"""

_CHILD_COMPILE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import symkb
from symkb import layers
t1 = time.perf_counter()
d = np.load(sys.argv[1])
m = symkb.Sequential([layers.Input(tuple(int(v) for v in d["input_shape"])),
                      layers.LSTM(int(d["units"]), return_sequences=True)])
m.set_weights([d["kernel"], d["recurrent"], d["bias"]])
t2 = time.perf_counter()
c = symkb.compile(m, target=sys.argv[2])
t3 = time.perf_counter()
y = np.asarray(c(d["x"]))
t4 = time.perf_counter()
print("RESULT " + json.dumps({
    "import_s": t1 - t0, "build_s": t2 - t1, "compile_s": t3 - t2,
    "first_call_s": t4 - t3, "ready_s": t4 - t0,
    "max_abs_diff": float(np.max(np.abs(y.astype(np.float64) - d["ref"])))}))
"""


# The floor under any warm start: numpy, numba and one trivial cached @njit
# function loaded from numba's disk cache and called, in a fresh process.
_FLOOR_MODULE = r"""
import numba


@numba.njit(cache=True, nogil=True)
def twice(x):
    return x * 2.0
"""

_CHILD_FLOOR = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import numba
t1 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import symkb_floor_probe
t2 = time.perf_counter()
symkb_floor_probe.twice(np.ones(3))
t3 = time.perf_counter()
print("RESULT " + json.dumps({"import_s": t1 - t0, "load_call_s": t3 - t2,
                              "ready_s": t3 - t0}))
"""


def _child_env(extra=None):
    """Environment for a child: ours (thread variables included), with the
    directory of the symkb this process imports first on PYTHONPATH."""
    env = dict(os.environ)
    paths = _symkb_paths()
    try:
        import importlib.util
        spec = importlib.util.find_spec("symkb")
        if spec is not None and spec.origin:
            paths = [str(Path(spec.origin).resolve().parent.parent)] + paths
    except (ImportError, ValueError):
        pass
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def _run_child(code, args=(), env=None, timeout=300):
    """Run `code` in a fresh interpreter; returns (result dict, wall seconds)."""
    t0 = time.perf_counter()
    # cwd: a neutral directory, so that `-c`'s '' on sys.path cannot shadow
    # the symkb that PYTHONPATH names
    p = subprocess.run([sys.executable, "-c", code, *args], env=env,
                       cwd=tempfile.gettempdir(), capture_output=True, text=True,
                       timeout=timeout)
    wall = time.perf_counter() - t0
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT "):])
            res["process_wall_s"] = wall
            return res
    tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["(no output)"]
    raise RuntimeError(f"child exited {p.returncode}: {tail[0]}")


def cold_start_report(target="cpu", import_runs=3):
    """symkb's start-up figures (BENCHMARKS.md targets).

    1. ``import symkb`` in a fresh subprocess (median of `import_runs`;
       target < 0.5 s, and nothing compiled at import: the count of numba
       dispatchers with compiled signatures right after the import).
    2. Cold compile of the W2 model in a fresh process with an empty
       NUMBA_CACHE_DIR (target < 3 s), plus its first call, output checked.
    3. A second process on the now-warm cache: import + build + load (the
       compile call) + first call (target < 0.5 s ready), output checked.
    4. The numba floor: a fresh process that imports numpy and numba and
       loads and calls one trivial ``@njit(cache=True)`` function from the
       same warm cache -- the part of (3) that no model can go below.

    Returns a dict (also printed); ``{'status': 'n/a', 'reason': ...}`` when
    symkb cannot be imported.
    """
    env = _child_env()
    try:
        runs = [_run_child(_CHILD_IMPORT, env=env) for _ in range(import_runs)]
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return {"status": "n/a", "reason": f"import symkb failed: {e}"}
    imp = sorted(runs, key=lambda r: r["import_s"])[len(runs) // 2]
    report = {"status": "ok", "import": imp,
              "import_s_all": [r["import_s"] for r in runs]}

    wl = WORKLOADS["W2"]
    d = wl.data()
    with tempfile.TemporaryDirectory(prefix="symkb-cold-") as tmp:
        npz = os.path.join(tmp, "w2.npz")
        np.savez(npz, x=d["x"], kernel=d["kernel"], recurrent=d["recurrent"],
                 bias=d["bias"], ref=d["ref"], units=wl.units,
                 input_shape=np.array([wl.time, wl.input]))
        cache = os.path.join(tmp, "numba-cache")
        os.makedirs(cache)
        # A fresh cache dir for this report only.  (If symkb grows a cache
        # location of its own, point it at `cache` here too.)
        cenv = _child_env({"NUMBA_CACHE_DIR": cache})
        for key in ("cold", "warm"):
            try:
                report[key] = _run_child(_CHILD_COMPILE, (npz, target), env=cenv)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                report[key] = {"error": str(e)}
                report["status"] = "error"
        # The same measurement for a trivial cached function: what numba
        # itself costs a warm process, whatever it loads.
        probe = os.path.join(tmp, "probe")
        os.makedirs(probe)
        with open(os.path.join(probe, "symkb_floor_probe.py"), "w") as f:
            f.write(_FLOOR_MODULE)
        try:
            for key in ("floor_cold", "floor"):
                report[key] = _run_child(_CHILD_FLOOR, (probe,), env=cenv)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            report["floor"] = {"error": str(e)}
        n_files = sum(len(f) for _, _, f in os.walk(cache))
        report["cache_files"] = n_files
    return report


def print_cold_start(rep):
    print("\nCold start (symkb; BENCHMARKS targets in brackets)")
    if rep.get("status") == "n/a":
        print(f"  n/a: {rep.get('reason')}")
        return
    imp = rep["import"]
    print(f"  import symkb            {imp['import_s'] * 1e3:8.1f} ms  "
          f"(process {imp['process_wall_s'] * 1e3:.0f} ms) [< 500 ms]; "
          f"numba loaded: {imp['numba_loaded']}, compiled at import: "
          f"{imp['numba_dispatchers_compiled']}")
    for key, label, tgt in (("cold", "cold compile W2", "compile < 3 s"),
                            ("warm", "warm-cache process", "ready < 500 ms")):
        r = rep.get(key, {})
        if "error" in r:
            print(f"  {label:22s}  ERROR {r['error']}")
            continue
        print(f"  {label:22s}  import {r['import_s'] * 1e3:.0f} ms, build "
              f"{r['build_s'] * 1e3:.0f} ms, compile/load {r['compile_s'] * 1e3:.0f} ms, "
              f"first call {r['first_call_s'] * 1e3:.1f} ms, ready "
              f"{r['ready_s'] * 1e3:.0f} ms (process {r['process_wall_s'] * 1e3:.0f} ms), "
              f"max|diff| {r['max_abs_diff']:.1e} [{tgt}]")
    floor = rep.get("floor", {})
    if "error" in floor:
        print(f"  {'numba floor':22s}  ERROR {floor['error']}")
    elif floor:
        print(f"  {'numba floor':22s}  import numpy+numba {floor['import_s'] * 1e3:.0f} ms, "
              f"load + call of a trivial cached @njit function "
              f"{floor['load_call_s'] * 1e3:.0f} ms, ready {floor['ready_s'] * 1e3:.0f} ms "
              f"(process {floor['process_wall_s'] * 1e3:.0f} ms): the part of a warm "
              f"start that is numba's own")
    print(f"  cache files written: {rep.get('cache_files')}")


# --------------------------------------------------------------------------
# 5. Harness: check, time, tabulate.
# --------------------------------------------------------------------------

def max_abs_diff(y, ref):
    y = np.asarray(y)
    if y.shape != ref.shape:
        return float("inf"), f"shape {y.shape} != {ref.shape}"
    d = np.abs(y.astype(np.float64) - ref)
    if not np.all(np.isfinite(d)):
        return float("inf"), "non-finite output"
    return float(d.max()), None


class CpuMonitor:
    """How much CPU *other* processes used while we timed (from /proc/stat).

    On a 2-core machine shared with other work a benchmark that wants both
    cores is badly disturbed by a third busy thread (OpenBLAS / OpenMP
    workers that sync every time step stall); a timing taken while others
    used more than FOREIGN_LIMIT of a core is flagged '!' in the table.
    """
    HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _busy_s():
        try:
            with open("/proc/stat") as f:
                v = [int(a) for a in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal ...: all but idle/iowait
        return (sum(v[:8]) - v[3] - v[4]) / CpuMonitor.HZ

    def __enter__(self):
        self.b0, self.p0, self.w0 = self._busy_s(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        b1, p1, w1 = self._busy_s(), time.process_time(), time.perf_counter()
        self.wall = w1 - self.w0
        if self.b0 is None or b1 is None or self.wall <= 0:
            self.foreign_cores = None
        else:
            self.foreign_cores = max(0.0, ((b1 - self.b0) - (p1 - self.p0)) / self.wall)
        return False


FOREIGN_LIMIT = 0.25  # cores


def wait_quiet(max_s, window=0.5):
    """Wait (up to max_s) for a `window` in which other processes use less
    than FOREIGN_LIMIT of a core.  Returns (seconds waited, quiet found)."""
    t0 = time.perf_counter()
    while True:
        with CpuMonitor() as mon:
            time.sleep(window)
        waited = time.perf_counter() - t0
        if mon.foreign_cores is None or mon.foreign_cores < FOREIGN_LIMIT:
            return waited, True
        if waited >= max_s:
            return waited, False


def time_calls(fn, x, repeats, warmup, min_time, max_calls=1000):
    for _ in range(warmup):
        fn(x)
    times = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        total = 0.0
        while len(times) < repeats or (total < min_time and len(times) < max_calls):
            t0 = time.perf_counter()
            fn(x)
            dt = time.perf_counter() - t0
            times.append(dt)
            total += dt
    finally:
        if was_enabled:
            gc.enable()
    return times


def measure(fn, first_call_s, wl, args, y_first=None):
    """Check (using the first call's output) then time.  Returns a record."""
    ref = wl.data()["ref"]
    if y_first is None:
        y_first = fn(wl.x)
    diff, why = max_abs_diff(y_first, ref)
    rec = {"first_call_s": first_call_s, "max_abs_diff": diff}
    if why or not diff < args.tol:
        rec["status"] = "FAIL"
        rec["reason"] = why or f"max abs diff {diff:.2e} >= {args.tol:g}"
        return rec
    best = None
    for attempt in range(1 + max(0, args.retry_busy)):
        waited, quiet = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else (0.0, True)
        with CpuMonitor() as mon:
            times = time_calls(fn, wl.x, args.repeats, args.warmup, args.min_time)
        cand = dict(times_s=times, n=len(times), median_s=statistics.median(times),
                    min_s=min(times), foreign_cores=mon.foreign_cores,
                    attempts=attempt + 1, waited_s=waited)
        if best is None or (cand["foreign_cores"] or 0) < (best["foreign_cores"] or 0):
            best = cand
        if (best["foreign_cores"] or 0) <= FOREIGN_LIMIT:
            break
        if not quiet:  # persistently busy machine: retrying only burns time
            break
    rec.update(status="ok", **best)
    return rec


def _variant_label(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items()) or "default"


def run_peer(factory, wl, args, variants=({},)):
    """Measure each variant (build, first call, check, time); return the
    record of the fastest that passed (or of the first, if none did), with
    every variant's median under 'variants'."""
    if args.quick:
        variants = variants[:1]
    recs = {}
    for kw in variants:
        gc.collect()
        t0 = time.perf_counter()
        fn = factory(wl, **kw)
        t1 = time.perf_counter()
        y = fn(wl.x)
        t2 = time.perf_counter()
        rec = measure(fn, t2 - t0, wl, args, y_first=y)
        rec["setup_s"] = t1 - t0
        rec["variant"] = _variant_label(kw)
        recs[rec["variant"]] = rec
        del fn, y
    ok = [r for r in recs.values() if r["status"] == "ok"]
    best = dict(min(ok, key=lambda r: r["median_s"]) if ok else next(iter(recs.values())))
    if len(recs) > 1:
        best["variants"] = {k: {"status": r["status"], "median_s": r.get("median_s"),
                                "first_call_s": r.get("first_call_s"),
                                "max_abs_diff": r.get("max_abs_diff"),
                                "foreign_cores": r.get("foreign_cores")}
                            for k, r in recs.items()}
        failed = [k for k, r in recs.items() if r["status"] != "ok"]
        if failed and ok:  # a variant that fails its check must not hide
            best["failed_variants"] = {k: recs[k].get("reason") for k in failed}
    return best


def _want(name, args):
    if not args.impls:
        return True
    return any(name == s or (s == "symkb" and name.startswith("symkb")) for s in args.impls)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: v for k, v in d.items()
             if k in ("user_api", "internal_api", "version", "num_threads",
                      "architecture", "threading_layer", "filepath")}
            for d in threadpool_info()]


def _fmt_blas(info):
    if info is None:
        return "threadpoolctl not installed"
    parts = []
    for d in info:
        name = os.path.basename(d.get("filepath", "")) or d.get("internal_api")
        arch = d.get("architecture")
        parts.append(f"{d.get('internal_api')} {d.get('version') or ''}"
                     f"{' kernel=' + arch if arch else ''} threads={d.get('num_threads')} ({name})")
    return "; ".join(parts)


def versions():
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("scipy", "numba", "torch", "jax", "jaxlib", "tensorflow", "tf_keras", "symkb"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cell(rec):
    if rec is None:
        return "-"
    st = rec.get("status")
    if st == "ok":
        ms = rec["median_s"] * 1e3
        txt = f"{ms:.3f}" if ms < 1 else (f"{ms:.2f}" if ms < 100 else f"{ms:.1f}")
        fc = rec.get("foreign_cores")
        return txt + ("!" if fc is not None and fc > FOREIGN_LIMIT else "")
    if st == "FAIL":
        d = rec.get("max_abs_diff")
        return f"FAIL({d:.0e})" if d is not None and np.isfinite(d) else "FAIL"
    return {"missing": "missing", "n/a": "n/a", "error": "ERR"}.get(st, st)


def _fc_cell(rec):
    if rec is None or rec.get("first_call_s") is None:
        return _cell(rec) if rec and rec.get("status") != "ok" else "-"
    return f"{rec['first_call_s'] * 1e3:.0f}"


def print_table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(r, widths))) + " |"
    print(title)
    print(line(header))
    print("|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":"
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))


def main(args):
    print(f"symkb RNN benchmark -- {cpu_model()}, {os.cpu_count()} CPUs, "
          f"affinity {ENV_INFO.get('affinity')}, threads {args.threads}, target {args.target}")
    if args.target == "cuda":
        why = cuda_unavailable()
        if why:
            print(f"--target cuda: {why}")
            print("No GPU is available, so nothing was timed (W1-W5 on the GPU need an NVIDIA "
                  "GPU with a working CUDA driver; use --target cpu here).")
            return 0
    if ENV_INFO.get("openblas_unset"):
        print("  unset for this run: " + ", ".join(
            f"{k}={v}" for k, v in ENV_INFO["openblas_unset"].items()))
    if ENV_INFO.get("openblas_kept"):
        print("  kept (--no-unset-openblas-coretype): " + ", ".join(
            f"{k}={v}" for k, v in ENV_INFO["openblas_kept"].items()))
    if args.quick:
        print("  --quick: 3 timed calls, 1 warm-up -- NOT a BENCHMARKS-conforming run")

    peers = [pe for pe in PEERS if _want(pe[0], args)]
    missing = {}
    for name, fam, _, _ in peers:  # import every family before timing anything
        if fam:
            try:
                _family(fam)
            except Missing as e:
                missing[name] = str(e)
    print(f"  BLAS/OpenMP (threadpoolctl): {_fmt_blas(blas_info())}")

    want_symkb = _want("symkb", args)
    sym_name = f"symkb {args.target}"
    columns = [pe[0] for pe in peers] + ([sym_name, "symkb interp"] if want_symkb else [])
    results = {}
    symkb_reasons = {}  # reason -> ["W1", ...]
    for wid in args.workloads:
        wl = WORKLOADS[wid]
        wl.data()
        print(f"  {wid} {wl.label}: ", end="", flush=True)
        res = {}
        for name, fam, factory, variants in peers:
            if name in missing:
                res[name] = {"status": "missing", "reason": missing[name]}
                continue
            print(name, end=" ", flush=True)
            try:
                res[name] = run_peer(factory, wl, args, variants)
            except Missing as e:
                missing[name] = str(e)
                res[name] = {"status": "missing", "reason": str(e)}
            except Exception as e:  # a peer that breaks is reported, not fatal
                traceback.print_exc(file=sys.stderr)
                res[name] = {"status": "error", "reason": f"{type(e).__name__}: {e}"}
        if want_symkb:
            print("symkb", end=" ", flush=True)
            try:
                impls = symkb_impls(wl, args.target)
            except Exception as e:  # expected while the API is missing
                if not isinstance(e, SYMKB_EXPECTED_ERRORS):
                    traceback.print_exc(file=sys.stderr)
                impls = {n: e for n in (sym_name, "symkb interp")}
            for name in (sym_name, "symkb interp"):
                v = impls.get(name)
                if isinstance(v, BaseException):
                    st = "n/a" if isinstance(v, SYMKB_EXPECTED_ERRORS) else "error"
                    why = f"{type(v).__name__}: {v}"
                    res[name] = {"status": st, "reason": why}
                    symkb_reasons.setdefault(f"{st}: {why}", []).append(f"{wid} {name}")
                else:
                    fn, fc = v
                    try:
                        res[name] = measure(lambda x, fn=fn: np.asarray(fn(x)), fc, wl, args)
                    except Exception as e:
                        traceback.print_exc(file=sys.stderr)
                        res[name] = {"status": "error", "reason": f"{type(e).__name__}: {e}"}
        print()
        ok = {n: r["median_s"] for n, r in res.items()
              if r.get("status") == "ok" and not n.startswith("symkb")}
        best = min(ok, key=ok.get) if ok else None
        sym = res.get(sym_name, {})
        entry = {"spec": {"cell": wl.cell, "batch": wl.batch, "time": wl.time,
                          "input": wl.input, "units": wl.units, "seed": wl.seed},
                 "impls": res, "best_peer": best,
                 "ratio_best": None, "ratio_torch": None}
        if sym.get("status") == "ok":
            if best:
                entry["ratio_best"] = sym["median_s"] / ok[best]
            if "torch" in ok:
                entry["ratio_torch"] = sym["median_s"] / ok["torch"]
        results[wid] = entry

    # ---- the table ----
    header = ["", *columns, "symkb / best peer", "symkb / torch"]
    rows = []
    for wid, e in results.items():
        cells = [_cell(e["impls"].get(c)) for c in columns]
        if e["best_peer"]:
            i = columns.index(e["best_peer"])
            cells[i] = "*" + cells[i]
        rb, rt = e["ratio_best"], e["ratio_torch"]
        rows.append([wid, *cells, f"{rb:.2f}" if rb else "n/a", f"{rt:.2f}" if rt else "n/a"])
    n_desc = "3 (quick)" if args.quick else f">= {args.repeats}"
    print()
    print_table(f"Median ms per call ({n_desc} timed calls after {args.warmup} warm-up; "
                f"* = best peer; numpy in -> numpy out)", header, rows)
    forms = []
    for wid, e in results.items():
        ch = [f"{n} {'hoisted' if r['variant'] == 'hoist=True' else 'per-step'}"
              for n, r in e["impls"].items() if r.get("variants") and r.get("status") == "ok"]
        if ch:
            forms.append(f"{wid}: " + ", ".join(ch))
    if forms:
        print("Faster input-projection form, per peer (both measured): " + "; ".join(forms))
    fc_rows = [[wid, *[_fc_cell(e["impls"].get(c)) for c in columns]]
               for wid, e in results.items()]
    print()
    print_table("First-call latency, ms (peers: setup + first call incl. trace/jit; "
                "symkb: build + compile + first call)", ["", *columns], fc_rows)

    problems = []
    for wid, e in results.items():
        for n, r in e["impls"].items():
            if r.get("status") in ("FAIL", "error"):
                problems.append(f"{wid} {n}: {r['status']} {r.get('reason', '')}")
            for v, why in (r.get("failed_variants") or {}).items():
                problems.append(f"{wid} {n} [{v}]: FAIL {why}")
    busy = [f"{wid} {n} ({r['foreign_cores']:.2f})" for wid, e in results.items()
            for n, r in e["impls"].items()
            if (r.get("foreign_cores") or 0) > FOREIGN_LIMIT]
    print()
    if busy:
        print(f"! other processes used > {FOREIGN_LIMIT} core while these were timed "
              f"(their figures are unreliable; rerun on a quiet machine): " + ", ".join(busy))
    if missing:
        by_reason = {}
        for n, why in missing.items():
            by_reason.setdefault(why, []).append(n)
        print("Missing peers: " + "; ".join(f"{', '.join(ns)} ({why})"
                                            for why, ns in by_reason.items()))
    else:
        print("Missing peers: none")
    for why, where in symkb_reasons.items():
        print(f"symkb {why}  [{', '.join(where)}]")
    for pr in problems:
        if not any(pr.startswith(w + " ") for ws in symkb_reasons.values() for w in ws):
            print("  " + pr)

    cold = None
    if args.cold_start:
        cold = cold_start_report(args.target)
        print_cold_start(cold)

    if args.json:
        out = {"meta": {"argv": sys.argv[1:], "cpu": cpu_model(), "cpus": os.cpu_count(),
                        "env": ENV_INFO, "versions": versions(), "blas": blas_info(),
                        "tolerance": args.tol, "repeats": args.repeats,
                        "warmup": args.warmup, "min_time_s": args.min_time,
                        "quick": args.quick, "target": args.target,
                        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
               "missing": missing, "symkb_reasons": symkb_reasons,
               "workloads": results, "cold_start": cold}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=float)
        print(f"raw numbers written to {args.json}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
