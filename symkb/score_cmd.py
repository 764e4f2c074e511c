"""``symkb score MODEL INPUT... --out OUT``: a saved model over large arrays, in parallel.

The inputs are ``.npy`` files (memory-mapped, never read whole; object arrays
refused) or zarr arrays (``.zarr``, when the zarr package is installed), one
per model input, with the same number of rows. They are cut into chunks of
``--chunk`` rows and scored on Dask: ``--workers 0`` (the default) uses the
threaded scheduler of this process, ``--workers N`` a local cluster of N
worker processes (one thread each), each compiling the model once. The
results stream into ``OUT`` (a ``.npy`` file written chunk by chunk; a
model with several outputs writes ``OUT`` with ``_0``, ``_1``... before the
extension). Dask's progress bar shows the chunks done.

The model file is read by the loaders ``symkb inspect`` uses, which never
execute anything a file holds.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np


def _read_rows(path: str, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of the ``.npy`` file at ``path`` (read where the task runs)."""
    return np.array(np.load(path, mmap_mode="r", allow_pickle=False)[lo:hi])


def _open_input(path: str, chunk: int):
    """A dask array over ``path``, each chunk read from the file by its own task
    (the file's contents never travel through the scheduler)."""
    import dask
    import dask.array as da
    if path.rstrip("/").endswith(".zarr"):
        try:
            return da.from_zarr(path).rechunk({0: chunk})
        except ImportError as exc:
            raise ImportError(f"score: reading {path} needs the zarr package ({exc})") from None
    head = np.load(path, mmap_mode="r", allow_pickle=False)
    if not isinstance(head, np.ndarray) or head.ndim == 0:
        raise ValueError(f"score: {path} must hold one array with rows (an .npy file), "
                         f"received {type(head).__name__}")
    path = os.path.abspath(path)
    read = dask.delayed(_read_rows, pure=True)
    parts = [da.from_delayed(read(path, lo, min(lo + chunk, len(head))),
                             (min(lo + chunk, len(head)) - lo,) + head.shape[1:], head.dtype)
             for lo in range(0, len(head), chunk)]
    return da.concatenate(parts, axis=0)


def _out_paths(out: str, n: int) -> list:
    if n == 1:
        return [out]
    stem, ext = os.path.splitext(out)
    return [f"{stem}_{i}{ext or '.npy'}" for i in range(n)]


def _as_list(results) -> list:
    return results if isinstance(results, list) else [results]


def _targets(out: str, results) -> tuple:
    paths = _out_paths(out, len(results))
    return paths, [np.lib.format.open_memmap(p, mode="w+", dtype=r.dtype, shape=r.shape)
                   for p, r in zip(paths, results)]


def _gather_into(client, results, targets) -> None:
    """Compute every chunk on the cluster; write each into its file as it arrives."""
    from distributed import as_completed
    from .utils.progbar import Progbar
    where = {}
    for j, r in enumerate(results):
        offsets = np.cumsum((0,) + r.chunks[0])
        for i, block in enumerate(r.to_delayed().ravel()):
            where[block.key] = (j, offsets[i], offsets[i + 1])
    blocks = [b for r in results for b in r.to_delayed().ravel()]
    futures = client.compute(blocks)
    bar = Progbar(len(futures))
    for done, future in enumerate(as_completed(futures), 1):
        j, lo, hi = where[future.key]
        targets[j][lo:hi] = future.result()
        future.release()
        bar.update(done)


def run_score(args) -> int:
    """Score ``args.inputs`` with the model in ``args.model``; write ``args.out``."""
    from .scale.extra import require_dask
    require_dask()
    import dask.array as da
    from .inspect_cmd import load_any
    from .scale import predict
    model, graph = load_any(args.model)
    arrays = [_open_input(p, args.chunk) for p in args.inputs]
    what = model if model is not None else graph
    rows = arrays[0].shape[0]
    print(f"scoring {rows} row(s) in {len(arrays[0].chunks[0])} chunk(s) of up to "
          f"{args.chunk} on {args.workers or 'the threads of this process'}"
          f"{' worker process(es)' if args.workers else ''}", flush=True)
    start = time.perf_counter()
    if args.workers:
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=40) as cluster, \
                Client(cluster) as client:
            results = _as_list(predict(what, arrays, target=args.target))
            paths, targets = _targets(args.out, results)
            _gather_into(client, results, targets)
    else:
        from dask.diagnostics import ProgressBar
        results = _as_list(predict(what, arrays, target=args.target))
        paths, targets = _targets(args.out, results)
        with ProgressBar():
            da.store(results, targets, lock=False, scheduler="threads")
    for t in targets:
        t.flush()
    seconds = time.perf_counter() - start
    print(f"\nwrote {', '.join(paths)}: {rows / max(seconds, 1e-9):,.0f} rows/s "
          f"({seconds:.2f} s)", file=sys.stdout)
    return 0
