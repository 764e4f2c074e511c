"""Keras files with the convolution, normalisation and attention layers, written by
real tf_keras (run with tensorflow-cpu and tf-keras installed, TF_USE_LEGACY_KERAS=1):

    TF_USE_LEGACY_KERAS=1 python tools/goldens_keras_layers.py

Writes tests/goldens/keras_files/layers_{cnn,attention}.{keras,h5} and
layers.npz (the inputs and tf_keras's predictions), read by
tests/test_keras_layer_files.py with no TensorFlow.
"""
import pathlib

import numpy as np
import tf_keras as k

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "goldens" / "keras_files"


def models():
    cnn = k.Sequential([k.layers.Input((12, 10, 3)), k.layers.Conv2D(4, 3, activation="relu"),
                        k.layers.BatchNormalization(), k.layers.MaxPooling2D(2),
                        k.layers.SeparableConv2D(5, 2, padding="same"),
                        k.layers.GlobalAveragePooling2D(), k.layers.Dense(3)], name="cnn")
    seq = k.layers.Input((7, 8))
    attended = k.layers.MultiHeadAttention(2, 4)(seq, seq)  # value passed by position
    normed = k.layers.LayerNormalization()(k.layers.Add()([attended, seq]))
    attention = k.Model(seq, k.layers.Conv1D(3, 2)(normed), name="attention")
    return {"cnn": (cnn, (2, 12, 10, 3)), "attention": (attention, (2, 7, 8))}


def main():
    rng = np.random.RandomState(0)
    arrays = {}
    for name, (model, shape) in models().items():
        # positive weights: BatchNormalization's moving variance must be
        model.set_weights([np.abs(rng.standard_normal(w.shape)).astype("float32") * 0.3
                           for w in model.get_weights()])
        x = rng.standard_normal(shape).astype("float32")
        model.save(OUT / f"layers_{name}.keras")
        model.save(OUT / f"layers_{name}.h5")
        arrays[f"{name}_x"] = x
        arrays[f"{name}_y"] = model.predict(x, verbose=0)
    np.savez(OUT / "layers.npz", **arrays)


if __name__ == "__main__":
    main()
