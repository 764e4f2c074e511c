"""A compiled model's training state in tf_keras's own files.

tf_keras keeps it in two places, and symkb reads and writes both:

* the ``.keras`` archive: ``"compile_config"`` in ``config.json`` (the
  arguments of ``compile``: the optimizer as ``{"module", "class_name",
  "config", "registered_name"}``, the loss, metrics and loss weights), and
  the optimizer's variables in ``model.weights.h5`` at ``optimizer/vars/0``,
  ``optimizer/vars/1``, ... in tf_keras's order (``iteration``, then the
  slots: :meth:`symkb.optimizers.Optimizer.keras_variables`). The metrics'
  running totals tf_keras writes under ``metrics/`` are read past: fit
  starts them afresh, as tf_keras does.
* the legacy ``.h5`` model: attribute ``training_config`` (the same, with the
  optimizer as ``"optimizer_config"``) and group ``optimizer_weights``, whose
  attribute ``weight_names`` lists the variables in the same order.

Optimizer-wide state that tf_keras does not keep (Nadam's running product)
goes to ``optimizer/symkb_vars`` (``symkb_optimizer_weights`` in ``.h5``),
which tf_keras does not read, so that a model saved by symkb resumes bit for
bit. As in tf_keras, a compile config that cannot be used, or optimizer
state whose count differs from the optimizer's, is reported by a warning and
the model is still loaded (uncompiled, or with a fresh optimizer state);
state of the right count but a wrong shape is an error.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..ir.errors import FileFormatError

TRAINING_ROOTS = ("optimizer", "metrics")
VARS = "optimizer/vars"
SYMKB_VARS = "optimizer/symkb_vars"
# Keras 3 optimizer options with no counterpart here: dropped when at their default
_KERAS3_DEFAULTS = {"loss_scale_factor": None, "gradient_accumulation_steps": None}


def is_training_path(path: str) -> bool:
    """Whether a weights-file path holds training state, not a model weight."""
    return path.split("/", 1)[0] in TRAINING_ROOTS


def _compile_args(model):
    return getattr(model, "_compile_args", None)


def _serialized(obj, module: str):
    """``{"module", "class_name", "config", "registered_name"}`` for a dict entry."""
    if isinstance(obj, dict) and "class_name" in obj:
        return {"module": module, "registered_name": None, **obj}
    if isinstance(obj, dict):
        return {k: _serialized(v, module) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_serialized(v, module) for v in obj]
    return obj


def compile_config(model):
    """tf_keras's ``compile_config`` of a compiled ``model`` (None when not compiled)."""
    args = _compile_args(model)
    if args is None:
        return None
    from .training import plain_loss
    from .training_state import metrics_config
    optimizer, loss, metrics, loss_weights, _target = args
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
                          "config": optimizer.get_config(), "registered_name": None},
            "loss": _serialized(plain_loss(loss), "keras.losses"),
            "metrics": _serialized(metrics_config(metrics), "keras.metrics"),
            "loss_weights": loss_weights, "weighted_metrics": None, "run_eagerly": None,
            "steps_per_execution": None, "jit_compile": None}


def legacy_training_config(model):
    """The ``training_config`` attribute of a legacy ``.h5`` model (None when not compiled)."""
    config = compile_config(model)
    if config is None:
        return None
    optimizer = config["optimizer"]
    return {"loss": config["loss"], "metrics": config["metrics"], "weighted_metrics": None,
            "loss_weights": config["loss_weights"],
            "optimizer_config": {"class_name": optimizer["class_name"],
                                 "config": optimizer["config"]}}


def optimizer_state(model):
    """``(tf_keras-ordered [(name, array)], [(name, array)] of symkb-only state)``
    of a compiled model's optimizer (both empty when not compiled)."""
    args = _compile_args(model)
    if args is None:
        return [], []
    optimizer = args[0]
    optimizer.build(list(model.trainable_weights))
    named = [(_keras_name(v, optimizer), v.numpy()) for v in optimizer.keras_variables()]
    extra = [(f"{v.name.split(':')[0]}:0", v.numpy()) for v in optimizer.extra_variables()]
    return named, extra


def _keras_name(variable, optimizer) -> str:
    """tf_keras's name of an optimizer variable (``Adam/m/dense/kernel:0``)."""
    if variable is optimizer.iterations:
        return "iteration:0"
    prefix = f"{optimizer.name}/"
    rest = variable.name.split(":")[0]
    rest = rest[len(prefix):] if rest.startswith(prefix) else rest
    weight, _, slot = rest.rpartition("/")
    return f"{optimizer.name}/{slot}/{weight}:0"


