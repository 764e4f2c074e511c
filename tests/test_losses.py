"""symkb.losses against real tf_keras (``tools/goldens_losses.py`` wrote
``tests/goldens/losses.*``): every loss function and object with its options,
sample weights, reductions and masks, eagerly on numpy and symbolically
(placeholders run by the interpreter); plus get/serialize and bad input."""
import json
from pathlib import Path

import numpy as np
import pytest

from symkb import backend as K
from symkb import losses
from symkb.layers.base import set_mask

GOLDENS = Path(__file__).parent / "goldens"
CASES = json.loads((GOLDENS / "losses.json").read_text())["losses"]
ARRAYS = np.load(GOLDENS / "losses.npz")


def _loss(case):
    if case["kind"] == "fn":
        fn = getattr(losses, case["name"])
        return lambda yt, yp, sample_weight=None: fn(yt, yp, **case["kwargs"])
    return getattr(losses, case["name"])(**case["kwargs"])


def _inputs(case):
    cid = case["id"]
    sw = ARRAYS[f"{cid}/sample_weight"] if case["sample_weight"] else None
    mask = ARRAYS[f"{cid}/mask"] if case["mask"] else None
    return ARRAYS[f"{cid}/y_true"], ARRAYS[f"{cid}/y_pred"], sw, mask


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_loss_eager_equals_tf_keras(case):
    y_true, y_pred, sw, mask = _inputs(case)
    if mask is not None:
        y_pred = losses.with_mask(y_pred, mask)
    got = _loss(case)(y_true, y_pred, sample_weight=sw)
    want = ARRAYS[f"{case['id']}/out"]
    assert np.shape(got) == want.shape
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


SYMBOLIC = [c for c in CASES if c["kind"] == "obj"]


@pytest.mark.parametrize("case", SYMBOLIC, ids=[c["id"] for c in SYMBOLIC])
def test_loss_symbolic_equals_tf_keras(case):
    y_true, y_pred, sw, mask = _inputs(case)
    phs = [K.placeholder(shape=(None,) + y_true.shape[1:], dtype=y_true.dtype.name),
           K.placeholder(shape=(None,) + y_pred.shape[1:], dtype=y_pred.dtype.name)]
    feeds = [y_true, y_pred]
    weight = None
    if sw is not None:
        weight = K.placeholder(shape=np.shape(sw), dtype="float32")
        phs.append(weight)
        feeds.append(sw)
    if mask is not None:
        mask_ph = K.placeholder(shape=(None,) + mask.shape[1:], dtype="bool")
        set_mask(phs[1], mask_ph)
        phs.append(mask_ph)
        feeds.append(mask)
    out = _loss(case)(phs[0], phs[1], sample_weight=weight)
    got = K.function(phs, out, target="interpreter")(feeds)
    np.testing.assert_allclose(got, ARRAYS[f"{case['id']}/out"], rtol=2e-5, atol=1e-6)


def test_symbolic_sigmoid_output_uses_its_logits():
    """A Loss on a sigmoid output takes the logits path, exact where the
    clipped formula saturates (as tf_keras in graph mode)."""
    x = K.placeholder((None, 2))
    y = np.array([[1.0, 0.0]], np.float32)
    logits = np.array([[-40.0, 40.0]], np.float32)
    want = losses.BinaryCrossentropy(from_logits=True)(y, logits)
    t = K.placeholder((None, 2))
    loss = losses.BinaryCrossentropy()(t, K.sigmoid(x))
    got = K.function([t, x], loss, target="interpreter")([y, logits])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got > 39.0


def test_get_resolves_names_functions_objects_and_configs():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MSE") is losses.mean_squared_error
    assert losses.get("kld") is losses.kl_divergence
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    obj = losses.Huber(delta=0.5, reduction="sum", name="h")
    assert losses.get(obj) is obj
    again = losses.get(losses.serialize(obj))
    assert isinstance(again, losses.Huber)
    assert again.get_config() == {"reduction": "sum", "name": "h", "delta": 0.5}
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize("logcosh") is losses.log_cosh
    custom = losses.get(lambda yt, yp: yp - yt)
    assert custom(1.0, 3.0) == 2.0
    tf_config = {"class_name": "MeanSquaredError",
                 "config": {"reduction": "auto", "name": "mean_squared_error"}}
    auto = losses.deserialize(tf_config)
    assert auto(np.zeros((2, 1)), np.ones((2, 1))) == 1.0


@pytest.mark.parametrize("identifier", [None, "mean_square_error", 3, {"class_name": "Nope"}])
def test_get_rejects_unknown_identifiers_naming_them(identifier):
    with pytest.raises(ValueError) as info:
        losses.get(identifier)
    assert repr(identifier if not isinstance(identifier, dict) else "Nope") in str(info.value)
    assert "mean_squared_error" in str(info.value) or "MeanSquaredError" in str(info.value)


def test_bad_arguments_name_the_loss():
    with pytest.raises(ValueError, match="MeanSquaredError: unknown `reduction` 'mean'"):
        losses.MeanSquaredError(reduction="mean")
    with pytest.raises(TypeError, match="Huber: unexpected keyword arguments"):
        losses.Huber(delt=1.0)
    with pytest.raises(ValueError, match="categorical_crossentropy: `axis` must be an int"):
        losses.categorical_crossentropy(np.ones((2, 2)), np.ones((2, 2)), axis=True)


def test_custom_loss_subclass_gets_weights_and_reduction():
    class Cubed(losses.Loss):
        def call(self, y_true, y_pred):
            return K.mean((y_pred - y_true) ** 3, axis=-1)

    y = np.zeros((2, 2), np.float32)
    p = np.array([[1.0, 1.0], [2.0, 2.0]], np.float32)
    assert Cubed()(y, p) == pytest.approx(4.5)
    assert Cubed(reduction="sum")(y, p, sample_weight=np.array([1.0, 0.5])) == \
        pytest.approx(5.0)


def test_layer_mask_reaches_the_loss():
    """Masking -> Dense: the mask the layers give the output leaves the
    masked time steps out of the mean (interpreter vs numpy)."""
    from symkb import layers
    x = layers.Input((4, 2))
    dense = layers.Dense(1)
    y = dense(layers.Masking()(x))
    dense.set_weights([np.array([[1.0], [2.0]], np.float32), np.zeros(1, np.float32)])
    t = K.placeholder((None, 4, 1))
    weight = K.placeholder((None,))
    loss = losses.MeanSquaredError()(t, y, sample_weight=weight)
    xs = np.arange(16, dtype=np.float32).reshape(2, 4, 2) / 8.0
    xs[0, 2:] = 0.0
    xs[1, 3] = 0.0
    ts = np.ones((2, 4, 1), np.float32)
    ws = np.array([1.0, 3.0], np.float32)
    got = K.function([x, t, weight], loss, target="interpreter")([xs, ts, ws])
    per_step = ((xs @ np.array([1.0, 2.0], np.float32)) - 1.0) ** 2
    valid = np.any(xs != 0, axis=-1)
    want = np.sum(per_step * valid * ws[:, None]) / valid.sum()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_apply_mask_weighs_masked_entries_zero():
    mask = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(losses.apply_mask(None, mask), [[1, 0], [1, 1]])
    np.testing.assert_array_equal(losses.apply_mask(np.array([2.0, 3.0]), mask),
                                  [[2, 0], [3, 3]])
    assert losses.apply_mask(np.array([2.0, 3.0]), None).tolist() == [2.0, 3.0]
