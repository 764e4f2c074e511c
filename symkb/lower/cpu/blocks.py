"""Running a compiled function on blocks of batch rows, one a thread.

When a graph keeps its batch rows apart (``rows.py``), its generated function
is compiled with ``nogil=True`` and :func:`run_blocks` splits the batch into
contiguous row blocks: the calling thread runs the first, a small pool of
Python threads the others, and the row-wise results are joined along axis 0.
Each thread runs the whole graph, time loop included, on its rows, so the
threads meet once a call, not once a time step; and no ``prange`` means no
parallel compile.

The thread count is numba's: ``numba.set_num_threads`` once numba's threads
are running, else ``NUMBA_NUM_THREADS`` (by default the machine's cores).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROWS_PER_BLOCK = 8  # the fewest batch rows worth a thread of their own
# a batch row of this many positions and elements (a sequence, an image) is a
# block's worth of work on its own, its positions the products' rows
POSITIONS, ROW_ELEMENTS = 64, 1024

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_pid = 0  # a forked child has none of its parent's threads: it makes its own pool


def row_blocks(batch: int, threads: int, per_block: int = ROWS_PER_BLOCK) -> int:
    """How many row blocks ``batch`` rows split into: one a thread, each of at
    least ``per_block`` rows (1 for small batches)."""
    return max(1, min(threads, batch // per_block))


def rows_per_block(graph) -> int:
    """The fewest batch rows a block of ``graph`` takes: ``ROWS_PER_BLOCK``, the
    rows of one tile of the matrix kernel, or 1 when a batch row is a
    sequence or an image of ``POSITIONS`` positions and ``ROW_ELEMENTS``
    elements or more (the first input, of rank 3 or more, static sizes) and
    no time loop steps through it: the row's positions are the products'
    rows then, so two images or sequences run on two threads (W7's block of
    batch 8: 15.5 -> 8.4 ms on 2), where a recurrence's step would multiply
    one row a tile, and a small row would cost more to hand to a thread than
    to compute."""
    if not graph.inputs or any(n.op in ("scan", "loop") for _, n in graph.walk()):
        return ROWS_PER_BLOCK
    shape = graph.inputs[0].shape
    if len(shape) < 3 or None in shape[1:]:
        return ROWS_PER_BLOCK
    positions = 1
    for d in shape[1:-1]:
        positions *= d
    return 1 if positions >= POSITIONS and positions * shape[-1] >= ROW_ELEMENTS \
        else ROWS_PER_BLOCK


def thread_count() -> int:
    """numba's thread count, without launching numba's threads to read it."""
    import numba  # loaded already: the function it runs was compiled by numba
    from numba.np.ufunc import parallel
    if parallel._is_initialized:
        return numba.get_num_threads()
    return numba.config.NUMBA_NUM_THREADS


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size, _pool_pid
    with _lock:
        if _pool_pid != os.getpid():
            _pool = None  # made before a fork: its threads are not in this process
        if _pool is None or _pool_size < workers:
            # a pool too small is dropped, not shut down: a call in another thread
            # may be submitting to it (its threads end once it is collected)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symkb-rows")
            _pool_size, _pool_pid = workers, os.getpid()
        return _pool


def run_blocks(fn, inputs, rest, row_wise, blocks: int, outs=(), tail=(), spaces=None):
    """``fn(*inputs, *rest, *outs, *spaces, *tail)`` computed ``blocks`` row
    blocks at a time: ``(results, kept)``.

    ``inputs`` share their batch axis 0; ``row_wise[k]`` says whether result
    ``k`` is row-wise (joined along axis 0) or the same in every block (taken
    from the first). ``outs`` are ``fn``'s output arguments, ``(k, array)``:
    result ``k``'s whole-batch array, whose rows each block is given to write
    into, or an empty array when its shape is not known yet (the blocks then
    allocate their rows and the results are joined). ``spaces``: each block's
    workspace buffers (``workspace.py``), which ``fn`` returns after its
    results; ``kept`` has them, a list a block (``None`` without ``spaces``).
    """
    batch = inputs[0].shape[0]
    bounds = [(batch * b // blocks, batch * (b + 1) // blocks) for b in range(blocks)]

    def block(b, r0, r1):
        return fn(*[x[r0:r1] for x in inputs], *rest, *[o[r0:r1] for _, o in outs],
                  *(spaces[b] if spaces is not None else ()), *tail)
    if blocks == 1:
        results = [block(0, 0, batch)]
    else:
        pool = _executor(blocks - 1)
        pending = [pool.submit(block, b, r0, r1) for b, (r0, r1) in enumerate(bounds) if b]
        results = [block(0, *bounds[0])] + [f.result() for f in pending]
    kept = None
    if spaces is not None:
        n = len(row_wise)
        results, kept = [r[:n] for r in results], [list(r[n:]) for r in results]
    # whole-batch arrays (an empty placeholder has 0 rows; with 0 rows, 0 elements)
    whole = {k: o for k, o in outs if o.shape[0] == batch and (batch or o.size)}
    joined = []
    for k, rw in enumerate(row_wise):
        parts = [r[k] for r in results]
        if not rw:
            joined.append(parts[0])
        elif k in whole:
            joined.append(_gather(whole[k], parts, bounds))
        else:
            joined.append(parts[0] if blocks == 1 else np.concatenate(parts))
    return joined, kept


def _gather(out, parts, bounds):
    """``out`` with each block's rows in place: blocks that wrote into their
    rows of ``out`` already are left alone."""
    for part, (r0, r1) in zip(parts, bounds):
        rows = out[r0:r1]
        if part.shape != rows.shape or part.ctypes.data != rows.ctypes.data:
            rows[...] = part
    return out
