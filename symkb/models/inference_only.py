"""The training methods of tf_keras's Model, which symkb models do not have yet.

symkb models run inference only. Reaching for ``model.compile``, ``fit``,
``evaluate``, ``train_on_batch``, ``test_on_batch`` (or their generator
forms) raises an ``AttributeError`` that says so and what symkb offers
instead, rather than a bare "has no attribute". ``hasattr(model, "fit")`` is
False, as for any attribute a model lacks.
"""
from __future__ import annotations

TRAINING_METHODS = ("compile", "fit", "evaluate", "train_on_batch", "test_on_batch",
                    "fit_generator", "evaluate_generator")

_INSTEAD = ("symkb models run inference only for now: train in tf_keras, then "
            "`model.set_weights(tf_model.get_weights())` (or `model.load_weights(path)` with a "
            "tf_keras .weights.h5 file) and run `model.predict`, `model.predict_on_batch` or "
            "`symkb.compile(model)`; symkb compiles on first predict, without `compile()`.")


def _refusal(method: str) -> property:
    def get(self):
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{method}': "
                             f"{_INSTEAD}")
    get.__name__ = method
    get.__doc__ = f"Not available: {_INSTEAD}"
    return property(get)


class InferenceOnly:
    """Mixin of :class:`symkb.Model`: the training methods raise ``AttributeError``."""

    compile = _refusal("compile")
    fit = _refusal("fit")
    evaluate = _refusal("evaluate")
    train_on_batch = _refusal("train_on_batch")
    test_on_batch = _refusal("test_on_batch")
    fit_generator = _refusal("fit_generator")
    evaluate_generator = _refusal("evaluate_generator")
