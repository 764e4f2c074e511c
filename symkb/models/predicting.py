"""``model.predict`` and ``model.predict_on_batch`` (tf_keras semantics).

``predict`` runs the compiled graph over batches of ``batch_size`` rows (32
unless given, as in tf_keras, so memory stays bounded on large inputs) and
concatenates the results; with ``steps`` and no ``batch_size`` the batch is
``ceil(rows / steps)``, as tf_keras sizes it. ``verbose`` ("auto" = 1) prints
tf_keras's progress bar. ``predict_on_batch`` runs all rows in one call.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..utils.progbar import Progbar

DEFAULT_BATCH_SIZE = 32


def _from_dict(x: dict, names: list) -> list:
    """The arrays of a ``{input name: array}`` dict, in the model's input order."""
    missing = [n for n in names if n not in x]
    if missing:
        raise ValueError(f"Missing data for input {missing[0]!r}. You passed a data dictionary "
                         f"with keys {sorted(x)}. Expected the following keys: {names}")
    return [x[n] for n in names] if len(names) > 1 else x[names[0]]


def _as_input_list(x, n, name) -> list:
    if n == 1 and not isinstance(x, (list, tuple)):
        return [np.asarray(x)]
    if isinstance(x, (list, tuple)) and len(x) == n and (n > 1 or np.ndim(x[0]) > 0):
        if n == 1 and not isinstance(x[0], np.ndarray) and np.ndim(x) > 1:
            return [np.asarray(x)]
        return [np.asarray(a) for a in x]
    if n == 1:
        return [np.asarray(x)]
    raise ValueError(f"{name} expects {n} input arrays, received "
                     f"{len(x) if isinstance(x, (list, tuple)) else 1}")


def input_arrays(model, x) -> list:
    """The model's input arrays from ``x`` (one array, a list, or a dict by
    input name), with their row counts checked."""
    if isinstance(x, dict):
        x = _from_dict(x, model.input_names)
    arrays = _as_input_list(x, len(model.inputs), model.name)
    sizes = [a.shape[0] if a.ndim else None for a in arrays]
    if len(set(sizes)) > 1:
        raise ValueError(f"{model.name}: data cardinality is ambiguous: x sizes: "
                         f"{', '.join(str(s) for s in sizes)}. Make sure all arrays "
                         "contain the same number of samples.")
    if sizes and sizes[0] == 0:
        raise ValueError(f"{model.name}: expected input data to be non-empty (received "
                         f"arrays of shapes {[a.shape for a in arrays]}).")
    return arrays


def _positive_int(value, name: str, allow_none_or_minus_one: bool = False):
    if allow_none_or_minus_one and (value is None or (isinstance(value, int) and value == -1)):
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        extra = ", None or -1" if allow_none_or_minus_one else ""
        raise ValueError(f"predict: `{name}` must be a positive integer{extra}. "
                         f"Received: {name}={value!r}")
    return int(value)


def _verbosity(verbose) -> int:
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if not isinstance(verbose, (int, np.integer)):  # bool is an int, as tf_keras takes it
        raise ValueError("predict: `verbose` must be 'auto', 0, 1 or 2. "
                         f"Received: verbose={verbose!r}")
    return int(verbose)


def _concat(model, chunks):
    if len(model.outputs) == 1:
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks, axis=0)
    return [np.concatenate([c[j] for c in chunks], axis=0) for j in range(len(model.outputs))]


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
    """``model.predict``: see :meth:`symkb.Model.predict`."""
    if callbacks:
        raise ValueError("predict: symkb has no callbacks (they come with training). "
                         f"Received: callbacks={callbacks!r}")
    verbose = _verbosity(verbose)
    steps = _positive_int(steps, "steps", allow_none_or_minus_one=True)
    from ..scale.arrays import has_dask_arrays
    if has_dask_arrays(x):  # lazy: a dask array out, computed when the user asks
        if steps:
            raise ValueError("predict: `steps` does not apply to dask arrays (their chunks "
                             f"are the steps). Received: steps={steps}")
        from ..scale import predict as predict_dask
        return predict_dask(model, x, batch_size=batch_size)
    model._ensure_built(x)
    arrays = input_arrays(model, x)
    n = arrays[0].shape[0] if arrays and arrays[0].ndim else 1
    if batch_size is None:
        batch_size = math.ceil(n / steps) if steps else DEFAULT_BATCH_SIZE
    batch_size = _positive_int(batch_size, "batch_size")
    batches = math.ceil(n / batch_size)
    target = steps or batches
    if steps and steps > batches:
        warnings.warn(f"predict: the input ran out of data after {batches} batches of "
                      f"{batch_size} rows; steps={steps} asked for more", stacklevel=3)
    fn = model._compiled_announced(verbose)
    if not arrays[0].ndim:  # a scalar input has no rows to batch
        return fn(*arrays)
    bar = None
    if verbose:
        bar = Progbar(target, verbose=verbose)
    chunks = []
    for step in range(min(target, batches)):
        start = step * batch_size
        chunks.append(fn(*[a[start:start + batch_size] for a in arrays]))
        if bar is not None:
            bar.update(step + 1)
    return _concat(model, chunks)


def predict_on_batch(model, x):
    """``model.predict_on_batch``: all rows of ``x`` in one compiled call."""
    model._ensure_built(x)
    return model._compiled()(*input_arrays(model, x))
