#!/usr/bin/env python
"""Generate ``tests/goldens/losses.{json,npz}``: tf_keras losses and metrics.

Run with a Python that has tensorflow-cpu and tf-keras (never a test
dependency of symkb)::

    /opt/tfenv/bin/python tools/goldens_losses.py [--out DIR]

``losses``: each case calls a loss function (``kind: "fn"``) or a Loss object
(``kind: "obj"``, built from ``name`` and ``kwargs``) on ``tf.constant``
inputs, as ``fit`` hands them over; a ``mask`` key sets ``y_pred``'s
``_keras_mask``. Arrays in the npz under ``<id>/y_true``, ``<id>/y_pred``,
``<id>/sample_weight``, ``<id>/mask`` and the result ``<id>/out``.

``metrics``: a metric object (``name``, ``kwargs``) gets 2-3
``update_state`` calls (``<id>/u<i>/y_true``, ``y_pred``, ``sample_weight``)
and its ``result()`` after each is ``<id>/r<i>``.

``resolve``: what compile makes of ``"accuracy"``/``"acc"``/``"crossentropy"``/
``"ce"`` for a target and output shape: the function behind the metric.
"""
import argparse
import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(17)


def u(*shape, lo=-1.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def probs(*shape):
    p = RNG.uniform(0.05, 1.0, size=shape).astype(np.float32)
    return p / p.sum(-1, keepdims=True)


def onehot(n, c):
    return np.eye(c, dtype=np.float32)[RNG.integers(0, c, size=n)]


def labels(*shape, c=3):
    return RNG.integers(0, c, size=shape).astype(np.int32)


def binary(*shape):
    return RNG.integers(0, 2, size=shape).astype(np.float32)


def data():
    """Named inputs shared by the cases."""
    return {
        "reg": (u(4, 3), u(4, 3)),
        "pos": (u(4, 3, lo=0.1), u(4, 3, lo=0.1)),
        "dist": (probs(4, 3), probs(4, 3)),
        "bin": (binary(4, 3), u(4, 3, lo=0.02, hi=0.98)),
        "bin_logits": (binary(4, 3), u(4, 3, lo=-3, hi=3)),
        "cat": (onehot(4, 3), probs(4, 3)),
        "cat_logits": (onehot(4, 3), u(4, 3, lo=-3, hi=3)),
        "sparse": (labels(4), probs(4, 3)),
        "sparse_col": (labels(4, 1), probs(4, 3)),
        "sparse_logits": (labels(4), u(4, 3, lo=-3, hi=3)),
        "pm1": (2 * binary(4, 3) - 1, u(4, 3)),
        "col": (u(4), u(4, 1)),
        "seq": (u(2, 5, 3), u(2, 5, 3)),
        "seq_sparse": (labels(2, 5), probs(2, 5, 3)),
        "seq_bin": (binary(2, 5, 1), u(2, 5, 1, lo=0.02, hi=0.98)),
    }


FUNCTIONS = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "huber", "log_cosh", "hinge", "squared_hinge",
             "categorical_hinge", "kl_divergence", "poisson", "cosine_similarity",
             "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy"]
INPUTS = {"mean_squared_logarithmic_error": "pos", "poisson": "pos", "kl_divergence": "dist",
          "binary_crossentropy": "bin", "categorical_crossentropy": "cat",
          "sparse_categorical_crossentropy": "sparse", "hinge": "bin",
          "squared_hinge": "pm1", "categorical_hinge": "cat"}
CLASSES = {"MeanSquaredError": "reg", "MeanAbsoluteError": "reg",
           "MeanAbsolutePercentageError": "reg", "MeanSquaredLogarithmicError": "pos",
           "Huber": "reg", "LogCosh": "reg", "Hinge": "pm1", "SquaredHinge": "bin",
           "CategoricalHinge": "cat", "KLDivergence": "dist", "Poisson": "pos",
           "CosineSimilarity": "reg", "BinaryCrossentropy": "bin",
           "CategoricalCrossentropy": "cat", "SparseCategoricalCrossentropy": "sparse"}


