"""What no tf_keras golden pins for the layers of tests/test_layers18_golden.py:
data_format=None read at construction, BatchNormalization's symbolic updates,
the noise layers in training, masks through attention in a model, attention
options through a model config, and the errors for bad arguments."""
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
CASES = {c["id"]: c for c in json.loads((GOLDEN / "layers18.json").read_text())["cases"]}
ARRAYS = np.load(GOLDEN / "layers18.npz")


def _interpret(inputs, outputs):
    return K.function(inputs, outputs, target="interpreter")


def test_data_format_none_is_read_at_construction():
    made = {}
    K.set_image_data_format("channels_first")
    try:
        for cls in (layers.Conv2D, layers.Conv2DTranspose, layers.SeparableConv2D):
            made[cls.__name__] = cls(2, 3)
        made["DepthwiseConv2D"] = layers.DepthwiseConv2D(3)
        for cls in (layers.MaxPooling2D, layers.AveragePooling3D, layers.GlobalMaxPooling2D,
                    layers.ZeroPadding2D, layers.Cropping2D, layers.UpSampling2D,
                    layers.Flatten):
            made[cls.__name__] = cls()
        made["SpatialDropout2D"] = layers.SpatialDropout2D(0.5)
        pool1d, conv1d = layers.MaxPooling1D(), layers.Conv1D(2, 3)
    finally:
        K.set_image_data_format("channels_last")
    for name, layer in made.items():
        assert layer.data_format == "channels_first", name
    assert pool1d.data_format == conv1d.data_format == "channels_last"  # tf_keras's defaults
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert made["Conv2D"](x).shape == (2, 2, 2, 3)  # channels first although the default is not
    assert made["Flatten"](x)[0, :3].tolist() == [0.0, 20.0, 40.0]


def test_batchnorm_training_records_updates_a_step_can_run():
    case = CASES["batchnorm_train_cl"]
    K.clear_session()
    x = ARRAYS["batchnorm_train_cl/x0"]
    bn = layers.BatchNormalization(momentum=0.9)
    inp = Input(x.shape[1:])
    out = bn(inp, training=True)
    bn.set_weights([ARRAYS[f"batchnorm_train_cl/w{k}"] for k in range(4)])
    assert [var for var, _ in bn.updates] == [bn.moving_mean, bn.moving_variance]
    values = _interpret([inp], [out] + [value for _, value in bn.updates])(x)
    np.testing.assert_allclose(values[0], ARRAYS["batchnorm_train_cl/out0"], rtol=1e-5,
                               atol=1e-5)
    for k in range(case["n_after"]):
        np.testing.assert_allclose(values[1 + k], ARRAYS[f"batchnorm_train_cl/after{k}"],
                                   rtol=1e-5, atol=1e-6)
    # the moving statistics themselves change only when a step assigns them
    np.testing.assert_array_equal(bn.moving_mean.numpy(), ARRAYS["batchnorm_train_cl/w2"])
    model = Model(inp, out)
    assert len(model.updates) == 2
    bn(inp)  # an inference call (learning phase 0) records no update
    assert len(bn.updates) == 2


def test_batchnorm_follows_the_learning_phase():
    K.clear_session()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.5)
    np.testing.assert_allclose(bn(x), x / np.sqrt(1 + 1e-3), rtol=1e-6)  # inference
    with K.learning_phase_scope(1):
        y = bn(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(axis=0) * 0.5, rtol=1e-5)


