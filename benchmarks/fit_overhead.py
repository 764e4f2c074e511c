"""``fit``'s cost around its compiled train steps (``benchmarks/train.py --fit``).

``model.fit(x, y, batch_size=32, epochs=1, verbose=0)`` on ``--fit-samples``
samples of a workload (T1 by default: LSTM(128) over (100, 64) -> Dense(10),
SGD) against the same number of train-step kernel calls made directly on
pre-sliced batches (what ``train_on_batch`` runs, without its checks). The
two are timed alternately, ``--fit-repeats`` times each, after one warm-up
epoch of each (the kernel compiles in the first); the ratio of the medians
is fit's overhead (the issue's target: <= 1.05x).
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np


def _model(spec, weights, lr):
    import symkb
    from symkb import layers
    if spec["cell"] is None:
        stack = [layers.Input((spec["input"],)), layers.Dense(spec["units"], activation="relu"),
                 layers.Dense(spec["units"], activation="relu")]
        shape = (spec["input"],)
    else:
        rec = (layers.LSTM(spec["units"]) if spec["cell"] == "lstm"
               else layers.GRU(spec["units"], reset_after=True))
        stack = [layers.Input((spec["time"], spec["input"])), rec]
        shape = (spec["time"], spec["input"])
    model = symkb.Sequential(stack + [layers.Dense(10, activation="softmax")])
    model.set_weights(list(weights))
    model.compile(optimizer=symkb.optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  target="cpu")
    return model, shape


def _direct(step, batches) -> float:
    start = time.perf_counter()
    for args in batches:
        step(args)
    return time.perf_counter() - start


def _fit(model, x, y, batch) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return time.perf_counter() - start


def run(spec, weights, n, repeats, lr, batch=32, shuffle=True):
    """``{"fit": [s], "steps": [s], "batches": int}`` for ``n`` samples."""
    model, shape = _model(spec, weights, lr)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.float32)
    model.train_on_batch(x[:batch], y[:batch])  # compiles the train step
    step = model._training.train_fn
    ones = np.ones(n, np.float32)
    column = y[:, None]  # fit gives the step a 1-D target as a column (tf_keras's expand_1d)
    batches = [[x[i:i + batch], column[i:i + batch], ones[i:i + batch]]
               for i in range(0, n, batch)]
    out = {"fit": [], "steps": [], "batches": len(batches)}
    _fit(model, x, y, batch)
    _direct(step, batches)
    for _ in range(repeats):
        out["fit"].append(_fit(model, x, y, batch))
        out["steps"].append(_direct(step, batches))
    return out


def main(args, models, make_data):
    """Print fit's time against its kernel calls' for each of ``args.models``."""
    print(f"symkb fit overhead: fit(batch_size=32, epochs=1, verbose=0) on {args.fit_samples} "
          f"samples vs the same train-step calls made directly; load average "
          f"{os.getloadavg()[0]:.2f}")
    print("| model | batches | fit s (median) | steps s (median) | fit / steps | min / min |")
    print("|---|---|---|---|---|---|")
    for mid in args.models.split(","):
        spec = models[mid]
        weights, _, _ = make_data(spec)
        res = run(spec, weights, args.fit_samples, args.fit_repeats, args.lr)
        fit, steps = statistics.median(res["fit"]), statistics.median(res["steps"])
        low = min(res["fit"]) / min(res["steps"])  # the least disturbed run of each
        print(f"| {mid} | {res['batches']} | {fit:.3f} | {steps:.3f} | {fit / steps:.3f}x | "
              f"{low:.3f}x |", flush=True)
        print(f"  fit runs {[round(t, 3) for t in res['fit']]}; step runs "
              f"{[round(t, 3) for t in res['steps']]}")
    print(f"load average after the run {os.getloadavg()[0]:.2f}")
    return 0