def loss_cases():
    """``(id, kind, name, kwargs, inputs, sample_weight, mask)``."""
    w4, w41 = u(4, lo=0.0, hi=2.0), u(4, 1, lo=0.0, hi=2.0)
    m25 = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    out = [(f"fn_{n}", "fn", n, {}, INPUTS.get(n, "reg"), None, None) for n in FUNCTIONS]
    out += [("fn_huber_delta", "fn", "huber", {"delta": 0.4}, "reg", None, None),
            ("fn_cosine_axis0", "fn", "cosine_similarity", {"axis": 0}, "reg", None, None),
            ("fn_bce_logits_smooth", "fn", "binary_crossentropy",
             {"from_logits": True, "label_smoothing": 0.2}, "bin_logits", None, None),
            ("fn_cce_logits_smooth", "fn", "categorical_crossentropy",
             {"from_logits": True, "label_smoothing": 0.1}, "cat_logits", None, None),
            ("fn_hinge_pm1", "fn", "hinge", {}, "pm1", None, None)]
    for name, inp in CLASSES.items():
        out.append((f"obj_{name}", "obj", name, {}, inp, None, None))
        out.append((f"obj_{name}_w", "obj", name, {}, inp, w4, None))
    for red in ("sum", "none"):
        out.append((f"obj_mse_{red}", "obj", "MeanSquaredError", {"reduction": red}, "reg",
                    w4, None))
        out.append((f"obj_scce_{red}", "obj", "SparseCategoricalCrossentropy",
                    {"reduction": red}, "sparse", w4, None))
    out += [
        ("obj_mse_w41", "obj", "MeanSquaredError", {}, "reg", w41, None),
        ("obj_mse_wscalar", "obj", "MeanSquaredError", {}, "reg", np.float32(2.5), None),
        ("obj_mse_col", "obj", "MeanSquaredError", {}, "col", None, None),
        ("obj_mae_col_wscalar", "obj", "MeanAbsoluteError", {}, "col", np.float32(0.5), None),
        ("obj_huber_delta", "obj", "Huber", {"delta": 0.3}, "reg", w4, None),
        ("obj_bce_logits", "obj", "BinaryCrossentropy",
         {"from_logits": True, "label_smoothing": 0.1}, "bin_logits", w4, None),
        ("obj_cce_logits", "obj", "CategoricalCrossentropy",
         {"from_logits": True, "label_smoothing": 0.2}, "cat_logits", w4, None),
        ("obj_scce_logits", "obj", "SparseCategoricalCrossentropy", {"from_logits": True},
         "sparse_logits", w4, None),
        ("obj_scce_col", "obj", "SparseCategoricalCrossentropy", {}, "sparse_col", None, None),
        ("obj_scce_ignore", "obj", "SparseCategoricalCrossentropy", {"ignore_class": 1},
         "sparse", None, None),
        ("obj_scce_ignore_w", "obj", "SparseCategoricalCrossentropy", {"ignore_class": 1},
         "sparse", w4, None),
        ("obj_cosine_axis0", "obj", "CosineSimilarity", {"axis": 0}, "reg", None, None),
        ("mask_mse", "obj", "MeanSquaredError", {}, "seq", None, m25),
        ("mask_mse_w2", "obj", "MeanSquaredError", {}, "seq", u(2, lo=0.5), m25),
        ("mask_mse_w25", "obj", "MeanSquaredError", {}, "seq", u(2, 5, lo=0.0), m25),
        ("mask_mse_sum", "obj", "MeanSquaredError", {"reduction": "sum"}, "seq", None, m25),
        ("mask_mse_none", "obj", "MeanSquaredError", {"reduction": "none"}, "seq", None, m25),
        ("mask_scce", "obj", "SparseCategoricalCrossentropy", {}, "seq_sparse", None, m25),
        ("mask_scce_w", "obj", "SparseCategoricalCrossentropy", {}, "seq_sparse",
         u(2, lo=0.5), m25),
        ("mask_scce_ignore", "obj", "SparseCategoricalCrossentropy", {"ignore_class": 2},
         "seq_sparse", None, m25),
        ("mask_bce", "obj", "BinaryCrossentropy", {}, "seq_bin", None, m25),
    ]
    return out


