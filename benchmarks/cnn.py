#!/usr/bin/env python3
"""CNN inference benchmark (W6): symkb against JAX, torch and tf_keras, both data formats.

    python benchmarks/cnn.py [--repeats 7] [--formats channels_last,channels_first]
                             [--json PATH] [--tf-python /opt/tfenv/bin/python]

W6: a batch of 64 images 32x32x3 -> Conv2D 32 3x3 relu -> MaxPool 2 ->
Conv2D 64 3x3 relu -> MaxPool 2 -> Flatten -> Dense 10; float32 inference,
2 threads everywhere. symkb's model is built with the backend functions
(``K.conv2d``, ``K.bias_add``, ``K.relu``, ``K.pool2d``, ``K.dot``) and
compiled for the cpu target. Every implementation is checked against a
float64 numpy reference (max abs diff < 1e-4) before it is timed (a failing
one is reported, never timed); the median of ``--repeats`` calls after
warm-up is shown, and each peer's ratio to symkb (> 1: symkb is faster).

Peers, each an optional import (run with ``/work/benchvenv/bin/python`` or
any venv that has them; a missing one is reported as such):
  jax    jax.jit of lax.conv_general_dilated + lax.reduce_window (NHWC or NCHW)
  torch  torch.nn.functional conv2d / max_pool2d under inference_mode (NCHW
         natively; for channels_last the input is permuted inside the timed call)
  tf.fn, tf.fn+XLA
         the same model from tf_keras layers in a tf.function (and with
         jit_compile=True), run in ``--tf-python`` by ``peers_tf.py`` (NHWC: a
         channels_first batch is transposed inside the timed call)

Nothing imports numpy before the thread variables are set.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
THREADS = 2
for _var in THREAD_VARS:
    os.environ[_var] = str(THREADS)
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true "
                                   f"intra_op_parallelism_threads={THREADS}")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import peer_io  # noqa: E402  (the tf peers run in TensorFlow's interpreter)

TF_IMPLS = ["tf.fn", "tf.fn+XLA"]

BATCH, SIZE, CHANNELS, CLASSES = 64, 32, 3, 10
TOLERANCE = 1e-4


def weights(seed=0):
    """The model's weights, tf_keras layouts: kernels (3, 3, in, out), dense (in, out)."""
    rng = np.random.default_rng(seed)
    w = {"k1": rng.normal(0, 0.3, (3, 3, 3, 32)), "b1": rng.normal(0, 0.1, 32),
         "k2": rng.normal(0, 0.1, (3, 3, 32, 64)), "b2": rng.normal(0, 0.1, 64),
         "wd": rng.normal(0, 0.05, (6 * 6 * 64, CLASSES)), "bd": rng.normal(0, 0.1, CLASSES)}
    return {k: v.astype(np.float32) for k, v in w.items()}


def reference(x, w):
    """float64 numpy, channels_last; ``x`` (batch, 32, 32, 3)."""
    from numpy.lib.stride_tricks import sliding_window_view as windows

    def conv_relu(h, k, b):
        patches = windows(h, (3, 3), axis=(1, 2))            # (B, H', W', C, 3, 3)
        y = np.einsum("bhwcij,ijcf->bhwf", patches, k.astype(np.float64))
        return np.maximum(y + b, 0)

    def pool(h):
        n, hh, ww, c = h.shape
        h = h[:, :hh // 2 * 2, :ww // 2 * 2]
        return h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))

    h = pool(conv_relu(x.astype(np.float64), w["k1"], w["b1"]))
    h = pool(conv_relu(h, w["k2"], w["b2"]))
    return h.reshape(len(h), -1) @ w["wd"].astype(np.float64) + w["bd"]


def _flatten_order(fmt):
    """A channels_first Flatten lists (C, H, W); the dense kernel is permuted to match."""
    return fmt == "channels_first"


def _dense_kernel(w, fmt):
    wd = w["wd"]
    if _flatten_order(fmt):
        wd = wd.reshape(6, 6, 64, CLASSES).transpose(2, 0, 1, 3).reshape(-1, CLASSES)
    return np.ascontiguousarray(wd)


def symkb_model(w, fmt):
    """W6 with symkb's backend functions, compiled for the cpu target."""
    from symkb import backend as K
    shape = (None, SIZE, SIZE, CHANNELS) if fmt == "channels_last" else \
        (None, CHANNELS, SIZE, SIZE)
    x = K.placeholder(shape=shape, name="images")
    v = {k: K.variable(a, name=k) for k, a in w.items() if k != "wd"}
    v["wd"] = K.variable(_dense_kernel(w, fmt), name="wd")
    h = K.relu(K.bias_add(K.conv2d(x, v["k1"], data_format=fmt), v["b1"], data_format=fmt))
    h = K.pool2d(h, (2, 2), strides=(2, 2), data_format=fmt)
    h = K.relu(K.bias_add(K.conv2d(h, v["k2"], data_format=fmt), v["b2"], data_format=fmt))
    h = K.pool2d(h, (2, 2), strides=(2, 2), data_format=fmt)
    y = K.bias_add(K.dot(K.batch_flatten(h), v["wd"]), v["bd"])
    f = K.function([x], [y], target="cpu")
    return lambda images: f([images])[0]


