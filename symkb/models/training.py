"""``Model.compile`` and the compiled train and test steps (tf_keras semantics).

``compile`` resolves the optimizer, one loss per output (a single loss for
all, a list, or a dict keyed by output name), the loss weights and the
metrics, checking every name before it changes anything. The *train step*
is one graph: the model's forward pass (in training mode where a layer acts
differently: dropout, batch statistics; ``training_forward.py``), each
output's loss (masks and ``sample_weight`` as tf_keras applies them), their
weighted sum plus the regularization losses (``model.losses``), its
gradients, the optimizer's updates and the layers' state updates
(BatchNormalization's moving statistics) as ``assign`` results; it compiles to
one kernel that updates the weights in place (``K.function(...,
updates=...)``). Its inputs are the model's inputs, one target and one
sample-weight vector per output; the batch size is a run-time size, so the
last partial batch reuses the kernel. It returns the total loss, each
output's (unweighted) loss and the outputs themselves, from which ``fit``
updates the metrics on the host. The *test step* is the inference forward
pass with the same losses, without the gradients and updates.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from .training_forward import training_forward


class CompiledSetup:
    """What ``compile`` resolved: optimizer, per-output losses, weights, metrics."""

    def __init__(self, model, optimizer, loss, metrics, loss_weights, target):
        from .. import losses as L
        from .. import optimizers
        names = model.output_names
        self.model = model
        self.target = target
        self.optimizer = optimizers.get(optimizer)
        self.loss_ids = _per_output(loss, names, "loss")
        if any(i is None for i in self.loss_ids):
            missing = [n for n, i in zip(names, self.loss_ids) if i is None]
            raise ValueError(f"compile: no loss for output(s) {missing}; give a loss for "
                             "every output")
        self.losses = [_loss_object(L, i) for i in self.loss_ids]
        weights = _per_output(loss_weights, names, "loss_weights") if loss_weights is not None \
            else [1.0] * len(names)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.metric_ids = _metric_ids(metrics, names)
        self.config = {"optimizer": None, "loss": plain_loss(loss), "metrics": metrics,
                       "loss_weights": loss_weights}
        self.train_fn = None
        self._test_fn = None
        self.metrics = None

    def build_metrics(self, y_shapes) -> list:
        """``[(output index, Metric, log name)]``, resolved against the targets' shapes."""
        from .. import metrics as M
        out, names = [], self.model.output_names
        multi = len(names) > 1
        for k, ids in enumerate(self.metric_ids):
            for identifier in ids:
                metric = M.resolve(identifier, self.loss_ids[k],
                                   tuple(self.model.outputs[k].shape), y_shapes[k])
                if multi and any(m is metric for _, m, _ in out):
                    metric = type(metric).from_config(metric.get_config())
                out.append((k, metric, f"{names[k]}_{metric.name}" if multi else metric.name))
        self.metrics = out
        return out

    @property
    def test_fn(self):
        """The test step (the train step's outputs, no updates), compiled on first use."""
        if self._test_fn is None:
            inputs, outputs, name = self._test_graph
            self._test_fn = K.function(inputs, outputs, name=name, target=self.target)
        return self._test_fn

    # -- the step graphs ----------------------------------------------------------
    def _targets(self, y_arrays):
        targets, weights = [], []
        for k, (out, y) in enumerate(zip(self.model.outputs, y_arrays)):
            targets.append(K.placeholder(shape=(None,) + tuple(y.shape[1:]),
                                         dtype=out.dtype, name=f"target_{k}"))
            weights.append(K.placeholder(shape=(None,), dtype=out.dtype,
                                         name=f"sample_weight_{k}"))
        return targets, weights

    def _loss_values(self, outputs, targets, weights, extra=()):
        """``(total, per-output losses)``; ``extra`` (the regularization losses)
        add to the total only, as tf_keras adds them."""
        per_output = []
        total = None
        for out, loss, w, t, sw in zip(outputs, self.losses, self.loss_weights,
                                       targets, weights):
            value = loss(t, out, sample_weight=sw)
            per_output.append(value)
            weighted = value * np.float32(w) if w != 1.0 else value
            total = weighted if total is None else total + weighted
        for term in extra:
            total = total + K.cast(term, total.dtype) if isinstance(term, K.KerasTensor) \
                else total + np.float32(term)
        return total, per_output

    def step_functions(self, y_arrays) -> None:
        """Build and compile the train and test steps for targets like ``y_arrays``."""
        model = self.model
        targets, weights = self._targets(y_arrays)
        # with dropout and batch statistics acting, and the moving statistics' updates
        outputs, state_updates, extra = training_forward(model, with_losses=True)
        total, per_output = self._loss_values(outputs, targets, weights, extra)
        params = list(model.trainable_weights)
        grads = K.gradients(total, params)
        pairs = [(g, p) for g, p in zip(grads, params) if g is not None]
        updates = self.optimizer.apply_gradients(pairs) + list(state_updates)
        inputs = list(model.inputs) + targets + weights
        shown = per_output if len(per_output) > 1 else []
        name = f"{model.name}_train_step"
        masks = _output_masks(outputs)
        self.mask_of = {k: len(outputs) + j for j, k in enumerate(masks)}
        self.train_fn = K.function(inputs, [total] + shown + outputs + list(masks.values()),
                                   updates=updates, name=name, target=self.target)
        if outputs != list(model.outputs) or extra:  # evaluate: the inference forward pass
            total, per_output = self._loss_values(model.outputs, targets, weights,
                                                  model.losses)
            shown = per_output if len(per_output) > 1 else []
        test_masks = list(_output_masks(model.outputs).values())
        self._test_graph = (inputs, [total] + shown + list(model.outputs) + test_masks,
                            f"{model.name}_test_step")
        self._test_fn = None
        self.n_losses = 1 + len(shown)
        self.y_shapes = [tuple(y.shape[1:]) for y in y_arrays]