def run_loss(kind, name, kwargs, y_true, y_pred, sw, mask):
    yt, yp = tf.constant(y_true), tf.constant(y_pred)
    if mask is not None:
        yp._keras_mask = tf.constant(mask)
    if kind == "fn":
        return getattr(keras.losses, name)(yt, yp, **kwargs).numpy()
    loss = getattr(keras.losses, name)(**kwargs)
    return loss(yt, yp, sample_weight=None if sw is None else tf.constant(sw)).numpy()


def metric_cases():
    """``(id, name, kwargs, [inputs key per update], sample weights per update)``."""
    w = [None, u(4, lo=0.0, hi=2.0), u(4, lo=0.0, hi=2.0)]
    cases = [
        ("Mean", {}, "values"), ("Sum", {}, "values"),
        ("Accuracy", {}, "acc"), ("BinaryAccuracy", {}, "bin"),
        ("BinaryAccuracy", {"threshold": 0.7}, "bin"),
        ("CategoricalAccuracy", {}, "cat"), ("SparseCategoricalAccuracy", {}, "sparse"),
        ("SparseCategoricalAccuracy", {}, "sparse_col"),
        ("TopKCategoricalAccuracy", {"k": 2}, "cat5"),
        ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse5"),
        ("MeanSquaredError", {}, "reg"), ("MeanAbsoluteError", {}, "reg"),
        ("AUC", {}, "auc"), ("AUC", {"curve": "PR"}, "auc"),
        ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "auc"),
        ("AUC", {"num_thresholds": 9, "curve": "PR", "summation_method": "majoring"}, "auc"),
        ("Precision", {}, "auc"), ("Recall", {}, "auc"),
        ("Precision", {"thresholds": [0.3, 0.7]}, "auc"),
        ("Recall", {"thresholds": [0.3, 0.7]}, "auc"),
        ("Precision", {"top_k": 2}, "multi"), ("Recall", {"top_k": 2}, "multi"),
        ("BinaryCrossentropy", {}, "bin"),
        ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "bin_logits"),
        ("CategoricalCrossentropy", {}, "cat"),
        ("CategoricalCrossentropy", {"from_logits": True}, "cat_logits"),
        ("SparseCategoricalCrossentropy", {}, "sparse"),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
        ("MeanAbsolutePercentageError", {}, "reg"), ("MeanSquaredLogarithmicError", {}, "pos"),
        ("Hinge", {}, "bin"), ("SquaredHinge", {}, "pm1"), ("CategoricalHinge", {}, "cat"),
        ("KLDivergence", {}, "dist"), ("Poisson", {}, "pos"), ("LogCoshError", {}, "reg"),
        ("CosineSimilarity", {}, "reg"), ("RootMeanSquaredError", {}, "reg"),
        ("AUC", {"from_logits": True, "curve": "PR"}, "bin_logits"),
        ("AUC", {"thresholds": [0.2, 0.45, 0.8]}, "auc"),
        ("Precision", {"class_id": 1}, "auc"),
    ]
    out = []
    for i, (name, kwargs, inp) in enumerate(cases):
        out.append((f"m{i:02d}_{name}", name, kwargs, inp, w))
    return out


def metric_data(inp):
    if inp == "values":
        return None, u(4, 2)
    if inp == "acc":
        return labels(4, 2).astype(np.float32), labels(4, 2).astype(np.float32)
    if inp == "cat5":
        return onehot(4, 5), probs(4, 5)
    if inp == "sparse5":
        return labels(4, c=5), probs(4, 5)
    if inp == "auc":
        return binary(4, 3), u(4, 3, lo=0.0, hi=1.0)
    if inp == "multi":
        return binary(4, 4), u(4, 4, lo=0.0, hi=1.0)
    return data()[inp]


def run_metric(name, kwargs, updates):
    metric = getattr(keras.metrics, name)(**kwargs)
    results = []
    for y_true, y_pred, sw in updates:
        sw = None if sw is None else tf.constant(sw)
        if y_true is None:
            metric.update_state(tf.constant(y_pred), sample_weight=sw)
        else:
            metric.update_state(tf.constant(y_true), tf.constant(y_pred), sample_weight=sw)
        results.append(np.asarray(metric.result().numpy(), np.float32))
    return results


