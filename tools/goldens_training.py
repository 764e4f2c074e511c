#!/usr/bin/env python
"""Generate ``tests/goldens/training.{json,npz}``: real tf_keras ``fit`` runs.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_training.py [--out DIR]

For each model (an MLP, SimpleRNN, LSTM, GRU with both ``reset_after``,
Bidirectional LSTM, Masking + LSTM(return_sequences), Embedding(mask_zero) +
GRU and a two-output functional model) and each optimizer (SGD with
momentum, Adam, RMSprop, Adagrad), the same initial weights are trained with
``fit(shuffle=False)`` on tiny data (24 samples, batch 8, 3 epochs; the
last batch of the two-output model is partial). It records the model's JSON
config, the initial weights, the per-epoch history, the weights after
training and ``evaluate``'s results. ``tests/test_training_goldens.py``
replays every run with ``symkb``.

JSON: ``{"versions", "epochs", "models": {model id: model JSON}, "runs":
[{"id", "model", "optimizer": {"class_name", "config"}, "loss", "metrics",
"loss_weights", "batch_size", "n_weights", "history", "evaluate"}]}``; arrays in the
npz: ``<model>/x<i>``, ``<model>/y<i>``, ``<model>/w0_<k>`` (initial) and
``<run>/w_<k>`` (after training).
"""
import argparse
import json
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, BATCH, EPOCHS, T = 24, 8, 3, 5
RNG = np.random.default_rng(18)

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.005}),
    "adagrad": ("Adagrad", {"learning_rate": 0.05}),
}


def f(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def onehot(n, k):
    return np.eye(k, dtype=np.float32)[RNG.integers(0, k, size=n)]


def masked_sequences():
    x = f(N, T, 3)
    for i in range(N):  # trailing padding of 0..2 steps
        pad = i % 3
        if pad:
            x[i, T - pad:] = 0.0
    return x


def models():
    """``(id, build, xs, ys, loss, metrics, loss_weights, batch_size)``."""
    out = []
    out.append(("mlp", lambda: keras.Sequential([
        layers.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(3,
                                                                              activation="softmax")]),
        [f(N, 4)], [onehot(N, 3)], "categorical_crossentropy", ["accuracy"], None, BATCH))
    for name, layer in (
            ("simple_rnn", lambda: layers.SimpleRNN(6)),
            ("lstm", lambda: layers.LSTM(6)),
            ("gru", lambda: layers.GRU(6, reset_after=True)),
            ("gru_v1", lambda: layers.GRU(6, reset_after=False)),
            ("bilstm", lambda: layers.Bidirectional(layers.LSTM(4)))):
        out.append((name, (lambda layer=layer: keras.Sequential([
            layers.Input((T, 3)), layer(), layers.Dense(2)])),
            [f(N, T, 3)], [f(N, 2)], "mse", ["mae"], None, BATCH))
    out.append(("masking_lstm_seq", lambda: keras.Sequential([
        layers.Input((T, 3)), layers.Masking(0.0), layers.LSTM(4, return_sequences=True),
        layers.Dense(2)]), [masked_sequences()], [f(N, T, 2)], "mse", ["mae"], None, BATCH))
    tokens = RNG.integers(1, 10, size=(N, T))
    for i in range(N):
        tokens[i, T - i % 3:] = 0 if i % 3 else tokens[i, T - i % 3:]
    out.append(("embedding_gru", lambda: keras.Sequential([
        layers.Input((T,)), layers.Embedding(10, 4, mask_zero=True), layers.GRU(5),
        layers.Dense(1, activation="sigmoid")]), [tokens.astype(np.float32)],
        [(RNG.random((N, 1)) > 0.5).astype(np.float32)], "binary_crossentropy",
        ["accuracy"], None, BATCH))
    out.append(("two_outputs", two_outputs, [f(N, 4)], [f(N, 2), onehot(N, 3)],
                {"reg": "mse", "cls": "categorical_crossentropy"}, {"cls": ["accuracy"]},
                {"reg": 0.5, "cls": 2.0}, 10))
    return out


def two_outputs():
    x = layers.Input((4,), name="x")
    h = layers.Dense(6, activation="relu", name="hidden")(x)
    reg = layers.Dense(2, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    return keras.Model(x, [reg, cls], name="two_outputs")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays, runs, configs = {}, [], {}
    for model_id, build, xs, ys, loss, metrics, loss_weights, batch in models():
        keras.utils.set_random_seed(1)
        model = build()
        initial = model.get_weights()
        for i, a in enumerate(xs):
            arrays[f"{model_id}/x{i}"] = a
        for i, a in enumerate(ys):
            arrays[f"{model_id}/y{i}"] = a
        for k, w in enumerate(initial):
            arrays[f"{model_id}/w0_{k}"] = w
        for opt_id, (class_name, config) in OPTIMIZERS.items():
            model = build()
            model.set_weights(initial)
            model.compile(optimizer=getattr(keras.optimizers, class_name)(**config), loss=loss,
                          metrics=metrics, loss_weights=loss_weights)
            x = xs[0] if len(xs) == 1 else xs
            y = ys[0] if len(ys) == 1 else ys
            history = model.fit(x, y, batch_size=batch, epochs=EPOCHS, shuffle=False, verbose=0)
            evaluated = model.evaluate(x, y, batch_size=batch, verbose=0, return_dict=True)
            run_id = f"{model_id}/{opt_id}"
            for k, w in enumerate(model.get_weights()):
                arrays[f"{run_id}/w_{k}"] = w
            configs[model_id] = json.loads(model.to_json())
            runs.append({"id": run_id, "model": model_id,
                         "optimizer": {"class_name": class_name, "config": config},
                         "loss": loss, "metrics": metrics, "loss_weights": loss_weights,
                         "batch_size": batch,
                         "n_weights": len(initial),
                         "history": {k: [float(v) for v in vs]
                                     for k, vs in history.history.items()},
                         "evaluate": {k: float(v) for k, v in evaluated.items()}})
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__},
           "epochs": EPOCHS, "models": configs, "runs": runs}
    with open(os.path.join(args.out, "training.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")
    np.savez_compressed(os.path.join(args.out, "training.npz"), **arrays)
    print(f"wrote {len(runs)} training runs")


if __name__ == "__main__":
    main()
