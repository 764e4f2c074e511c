"""Compiled models over ``dask.array`` collections, lazily.

:func:`predict` maps a model over the row chunks of dask arrays: one task a
chunk, each calling the worker process's executable for the model
(:func:`symkb.scale.payload.executable`). The model enters the task graph
once, as one key holding its :class:`~symkb.scale.payload.Payload` (scattered
to the workers first when a ``distributed`` client is active), so the
scheduler never holds a copy of the weights per task. Nothing is computed
until the result is: the output shapes, dtypes and chunks come from the
graph's type rules.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import get_op
from ..ir.types import TensorType
from .payload import Payload, executable, payload_of


def is_dask_array(x) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (without importing dask)."""
    return type(x).__name__ == "Array" and type(x).__module__.startswith("dask.array")


def has_dask_arrays(x) -> bool:
    """Whether ``x`` is a dask array, or a list/tuple/dict holding one."""
    if isinstance(x, dict):
        return any(is_dask_array(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(is_dask_array(v) for v in x)
    return is_dask_array(x)


def output_types(graph, shapes) -> list:
    """The types of ``graph``'s outputs when its inputs have these concrete shapes.

    Runs the ops' type rules over the graph with the batch (first) axis left
    unknown, as the graph's bodies have it: the outputs' other ``None``
    dimensions become the sizes the inputs give.
    """
    types = {}
    for t, shape in zip(graph.inputs, shapes):
        types[t] = TensorType((None,) + tuple(shape[1:]), t.dtype) if t.ndim else t.type
    for node in graph.nodes:
        if any(t in types for t in node.outputs):
            continue
        opdef = get_op(node.op)
        if opdef.kind == "source":
            for out in node.outputs:
                types[out] = out.type
            continue
        result = opdef.infer([types.get(t, t.type) for t in node.inputs], node.attrs)
        for out, rt in zip(node.outputs, result):
            types[out] = rt
    return [types.get(t, t.type) for t in graph.outputs]


def _run_chunk(payload: Payload, batch_size, threads, *blocks):
    exe = executable(payload)
    if threads is not None and getattr(exe, "threads", None) != threads \
            and hasattr(exe, "threads"):
        exe.threads = threads
    rows = blocks[0].shape[0]
    step = rows if batch_size is None else batch_size
    parts = [exe(*[b[i:i + step] for b in blocks]) for i in range(0, max(rows, 1), step)]
    if payload.single_output:
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    if len(parts) == 1:
        return tuple(parts[0])
    return tuple(np.concatenate([p[j] for p in parts], axis=0) for j in range(len(parts[0])))


def _inputs(graph, x, name) -> list:
    """The dask arrays for the graph's inputs, chunked alike along the batch only."""
    import dask.array as da
    if isinstance(x, dict):
        names = [t.node.name for t in graph.inputs]
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(f"{name}: missing data for input {missing[0]!r}; the dict has "
                             f"keys {sorted(x)}, expected {names}")
        x = [x[n] for n in names]
    arrays = list(x) if isinstance(x, (list, tuple)) else [x]
    if len(arrays) != len(graph.inputs):
        raise ValueError(f"{name}: expected {len(graph.inputs)} input array(s), received "
                         f"{len(arrays)}")
    arrays = [a if is_dask_array(a) else da.from_array(np.asarray(a)) for a in arrays]
    for i, (t, a) in enumerate(zip(graph.inputs, arrays)):
        if a.ndim != t.ndim or any(w is not None and w != g for w, g in zip(t.shape, a.shape)):
            raise ValueError(f"{name}: input {i} ({t.name}) expects shape {t.shape}, received "
                             f"a dask array of shape {a.shape}")
        if math.isnan(a.shape[0]):
            raise ValueError(f"{name}: input {i} has unknown chunk sizes along the batch axis; "
                             "call `x.compute_chunk_sizes()` first")
    rows = {a.shape[0] for a in arrays}
    if len(rows) > 1:
        raise ValueError(f"{name}: data cardinality is ambiguous: the inputs have "
                         f"{sorted(rows)} rows. Make sure all arrays contain the same number "
                         "of samples.")
    first = arrays[0].chunks[0]
    return [a.rechunk({0: first, **{d: -1 for d in range(1, a.ndim)}}) for a in arrays]


def _model_key(payload: Payload):
    """The task-graph value standing for the model: a scattered future when a
    distributed client is active, else a delayed value (one key either way)."""
    import dask
    try:
        from distributed import default_client
        client = default_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        return client.scatter(payload, broadcast=True, hash=True)
    return dask.delayed(payload, pure=True, name=f"symkb-model-{payload.key[:16]}")


def predict(model, x, *, batch_size=None, target: str = "cpu", threads: int | None = 1):
    """The model's outputs over dask arrays, as lazy dask arrays.

    Args:
        model: a symkb model, a ``K.function`` / ``symkb.compile`` result, a
            graph or a :class:`~symkb.scale.payload.Payload`.
        x: a dask array chunked along its first (batch) axis, or a list (or a
            dict by input name) of them; numpy arrays in the list are wrapped.
            Other axes are gathered into one chunk.
        batch_size: rows per compiled call within a chunk (default: the chunk).
        target: the compile target on the workers.
        threads: threads each task's kernel uses (1: dask's tasks are the
            parallelism; ``None``: the kernel's default, all cores).

    Returns:
        A dask array (one output) or a list of them, chunked as the inputs'
        batch axis. Computing them runs the model.
    """
    from .extra import require_dask
    require_dask()
    import dask
    import dask.array as da
    payload = payload_of(model, target)
    graph = payload.graph()
    name = getattr(model, "name", None) or graph.name
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"predict: `batch_size` must be a positive integer, received "
                         f"{batch_size!r}")
    arrays = _inputs(graph, x, name)
    model_key = _model_key(payload)
    blocks = [a.to_delayed().ravel() for a in arrays]
    run = dask.delayed(_run_chunk, pure=True, nout=None)
    outs = [[] for _ in graph.outputs]
    shapes = [(None,) + a.shape[1:] for a in arrays]
    types = output_types(graph, shapes)
    for i, rows in enumerate(arrays[0].chunks[0]):
        result = run(model_key, batch_size, threads, *[b[i] for b in blocks])
        for j, t in enumerate(types):
            if not t.shape or t.shape[0] is not None or None in t.shape[1:]:
                raise ValueError(f"{name}: output {j} has shape {t.shape} for inputs of shapes "
                                 f"{shapes}; a dask result needs the batch first and every "
                                 "other size known from the inputs'")
            part = result if payload.single_output else result[j]
            outs[j].append(da.from_delayed(part, (rows,) + t.shape[1:],
                                           dtype=np.dtype(t.dtype)))
    results = [da.concatenate(parts, axis=0) for parts in outs]
    return results[0] if payload.single_output else results
