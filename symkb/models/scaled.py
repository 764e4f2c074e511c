"""``model.evaluate`` over dask arrays: per-chunk states on the workers, merged exactly.

Each chunk is one task: the worker runs the model's compiled test step (its
:class:`~symkb.scale.payload.Payload`, compiled once per process) over the
chunk's batches, keeping what ``evaluate`` keeps in memory: the loss sums
weighted by batch rows, the row count, and each metric's state (a fresh copy
of the model's metric, updated on the chunk's batches). The client adds them
up. Every tf_keras metric state is a sum (totals, counts, confusion counts,
AUC's bucketed counts), so the merged result is the state one pass over all
the rows gives: no average of averages.
"""
from __future__ import annotations

import copy

import numpy as np

from ..scale import payload_of
from ..scale.payload import executable
from . import fitting


def state_names(metric) -> list:
    """The attributes of ``metric`` that ``reset_state`` makes anew: its state."""
    probe = copy.copy(metric)
    before = {k: id(v) for k, v in vars(probe).items()}
    probe.reset_state()
    return sorted(k for k, v in vars(probe).items() if before.get(k) != id(v))


def merge_states(into, parts) -> None:
    """Add the states of the metrics ``parts`` into ``into`` (all of one kind)."""
    names = state_names(into)
    into.reset_state()
    for name in names:
        total = getattr(into, name)
        for part in parts:
            total = total + getattr(part, name)
        setattr(into, name, np.asarray(total, dtype=np.asarray(getattr(into, name)).dtype))


def _evaluate_chunk(payload, n_losses, metrics, outputs, batch_size, n_x, n_y, *blocks):
    """One chunk's loss sums, row count and metric states."""
    exe = executable(payload)
    exe.threads = 1 if hasattr(exe, "threads") else None
    rows = blocks[0].shape[0]
    sums = np.zeros(n_losses)
    for lo in range(0, rows, batch_size):
        part = [b[lo:lo + batch_size] for b in blocks]
        outs = exe(part)
        got = len(part[0])
        sums += np.array([float(v) for v in outs[:n_losses]]) * got
        preds = outs[n_losses:]
        ys = part[n_x:n_x + n_y]
        for (k, metric) in zip(outputs, metrics):
            metric.update_state(ys[k], preds[k])
    return sums, rows, metrics


def evaluate(model, x, y, batch_size, sample_weight, return_dict):
    """``model.evaluate`` on dask arrays (see the module docstring)."""
    import dask
    import dask.array as da
    from ..scale.arrays import has_dask_arrays, is_dask_array
    setup = fitting.setup_of(model)
    xs = [a if is_dask_array(a) else da.from_array(np.asarray(a))
          for a in (list(x) if isinstance(x, (list, tuple)) else [x])]
    if isinstance(x, dict) or isinstance(y, dict) or has_dask_arrays(sample_weight) \
            and isinstance(sample_weight, dict):
        raise ValueError("evaluate: on dask arrays, give `x` and `y` as arrays or lists in "
                         "the model's input and output order")
    ys = [a if is_dask_array(a) else da.from_array(np.asarray(a))
          for a in (list(y) if isinstance(y, (list, tuple)) else [y])]
    if len(xs) != len(model.inputs) or len(ys) != len(model.outputs):
        raise ValueError(f"evaluate: model {model.name!r} takes {len(model.inputs)} input(s) "
                         f"and {len(model.outputs)} target(s); received {len(xs)} and "
                         f"{len(ys)}")
    rows = {a.shape[0] for a in xs + ys}
    if len(rows) > 1:
        raise ValueError(f"evaluate: data cardinality is ambiguous: x and y have {sorted(rows)} "
                         "rows. Make sure all arrays contain the same number of samples.")
    ys = [a.astype(out.dtype) for a, out in zip(ys, model.outputs)]
    if sample_weight is None:
        ws = [da.ones((ys[0].shape[0],), dtype=ys[k].dtype, chunks=xs[0].chunks[0])
              for k in range(len(ys))]
    else:
        w = sample_weight if is_dask_array(sample_weight) else da.from_array(
            np.asarray(sample_weight))
        if w.shape != (ys[0].shape[0],):
            raise ValueError(f"evaluate: `sample_weight` has shape {w.shape}; expected "
                             f"({ys[0].shape[0]},), one weight per sample")
        ws = [w.astype(ys[k].dtype) for k in range(len(ys))]
    fitting.ensure_steps(model, ys)
    chunks = xs[0].chunks[0]
    arrays = [a.rechunk({0: chunks, **{d: -1 for d in range(1, a.ndim)}}) for a in xs + ys + ws]
    payload = payload_of(setup.test_fn, getattr(setup.test_fn, "target", "cpu"))
    fresh = []
    for _, metric, _ in setup.metrics:
        m = copy.deepcopy(metric)
        m.reset_state()
        fresh.append(m)
    outputs = [k for k, _, _ in setup.metrics]
    model_key = dask.delayed(payload, pure=True)
    run = dask.delayed(_evaluate_chunk, pure=True)
    blocks = [a.to_delayed().ravel() for a in arrays]
    tasks = [run(model_key, setup.n_losses, fresh, outputs, batch_size, len(xs), len(ys),
                 *[b[i] for b in blocks]) for i in range(len(chunks))]
    parts = dask.compute(*tasks)
    tracker = fitting.Tracker(model)
    tracker.sums = sum((p[0] for p in parts), np.zeros(setup.n_losses))
    tracker.count = sum(p[1] for p in parts)
    for j, (_, metric, _) in enumerate(setup.metrics):
        merge_states(metric, [p[2][j] for p in parts])
    return fitting.results(tracker.logs(), return_dict)
