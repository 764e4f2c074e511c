"""Scoring throughput on Dask: a W2-sized LSTM over many sequences.

    python benchmarks/dask_predict.py [--rows 1000000] [--chunk 4096]

W2's model (LSTM(128) over 100 steps of 64 features, float32) scores
``--rows`` sequences, generated chunk by chunk inside the tasks (a fixed
random block plus a per-chunk offset, so generating costs one pass over the
chunk and no input is ever held whole). Four ways, in one run:

* ``in-process``: the compiled model called on each chunk in turn, one
  thread per call (the compute Dask's tasks do, without Dask);
* ``threads``: ``symkb.scale.predict`` on the threaded scheduler (2 threads);
* ``cluster-1`` / ``cluster-2``: a ``distributed.LocalCluster`` of 1 / 2
  worker processes, one thread each (the model compiled once per worker,
  from the disk cache).

Each is checked against the in-process result on the first chunk, then timed
over all rows (reductions of the outputs only are gathered, so the
client's memory stays small). The table gives rows/s, the speed-up over one
worker, the difference from in-process, and Dask's overhead on one worker: the
wall time its tasks were not computing (Dask's task stream), as a share of
the time they were, and per task.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import symkb  # noqa: E402
from symkb import layers  # noqa: E402

STEPS, FEATURES, UNITS = 100, 64, 128


def build_model():
    rng = np.random.RandomState(102)
    inp = layers.Input((STEPS, FEATURES))
    model = symkb.models.Model(inp, layers.LSTM(UNITS)(inp))
    model.set_weights([(rng.standard_normal(w.shape) * 0.1).astype("float32")
                       for w in model.get_weights()])
    return model


_BASE = {}


def make_chunk(i: int, rows: int) -> np.ndarray:
    """Chunk ``i``: a fixed random block (made once per process) plus ``i / 1000``."""
    base = _BASE.get(rows)
    if base is None:
        base = _BASE[rows] = np.random.RandomState(rows).standard_normal(
            (rows, STEPS, FEATURES)).astype("float32")
    return base + np.float32(i / 1000)


def chunk_sizes(total: int, chunk: int) -> list:
    return [min(chunk, total - lo) for lo in range(0, total, chunk)]


def dask_input(total: int, chunk: int):
    import dask
    import dask.array as da
    make = dask.delayed(make_chunk, pure=True)
    return da.concatenate([da.from_delayed(make(i, n), (n, STEPS, FEATURES), np.float32)
                           for i, n in enumerate(chunk_sizes(total, chunk))], axis=0)


def in_process(model, total: int, chunk: int) -> tuple:
    exe = symkb.compile(model, target="cpu")
    exe.threads = 1
    start = time.perf_counter()
    sums = [float(exe(make_chunk(i, n)).sum(dtype=np.float64))
            for i, n in enumerate(chunk_sizes(total, chunk))]
    return time.perf_counter() - start, sums


def on_dask(model, total: int, chunk: int, **compute) -> tuple:
    import dask
    import dask.array as da
    y = symkb.scale.predict(model, dask_input(total, chunk))
    sums = da.map_blocks(lambda b: b.sum(dtype=np.float64, keepdims=True).reshape(1, 1), y,
                         chunks=((1,) * y.numblocks[0], (1,)), dtype=np.float64)
    start = time.perf_counter()
    (result,) = dask.compute(sums, **compute)
    return time.perf_counter() - start, [float(v) for v in result.ravel()]


TASK_COMPUTE: dict = {}  # way -> seconds the workers spent computing tasks


def on_cluster(model, total: int, chunk: int, workers: int) -> tuple:
    from distributed import Client, LocalCluster, get_task_stream
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster):
        on_dask(model, chunk * workers, chunk)  # each worker compiles (disk cache) first
        with get_task_stream() as stream:
            result = on_dask(model, total, chunk)
        TASK_COMPUTE[f"cluster-{workers}"] = sum(
            s["stop"] - s["start"] for record in stream.data for s in record["startstops"]
            if s["action"] == "compute")
        return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--ways", default="in-process,threads,cluster-1,cluster-2")
    args = parser.parse_args(argv)
    model = build_model()
    ways = args.ways.split(",")
    tasks = len(chunk_sizes(args.rows, args.chunk))
    print(f"W2 LSTM({UNITS}) over ({args.rows}, {STEPS}, {FEATURES}) float32 in {tasks} "
          f"chunk(s) of {args.chunk}; {os.cpu_count()} cores")
    base_t, base_sums = in_process(model, args.chunk, args.chunk)  # compile + check input
    runs = {}
    for way in ways:
        if way == "in-process":
            runs[way] = in_process(model, args.rows, args.chunk)
        elif way == "threads":
            runs[way] = on_dask(model, args.rows, args.chunk, scheduler="threads",
                                num_workers=2)
        elif way.startswith("cluster-"):
            runs[way] = on_cluster(model, args.rows, args.chunk, int(way.split("-")[1]))
        else:
            parser.error(f"unknown way {way!r}")
        seconds, sums = runs[way]
        if not np.allclose(sums[:1], base_sums[:1], rtol=1e-6):
            raise SystemExit(f"{way}: first chunk sums {sums[0]} != in-process {base_sums[0]}")
    one = runs.get("cluster-1", runs.get("in-process"))[0]
    ref = runs.get("in-process", (None,))[0]
    print("\n| way | seconds | rows/s | vs cluster-1 | vs in-process | Dask overhead | per task |")
    print("|---|---|---|---|---|---|---|")
    for way, (seconds, _) in runs.items():
        versus = over = per_task = "-"
        if ref is not None and way.startswith("cluster-"):
            versus = f"{(seconds - ref) / ref * 100:+.1f}%"
        if way == "cluster-1" and way in TASK_COMPUTE:
            # one worker, one thread: the time its tasks did not compute is Dask's
            busy = TASK_COMPUTE[way]
            over = f"{(seconds - busy) / busy * 100:.1f}%"
            per_task = f"{(seconds - busy) / tasks * 1e3:.1f} ms"
        print(f"| {way} | {seconds:.2f} | {args.rows / seconds:,.0f} | {one / seconds:.2f}x | "
              f"{versus} | {over} | {per_task} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