def archive_arrays(model) -> dict:
    """``{weights-file path: array}`` of the optimizer state for a ``.keras`` archive."""
    named, extra = optimizer_state(model)
    out = {f"{VARS}/{i}": a for i, (_, a) in enumerate(named)}
    out.update({f"{SYMKB_VARS}/{i}": a for i, (_, a) in enumerate(extra)})
    return out


def _optimizer_from(config: dict):
    from .. import optimizers
    name = str(config.get("class_name", ""))
    name = name.split(">", 1)[1] if name.startswith("Custom>") else name
    options = dict(config.get("config") or {})
    for key, default in _KERAS3_DEFAULTS.items():
        if key in options and options[key] == default:
            del options[key]
    return optimizers.deserialize({"class_name": name, "config": options})


def _loss_from(loss):
    """tf_keras's serialized loss as something ``compile`` takes."""
    if isinstance(loss, dict) and loss.get("class_name") == "function":
        return loss.get("config")
    if isinstance(loss, dict) and "class_name" in loss:
        return {"class_name": loss["class_name"], "config": loss.get("config") or {}}
    if isinstance(loss, dict):
        return {k: _loss_from(v) for k, v in loss.items()}
    if isinstance(loss, list):
        return [_loss_from(v) for v in loss]
    return loss


def _metric_from(metric):
    """A metric entry of a tf_keras config as something ``compile`` takes."""
    if isinstance(metric, dict) and metric.get("class_name") in ("MeanMetricWrapper",
                                                                 "function"):
        config = metric.get("config")
        if not isinstance(config, dict):
            return config
        from ..metrics.registry import REGISTRY
        name = config.get("name")
        return name if name in REGISTRY.functions else config.get("fn") or name
    if isinstance(metric, dict) and "class_name" in metric:
        return {"class_name": metric["class_name"], "config": metric.get("config") or {}}
    if isinstance(metric, dict):
        return {k: _metric_from(v) for k, v in metric.items()}
    if isinstance(metric, list):
        return [_metric_from(v) for v in metric]
    return metric


def _metrics_from(metrics, model):
    metrics = _metric_from(metrics)
    # tf_keras's legacy files nest the metrics once per output
    if isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list) \
            and len(getattr(model, "outputs", None) or [None]) == 1:
        metrics = metrics[0]
    return metrics


def compile_from(model, config: dict, where: str) -> bool:
    """Compile ``model`` from a saved ``compile_config`` or ``training_config``.

    Returns:
        Whether it compiled; when the config cannot be used a warning says
        why and the model stays uncompiled (tf_keras's behaviour).
    """
    try:
        optimizer = _optimizer_from(config.get("optimizer") or config.get("optimizer_config")
                                    or {})
        model.compile(optimizer=optimizer, loss=_loss_from(config.get("loss")),
                      metrics=_metrics_from(config.get("metrics"), model),
                      loss_weights=config.get("loss_weights"))
    except (ValueError, TypeError, KeyError) as exc:
        warnings.warn(f"load_model: {where}: the saved compile configuration could not be "
                      f"used ({exc}); the model is loaded without it: call model.compile() "
                      "before training it", stacklevel=3)
        return False
    return True


def restore_optimizer(model, arrays: list, extra: list, where: str) -> None:
    """Set the compiled ``model``'s optimizer state from tf_keras-ordered arrays.

    Raises:
        FileFormatError: an array whose shape is not the variable's.
    """
    optimizer = model.optimizer
    optimizer.build(list(model.trainable_weights))
    variables = optimizer.keras_variables()
    if len(arrays) != len(variables):
        warnings.warn(f"load_model: {where}: the optimizer state is not restored: the file "
                      f"holds {len(arrays)} optimizer variables, optimizer "
                      f"{optimizer.name!r} has {len(variables)}; training starts with a "
                      "fresh optimizer state", stacklevel=3)
        return
    extras = optimizer.extra_variables()
    pairs = list(zip(variables, arrays))
    if len(extra) == len(extras):
        pairs += list(zip(extras, extra))
    for variable, value in pairs:
        if tuple(np.shape(value)) != tuple(variable.shape):
            raise FileFormatError(f"load_model: {where}: optimizer variable {variable.name} "
                                  f"has shape {tuple(variable.shape)}; the file holds "
                                  f"{tuple(np.shape(value))}", field="optimizer")
    for variable, value in pairs:
        variable.assign(np.asarray(value).astype(variable.dtype))


def indexed(arrays: dict, root: str) -> list:
    """The arrays at ``root/0``, ``root/1``, ... of a weights file, in index order."""
    found = {}
    for path, value in arrays.items():
        head, _, index = path.rpartition("/")
        if head == root and index.isdigit():
            found[int(index)] = value
    if sorted(found) != list(range(len(found))):
        raise FileFormatError(f"the weights file's {root} are not numbered 0..n-1: "
                              f"{sorted(found)[:8]}", field=root)
    return [found[i] for i in range(len(found))]