def test_noise_layers_act_in_training_only():
    x = np.ones((64, 10, 8), np.float32)
    for layer in (layers.SpatialDropout1D(0.5, seed=1), layers.GaussianNoise(0.5, seed=1),
                  layers.GaussianDropout(0.5, seed=1)):
        np.testing.assert_array_equal(layer(x), x)
    dropped = layers.SpatialDropout1D(0.5, seed=1)(x, training=True)
    per_channel = dropped[:, 0, :]
    assert np.all(dropped == per_channel[:, None, :])  # whole channels kept or dropped
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    images = np.ones((32, 2, 3, 3), np.float32)
    first = layers.SpatialDropout2D(0.5, data_format="channels_first")(images, training=True)
    assert np.all(first == first[:, :, :1, :1])
    noisy = layers.GaussianNoise(0.5, seed=1)(x, training=True) - x
    assert abs(noisy.std() - 0.5) < 0.05 and abs(noisy.mean()) < 0.05
    scaled = layers.GaussianDropout(0.5, seed=1)(x, training=True)
    assert abs(scaled.mean() - 1.0) < 0.05 and abs(scaled.std() - 1.0) < 0.05
    inp = Input((10, 8))
    out = layers.GaussianNoise(0.5, seed=3)(inp, training=True)
    assert _interpret([inp], [out])(x[:2])[0].shape == (2, 10, 8)


def test_masks_reach_attention_through_a_model():
    K.clear_session()
    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0]], np.int32)
    inp = Input((4,), dtype="int32")
    emb = layers.Embedding(6, 3, mask_zero=True)
    att = layers.Attention()
    mha = layers.MultiHeadAttention(2, 2)
    pool = layers.GlobalAveragePooling1D()
    e = emb(inp)
    outs = [att([e, e]), mha(e, e), pool(e)]
    model = Model(inp, outs)
    got = symkb.compile(model, target="interpreter")(tokens)
    vectors = emb(tokens)
    mask = tokens != 0
    np.testing.assert_allclose(got[0], att([vectors, vectors], mask=[mask, mask]), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(got[1], mha(vectors, vectors, mask=[mask, mask]), rtol=1e-5,
                               atol=1e-6)
    expected = (vectors * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(got[2], expected, rtol=1e-5)
    assert not np.allclose(got[1], mha(vectors, vectors))  # the mask mattered


def test_causal_attention_survives_the_model_config():
    K.clear_session()
    inp = Input((4, 3))
    model = Model(inp, layers.MultiHeadAttention(2, 2)(inp, inp, use_causal_mask=True))
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype(np.float32)
    run, rerun = (symkb.compile(m, target="interpreter") for m in (model, clone))
    np.testing.assert_allclose(rerun(x), run(x), rtol=1e-6)
    changed = x.copy()
    changed[:, 3] += 1.0  # the last step cannot change the earlier outputs
    np.testing.assert_allclose(run(changed)[:, :3], run(x)[:, :3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, call_shape, message", [
    (lambda: layers.Conv2D(4, 3, groups=3), None, "filters must be evenly divisible"),
    (lambda: layers.Conv2D(None, 3), None, "filters"),
    (lambda: layers.Conv2D(2, 3, groups=2), (1, 5, 5, 3), "input channels must be evenly"),
    (lambda: layers.Conv2D(2, (3, 3, 3)), None, "kernel_size"),
    (lambda: layers.Conv1D(2, 3, padding="full"), None, "padding"),
    (lambda: layers.MaxPooling2D(padding="causal"), None, "padding"),
    (lambda: layers.Conv2D(2, 3), (1, 5, 5), "expected ndim=4"),
    (lambda: layers.GroupNormalization(groups=4), (1, 3, 6), "multiple of the number"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), None,
     "greater than output padding"),
    (lambda: layers.MultiHeadAttention(2, 2, attention_axes=(0, 1)), None, "attention_axes"),
    (lambda: layers.BatchNormalization(renorm=True), None, "renorm"),
])
def test_bad_arguments_are_refused_by_name(make, call_shape, message):
    with pytest.raises(ValueError, match=message):
        layer = make()
        layer(np.zeros(call_shape, np.float32))


def test_attention_output_shapes():
    assert layers.Attention().compute_output_shape([(None, 3, 4), (None, 5, 6)]) == (None, 3, 6)
    mha = layers.MultiHeadAttention(2, 3, output_shape=7)
    assert mha.compute_output_shape((None, 4, 5), (None, 6, 5)) == (None, 4, 7)
    assert layers.MultiHeadAttention(2, 3).compute_output_shape(
        [(None, 4, 5), (None, 6, 2)]) == (None, 4, 5)


def test_attention_needs_a_list():
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(np.zeros((1, 2, 3), np.float32))
