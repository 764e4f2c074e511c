import numpy as np
import pytest

from symkb import backend as K
from symkb import ir


def test_symbolic_op_records_node_and_interpreter_matches_eager():
    x = K.placeholder(shape=(None, 4))
    w = K.variable(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    y = K.softmax(K.dot(x, w) * 2.0)
    assert y.shape == (None, 3) and y.dtype == "float32"
    f = K.function([x], [y])
    data = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    (out,) = f([data])
    np.testing.assert_allclose(out, K.softmax(K.dot(data, w) * 2.0), rtol=1e-6)


def test_set_value_after_build_is_seen_by_next_call():
    x = K.placeholder(shape=(None, 2))
    w = K.variable(np.ones((2, 2)))
    f = K.function([x], K.dot(x, w))
    np.testing.assert_allclose(f([np.ones((1, 2))]), [[2.0, 2.0]])
    K.set_value(w, np.full((2, 2), 3.0))
    np.testing.assert_allclose(f([np.ones((1, 2))]), [[6.0, 6.0]])


def test_keras_tensor_has_no_value():
    x = K.placeholder(shape=(2,))
    for fn in (np.asarray, float, bool):
        with pytest.raises(TypeError, match="K.function"):
            fn(x)


def test_printer_names_and_layout():
    x = K.placeholder(shape=(None, 3), name="x")
    y = K.relu(x + 1.0)
    text = str(ir.Graph([x], [y], name="g"))
    assert text.splitlines()[0] == "graph g(%x: f32[?,3]) -> (f32[?,3]) {"
    assert "= add %x, %0" in text and "relu[alpha=0.0, max_value=none, threshold=0.0] %1" in text
    assert text.splitlines()[-1] == "}"


def test_graph_rejects_missing_placeholder():
    a, b = K.placeholder(shape=(2,), name="a"), K.placeholder(shape=(2,), name="b")
    with pytest.raises(ValueError, match="'b'"):
        ir.Graph([a], [a + b])


def test_verifier_accepts_built_graph_and_catches_bad_types():
    x = K.placeholder(shape=(None, 3), name="x")
    y = K.sum(K.exp(x), axis=-1)
    g = ir.Graph([x], [y])
    ir.verify(g)
    bad = ir.Node("exp", (x,), {}, (ir.TensorType((None, 4), "float32"),))
    with pytest.raises(ir.VerifyError, match="type rule"):
        ir.verify(ir.Graph([x], [bad.outputs[0]]))


def test_broadcast_with_unknown_dims():
    assert ir.broadcast_shapes((None, 1), (1, 5)) == (None, 5)
    assert ir.broadcast_shapes((None, 3), (3,)) == (None, 3)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        ir.broadcast_shapes((2, 3), (4,))
