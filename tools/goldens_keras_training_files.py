"""Compiled, trained models saved by real tf_keras, and what tf_keras's own
training does after loading them (run with tensorflow-cpu and tf-keras
installed, TF_USE_LEGACY_KERAS=1):

    TF_USE_LEGACY_KERAS=1 python tools/goldens_keras_training_files.py

For each optimizer a small MLP is compiled (loss, metrics), trained one epoch
and saved as ``train_<opt>.keras`` and ``train_<opt>.h5``; each file is then
loaded by tf_keras's ``load_model`` and trained one more epoch on the same
data (``shuffle=False``). ``training.npz`` holds the data, the weights after
that epoch and its loss, which symkb must reproduce from the same files
(tests/test_keras_training_files.py), and the optimizer state tf_keras saved.
"""
import pathlib

import numpy as np
import tf_keras as k

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "goldens" / "keras_files"

OPTIMIZERS = {
    "adam_amsgrad": lambda: k.optimizers.Adam(0.01, amsgrad=True),
    "rmsprop_centered": lambda: k.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "sgd_momentum": lambda: k.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adadelta": lambda: k.optimizers.Adadelta(1.0),
}


def model(seed):
    k.utils.set_random_seed(seed)
    return k.Sequential([k.layers.Input((4,)), k.layers.Dense(3, activation="tanh"),
                         k.layers.Dense(2)], name="mlp")


def main():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((16, 4)).astype("float32")
    y = rng.standard_normal((16, 2)).astype("float32")
    arrays = {"x": x, "y": y}
    for name, make in OPTIMIZERS.items():
        m = model(1)
        m.compile(optimizer=make(), loss="mse", metrics=["mae"])
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        for ext in ("keras", "h5"):
            path = OUT / f"train_{name}.{ext}"
            m.save(path)
            again = k.models.load_model(path)
            history = again.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
            arrays[f"{name}_{ext}_loss"] = np.float32(history.history["loss"][0])
            for i, w in enumerate(again.get_weights()):
                arrays[f"{name}_{ext}_w{i}"] = w
        for i, v in enumerate(m.optimizer.variables):
            arrays[f"{name}_opt{i}"] = v.numpy()
        arrays[f"{name}_opt_count"] = np.int64(len(m.optimizer.variables))
    np.savez(OUT / "training.npz", **arrays)


if __name__ == "__main__":
    main()
