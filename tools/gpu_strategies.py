"""Time the cuda target's two loop strategies on the recurrent workloads.

    NUMBA_ENABLE_CUDASIM=0 python tools/gpu_strategies.py [--small]

For W1, W2 and W5 of benchmarks/README.md (SimpleRNN, LSTM, GRU; batch 32,
100 steps): the compiled graph run with ``strategy='steps'`` (a host loop of
per-step launches) and ``'persistent'`` (one launch for every step), median
ms of ten calls after two, numpy in and out, and the largest difference
from the interpreter. ``--small`` shrinks the shapes (for the simulator).
"""
from __future__ import annotations

import sys
import time

import numpy as np

import symkb
from symkb import backend as K
from symkb import layers
from symkb.lower import compile_graph
from symkb.lower.cuda import compile_cuda

SMALL = "--small" in sys.argv
CASES = {"W1": (layers.SimpleRNN, 32, 64), "W2": (layers.LSTM, 64, 128),
         "W5": (layers.GRU, 64, 128)}


def main():
    batch, steps = (2, 3) if SMALL else (32, 100)
    rng = np.random.default_rng(0)
    for name, (cls, features, units) in CASES.items():
        if SMALL:
            features, units = 4, 8
        K.clear_session()
        inp = layers.Input((steps, features))
        model = symkb.Model(inp, cls(units, return_sequences=True)(inp))
        x = rng.standard_normal((batch, steps, features)).astype("float32")
        want = compile_graph(model.graph, "interpreter")([x])[0]
        for strategy in ("steps", "persistent"):
            try:
                exe = compile_cuda(model.graph, strategy=strategy)
                got = exe([x])[0]
                err = float(np.max(np.abs(got - want)))
                for _ in range(2):
                    exe([x])
                times = []
                for _ in range(3 if SMALL else 10):
                    t = time.perf_counter()
                    exe([x])
                    times.append(time.perf_counter() - t)
                print(f"{name} {strategy:10s} {np.median(times) * 1e3:9.3f} ms  "
                      f"max |diff| {err:.2e}", flush=True)
            except Exception as exc:  # report and go on to the next strategy
                print(f"{name} {strategy:10s} failed: {type(exc).__name__}: {exc}"[:300],
                      flush=True)


if __name__ == "__main__":
    main()