def resolve_cases():
    """What compile resolves the generic names to, by target and output shape."""
    shapes = [((None, 1), (None, 1)), ((None,), (None, 1)), ((None,), (None, 4)),
              ((None, 1), (None, 4)), ((None, 4), (None, 4)), ((None, 5, 3), (None, 5, 3)),
              ((None, 5), (None, 5, 3)), ((None, 5, 1), (None, 5, 1)),
              ((None, 2), (None, 2))]
    out = []
    from tf_keras.src.engine import compile_utils
    for metric in ("accuracy", "acc", "crossentropy", "ce"):
        for t_shape, p_shape in shapes:
            container = compile_utils.MetricsContainer([metric])
            y_t = tf.keras.Input(batch_shape=t_shape) if False else \
                tf.TensorSpec(t_shape)
            y_p = tf.TensorSpec(p_shape)
            obj = container._get_metric_object(metric, y_t, y_p)
            out.append({"metric": metric, "target_shape": list(t_shape),
                        "output_shape": list(p_shape), "fn": obj._fn.__name__,
                        "name": obj.name})
    return out


def progbar_cases():
    """Text tf_keras's Progbar writes for fixed updates on a fixed clock."""
    import contextlib
    import io
    from tf_keras.src.utils import generic_utils
    steps = [(1, [["loss", 0.5], ["acc", 0.25]], None), (2, [["loss", 0.3], ["acc", 0.5]], None),
             (3, [["loss", 0.1], ["acc", 0.75]], None)]
    cases = [
        {"target": 3, "verbose": 1, "interval": 0.0, "stateful": ["acc"],
         "times": [100.0, 100.2, 100.35, 100.5], "updates": steps},
        {"target": 3, "verbose": 2, "interval": 0.05, "stateful": ["acc"],
         "times": [100.0, 100.2, 100.35, 100.5], "updates": steps},
        {"target": 3, "verbose": 1, "interval": 0.05, "stateful": [],
         "times": [10.0, 10.01, 10.02, 12.5], "updates": steps},
        {"target": None, "verbose": 1, "interval": 0.0, "stateful": [],
         "times": [5.0, 6.0, 7.5, 7.5], "updates": [
             (1, [["loss", 2.0]], None), (2, [["loss", 1.0]], None), (2, [], True)]},
        {"target": 12, "verbose": 1, "interval": 0.0, "stateful": ["val"],
         "times": [0.0, 31.0, 4000.0, 4100.0], "updates": [
             (1, [["loss", 0.0001], ["val", -0.5]], None),
             (2, [["loss", 0.0002], ["val", -0.25]], None),
             (12, [["loss", -0.002], ["val", 0.0005]], None)]},
        {"target": 12, "verbose": 2, "interval": 0.0, "stateful": ["val"],
         "times": [0.0, 31.0, 4000.0, 4100.0], "updates": [
             (5, [["loss", 0.0001], ["val", -0.5]], None),
             (12, [["loss", -0.002], ["val", 0.0005]], None)]},
    ]
    for case in cases:
        ticks = iter(case["times"])
        saved = generic_utils.time
        generic_utils.time = type("Clock", (), {"time": staticmethod(lambda: next(ticks))})
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                bar = keras.utils.Progbar(case["target"], verbose=case["verbose"],
                                          interval=case["interval"],
                                          stateful_metrics=case["stateful"])
                for current, values, finalize in case["updates"]:
                    bar.update(current, [tuple(v) for v in values], finalize=finalize)
        finally:
            generic_utils.time = saved
        case["text"] = out.getvalue()
    return cases


