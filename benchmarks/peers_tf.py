#!/usr/bin/env python3
"""TensorFlow peers of ``grad.py`` and ``train.py``, run in TensorFlow's own interpreter.

    /opt/tfenv/bin/python benchmarks/peers_tf.py JOB.npz RESULT.npz

(the parent scripts start it; see ``peer_io.py`` for the job format).
TensorFlow lives in a venv of its own, so it cannot share symkb's process:
the parent sends the weights, the data and the reference results, this
worker builds, checks and times each implementation and answers with the
timings and what it computed.

Implementations:
  grad jobs   ``tf.fn`` / ``tf.fn+XLA``: loss and gradients of the kernel,
              recurrent kernel and bias under ``tf.GradientTape`` inside
              ``tf.function`` (``jit_compile=True`` for XLA), the layer as
              ``tf_keras.backend.rnn`` over a step written from the cell's
              equations (as ``rnn.py``'s forward peers), in both forms of the
              input projection (``hoist``: one GEMM before the loop).
  train jobs  ``tf.fn`` / ``tf.fn+XLA``: a tf_keras model (``LSTM``/``GRU``/
              ``Dense`` with the given weights), ``SparseCategoricalCrossentropy
              (from_logits=True)``, ``GradientTape`` and
              ``tf_keras.optimizers.SGD.apply_gradients`` in one ``tf.function``.
  cnn jobs    ``tf.fn`` / ``tf.fn+XLA``: ``cnn.py``'s W6 as a tf_keras model
              (Conv2D relu, MaxPooling2D, Flatten, Dense) called in a
              ``tf.function``; TensorFlow's CPU kernels take channels_last
              only, so a channels_first batch is transposed inside the call
              (as ``cnn.py`` does for torch's channels_last).
  w7 jobs     ``tf.fn`` / ``tf.fn+XLA``: ``transformer.py``'s W7 block from
              tf_keras layers (MultiHeadAttention, LayerNormalization, Dense)
              called in a ``tf.function``.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peer_io  # noqa: E402


def _tf():
    """TensorFlow and tf_keras, on the parent's thread count."""
    try:
        import tensorflow as tf
        import tf_keras
    except ImportError as e:
        raise peer_io.Missing(f"tensorflow/tf_keras: {e}") from e
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised by an earlier implementation
        pass
    return tf, tf_keras


