"""Conv3DTranspose, DepthwiseConv1D, ZeroPadding3D, Cropping3D, UpSampling3D,
tf_keras's alias names and bilinear UpSampling2D against real tf_keras
(tests/goldens/layers19.*, made by tools/goldens_layers19.py): outputs after
set_weights (eagerly and in a model on the interpreter), configs and their
round trip, weight names and shapes, output shapes and parameter counts; one
compiled-cpu model holding every case; two models' predictions and summary()
text, saved and loaded (.keras, and a .keras file tf_keras wrote)."""
import io
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential, load_model
from tests.grad_check import check_vjp

GOLDEN = pathlib.Path(__file__).parent / "goldens"
DOC = json.loads((GOLDEN / "layers19.json").read_text())
CASES = DOC["cases"]
MODELS = {m["id"]: m for m in DOC["models"]}
ARRAYS = np.load(GOLDEN / "layers19.npz")
TOL = dict(rtol=1e-5, atol=1e-5)


def _plain(value):
    return json.loads(json.dumps(value))


def _weights(case):
    return [ARRAYS[f"{case['id']}/w{k}"] for k in range(len(case["weight_names"]))]


def _case_layer(case):
    layer = eval(case["code"], {"layers": layers})  # the golden file's own construction
    x = ARRAYS[f"{case['id']}/x0"]
    return layer, x


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_layer_matches_tf_keras(case):
    K.clear_session()
    layer, x = _case_layer(case)
    layer(x)  # builds
    assert [w.name for w in layer.weights] == case["weight_names"]
    assert [list(w.shape) for w in layer.weights] == case["weight_shapes"]
    layer.set_weights(_weights(case))
    expected = ARRAYS[f"{case['id']}/out0"]
    np.testing.assert_allclose(layer(x), expected, **TOL)
    config = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key)
    assert _plain(config) == case["config"]
    assert layer.count_params() == case["params"]
    assert list(layer.compute_output_shape((None,) + x.shape[1:])) == case["output_shape"]
    clone = type(layer).from_config(layer.get_config())
    assert _plain(clone.get_config()) == _plain(layer.get_config())
    # the same layer in a model, on the interpreter
    inp = Input(x.shape[1:])
    model = Model(inp, clone(inp))
    clone.set_weights(_weights(case))
    assert tuple(model.output_shape) == tuple(case["output_shape"])
    np.testing.assert_allclose(symkb.compile(model, target="interpreter")(x), expected, **TOL)


# one case per new layer, channels_first where there is one (the transposes around)
COMPILED = [c for c in CASES if c["id"] in (
    "conv3d_transpose_same_op_cf", "depthwise1d_dilated_same_cf", "zeropad3d_cf",
    "cropping3d_cl", "upsampling3d_cf", "upsampling2d_bilinear_odd_cf")]


def test_new_layers_compiled_for_cpu_equal_the_interpreter():
    # one model holding a case of each new layer (one compile)
    K.clear_session()
    inputs, outputs, made = [], [], []
    for i, case in enumerate(COMPILED):
        layer, x = _case_layer(case)
        layer.name = f"l{i}"  # names are unique in a model
        inp = Input(x.shape[1:])
        inputs.append(inp)
        outputs.append(layer(inp))
        made.append(layer)
    model = Model(inputs, outputs)
    for layer, case in zip(made, COMPILED):
        layer.set_weights(_weights(case))
    # one batch size for all (the compiled model's batch axis is one size): batch 2,
    # a batch-1 case's example twice
    twice = lambda a: np.concatenate([a, a])[:2]  # noqa: E731
    xs = [twice(ARRAYS[f"{c['id']}/x0"]) for c in COMPILED]
    expected = symkb.compile(model, target="interpreter")(*xs)
    got = symkb.compile(model, target="cpu")(*xs)
    for case, value, want in zip(COMPILED, got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-6, err_msg=case["id"])
        np.testing.assert_allclose(value, twice(ARRAYS[f"{case['id']}/out0"]), **TOL,
                                   err_msg=case["id"])


def _build(mid):
    K.clear_session()
    case = MODELS[mid]
    ns = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential}
    exec(case["code"], ns)  # the golden file's own construction code
    model = ns["model"]
    model.set_weights([ARRAYS[f"{mid}/w{k}"] for k in range(case["n_weights"])])
    return model


def _summary(model):
    buf = io.StringIO()
    model.summary(print_fn=lambda line: buf.write(line + "\n"))
    return buf.getvalue().rstrip("\n")


@pytest.mark.parametrize("mid", sorted(MODELS))
def test_model_matches_tf_keras_and_survives_a_keras_file(mid, tmp_path):
    model = _build(mid)  # fresh names: the summary shows them
    assert [w.name for w in model.weights] == MODELS[mid]["weight_names"]
    assert _summary(model) == MODELS[mid]["summary"]
    x, pred = ARRAYS[f"{mid}/x"], ARRAYS[f"{mid}/pred"]
    np.testing.assert_allclose(symkb.compile(model, target="interpreter")(x), pred, **TOL)
    pytest.importorskip("h5py")  # the extra symkb[keras]; in the test extra
    model.save(tmp_path / "again.keras")
    loaded = load_model(tmp_path / "again.keras")
    assert _summary(loaded) == _summary(model)
    np.testing.assert_allclose(symkb.compile(loaded, target="interpreter")(x), pred, **TOL)


