#!/usr/bin/env python3
"""onnxruntime against symkb on W1-W5, the models exported by symkb.onnx.export.

    python benchmarks/onnx.py [--workloads W1,W2] [--repeats 7] [--threads 2]

Each workload's model (``rnn.symkb_build_model``, the weights of
``rnn.py``) is exported with ``symkb.onnx.export`` (the recurrence as an ONNX
``Scan``) and run in onnxruntime (CPU provider, ``intra_op_num_threads`` =
``--threads``, sequential execution, all graph optimisations); symkb runs the
same model compiled for the cpu target. Both are checked against the float64
reference of ``rnn.py`` (max abs difference < 1e-4) before they are timed;
median of ``--repeats`` calls after two warm-up calls, in one run. The table
shows the times and the ratio onnxruntime / symkb (above 1: symkb is faster).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="onnxruntime vs symkb (W1-W5, exported models)")
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tol", type=float, default=1e-4)
    return p.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

# This file is named onnx.py: its folder must not be on the path, or it would be
# imported as the onnx package. rnn.py is loaded from its file instead.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != HERE]
import importlib.util  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

_spec = importlib.util.spec_from_file_location("rnn", os.path.join(HERE, "rnn.py"))
rnn = importlib.util.module_from_spec(_spec)  # workloads, weights, reference
sys.modules["rnn"] = rnn
_spec.loader.exec_module(rnn)


def median_time(fn, x, repeats):
    fn(x)
    fn(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def make_ort(model, threads):
    """The model exported to ONNX, in an onnxruntime session: ``f(x) -> y``."""
    import onnxruntime as ort

    import symkb.onnx
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        symkb.onnx.export(model, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def run(args):
    import symkb
    rows = []
    for wid in args.workloads.split(","):
        wl = rnn.WORKLOADS[wid]
        x, ref = wl.x, wl.data()["ref"]
        model = rnn.symkb_build_model(wl)
        impls = {"onnxruntime": make_ort(model, args.threads),
                 "symkb cpu": symkb.compile(model, target="cpu")}
        times = {}
        for name, fn in impls.items():
            err = float(np.abs(np.asarray(fn(x), np.float64) - ref).max())
            if err >= args.tol:
                times[name] = f"wrong ({err:.1e})"
                continue
            times[name] = median_time(fn, x, args.repeats)
        rows.append((wid, wl.label, times))
    print(f"{'workload':<8} {'model':<28} {'onnxruntime':>12} {'symkb cpu':>12} "
          f"{'ort/symkb':>10}")
    for wid, label, t in rows:
        a, b = t["onnxruntime"], t["symkb cpu"]
        ratio = f"{a / b:.2f}" if isinstance(a, float) and isinstance(b, float) else "-"
        show = [f"{v * 1e3:.2f} ms" if isinstance(v, float) else v for v in (a, b)]
        print(f"{wid:<8} {label:<28} {show[0]:>12} {show[1]:>12} {ratio:>10}")


if __name__ == "__main__":
    run(ARGS)
