"""Gradients of backend ops against real TensorFlow (``tf.GradientTape``) goldens.

``tools/goldens_gradients.py`` wrote ``tests/goldens/gradients.*`` with
tf_keras: the gradients of ``sum(fn(*args) * ct)`` for each tensor argument,
``None`` where TF gives ``None``. The inputs sit on kinks, ties and bounds,
where finite differences (``tests/test_gradient_rules.py``) cannot decide.
The gradient graphs run on the numpy references (no compile).
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K
from symkb import ir

GOLDENS = pathlib.Path(__file__).resolve().parent / "goldens"
CASES = json.loads((GOLDENS / "gradients.json").read_text())["cases"]
ARRAYS = np.load(GOLDENS / "gradients.npz")


def _inputs(case):
    """The call's arguments (placeholders for arrays), the placeholders and their values."""
    phs, values, args = [], [], []

    def placeholder(key):
        a = ARRAYS[key]
        phs.append(ir.placeholder_node(a.shape, a.dtype.name, f"a{len(phs)}"))
        values.append(a)
        return phs[-1]
    for spec in case["args"]:
        if "array" in spec:
            args.append(placeholder(spec["array"]))
        elif "list" in spec:
            args.append([placeholder(k) for k in spec["list"]])
        else:
            args.append(spec["value"])
    return args, phs, values


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gradients_equal_tensorflows(case):
    args, phs, values = _inputs(case)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    out = getattr(K, case["fn"])(*args, **kwargs)
    ct = ARRAYS[case["ct"]] if case["ct"] else np.ones(out.shape, "float32")
    loss = K.sum(K.cast(out, "float32") * ct)
    grads = K.gradients(loss, phs)
    assert [g is None for g in grads] == [k is None for k in case["grads"]], case["id"]
    live = [g for g in grads if g is not None]
    got = ir.evaluate(ir.Graph(phs, live, name=case["id"]), values) if live else []
    for g, key in zip(got, [k for k in case["grads"] if k is not None]):
        np.testing.assert_allclose(g, ARRAYS[key], rtol=2e-5, atol=2e-6, err_msg=case["id"])


def _model_layers(layers):
    """The layer stacks of the golden models, as the generator's code builds them."""
    return {
        "dense_tanh_mse": [layers.Dense(4, activation='tanh'), layers.Dense(2)],
        "dense_relu_softmax_cce": [layers.Dense(5, activation='relu'),
                                   layers.Dense(3, activation='softmax')],
        "dense_3d_sigmoid_bce": [layers.Dense(3, activation='sigmoid', use_bias=False)],
        "lstm_sequences_mse": [layers.LSTM(3, return_sequences=True)],
        "gru_mse": [layers.GRU(3)],
        "bidirectional_gru_v1_mse": [layers.Bidirectional(layers.GRU(2, reset_after=False,
                                                                     return_sequences=True))],
    }


MODELS = json.loads((GOLDENS / "gradients.json").read_text())["models"]


@pytest.mark.parametrize("case", MODELS, ids=[m["id"] for m in MODELS])
def test_dense_model_weight_gradients_equal_tensorflows(case):
    import symkb
    from symkb import layers

    cid = case["id"]
    model = symkb.Sequential([layers.Input(tuple(case["input_shape"]))]
                             + _model_layers(layers)[cid])
    model.set_weights([ARRAYS[f"{cid}/w{k}"] for k in range(case["weights"])])
    t = K.placeholder(shape=ARRAYS[f"{cid}/t"].shape, name="t")
    y = model.output
    loss = {"mse": lambda: K.mean(K.square(y - t)),
            "cce": lambda: K.mean(K.categorical_crossentropy(t, y)),
            "bce": lambda: K.mean(K.binary_crossentropy(t, y))}[case["loss"]]()
    grads = K.gradients(loss, model.trainable_weights)
    f = K.function([model.input, t], [loss] + grads, target="interpreter")
    got = f([ARRAYS[f"{cid}/x"], ARRAYS[f"{cid}/t"]])
    np.testing.assert_allclose(got[0], case["value"], rtol=1e-5)
    for k, g in enumerate(got[1:]):
        np.testing.assert_allclose(g, ARRAYS[f"{cid}/grad{k}"], rtol=2e-5, atol=2e-6,
                                   err_msg=f"{cid}: weight {k}")
