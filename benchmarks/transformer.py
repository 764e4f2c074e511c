#!/usr/bin/env python3
"""Transformer encoder block inference benchmark (W7): symkb against JAX, torch and tf_keras.

    python benchmarks/transformer.py [--repeats 7] [--impls symkb,jax,torch,tf] [--json PATH]
                                     [--tf-python /opt/tfenv/bin/python]

W7: a batch of 16 sequences of 128 vectors of 256 -> MultiHeadAttention (4
heads of 64, self-attention) + residual -> LayerNormalization -> Dense 1024
relu -> Dense 256 + residual -> LayerNormalization (post-norm, as tf_keras's
usual encoder block); float32 inference, 2 threads everywhere. symkb's block
is built from its layers (``MultiHeadAttention``, ``LayerNormalization``,
``Dense``) on a placeholder, given the weights with ``set_weights`` in
tf_keras's layouts and compiled with ``K.function(..., target="cpu")``.
Every implementation is checked against a float64 numpy reference (max abs
diff < 1e-4) before it is timed (a failing one is reported, never timed);
the median of ``--repeats`` calls after warm-up is shown, and each peer's
ratio to symkb (> 1: symkb is faster).

Peers, each an optional import (``/work/benchvenv/bin/python`` has them; a
missing one is reported as such):
  jax    jax.jit of the block in jax.numpy (einsum projections, softmax)
  torch  torch.nn.functional (linear, scaled_dot_product_attention,
         layer_norm) under inference_mode
  tf.fn, tf.fn+XLA
         the block from tf_keras layers in a tf.function (and with
         jit_compile=True), run in ``--tf-python`` by ``peers_tf.py``

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

BATCH, SEQ, MODEL, HEADS, FFN = 16, 128, 256, 4, 1024
HEAD = MODEL // HEADS
EPS = 1e-6
TOLERANCE = 1e-4


def weights(seed=0):
    """The block's weights in tf_keras's layouts (MultiHeadAttention's
    ``(model, heads, head)`` projections, ``(heads, head, model)`` output)."""
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(MODEL)
    w = {}
    for p in "qkv":
        w[f"w{p}"] = rng.normal(0, s, (MODEL, HEADS, HEAD))
        w[f"b{p}"] = rng.normal(0, 0.02, (HEADS, HEAD))
    w["wo"] = rng.normal(0, s, (HEADS, HEAD, MODEL))
    w["bo"] = rng.normal(0, 0.02, MODEL)
    w["w1"], w["b1"] = rng.normal(0, s, (MODEL, FFN)), rng.normal(0, 0.02, FFN)
    w["w2"], w["b2"] = rng.normal(0, 1 / np.sqrt(FFN), (FFN, MODEL)), rng.normal(0, 0.02, MODEL)
    for n in ("1", "2"):
        w[f"g{n}"], w[f"e{n}"] = 1 + rng.normal(0, 0.1, MODEL), rng.normal(0, 0.1, MODEL)
    return {k: v.astype(np.float32) for k, v in w.items()}


def reference(x, w):
    """float64 numpy; ``x`` (batch, seq, model)."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = x.astype(np.float64)

    def norm(h, g, e):
        mu = h.mean(-1, keepdims=True)
        return (h - mu) / np.sqrt(h.var(-1, keepdims=True) + EPS) * g + e

    q, k, v = (np.einsum("bsm,mhd->bhsd", x, w[f"w{p}"]) + w[f"b{p}"][:, None]
               for p in "qkv")
    scores = np.einsum("bhqd,bhkd->bhqk", q / np.sqrt(HEAD), k)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    att = np.einsum("bhqk,bhkd,hdm->bqm", probs, v, w["wo"]) + w["bo"]
    h = norm(x + att, w["g1"], w["e1"])
    f = np.maximum(h @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"]
    return norm(h + f, w["g2"], w["e2"])


def symkb_model(w):
    """W7 from symkb's layers, compiled for the cpu target."""
    from symkb import backend as K
    from symkb import layers
    x = K.placeholder(shape=(None, SEQ, MODEL), name="tokens")
    mha = layers.MultiHeadAttention(num_heads=HEADS, key_dim=HEAD)
    ln1, ln2 = (layers.LayerNormalization(epsilon=EPS) for _ in range(2))
    d1, d2 = layers.Dense(FFN, activation="relu"), layers.Dense(MODEL)
    h = ln1(x + mha(x, x))
    y = ln2(h + d2(d1(h)))
    mha.set_weights([w[k] for k in ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")])
    ln1.set_weights([w["g1"], w["e1"]])
    ln2.set_weights([w["g2"], w["e2"]])
    d1.set_weights([w["w1"], w["b1"]])
    d2.set_weights([w["w2"], w["b2"]])
    f = K.function([x], [y], target="cpu")
    return lambda tokens: f([tokens])[0]


def jax_model(w):
    import jax
    import jax.numpy as jnp
    p = {k: jnp.asarray(a) for k, a in w.items()}

    def norm(h, g, e):
        mu = h.mean(-1, keepdims=True)
        return (h - mu) * jax.lax.rsqrt(((h - mu) ** 2).mean(-1, keepdims=True) + EPS) * g + e

    def forward(p, x):
        q, k, v = (jnp.einsum("bsm,mhd->bhsd", x, p[f"w{n}"]) + p[f"b{n}"][:, None]
                   for n in "qkv")
        probs = jax.nn.softmax(jnp.einsum("bhqd,bhkd->bhqk", q * (1 / HEAD ** 0.5), k), -1)
        att = jnp.einsum("bhsd,hdm->bsm", jnp.einsum("bhqk,bhkd->bhqd", probs, v), p["wo"])
        h = norm(x + att + p["bo"], p["g1"], p["e1"])
        f = jnp.maximum(h @ p["w1"] + p["b1"], 0) @ p["w2"] + p["b2"]
        return norm(h + f, p["g2"], p["e2"])

    fn = jax.jit(forward)
    return lambda tokens: np.asarray(fn(p, tokens))


def torch_model(w):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    t = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in w.items()}
    # F.linear takes (out, in) weights: the q, k, v projections stacked as one
    wqkv = torch.cat([t[f"w{n}"].reshape(MODEL, MODEL).T for n in "qkv"]).contiguous()
    bqkv = torch.cat([t[f"b{n}"].reshape(-1) for n in "qkv"])
    wo = t["wo"].reshape(MODEL, MODEL).T.contiguous()
    w1, w2 = t["w1"].T.contiguous(), t["w2"].T.contiguous()

    def forward(tokens):
        with torch.inference_mode():
            x = torch.from_numpy(tokens)
            b, s, _ = x.shape
            qkv = F.linear(x, wqkv, bqkv).view(b, s, 3, HEADS, HEAD).permute(2, 0, 3, 1, 4)
            att = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
            att = F.linear(att.transpose(1, 2).reshape(b, s, MODEL), wo, t["bo"])
            h = F.layer_norm(x + att, (MODEL,), t["g1"], t["e1"], EPS)
            f = F.linear(F.relu(F.linear(h, w1, t["b1"])), w2, t["b2"])
            return F.layer_norm(h + f, (MODEL,), t["g2"], t["e2"], EPS).numpy()
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


def run(impls, repeats, tf_python=None):
    w = weights()
    x = np.random.default_rng(1).normal(size=(BATCH, SEQ, MODEL)).astype("f4")
    want = reference(x, w)
    rows = []
    for name, make in PEERS.items():
        if not any(name.startswith(i) for i in impls):
            continue
        row = {"impl": name}
        try:
            fn = make(w)
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
    if tf_python and "tf" in impls:
        job = {"kind": "w7", "impls": TF_IMPLS, "tol": TOLERANCE, "heads": HEADS, "head": HEAD,
               "ffn": FFN, "eps": EPS, "timing": peer_io.inference_timing(repeats)}
        rows += peer_io.inference_rows(tf_python, "peers_tf.py", job, dict(w, x=x), want, {})
    return rows


def table(rows):
    lines = ["| impl | median ms | first call ms | vs symkb |", "|---|---:|---:|---:|"]
    ours = next((r.get("median_s") for r in rows if r["impl"] == "symkb cpu"), None)
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['impl']} | {r['status']} | | |")
            continue
        ratio = r["median_s"] / ours if ours else float("nan")
        lines.append(f"| {r['impl']} | {r['median_s'] * 1e3:.2f} | {r['first_s'] * 1e3:.0f} | "
                     f"{ratio:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="W7 Transformer encoder block: symkb vs JAX, "
                                             "torch, tf")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--impls", default="symkb,jax,torch,tf")
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument("--tf-python", default=peer_io.default_tf_python(),
                   help="the interpreter that has tensorflow and tf_keras")
    args = p.parse_args(argv)
    rows = run(args.impls.split(","), max(args.repeats, 7), args.tf_python)
    print(f"W7: batch {BATCH}, sequence {SEQ}, model {MODEL}, {HEADS} heads, FFN {FFN}, "
          f"float32, {THREADS} threads; 'vs symkb' is the peer's time over symkb's "
          "(> 1: symkb is faster)")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
