"""symkb.metrics against real tf_keras (``tools/goldens_losses.py`` wrote
``tests/goldens/losses.*``): each metric after 3 ``update_state`` calls (with
and without ``sample_weight``), its config, reset, and what compile makes of
'accuracy'/'crossentropy' for each target and output shape."""
import json
from pathlib import Path

import numpy as np
import pytest

from symkb import losses, metrics

GOLDENS = Path(__file__).parent / "goldens"
DOC = json.loads((GOLDENS / "losses.json").read_text())
ARRAYS = np.load(GOLDENS / "losses.npz")
CASES = DOC["metrics"]


def _updates(case):
    out = []
    for i in range(case["updates"]):
        key = f"{case['id']}/u{i}/"
        out.append(tuple(ARRAYS[key + k] if key + k in ARRAYS else None
                         for k in ("y_true", "y_pred", "sample_weight")))
    return out


def _update(metric, y_true, y_pred, sw):
    if y_true is None:
        metric.update_state(y_pred, sample_weight=sw)
    else:
        metric.update_state(y_true, y_pred, sample_weight=sw)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_metric_equals_tf_keras_after_each_update(case):
    metric = getattr(metrics, case["name"])(**case["kwargs"])
    for i, (y_true, y_pred, sw) in enumerate(_updates(case)):
        _update(metric, y_true, y_pred, sw)
        np.testing.assert_allclose(metric.result(), ARRAYS[f"{case['id']}/r{i}"],
                                   rtol=3e-5, atol=2e-6, err_msg=f"after update {i}")
    config = metric.get_config()
    for key, value in case["config"].items():
        if key != "name":
            assert config.get(key) == value, key
    again = metrics.deserialize(metrics.serialize(metric))
    assert again.get_config() == config
    metric.reset_state()
    y_true, y_pred, sw = _updates(case)[0]
    _update(metric, y_true, y_pred, sw)
    np.testing.assert_allclose(metric.result(), ARRAYS[f"{case['id']}/r0"], rtol=3e-5,
                               atol=2e-6)


RESOLVE = DOC["resolve"]


@pytest.mark.parametrize("case", RESOLVE, ids=[
    f"{c['metric']}-{c['target_shape']}-{c['output_shape']}" for c in RESOLVE])
def test_resolve_picks_what_tf_keras_compile_picks(case):
    metric = metrics.resolve(case["metric"], output_shape=tuple(case["output_shape"]),
                             target_shape=tuple(case["target_shape"]))
    assert metric._fn.__name__ == case["fn"]
    assert metric.name == case["name"]


@pytest.mark.parametrize("loss, shape, want", [
    ("sparse_categorical_crossentropy", (None, 10), "sparse_categorical_accuracy"),
    (losses.SparseCategoricalCrossentropy(from_logits=True), (None, 5, 4),
     "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (None, 10), "categorical_accuracy"),
    ("binary_crossentropy", (None, 1), "binary_accuracy"),
    (losses.mse, (None, 1), "binary_accuracy"),
    ("mse", (None, 3), "categorical_accuracy"),
])
def test_resolve_infers_the_target_from_the_loss(loss, shape, want):
    assert metrics.resolve("accuracy", loss=loss, output_shape=shape)._fn.__name__ == want


def test_resolve_and_get_other_identifiers():
    auc = metrics.AUC()
    assert metrics.resolve(auc) is auc
    wrapped = metrics.resolve("mae")
    assert wrapped.name == "mae" and wrapped._fn is losses.mean_absolute_error
    assert metrics.resolve(losses.mse).name == "mean_squared_error"
    assert isinstance(metrics.get("Precision"), metrics.Precision)
    with pytest.raises(ValueError, match="needs the model output's shape"):
        metrics.resolve("acc")
    for bad in (None, "accuracyy", 7):
        with pytest.raises(ValueError, match="binary_accuracy"):
            metrics.get(bad)


def test_bad_metric_arguments_are_named():
    with pytest.raises(ValueError, match="auc: unknown `curve` 'ROCK'"):
        metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match=r"precision: `thresholds` must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"auc: predictions must be in \[0, 1\]"):
        metrics.AUC().update_state([1.0, 0.0], [1.5, 0.2])
    with pytest.raises(TypeError, match="BinaryAccuracy: unexpected keyword"):
        metrics.BinaryAccuracy(treshold=0.4)


def test_call_updates_and_returns_the_result():
    mean = metrics.Mean()
    assert mean([1.0, 3.0]) == 2.0
    assert mean(6.0, sample_weight=2.0) == pytest.approx(4.0)
    assert metrics.Sum()([1.0, 2.0], sample_weight=[[1.0], [3.0]]) == 7.0


def test_metrics_refuse_symbolic_values():
    from symkb import backend as K
    with pytest.raises(TypeError, match="mean_squared_error: metrics compute on numpy"):
        metrics.MeanSquaredError().update_state(K.placeholder((None, 2)), np.ones((1, 2)))
    with pytest.raises(TypeError, match="auc: metrics compute on numpy values; `y_pred`"):
        metrics.AUC(from_logits=True).update_state([1.0], K.placeholder((None,)))
