"""``fit`` from data that is not in memory: dask arrays read chunk by chunk.

:class:`ChunkedRows` stands for a dask array in ``fit``'s batch loop: a batch
of rows is cut from the chunks that hold them, computed when first needed,
with at most two chunks in memory and the next one computed in the
background while the current one trains. The whole dataset is never
materialised.

Shuffling: a full permutation of the rows would need every chunk for every
batch, so ``shuffle=True`` shuffles the order of the chunks each epoch, and
the rows within each chunk (:func:`epoch_order`); batches straddle two chunks
only at their seams. With chunks much larger than the batch this is close to
a full shuffle; make chunks small enough (a few thousand rows) that the
chunk order mixes the data well.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class ChunkedRows:
    """A dask array's rows, computed a chunk at a time (see the module docstring)."""

    _pool = None

    def __init__(self, array, dtype=None):
        self.array = array
        self.dtype = np.dtype(dtype or array.dtype)
        self.shape = tuple(array.shape)
        self.ndim = len(self.shape)
        self.offsets = np.cumsum((0,) + tuple(array.chunks[0]))
        self._lock = threading.Lock()
        self._cache: dict = {}      # chunk index -> a future of the array
        self._recent: list = []
        self._next: dict = {}       # chunk -> the chunk after it this epoch

    def __len__(self) -> int:
        return self.shape[0]

    @classmethod
    def _executor(cls):
        if cls._pool is None:
            cls._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="symkb-chunks")
        return cls._pool

    def _load(self, i: int) -> np.ndarray:
        block = self.array.blocks[i].compute()
        return np.ascontiguousarray(block, dtype=self.dtype)

    def _submit(self, i: int):
        """Chunk ``i``'s future (started if new); keeps at most three chunks."""
        with self._lock:
            got = self._cache.get(i)
            if got is None:
                got = self._cache[i] = self._executor().submit(self._load, i)
            if i in self._recent:
                self._recent.remove(i)
            self._recent.append(i)
            while len(self._recent) > 3:  # the current, the previous (a seam), the next
                self._cache.pop(self._recent.pop(0), None)
            return got

    def chunk(self, i: int) -> np.ndarray:
        """Chunk ``i`` (from the cache, else computed now); the next one starts computing."""
        got = self._submit(i)
        following = self._next.get(i)
        if following is not None:
            self._submit(following)
            self._submit(i)  # still the most recent: the prefetch never evicts it
        return got.result()

    def plan(self, order) -> None:
        """Read the chunks in the order ``order`` (an epoch's rows) meets them."""
        which = np.searchsorted(self.offsets, np.asarray(order), side="right") - 1
        seq = list(dict.fromkeys(which.tolist()))
        self._next = dict(zip(seq, seq[1:]))

    def __getitem__(self, index):
        if isinstance(index, slice):
            lo, hi, _ = index.indices(self.shape[0])
            index = np.arange(lo, hi)
        index = np.asarray(index)
        which = np.searchsorted(self.offsets, index, side="right") - 1
        parts = []
        for c in dict.fromkeys(which.tolist()):  # the chunks in the order first met
            rows = index[which == c] - self.offsets[c]
            parts.append((np.nonzero(which == c)[0], self.chunk(c)[rows]))
        out = np.empty((len(index),) + self.shape[1:], self.dtype)
        for where, values in parts:
            out[where] = values
        return out


def epoch_order(chunks, shuffle: bool, rng=np.random) -> np.ndarray:
    """The row order of one epoch: chunks in a shuffled order, rows shuffled
    within each (``shuffle``), else every row in order."""
    offsets = np.cumsum((0,) + tuple(chunks))
    if not shuffle:
        return np.arange(offsets[-1])
    return np.concatenate([offsets[c] + rng.permutation(offsets[c + 1] - offsets[c])
                           for c in rng.permutation(len(chunks))])


def chunked_data(model, x, y, sample_weight, class_weight, where):
    """``fit``'s ``(inputs, targets, weights)`` with dask arrays as :class:`ChunkedRows`."""
    from ..scale.arrays import is_dask_array
    if class_weight is not None:
        raise ValueError(f"{where}: `class_weight` needs every label up front; on dask arrays "
                         "give `sample_weight` instead")
    if isinstance(x, dict) or isinstance(y, dict):
        raise ValueError(f"{where}: on dask arrays, give `x` and `y` as arrays or lists in the "
                         "model's input and output order")
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    if len(xs) != len(model.inputs) or len(ys) != len(model.outputs):
        raise ValueError(f"{where}: model {model.name!r} takes {len(model.inputs)} input(s) and "
                         f"{len(model.outputs)} target(s); received {len(xs)} and {len(ys)}")
    import dask.array as da
    arrays = [a if is_dask_array(a) else da.from_array(np.asarray(a)) for a in xs + ys]
    rows = {a.shape[0] for a in arrays}
    if len(rows) > 1:
        raise ValueError(f"{where}: data cardinality is ambiguous: x and y have {sorted(rows)} "
                         "rows. Make sure all arrays contain the same number of samples.")
    chunks = arrays[0].chunks[0]
    arrays = [a.rechunk({0: chunks, **{d: -1 for d in range(1, a.ndim)}}) for a in arrays]
    dtypes = [t.dtype for t in model.inputs] + [t.dtype for t in model.outputs]
    wrapped = [ChunkedRows(a, dt) for a, dt in zip(arrays, dtypes)]
    n = arrays[0].shape[0]
    if sample_weight is None:
        ws = [np.ones(n, dt) for dt in dtypes[len(xs):]]
    else:
        w = np.asarray(sample_weight.compute() if is_dask_array(sample_weight)
                       else sample_weight)
        if w.shape != (n,):
            raise ValueError(f"{where}: `sample_weight` has shape {w.shape}; expected ({n},), "
                             "one weight per sample")
        ws = [w.astype(dt) for dt in dtypes[len(xs):]]
    return wrapped[:len(xs)], wrapped[len(xs):], ws