def _output_masks(outputs) -> dict:
    """``{output index: its mask as floats}`` for the outputs carrying a mask:
    tf_keras gives a masked output's metrics the mask as their sample weight."""
    from ..losses.reduction import get_mask
    masks = {}
    for k, out in enumerate(outputs):
        mask = get_mask(out)
        if mask is not None:
            masks[k] = K.cast(mask, out.dtype)
    return masks


def _per_output(value, names, what) -> list:
    """``value`` spread over the outputs: one for all, a list, or a dict by name."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"compile: `{what}` has keys {unknown} that name no output; the "
                             f"outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: `{what}` is a list of {len(value)} entries; the model "
                             f"has {len(names)} outputs {names}")
        return list(value)
    if what == "loss_weights":
        raise TypeError(f"compile: `loss_weights` must be a list or a dict, received "
                        f"{type(value).__name__}")
    return [value] * len(names)


def _loss_object(L, identifier):
    """A Loss object (a function is wrapped with tf_keras's default reduction)."""
    if identifier is None:
        raise ValueError("compile: `loss` is required to train")
    found = L.get(identifier)
    if isinstance(found, L.Loss):
        return found
    return L.LossFunctionWrapper(found, name=getattr(found, "__name__", None))


def _metric_ids(metrics, names) -> list:
    """One list of metric identifiers per output (tf_keras's layouts)."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        unknown = sorted(set(metrics) - set(names))
        if unknown:
            raise ValueError(f"compile: `metrics` has keys {unknown} that name no output; the "
                             f"outputs are {names}")
        return [_as_list(metrics.get(n)) for n in names]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"compile: `metrics` must be a list or a dict, received "
                        f"{type(metrics).__name__}")
    if len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
        if len(metrics) != len(names):
            raise ValueError(f"compile: `metrics` holds {len(metrics)} lists for "
                             f"{len(names)} outputs")
        return [list(m) for m in metrics]
    return [list(metrics) for _ in names]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def plain_loss(loss):
    """The loss argument as JSON-able data (for the saved compile config)."""
    from .. import losses as L
    if isinstance(loss, dict):
        return {k: plain_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [plain_loss(v) for v in loss]
    if isinstance(loss, str) or loss is None:
        return loss
    try:
        return L.serialize(loss)
    except ValueError:
        return getattr(loss, "__name__", repr(loss))


def check_targets(model, y_arrays, setup) -> None:
    """Each target array fits its output and loss; errors name the output.

    Raises:
        ValueError: a target of another rank or size than the output takes.
    """
    for k, (out, y) in enumerate(zip(model.outputs, y_arrays)):
        name = model.output_names[k]
        want = tuple(out.shape)
        sparse = "sparse" in _loss_label(setup.loss_ids[k])
        ranks = (len(want) - 1, len(want)) if sparse or want[-1] == 1 else (len(want),)
        if y.ndim not in ranks:
            raise ValueError(f"fit: the target of output {name!r} has shape {y.shape}; "
                             f"expected {_shape_text(want, sparse)} for its loss "
                             f"{_loss_label(setup.loss_ids[k])!r}")
        if sparse:
            continue
        got = y.shape[1:] if y.ndim == len(want) else y.shape[1:] + (1,)
        for d, (a, b) in enumerate(zip(want[1:], got)):
            if a is not None and a != b:
                raise ValueError(f"fit: the target of output {name!r} has shape {y.shape}; "
                                 f"expected {_shape_text(want, sparse)} (axis {d + 1}: "
                                 f"expected {a}, got {b})")


def _shape_text(shape, sparse) -> str:
    dims = ["batch" if d is None else str(d) for d in shape]
    if sparse:
        return f"({', '.join(dims[:-1])}) or ({', '.join(dims[:-1] + ['1'])}) class indices"
    return f"({', '.join(dims)})"


def _loss_label(identifier) -> str:
    if isinstance(identifier, str):
        return identifier.lower()
    fn = getattr(identifier, "fn", identifier)
    return (getattr(fn, "__name__", None) or type(identifier).__name__).lower()
