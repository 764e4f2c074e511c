#!/usr/bin/env python
"""Generate ``tests/goldens/optimizers.{json,npz}``: real tf_keras optimizer steps.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_optimizers.py [--out DIR]

Each case builds one ``tf_keras.optimizers`` optimizer (tf_keras 2.x, not
the legacy ones) from its config and applies it for ``STEPS`` steps to a
least-squares problem ``mean((x @ w + b - y)^2)`` with ``tf.GradientTape``;
it records the weights after every step. ``tests/test_optimizers.py``
replays the same steps with ``symkb.optimizers`` in one compiled train step.

JSON: ``{"versions", "steps", "cases": [{"id", "class_name", "config"}]}``;
arrays in the npz: ``x``, ``y``, ``w0``, ``b0``, and ``<id>/w<k>``,
``<id>/b<k>`` after step ``k`` (1-based).
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 4
RNG = np.random.default_rng(17)

CASES = [
    ("sgd", "SGD", {"learning_rate": 0.1}),
    ("sgd_momentum", "SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True}),
    ("sgd_clipnorm", "SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("sgd_global_clipnorm", "SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("sgd_clipvalue", "SGD", {"learning_rate": 0.1, "clipvalue": 0.2}),
    ("sgd_weight_decay", "SGD", {"learning_rate": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    ("adam", "Adam", {"learning_rate": 0.05}),
    ("adam_amsgrad", "Adam", {"learning_rate": 0.05, "amsgrad": True, "beta_2": 0.9}),
    ("adamw", "AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01}),
    ("rmsprop_momentum_centered", "RMSprop",
     {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("adagrad", "Adagrad", {"learning_rate": 0.1}),
    ("adadelta", "Adadelta", {"learning_rate": 1.0}),
    ("nadam", "Nadam", {"learning_rate": 0.05}),
    ("sgd_exponential", "SGD", {"learning_rate": {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}}}),
    ("sgd_exponential_staircase", "SGD", {"learning_rate": {
        "class_name": "ExponentialDecay", "config": {
            "initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5,
            "staircase": True}}}),
    ("sgd_piecewise", "SGD", {"learning_rate": {"class_name": "PiecewiseConstantDecay",
                                                "config": {"boundaries": [1, 2],
                                                           "values": [0.1, 0.05, 0.01]}}}),
    ("adam_cosine", "Adam", {"learning_rate": {"class_name": "CosineDecay", "config": {
        "initial_learning_rate": 0.05, "decay_steps": 3, "alpha": 0.1}}}),
    ("adam_cosine_warmup", "Adam", {"learning_rate": {"class_name": "CosineDecay", "config": {
        "initial_learning_rate": 0.0, "decay_steps": 3, "warmup_target": 0.05,
        "warmup_steps": 2}}}),
    ("rmsprop_inverse_time", "RMSprop", {"learning_rate": {
        "class_name": "InverseTimeDecay", "config": {
            "initial_learning_rate": 0.01, "decay_steps": 1, "decay_rate": 0.5}}}),
]


def make_optimizer(class_name, config):
    config = dict(config)
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        config["learning_rate"] = keras.optimizers.schedules.deserialize(rate)
    return getattr(keras.optimizers, class_name)(**config)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args()
    arrays = {"x": RNG.normal(size=(6, 3)).astype(np.float32),
              "y": RNG.normal(size=(6, 2)).astype(np.float32),
              "w0": RNG.normal(size=(3, 2)).astype(np.float32),
              "b0": RNG.normal(size=(2,)).astype(np.float32)}
    meta = []
    for case_id, class_name, config in CASES:
        opt = make_optimizer(class_name, config)
        w, b = tf.Variable(arrays["w0"]), tf.Variable(arrays["b0"])
        for k in range(1, STEPS + 1):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(arrays["x"], w) + b - arrays["y"]))
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
            arrays[f"{case_id}/w{k}"] = w.numpy()
            arrays[f"{case_id}/b{k}"] = b.numpy()
        meta.append({"id": case_id, "class_name": class_name, "config": config})
    doc = {"versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__},
           "steps": STEPS, "cases": meta}
    with open(os.path.join(args.out, "optimizers.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")
    np.savez_compressed(os.path.join(args.out, "optimizers.npz"), **arrays)
    print(f"wrote {len(meta)} optimizer cases")


if __name__ == "__main__":
    main()