SUMMARIES = DOC["summaries"]


@pytest.mark.parametrize("case", SUMMARIES, ids=[c["id"] for c in SUMMARIES])
def test_summary_at_benchmark_sizes_matches_tf_keras(case):
    # W6's CNN (both formats, and a Sequential one) and W7's encoder block
    K.clear_session()
    ns = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential}
    exec(case["code"], ns)  # the golden file's own construction code
    assert _summary(ns["model"]) == case["summary"]


def test_a_keras_file_written_by_tf_keras_loads():
    pytest.importorskip("h5py")  # the extra symkb[keras]; in the test extra
    model = load_model(GOLDEN / "keras_files" / "layers19_volume.keras")
    assert _summary(model) == MODELS["volume"]["summary"]
    np.testing.assert_allclose(symkb.compile(model, target="interpreter")(ARRAYS["volume/x"]),
                               ARRAYS["volume/pred"], **TOL)


def _depthwise1d(x, k):
    # DepthwiseConv1D's computation: a 2D depthwise convolution over rows of one pixel
    y = K.depthwise_conv2d(K.expand_dims(x, 2), K.expand_dims(k, 0), strides=(1, 2),
                           padding="same", data_format="channels_first", dilation_rate=1)
    return K.squeeze(y, 2)


@pytest.mark.parametrize("build, shapes", [
    (lambda x, k: K.conv3d_transpose(x, k, (1, 2, 4, 3, 3), strides=(2, 1, 2), padding="same",
                                     data_format="channels_first"), [(1, 3, 2, 3, 2),
                                                                      (2, 1, 2, 2, 3)]),
    (_depthwise1d, [(1, 2, 5), (2, 2, 2)]),
    (lambda x: K.resize_volumes(K.spatial_3d_padding(x, ((1, 0), (0, 1), (1, 1)),
                                                     "channels_last"), 2, 1, 2,
                                "channels_last")[:, 1:, :2, 1:-1], [(1, 2, 2, 1, 2)]),
], ids=["conv3d_transpose_cf", "depthwise1d_cf", "pad_upsample_crop_3d"])
def test_gradients_of_the_new_layers_computations(build, shapes):
    rng = np.random.default_rng(5)
    check_vjp(build, [rng.normal(size=s) for s in shapes])


def test_data_format_none_is_read_at_construction():
    K.set_image_data_format("channels_first")
    try:
        made = [layers.Conv3DTranspose(2, 3), layers.DepthwiseConv1D(3), layers.ZeroPadding3D(),
                layers.Cropping3D(), layers.UpSampling3D()]
    finally:
        K.set_image_data_format("channels_last")
    assert [layer.data_format for layer in made] == ["channels_first"] * 5
    x = np.zeros((1, 2, 3, 4, 5), np.float32)
    assert made[2](x).shape == (1, 2, 5, 6, 7)


def test_aliases_are_the_classes_and_deserialize_by_either_name():
    assert layers.MaxPool2D is layers.MaxPooling2D
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    assert layers.MaxPool2D().name == "max_pooling2d"  # tf_keras names it by its class
    entry = {"class_name": "GlobalAvgPool1D", "config": {"keepdims": True}}
    layer = layers.serialization.deserialize(entry)
    assert type(layer) is layers.GlobalAveragePooling1D and layer.keepdims
    assert layers.serialization.serialize(layer)["class_name"] == "GlobalAveragePooling1D"


@pytest.mark.parametrize("make, call_shape, message", [
    (lambda: layers.Conv3DTranspose(2, 3, dilation_rate=2), None,
     r"Conv3DTranspose: dilation is not supported.*dilation_rate=2"),
    (lambda: layers.Conv3DTranspose(2, 3, strides=2, output_padding=(1, 2, 0)), None,
     "greater than output padding"),
    (lambda: layers.Conv3DTranspose(2, 3), (1, 4, 4, 3), "expected ndim=5"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), None,
     r"DepthwiseConv1D: causal padding is only supported"),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=0), None, "depth_multiplier"),
    (lambda: layers.ZeroPadding3D((1, 2)), None, r"ZeroPadding3D: `padding` should have 3"),
    (lambda: layers.Cropping3D(((1, 1), (1, -1), 0)), None,
     r"Cropping3D: the `2nd entry of cropping`"),
    (lambda: layers.UpSampling3D((2, 2)), None, r"UpSampling3D: the `size` argument"),
    (lambda: layers.Cropping3D(), (1, 4, 4, 3), "expected ndim=5"),
    (lambda: layers.Cropping3D(((0, 0), (1, 1), (0, 0))), (1, 3, 2, 3, 1),
     r"Cropping3D: the cropping must leave part of the input: axis 2 has 2"),
    (lambda: layers.Cropping1D((2, 1)), (1, 3, 2), r"Cropping1D: the cropping must leave"),
])
def test_bad_arguments_are_refused_by_name(make, call_shape, message):
    with pytest.raises(ValueError, match=message):
        layer = make()
        layer(np.zeros(call_shape, np.float32))
