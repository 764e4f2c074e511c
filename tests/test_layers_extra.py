"""The activation layers, Identity, Rescaling, Normalization, UnitNormalization,
ActivityRegularization, AlphaDropout, SpatialDropout3D and Dot against real tf_keras
(tests/goldens/layers_extra.*, made by tools/goldens_layers_extra.py):
eagerly, in a model on the interpreter and compiled for the cpu target;
configs, parameter counts, output shapes, a saved model; refusals."""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model

GOLDEN = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDEN / "layers_extra.json").read_text())
CASES = DOC["cases"]
ARRAYS = np.load(GOLDEN / "layers_extra.npz")
TOL = dict(rtol=1e-5, atol=1e-6)
IDS = [c["id"] for c in CASES]


def _namespace(case):
    ns = {f"x{i}": ARRAYS[f"{case['id']}/x{i}"] for i in range(case["n_inputs"])}
    if case["mask"]:
        ns["m0"] = ARRAYS[f"{case['id']}/m0"]
    return ns


def _call(layer, case, ns):
    local = dict(ns, layer=layer)
    exec(case["call"], {}, local)  # the golden file's own call
    return local["out"]


def _adapted(layer, case):
    """The layer, adapted first where the case says so."""
    if case.get("adapt"):
        layer.adapt(ARRAYS[f"{case['id']}/adapt"], batch_size=case["adapt_batch"])
    return layer


def _weights(case):
    return [ARRAYS[f"{case['id']}/w{k}"] for k in range(len(case["weight_shapes"]))]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_layer_matches_tf_keras(case):
    K.clear_session()
    layer = _adapted(eval(case["code"], {"layers": layers}), case)
    ns = _namespace(case)
    _call(layer, case, ns)  # builds
    assert [list(w.shape) for w in layer.weights] == case["weight_shapes"]
    if case["adapt"]:  # the statistics adapt computed, as tf_keras's
        for got, want in zip(layer.get_weights(), _weights(case), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    layer.set_weights(_weights(case))
    np.testing.assert_allclose(_call(layer, case, ns), ARRAYS[f"{case['id']}/out"], **TOL)
    config = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key)
    assert json.loads(json.dumps(config)) == case["config"]
    assert layer.count_params() == case["params"]
    shapes = [(None,) + ARRAYS[f"{case['id']}/x{i}"].shape[1:] for i in range(case["n_inputs"])]
    got = layer.compute_output_shape(shapes if len(shapes) > 1 else shapes[0])
    assert list(got) == case["output_shape"]
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_layer_in_a_model(case, target):
    K.clear_session()
    layer = _adapted(eval(case["code"], {"layers": layers}), case)
    arrays = _namespace(case)
    inputs = {k: Input(v.shape[1:], dtype="bool" if k == "m0" else None)
              for k, v in arrays.items()}
    out = _call(layer, case, inputs)
    model = Model(list(inputs.values()), out)
    layer.set_weights(_weights(case))
    got = symkb.compile(model, target=target)(*arrays.values())
    np.testing.assert_allclose(got, ARRAYS[f"{case['id']}/out"], **TOL)
    assert list(model.output_shape) == case["output_shape"]


def test_a_saved_model_of_them_comes_back(tmp_path):
    K.clear_session()
    model = symkb.Sequential([
        layers.Input((4, 6)), layers.Rescaling(0.5, offset=0.1), layers.Dense(8),
        layers.PReLU(shared_axes=[1]), layers.LeakyReLU(0.2), layers.ReLU(max_value=3.0),
        layers.ELU(0.7), layers.ThresholdedReLU(0.1), layers.Identity(),
        layers.Softmax(axis=1)])
    x = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")
    want = model.predict(x, verbose=0)
    path = tmp_path / "acts.symkb"
    model.save(path)
    back = symkb.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), want, rtol=1e-6)
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]
    assert back.get_config() == model.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: layers.ReLU(max_value=-1.0), "ReLU: `max_value` cannot be negative"),
    (lambda: layers.ReLU(negative_slope=-0.5), "ReLU: `negative_slope` cannot be negative"),
    (lambda: layers.ReLU(threshold=None), "ReLU: `threshold` cannot be None"),
    (lambda: layers.LeakyReLU(alpha=None), "LeakyReLU: `alpha` cannot be None"),
    (lambda: layers.ThresholdedReLU(theta=-1), "ThresholdedReLU: `theta` cannot be negative"),
    (lambda: layers.PReLU(shared_axes=[0]), "PReLU: `shared_axes`"),
    (lambda: layers.Softmax(robust_masking=True), "robust_masking"),
])
def test_bad_arguments_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_dot_refusals():
    with pytest.raises(TypeError, match="Dot: `axes`"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"'d'.*axis values 4 \(at axis 1\) != 5"):
        layers.Dot(axes=1, name="d")([Input((4,)), Input((5,))])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(axes=1)([Input((4,)), Input((4,)), Input((4,))])


def test_normalization_follows_a_second_adapt():
    K.clear_session()
    layer = layers.Normalization()
    x = layers.Input((2,))
    model = Model(x, layer(x))
    data = np.array([[1.0, 10.0], [3.0, 30.0]], "float32")
    layer.adapt(data)
    np.testing.assert_allclose(model.predict(data, verbose=0), [[-1, -1], [1, 1]], atol=1e-6)
    layer.adapt(data * 2)
    np.testing.assert_allclose(model.predict(data, verbose=0), [[-1.5, -1.5], [-0.5, -0.5]],
                               atol=1e-6)
    with pytest.raises(ValueError, match="static `mean` and `variance`"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(data)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)


def test_activity_regularization_adds_its_penalty_to_the_training_loss():
    K.clear_session()
    x = layers.Input((3,))
    dense = layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    model = Model(x, layers.ActivityRegularization(l1=0.01, l2=0.1)(dense(x)))
    model.compile(optimizer=symkb.optimizers.SGD(learning_rate=0.0), loss="mse")
    data = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], "float32")
    target = np.zeros((2, 2), "float32")
    out = data @ np.ones((3, 2), "float32")
    want = np.mean(out ** 2) + (0.01 * np.abs(out).sum() + 0.1 * (out ** 2).sum()) / 2
    loss = model.train_on_batch(data, target)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    np.testing.assert_allclose(model.predict(data, verbose=0), out)  # the identity


def test_alpha_and_spatial_dropout_in_training():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 500)).astype("float32")
    y = np.asarray(layers.AlphaDropout(0.2)(x, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02   # SELU's fixed point kept
    np.testing.assert_array_equal(layers.AlphaDropout(0.2)(x), x)
    v = np.ones((4, 3, 3, 3, 5), "float32")
    z = np.asarray(layers.SpatialDropout3D(0.5)(v, training=True))
    per_channel = z.reshape(4, 27, 5)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))  # whole channels
    assert set(np.unique(z)) <= {0.0, 2.0}
