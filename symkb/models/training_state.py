"""A compiled model's training state in saved files: compile config and optimizer state.

``model.save`` of a compiled model adds ``"training_config"`` to
``config.json`` (the optimizer's ``serialize`` form, the loss, metrics and
loss weights as given to ``compile``, and the number of optimizer arrays)
and the optimizer's Variables to the weights file as ``optimizer_0``,
``optimizer_1``, ... (``iterations``, optimizer-wide state, then each
trainable weight's slots in ``model.trainable_weights`` order).
``load_model(compile=True)`` compiles the model again from the config and
restores that state, so ``fit`` continues exactly as the uninterrupted
training would have (bit for bit on the cpu target).
"""
from __future__ import annotations

import numpy as np


def metrics_config(metrics):
    from .. import metrics as M
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, dict):
        return {k: metrics_config(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [metrics_config(m) for m in metrics]
    return M.serialize(metrics)


def training_documents(model):
    """``(training config or None, {npz key: array})`` of ``model``'s compile state."""
    args = getattr(model, "_compile_args", None)
    if args is None:
        return None, {}
    from .. import optimizers
    from .training import plain_loss
    optimizer, loss, metrics, loss_weights, _target = args
    optimizer.build(list(model.trainable_weights))
    state = optimizer.get_weights()
    config = {"optimizer_config": optimizers.serialize(optimizer), "loss": plain_loss(loss),
              "metrics": metrics_config(metrics), "loss_weights": loss_weights,
              "optimizer_weights": len(state)}
    return config, {f"optimizer_{i}": a for i, a in enumerate(state)}


def optimizer_keys(doc) -> set:
    """The npz keys of the optimizer state a saved config announces."""
    config = doc.get("training_config") if isinstance(doc, dict) else None
    count = config.get("optimizer_weights", 0) if isinstance(config, dict) else 0
    return {f"optimizer_{i}" for i in range(count if isinstance(count, int) else 0)}


def restore_training(model, config, data) -> None:
    """Compile ``model`` from a saved training config and restore the optimizer state."""
    from .. import optimizers
    optimizer = optimizers.deserialize(config["optimizer_config"])
    model.compile(optimizer=optimizer, loss=config.get("loss"), metrics=config.get("metrics"),
                  loss_weights=config.get("loss_weights"))
    count = config.get("optimizer_weights", 0)
    if count:
        optimizer.build(list(model.trainable_weights))
        optimizer.set_weights([np.asarray(data[f"optimizer_{i}"]) for i in range(count)])
