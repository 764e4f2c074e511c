"""MultiHeadAttention on inputs of rank 4 and 5, over ``attention_axes``,
against real tf_keras (tests/goldens/mha_axes.*, made by
tools/goldens_mha_axes.py): eagerly, in a model on the interpreter and
compiled for the cpu target; the config's axes; refusals."""
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
DOC = json.loads((GOLDEN / "mha_axes.json").read_text())
CASES = sorted(DOC["cases"].items())
ARRAYS = np.load(GOLDEN / "mha_axes.npz")
TOL = dict(rtol=1e-5, atol=1e-5)


def _inputs(cid, case):
    return {name: ARRAYS[f"{cid}/{name}"] for name in case["inputs"]}


def _wanted(cid, case):
    return [ARRAYS[f"{cid}/out{k}"] for k in range(case["outputs"])]


def _layer(cid, case, inputs):
    layer = layers.MultiHeadAttention(name="mha", **case["kwargs"])
    layer(**inputs)  # builds
    layer.set_weights([ARRAYS[f"{cid}/w{k}"] for k in range(case["weights"])])
    return layer


@pytest.mark.parametrize("cid,case", CASES, ids=[c for c, _ in CASES])
def test_eager_call_matches_tf_keras(cid, case):
    K.clear_session()
    inputs = _inputs(cid, case)
    layer = _layer(cid, case, inputs)
    out = layer(**inputs, return_attention_scores=case["scores"])
    outs = list(out) if case["scores"] else [out]
    for got, want in zip(outs, _wanted(cid, case), strict=True):
        assert np.shape(got) == want.shape
        np.testing.assert_allclose(got, want, **TOL)
    assert layer.get_config()["attention_axes"] == case["attention_axes"]
    assert layer.count_params() == case["params"]
    clone = layers.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("cid,case", CASES, ids=[c for c, _ in CASES])
def test_model_matches_tf_keras(cid, case, target):
    K.clear_session()
    arrays = _inputs(cid, case)
    symbolic = {k: Input(v.shape[1:], dtype="bool" if k == "attention_mask" else None,
                         name=k) for k, v in arrays.items()}
    layer = layers.MultiHeadAttention(name="mha", **case["kwargs"])
    out = layer(**symbolic, return_attention_scores=case["scores"])
    outs = list(out) if case["scores"] else [out]
    model = Model(list(symbolic.values()), outs)
    layer.set_weights([ARRAYS[f"{cid}/w{k}"] for k in range(case["weights"])])
    got = symkb.compile(model, target=target)(*arrays.values())
    got = got if isinstance(got, list) else [got]
    for value, want in zip(got, _wanted(cid, case), strict=True):
        np.testing.assert_allclose(value, want, **TOL)
    assert tuple(model.outputs[0].shape) == (None, *_wanted(cid, case)[0].shape[1:])


def test_refusals_name_the_layer_and_what_it_got():
    K.clear_session()
    q = np.zeros((1, 2, 3, 4), "float32")
    with pytest.raises(ValueError, match="attention_axes.*received attention_axes=0"):
        layers.MultiHeadAttention(2, 2, attention_axes=0)
    with pytest.raises(ValueError, match=r"'far'.*attention_axes \[3\].*rank 4"):
        layers.MultiHeadAttention(2, 2, attention_axes=3, name="far")(q, q)
    with pytest.raises(ValueError, match="'causal'.*use_causal_mask.*3-D"):
        layers.MultiHeadAttention(2, 2, name="causal")(q, q, use_causal_mask=True)
    with pytest.raises(ValueError, match=r"'odd'.*axes \[1\].*must match"):
        layers.MultiHeadAttention(2, 2, attention_axes=2, name="odd")(
            q, np.zeros((1, 3, 3, 4), "float32"))


@pytest.mark.parametrize("shape", [(3, 4, 7), (2, 3, 2, 6), (5, 9)])
def test_product_of_a_width_off_the_tile_on_rank_4_and_5(shape):
    # the product's 16-column buffer is copied back row by row; its flat row
    # index of (i0, i1, i2, ...) once lacked its brackets past rank 3, so every
    # batch row but the first read another row's values
    K.clear_session()
    x = K.placeholder(shape=(None, *shape))
    kernel = np.random.default_rng(0).normal(size=(shape[-1], 5)).astype("float32")
    y = K.tanh(K.dot(x, K.variable(kernel)) + 0.5)
    # a batched product beside it: the function runs on row blocks, and its
    # products on symkb's own kernel (``loops.row_split``)
    z = K.placeholder(shape=(None, 4, 3))
    zz = K.batch_dot(z, z, axes=(2, 2))
    value = np.random.default_rng(len(shape)).normal(size=(3, *shape)).astype("float32")
    zv = np.random.default_rng(1).normal(size=(3, 4, 3)).astype("float32")
    compiled = K.function([x, z], [y, zz], target="cpu")
    assert "gemm_serial" in compiled.source
    got, got_zz = compiled([value, zv])
    np.testing.assert_allclose(got, np.tanh(value @ kernel + 0.5), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_zz, zv @ zv.transpose(0, 2, 1), rtol=1e-5, atol=1e-6)
