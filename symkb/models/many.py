"""Training several models at once on Dask: :func:`fit_many`.

Each model travels as the file ``model.save`` writes (its config, weights,
compile config and optimizer state: data only, read back by ``load_model``,
which executes nothing from it), is trained by ``fit`` on a worker, and
comes back as its history and final weights. The data is sent to the
workers once (scattered when a ``distributed`` client is active) and shared
by every task. Without a client, the tasks run on Dask's threaded scheduler.
"""
from __future__ import annotations

import os
import tempfile


def _model_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory(prefix="symkb-many-") as folder:
        path = os.path.join(folder, "model.symkb")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _fit_one(blob: bytes, x, y, fit_kwargs: dict) -> dict:
    """On a worker: load the model from its file's bytes, fit it, report."""
    from .saving import load_model
    with tempfile.TemporaryDirectory(prefix="symkb-many-") as folder:
        path = os.path.join(folder, "model.symkb")
        with open(path, "wb") as f:
            f.write(blob)
        model = load_model(path)
    history = model.fit(x, y, **fit_kwargs)
    return {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "epochs": list(history.epoch), "weights": model.get_weights()}


def fit_many(models, x, y, *, client=None, update_weights: bool = True, **fit_kwargs) -> list:
    """Fit every compiled model of ``models`` on ``(x, y)``, as Dask tasks.

    Args:
        models: compiled symkb models (``model.compile(...)`` was called).
        x, y: the training data (numpy arrays or lists of them), sent once.
        client: a ``distributed.Client`` (default: the active one, if any;
            else the threaded scheduler of this process).
        update_weights: set each model's weights to the trained ones.
        **fit_kwargs: ``fit``'s arguments (``epochs``, ``batch_size``...;
            ``verbose`` defaults to 0).

    Returns:
        One dict per model, in order: ``history`` (``History.history``),
        ``epochs`` and ``weights``.
    """
    from ..scale.extra import require_dask
    require_dask()
    import dask
    for i, model in enumerate(models):
        if getattr(model, "_training", None) is None and getattr(model, "optimizer", None) is None:
            raise ValueError(f"fit_many: model {i} ({model.name!r}) is not compiled; call "
                             "model.compile(optimizer, loss) first")
    fit_kwargs.setdefault("verbose", 0)
    if client is None:
        try:
            from distributed import default_client
            client = default_client()
        except (ImportError, ValueError):
            client = None
    blobs = [_model_bytes(m) for m in models]
    if client is not None:
        data = client.scatter([x, y], broadcast=True)
        futures = [client.submit(_fit_one, blob, data[0], data[1], fit_kwargs, pure=False)
                   for blob in blobs]
        results = client.gather(futures)
    else:
        xd, yd = dask.delayed(x, pure=True), dask.delayed(y, pure=True)
        results = dask.compute(*[dask.delayed(_fit_one, pure=False)(blob, xd, yd, fit_kwargs)
                                 for blob in blobs], scheduler="threads")
    if update_weights:
        for model, result in zip(models, results):
            model.set_weights(result["weights"])
    return list(results)