def callback_cases():
    """EarlyStopping and ReduceLROnPlateau on crafted curves with a stand-in
    model: the epochs run, where it stopped, and the learning rate logged."""
    class Model:
        stop_training = False
        optimizer = type("Opt", (), {})()

        def get_weights(self):
            return []

        def set_weights(self, weights):
            pass

    cases = [
        ("EarlyStopping", {"patience": 2, "min_delta": 0.05},
         [1.0, 0.8, 0.5, 0.47, 0.6, 0.1, 0.1], "val_loss"),
        ("EarlyStopping", {"monitor": "val_accuracy", "patience": 1},
         [0.5, 0.7, 0.6, 0.65, 0.9], "val_accuracy"),
        ("EarlyStopping", {"patience": 2, "baseline": 0.1}, [1.0, 1.0, 1.0, 1.0], "val_loss"),
        ("EarlyStopping", {"patience": 1, "baseline": 0.6}, [1.0, 0.5, 0.55, 0.4, 0.45, 0.45],
         "val_loss"),
        ("EarlyStopping", {"patience": 0, "start_from_epoch": 3}, [1.0, 2.0, 3.0, 4.0, 5.0],
         "val_loss"),
        ("EarlyStopping", {"monitor": "loss", "mode": "max", "patience": 1},
         [1.0, 2.0, 2.0, 3.0, 3.0], "loss"),
        ("ReduceLROnPlateau", {"factor": 0.5, "patience": 1, "cooldown": 2, "min_lr": 0.2},
         [1.0] * 7, "val_loss"),
        ("ReduceLROnPlateau", {"factor": 0.1, "patience": 2, "min_delta": 0.01},
         [1.0, 0.995, 0.9, 0.9, 0.89, 0.5, 0.5, 0.5, 0.5], "val_loss"),
    ]
    out = []
    for name, kwargs, values, key in cases:
        model = Model()
        model.optimizer.lr = tf.Variable(1.0)
        cb = getattr(keras.callbacks, name)(**kwargs)
        cb.set_model(model)
        cb.on_train_begin()
        epochs, rates = [], []
        for epoch, value in enumerate(values):
            logs = {key: value}
            cb.on_epoch_end(epoch, logs)
            epochs.append(epoch)
            if "lr" in logs:
                rates.append(float(logs["lr"]))
            if model.stop_training:
                break
        out.append({"callback": name, "kwargs": kwargs, "values": values, "key": key,
                    "epochs": epochs, "lr": rates,
                    "stopped_epoch": getattr(cb, "stopped_epoch", None),
                    "final_lr": float(model.optimizer.lr.numpy())})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "goldens"))
    args = parser.parse_args(argv)
    arrays, losses, metrics = {}, [], []
    shared = data()
    for cid, kind, name, kwargs, inp, sw, mask in loss_cases():
        y_true, y_pred = shared[inp]
        arrays[f"{cid}/y_true"], arrays[f"{cid}/y_pred"] = y_true, y_pred
        if sw is not None:
            arrays[f"{cid}/sample_weight"] = np.asarray(sw, np.float32)
        if mask is not None:
            arrays[f"{cid}/mask"] = mask
        arrays[f"{cid}/out"] = run_loss(kind, name, kwargs, y_true, y_pred, sw, mask)
        losses.append({"id": cid, "kind": kind, "name": name, "kwargs": kwargs,
                       "sample_weight": sw is not None, "mask": mask is not None})
    for cid, name, kwargs, inp, weights in metric_cases():
        updates = []
        for i, sw in enumerate(weights):
            y_true, y_pred = metric_data(inp)
            if inp == "values":
                sw = None if sw is None else sw[:, None] * np.ones((1, 2), np.float32) \
                    if i == 2 else sw
            updates.append((y_true, y_pred, sw))
            for key, value in (("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sw)):
                if value is not None:
                    arrays[f"{cid}/u{i}/{key}"] = value
        for i, r in enumerate(run_metric(name, kwargs, updates)):
            arrays[f"{cid}/r{i}"] = r
        metrics.append({"id": cid, "name": name, "kwargs": kwargs, "updates": len(updates),
                        "config": json.loads(json.dumps(
                            getattr(keras.metrics, name)(**kwargs).get_config(),
                            default=str))})
    versions = {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                "numpy": np.__version__, "python": sys.version.split()[0]}
    doc = {"versions": versions, "losses": losses, "metrics": metrics,
           "resolve": resolve_cases(), "progbar": progbar_cases(),
           "callbacks": callback_cases()}
    with open(os.path.join(args.out, "losses.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")
    np.savez_compressed(os.path.join(args.out, "losses.npz"), **arrays)
    print(f"{len(losses)} loss cases, {len(metrics)} metric cases, "
          f"{len(doc['resolve'])} resolve cases -> {args.out}")


if __name__ == "__main__":
    main()
