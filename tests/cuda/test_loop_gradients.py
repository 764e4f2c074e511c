"""The gradient of a recurrence on the cuda target (simulator): a masked LSTM's
loss and its gradients (the reverse scan, the residual-saving forward scan and
the weights' products after the loop) == the interpreter. One compile."""
import numpy as np
from cuda_harness import assert_same

from symkb import backend as K
from symkb import ir, layers


def test_masked_lstm_gradients_equal_the_interpreters():
    K.clear_session()
    x = layers.Input((None, 2), name="x")
    lstm = layers.LSTM(3, return_sequences=True, name="lstm")
    loss = K.mean(K.square(lstm(layers.Masking(0.0)(x)) - 0.5))
    graph = ir.Graph([x], [loss, *K.gradients(loss, [x, *lstm.trainable_weights])],
                     name="lstm_grad")
    xv = np.random.default_rng(8).normal(size=(3, 4, 2)).astype("float32")
    xv[1, 2] = 0.0
    assert_same(graph, [xv])
