"""``K.function(..., updates=...)`` on the cuda target: the writes match the interpreter's."""
import numpy as np

from symkb import backend as K


def test_cuda_updates_match_the_interpreter():
    x_value = np.array([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]], dtype="float32")
    finals = []
    for target in ("interpreter", "cuda"):
        x = K.placeholder(shape=(None, 3), name="x")
        w = K.variable(np.linspace(-1, 1, 6).reshape(3, 2), name="w")
        loss = K.mean(K.square(K.dot(x, w)))
        (g,) = K.gradients(loss, [w])
        f = K.function([x], [loss], updates=[K.update_sub(w, 0.5 * g)], target=target)
        losses = [float(f([x_value])[0]) for _ in range(3)]
        K.set_value(w, np.ones((3, 2)))  # the device copy follows set_value
        losses.append(float(f([x_value])[0]))
        finals.append((losses, w.numpy()))
    np.testing.assert_allclose(finals[1][0], finals[0][0], rtol=1e-5)
    np.testing.assert_allclose(finals[1][1], finals[0][1], rtol=1e-5)