def _step_fn(tf, cell, u, kv, rv, bv, hoist):
    """The cell's step for ``K.rnn`` and the projection of its inputs."""
    # the GRU's input bias is read inside the step: a slice taken once, here,
    # would be a constant to the tape and get no gradient
    def proj(xt):
        if hoist:
            return xt
        return tf.matmul(xt, kv) + (bv[0] if cell == "gru" else bv)
    if cell == "simple":
        def step(xt, states):
            h = tf.tanh(proj(xt) + tf.matmul(states[0], rv))
            return h, [h]
    elif cell == "lstm":
        def step(xt, states):
            h, c = states
            i, f, g, o = tf.split(proj(xt) + tf.matmul(h, rv), 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            return h, [h, c]
    else:  # gru, reset_after
        def step(xt, states):
            h = states[0]
            xz, xr, xh = tf.split(proj(xt), 3, axis=1)
            hz, hr, hh = tf.split(tf.matmul(h, rv) + bv[1], 3, axis=1)
            z = tf.sigmoid(xz + hz)
            hh = tf.tanh(xh + tf.sigmoid(xr + hr) * hh)
            h = z * h + (1 - z) * hh
            return h, [h]
    return step


def build_grad(job, arrays, xla, hoist):
    """Loss and gradients of every weight in one ``tf.function``."""
    tf, tf_keras = _tf()
    K = tf_keras.backend
    cell, u = job["cell"], job["units"]
    kv, rv, bv = (tf.Variable(arrays[n]) for n in ("k", "r", "b"))
    step = _step_fn(tf, cell, u, kv, rv, bv, hoist)
    n_states = 2 if cell == "lstm" else 1

    def loss_and_grads(x, t):
        with tf.GradientTape() as tape:
            xs = x
            if hoist:
                b_in = bv[0] if cell == "gru" else bv
                n_in = x.shape[-1]
                xs = tf.reshape(tf.matmul(tf.reshape(x, [-1, n_in]), kv) + b_in,
                                [x.shape[0], x.shape[1], -1])
            init = [tf.zeros((x.shape[0], u))] * n_states
            _, ys, _ = K.rnn(step, xs, init)
            loss = tf.reduce_mean(tf.square(ys - t))
        return [loss] + tape.gradient(loss, [kv, rv, bv])

    x, t = arrays["x"], arrays["t"]
    sig = [tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(t.shape, tf.float32)]
    fn = tf.function(loss_and_grads, input_signature=sig, jit_compile=xla)

    def run():
        return [a.numpy() for a in fn(tf.constant(x), tf.constant(t))]
    run.note = "hoisted" if hoist else "per-step"
    return run


def keras_model(tf_keras, job):
    """The training workload as a tf_keras model (logits out)."""
    L = tf_keras.layers
    if job["model"] == "T2":
        layers = [L.Input((784,)), L.Dense(512, activation="relu"),
                  L.Dense(512, activation="relu"), L.Dense(10)]
    else:
        rec = (L.LSTM(job["units"]) if job["cell"] == "lstm"
               else L.GRU(job["units"], reset_after=True))
        layers = [L.Input(tuple(job["x_shape"][1:])), rec, L.Dense(10)]
    return tf_keras.Sequential(layers)


def build_train(job, arrays, xla):
    """One SGD step (forward, loss, gradients, update) in one ``tf.function``."""
    tf, tf_keras = _tf()
    model = keras_model(tf_keras, job)
    model.set_weights([arrays[f"w_{i}"] for i in range(job["n_weights"])])
    opt = tf_keras.optimizers.SGD(learning_rate=job["lr"])
    loss_obj = tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = model.trainable_variables

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_obj(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    x, y = arrays["x"], arrays["y"]
    sig = [tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(y.shape, tf.int32)]
    fn = tf.function(step, input_signature=sig, jit_compile=xla)

    def run():
        return fn(tf.constant(x), tf.constant(y)).numpy()
    return run


def _inference(tf, model, x, xla, before=None):
    """``model(x)`` in a ``tf.function`` (XLA with ``xla``), numpy in and out."""
    def call(v):
        return model(before(v) if before else v, training=False)
    fn = tf.function(call, input_signature=[tf.TensorSpec(x.shape, tf.float32)],
                     jit_compile=xla)

    def run():
        return [fn(tf.constant(x)).numpy()]
    return run


def build_cnn(job, arrays, xla):
    """W6 (``cnn.py``) with the given weights; channels_last inside."""
    tf, tf_keras = _tf()
    L = tf_keras.layers
    x = arrays["x"]
    shape = x.shape[1:] if job["format"] == "channels_last" else x.shape[2:] + x.shape[1:2]
    model = tf_keras.Sequential([
        L.Input(shape), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(10)])
    model.set_weights([arrays[k] for k in ("k1", "b1", "k2", "b2", "wd", "bd")])
    before = None if job["format"] == "channels_last" else \
        (lambda v: tf.transpose(v, (0, 2, 3, 1)))
    return _inference(tf, model, x, xla, before)


def build_w7(job, arrays, xla):
    """W7 (``transformer.py``) with the given weights."""
    tf, tf_keras = _tf()
    L = tf_keras.layers
    x = arrays["x"]
    inp = L.Input(x.shape[1:])
    mha = L.MultiHeadAttention(num_heads=job["heads"], key_dim=job["head"])
    ln1, ln2 = (L.LayerNormalization(epsilon=job["eps"]) for _ in range(2))
    d1, d2 = L.Dense(job["ffn"], activation="relu"), L.Dense(x.shape[-1])
    h = ln1(inp + mha(inp, inp))
    model = tf_keras.Model(inp, ln2(h + d2(d1(h))))
    mha.set_weights([arrays[k] for k in ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")])
    ln1.set_weights([arrays["g1"], arrays["e1"]])
    ln2.set_weights([arrays["g2"], arrays["e2"]])
    d1.set_weights([arrays["w1"], arrays["b1"]])
    d2.set_weights([arrays["w2"], arrays["b2"]])
    return _inference(tf, model, x, xla)


BUILDERS = {
    "grad": {
        "tf.fn": lambda job, a: build_grad(job, a, False, True),
        "tf.fn per-step": lambda job, a: build_grad(job, a, False, False),
        "tf.fn+XLA": lambda job, a: build_grad(job, a, True, False),
        "tf.fn+XLA hoisted": lambda job, a: build_grad(job, a, True, True),
    },
    "train": {
        "tf.fn": lambda job, a: build_train(job, a, False),
        "tf.fn+XLA": lambda job, a: build_train(job, a, True),
    },
    "cnn": {
        "tf.fn": lambda job, a: build_cnn(job, a, False),
        "tf.fn+XLA": lambda job, a: build_cnn(job, a, True),
    },
    "w7": {
        "tf.fn": lambda job, a: build_w7(job, a, False),
        "tf.fn+XLA": lambda job, a: build_w7(job, a, True),
    },
}


if __name__ == "__main__":
    job, _ = peer_io.read_job(sys.argv[1])
    peer_io.serve(BUILDERS[job["kind"]])
