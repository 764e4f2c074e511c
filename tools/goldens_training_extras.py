#!/usr/bin/env python
"""Generate ``tests/goldens/training_extras.{json,npz}``: tf_keras ``fit`` runs
with BatchNormalization and with regularization losses.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    TF_USE_LEGACY_KERAS=1 CUDA_VISIBLE_DEVICES=-1 /opt/tfenv/bin/python \\
        tools/goldens_training_extras.py [--out DIR]

Models: an MLP and a small CNN with BatchNormalization (the moving mean and
variance move in training; the CNN's is tf_keras's fused 4-D form), an MLP
with kernel, bias and activity regularizers (objects and strings), a
SimpleRNN with kernel, recurrent and bias regularizers, and a functional
model with an ``add_loss`` on a hidden tensor. Each trains with SGD
(momentum) for 3 epochs, ``shuffle=False``, from recorded initial weights.
The layout is ``tools/goldens_training.py``'s (``tests/test_training_extras.py``
replays it), plus ``"losses"``: the sum of ``model.losses`` on the first
batch before training, for the models that have regularizers.
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
from tf_keras import layers, regularizers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, BATCH, EPOCHS, T = 24, 8, 3, 4
RNG = np.random.default_rng(21)
OPTIMIZER = ("SGD", {"learning_rate": 0.05, "momentum": 0.9})


def f(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def onehot(n, k):
    return np.eye(k, dtype=np.float32)[RNG.integers(0, k, size=n)]


def add_loss_model():
    x = layers.Input((4,), name="x")
    h = layers.Dense(5, activation="relu", name="hidden")(x)
    out = layers.Dense(2, name="out")(h)
    model = keras.Model(x, out, name="add_loss")
    model.add_loss(0.1 * tf.reduce_mean(tf.square(h)))
    return model


def models():
    """``(id, build, x, y, loss, metrics)``."""
    return [
        ("bn_mlp", lambda: keras.Sequential([
            layers.Input((4,)), layers.Dense(8), layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"), layers.Dense(3, activation="softmax")]),
         f(N, 4) * 2.0 + 1.0, onehot(N, 3), "categorical_crossentropy", ["accuracy"]),
        ("bn_cnn", lambda: keras.Sequential([
            layers.Input((5, 5, 2)), layers.Conv2D(3, 3),
            layers.BatchNormalization(momentum=0.7, epsilon=1e-3), layers.Flatten(),
            layers.Dense(2)]),
         f(N, 5, 5, 2) + 0.5, f(N, 2), "mse", ["mae"]),
        ("reg_mlp", lambda: keras.Sequential([
            layers.Input((4,)),
            layers.Dense(6, activation="tanh", kernel_regularizer=regularizers.L2(0.02),
                         bias_regularizer="l1",
                         activity_regularizer=regularizers.L1L2(l1=0.01, l2=0.03)),
            layers.Dense(2, kernel_regularizer="l1_l2")]),
         f(N, 4), f(N, 2), "mse", ["mae"]),
        ("reg_rnn", lambda: keras.Sequential([
            layers.Input((T, 3)),
            layers.SimpleRNN(4, kernel_regularizer="l2",
                             recurrent_regularizer=regularizers.L1(0.02),
                             bias_regularizer=regularizers.L2(0.1)),
            layers.Dense(2, bias_regularizer=regularizers.L1L2(l1=0.05, l2=0.0))]),
         f(N, T, 3), f(N, 2), "mse", None),
        ("add_loss", add_loss_model, f(N, 4), f(N, 2), "mse", None),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays, runs, configs = {}, [], {}
    class_name, config = OPTIMIZER
    for model_id, build, x, y, loss, metrics in models():
        keras.utils.set_random_seed(1)
        model = build()
        initial = model.get_weights()
        arrays[f"{model_id}/x0"], arrays[f"{model_id}/y0"] = x, y
        for k, w in enumerate(initial):
            arrays[f"{model_id}/w0_{k}"] = w
        model.compile(optimizer=getattr(keras.optimizers, class_name)(**config), loss=loss,
                      metrics=metrics)
        model(x[:BATCH])
        losses = float(tf.add_n(model.losses)) if model.losses else None
        history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        evaluated = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
        run_id = f"{model_id}/sgd"
        for k, w in enumerate(model.get_weights()):
            arrays[f"{run_id}/w_{k}"] = w
        if model_id != "add_loss":
            configs[model_id] = json.loads(model.to_json())
        runs.append({"id": run_id, "model": model_id,
                     "optimizer": {"class_name": class_name, "config": config},
                     "loss": loss, "metrics": metrics, "loss_weights": None,
                     "batch_size": BATCH, "n_weights": len(initial), "losses": losses,
                     "history": {k: [float(v) for v in vs]
                                 for k, vs in history.history.items()},
                     "evaluate": {k: float(v) for k, v in evaluated.items()}})
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__},
           "epochs": EPOCHS, "models": configs, "runs": runs}
    with open(os.path.join(args.out, "training_extras.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")
    np.savez_compressed(os.path.join(args.out, "training_extras.npz"), **arrays)
    print(f"wrote {len(runs)} training runs")


if __name__ == "__main__":
    main()