def jax_model(w, fmt):
    import jax
    import jax.numpy as jnp
    from jax import lax
    dims = ("NHWC", "HWIO", "NHWC") if fmt == "channels_last" else ("NCHW", "HWIO", "NCHW")
    p = {k: jnp.asarray(a) for k, a in w.items()}
    p["wd"] = jnp.asarray(_dense_kernel(w, fmt))
    bias = (lambda b: b) if fmt == "channels_last" else (lambda b: b[:, None, None])
    window = (1, 2, 2, 1) if fmt == "channels_last" else (1, 1, 2, 2)

    def forward(params, x):
        h = x
        for k, b in (("k1", "b1"), ("k2", "b2")):
            h = lax.conv_general_dilated(h, params[k], (1, 1), "VALID", dimension_numbers=dims)
            h = jnp.maximum(h + bias(params[b]), 0)
            h = lax.reduce_window(h, -jnp.inf, lax.max, window, window, "VALID")
        return h.reshape(h.shape[0], -1) @ params["wd"] + params["bd"]

    fn = jax.jit(forward)
    return lambda images: np.asarray(fn(p, images))


def torch_model(w, fmt):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    t = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in w.items()}
    k1, k2 = (t[k].permute(3, 2, 0, 1).contiguous() for k in ("k1", "k2"))
    wd = torch.from_numpy(_dense_kernel(w, "channels_first"))  # torch flattens (C, H, W)

    def forward(images):
        with torch.inference_mode():
            h = torch.from_numpy(images)
            if fmt == "channels_last":
                h = h.permute(0, 3, 1, 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, k1, t["b1"])), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, k2, t["b2"])), 2)
            return (h.flatten(1) @ wd + t["bd"]).numpy()
    return forward


PEERS = {"symkb cpu": symkb_model, "jax": jax_model, "torch": torch_model}



def measure(fn, x, repeats):
    start = time.perf_counter()
    fn(x)
    first = time.perf_counter() - start
    for _ in range(2):
        fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), first


def run(formats, repeats, tf_python=None):
    w = weights()
    x_last = np.random.default_rng(1).normal(size=(BATCH, SIZE, SIZE, CHANNELS)).astype("f4")
    want = reference(x_last, w)
    rows = []
    for fmt in formats:
        x = x_last if fmt == "channels_last" else np.ascontiguousarray(
            x_last.transpose(0, 3, 1, 2))
        for name, make in PEERS.items():
            row = {"format": fmt, "impl": name}
            try:
                fn = make(w, fmt)
                err = float(np.max(np.abs(fn(x) - want)))
            except ImportError as e:
                row["status"] = f"missing ({e.name})"
                rows.append(row)
                continue
            row["max_abs_diff"] = err
            if not err < TOLERANCE:
                row["status"] = f"wrong (max abs diff {err:.2e})"
            else:
                row["median_s"], row["first_s"] = measure(fn, x, repeats)
                row["status"] = "ok"
            rows.append(row)
        if tf_python:
            job = {"kind": "cnn", "format": fmt, "impls": TF_IMPLS, "tol": TOLERANCE,
                   "timing": peer_io.inference_timing(repeats)}
            rows += peer_io.inference_rows(tf_python, "peers_tf.py", job, dict(w, x=x), want,
                                           {"format": fmt})
    return rows


def table(rows):
    lines = ["| format | impl | median ms | first call ms | vs symkb |", "|---|---|---:|---:|---:|"]
    ours = {r["format"]: r.get("median_s") for r in rows if r["impl"] == "symkb cpu"}
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['format']} | {r['impl']} | {r['status']} | | |")
            continue
        ratio = r["median_s"] / ours[r["format"]] if ours.get(r["format"]) else float("nan")
        lines.append(f"| {r['format']} | {r['impl']} | {r['median_s'] * 1e3:.2f} | "
                     f"{r['first_s'] * 1e3:.0f} | {ratio:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="W6 CNN inference: symkb vs JAX, torch and tf")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--formats", default="channels_last,channels_first")
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--tf-python", default=peer_io.default_tf_python(),
                   help="the interpreter that has tensorflow and tf_keras ('' to leave tf out)")
    args = p.parse_args(argv)
    rows = run(args.formats.split(","), max(args.repeats, 7), args.tf_python)
    print(f"W6: batch {BATCH}, {SIZE}x{SIZE}x{CHANNELS}, float32, {THREADS} threads; "
          "'vs symkb' is the peer's time over symkb's (> 1: symkb is faster)")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
