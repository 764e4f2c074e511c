"""Graphs of every op family for the inspection and exchange tests.

Each builder returns ``(graph, feeds)``: feeds are concrete input arrays. Names
and values are deterministic after ``K.clear_session()`` (the autouse fixture).
"""
from __future__ import annotations

import numpy as np

from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, Node, get_op, layer_scope, placeholder_node
from symkb.lower.passes import canonicalize_loops


def _rng():
    return np.random.default_rng(0)


def elementwise():
    x = K.placeholder(shape=(None, 4), name="x")
    y = K.placeholder(shape=(None, 4), name="y")
    with layer_scope("unary"):
        a = K.exp(K.sin(x)) + K.cos(y) - K.abs(x) * K.square(y)
        a = K.sqrt(K.abs(a)) + K.log(K.abs(a) + 1.0) + K.tanh(a) + K.sigmoid(a)
        a = K.hard_sigmoid(a) + K.softplus(a) + K.softsign(a) + K.elu(a, 0.5) + K.relu(a, 0.1, 6.0)
    with layer_scope("binary"):
        b = K.maximum(x, y) / K.minimum(x, y) + K.pow(K.abs(x), 2.5)
        c = K.switch(K.greater(x, y), x, -y)
        d = K.cast(K.equal(K.round(x), K.round(y)), "float32")
        e = K.clip(x - y, -0.5, 0.5) + K.sign(x) + ir.call("floor", y) + ir.call("ceil", x)
    out = a + b + c + d + e
    feeds = [_rng().normal(size=(3, 4)).astype("float32"),
             _rng().normal(size=(3, 4)).astype("float32") + 0.1]
    return Graph([x, y], [out, d], name="elementwise"), feeds


def reductions():
    x = K.placeholder(shape=(None, 3, 4), name="x")
    s = K.sum(x, axis=1) + K.mean(x, axis=-2) + K.max(x, axis=1, keepdims=False) - K.min(x, axis=1)
    p = K.prod(x, axis=[1, 2], keepdims=True)
    am = K.argmax(x, axis=-1)
    cs = K.cumsum(x, axis=2)
    sm = K.softmax(x, axis=-1)
    anyv = K.any(K.greater(x, 0.5), axis=1)
    st = K.std(x, axis=1)
    feeds = [_rng().random((2, 3, 4)).astype("float32")]
    return Graph([x], [s, p, am, cs, sm, anyv, st], name="reductions"), feeds


def linalg():
    x = K.placeholder(shape=(None, 4), name="x")
    w = K.variable(_rng().normal(size=(4, 3)), name="w")
    a = K.placeholder(shape=(None, 3, 4), name="a")
    b = K.placeholder(shape=(None, 4, 2), name="b")
    d = K.dot(x, w)
    m = x @ K.transpose(K.constant(np.arange(12).reshape(3, 4) / 7.0))
    bd = K.batch_dot(a, b, axes=(2, 1))
    feeds = [_rng().random((2, 4)).astype("float32"), _rng().random((2, 3, 4)).astype("float32"),
             _rng().random((2, 4, 2)).astype("float32")]
    return Graph([x, a, b], [d, m, bd], name="linalg"), feeds


def shapes():
    x = K.placeholder(shape=(None, 2, 3), name="x")
    idx = K.placeholder(shape=(None,), dtype="int32", name="idx")
    r = K.reshape(x, (-1, 6))
    t = K.permute_dimensions(x, (0, 2, 1))
    g = x[:, 1, ::2]
    c = K.concatenate([x, x * 2.0], axis=-1)
    s = K.stack([x, x], axis=1)
    e = K.squeeze(K.expand_dims(x, 1), 1)
    tl = K.tile(x, (1, 2, 1))
    rp = K.repeat_elements(x, 2, axis=2)
    rv = K.reverse(x, axes=1)
    pd = K.temporal_padding(x, (1, 2))
    oh = K.one_hot(idx, 5)
    ga = K.gather(K.constant(np.arange(15).reshape(5, 3), dtype="float32"), idx)
    feeds = [_rng().random((2, 2, 3)).astype("float32"), np.array([0, 4], dtype="int32")]
    return Graph([x, idx], [r, t, g, c, s, e, tl, rp, rv, pd, oh, ga], name="shapes"), feeds


def consts():
    """Constants of every dtype and the awkward float values."""
    x = K.placeholder(shape=(None, 3), name="x")
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38, 0.1, 1 / 3],
                       dtype="float32")
    f32 = ir.const(special[:3].copy())
    f64 = ir.const(np.array([0.1, 1 / 3, 2.0 ** -1074], dtype="float64"))
    f16 = ir.const(np.array([0.1, 65504.0, -0.0], dtype="float16"))
    i64 = ir.const(np.array([-(2 ** 62), 0, 7], dtype="int64"))
    u8 = ir.const(np.array([0, 255, 3], dtype="uint8"))
    bools = ir.const(np.array([True, False, True]))
    big = ir.const(np.arange(40, dtype="float32").reshape(20, 2)[:3, :1].T.reshape(3) / 3)
    large = ir.const((np.arange(60, dtype="float32") / 7).reshape(20, 3))
    out = (K.switch(bools, x, x * f32) + K.cast(f16, "float32") + K.cast(i64, "float32")
           + K.cast(u8, "float32") + big)
    out64 = K.cast(x, "float64") + f64
    sp = K.sum(K.switch(K.equal(x[:, :1] * 0, 0), x, x) + K.constant(special[3:6]), axis=0)
    total = K.sum(large, axis=0)
    feeds = [_rng().random((2, 3)).astype("float32")]
    return Graph([x], [out, out64, sp, total], name="consts"), feeds


def dense_mlp():
    from symkb import layers
    from symkb.models import Sequential
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.Dense(6, activation="tanh", use_bias=False),
                        layers.Dense(3, activation="softmax")])
    feeds = [_rng().random((5, 4)).astype("float32")]
    return model.graph, feeds


def rnn(go_backwards=False, mask=False):
    x = K.placeholder(shape=(None, 5, 3), name="x")
    kernel = K.variable(_rng().normal(size=(3, 4)) * 0.5, name="cell/kernel")
    recurrent = K.variable(_rng().normal(size=(4, 4)) * 0.5, name="cell/recurrent_kernel")

    def step(xt, states):
        h = K.tanh(K.dot(xt, kernel) + K.dot(states[0], recurrent))
        return h * 2.0, [h]

    m = K.placeholder(shape=(None, 5), dtype="bool", name="mask") if mask else None
    h0 = K.zeros_like(K.dot(x[:, 0, :], kernel))
    with layer_scope("rnn"):
        last, outs, states = K.rnn(step, x, [h0], go_backwards=go_backwards, mask=m)
    inputs = [x] + ([m] if mask else [])
    feeds = [_rng().normal(size=(2, 5, 3)).astype("float32")]
    if mask:
        feeds.append(np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]], dtype=bool))
    return Graph(inputs, [last, outs, states[0]], name="rnn"), feeds


def fused():
    """A ``fused_elementwise`` node (as the fusion pass builds it) and a ``fused_dot``."""
    x = K.placeholder(shape=(None, 4), name="x")
    w = K.variable(_rng().normal(size=(4, 4)), name="dense/kernel")
    b = K.variable(_rng().normal(size=(4,)), name="dense/bias")
    p, q = placeholder_node((None, 4), "float32", "p"), placeholder_node((4,), "float32", "q")
    body = Graph([p, q], [K.relu(K.bias_add(p, q))], name="body")
    attrs = {"body": body, "ops": ("bias_add", "relu")}
    acc = K.dot(x, w)
    ins = (acc, b.tensor)
    node = Node("fused_elementwise", ins, attrs, get_op("fused_elementwise").infer(
        [t.type for t in ins], attrs), layer="dense")
    a2 = placeholder_node((None, 4), "float32", "acc")
    b2 = placeholder_node((4,), "float32", "b")
    body2 = Graph([a2, b2], [K.tanh(a2 + b2)], name="epilogue")
    attrs2 = {"body": body2, "ops": ("add", "tanh")}
    ins2 = (node.outputs[0], w.tensor, b.tensor)
    node2 = Node("fused_dot", ins2, attrs2, get_op("fused_dot").infer(
        [t.type for t in ins2], attrs2), layer="dense_1")
    feeds = [_rng().random((3, 4)).astype("float32")]
    return Graph([x], [node2.outputs[0]], name="fused"), feeds


def attrs_only():
    """Attribute values of every kind, on an unregistered op (printed, not run)."""
    x = K.placeholder(shape=(2,), name="in put")
    attrs = {"none": None, "flag": True, "count": -3, "ratio": 0.1, "tiny": 5e-324,
             "big": 1e300, "inf": float("inf"), "ninf": float("-inf"), "nan": float("nan"),
             "negzero": -0.0, "text": 'quote " back \\ newline \n tab \t é',
             "empty": (), "one": (1,), "nested": ((1, 2.5), ("a", None), [True, []]),
             "mapping": {"b": 1, "a": (2, 3)}, "listed": [1, 2, 3],
             "array": np.arange(6, dtype="int16").reshape(2, 3), "empty_array": np.zeros((0, 2))}
    node = Node("test_attrs", (x,), attrs, (x.type, x.type), layer="odd layer # name")
    return Graph([x], list(node.outputs), name="attrs graph"), None


def more_ops():
    """The ops the other cases leave out (comparisons, logic, scans, random ops, ...)."""
    x = K.placeholder(shape=(None, 4), name="x")
    n = K.placeholder(shape=(None, 4), dtype="int32", name="n")
    b = K.greater_equal(x, 0.0)
    logic = K.cast(ir.call("logical_or", ir.call("logical_and", b, K.less(x, 1.0)),
                           ir.call("logical_not", K.less_equal(x, -1.0))), "float32")
    ints = ir.call("floordiv", n, 3) + ir.call("mod", n, 3)
    flags = K.all(K.not_equal(n, 0), axis=1)
    out = (ir.call("expm1", x) + ir.call("log1p", K.abs(x)) + K.selu(x) + K.ones_like(x)
           + K.identity(x) + ir.call("erf", x) + K.stop_gradient(x)
           + logic + K.cumprod(x, axis=1) + K.dropout(x, 0.5, seed=3))
    feeds = [_rng().normal(size=(3, 4)).astype("float32"),
             np.arange(12, dtype="int32").reshape(3, 4) - 4]
    size = K.shape(x)
    drawn = (K.random_uniform(size, seed=1) + K.random_normal(size, seed=2)
             + K.truncated_normal(size, seed=3) + K.random_bernoulli(size, p=0.3, seed=4)
             + K.print_tensor(ir.call("round_float16", x), "x ="))
    return Graph([x, n], [out, ints, flags, K.argmin(x, axis=1), K.shape(x), drawn],
                 name="more_ops"), feeds


def windows():
    """Convolution and pooling, and their gradients (conv_transpose, conv_filter_grad,
    pool_grad, pool_select)."""
    x = K.placeholder(shape=(None, 5, 4, 2), name="image")
    w = K.variable(_rng().normal(size=(3, 2, 2, 3)).astype("float32"), name="taps")
    y = K.pool2d(K.conv2d(x, w, padding="same", strides=(1, 2)), (2, 2), padding="same")
    z = K.pool2d(y, (2, 1), pool_mode="avg")
    loss = K.sum(K.square(y)) + K.sum(z)
    dx, dw = K.gradients(loss, [x, w])
    pooled = y.node.attrs  # the max pool's window: its second-order adjoint picks by it
    c = y.node.inputs[0]
    picked = ir.call("pool_select", c, c, window=pooled["window"], strides=pooled["strides"],
                     pads=pooled["pads"])
    return Graph([x], [y, z, dx, dw, picked], name="windows"), \
        [_rng().normal(size=(2, 5, 4, 2)).astype("float32")]


def fused_conv():
    """A ``fused_conv`` node, as the pipeline builds it: a convolution with its
    bias, activation and a max pooling that tiles the result."""
    from symkb.lower import run_pipeline
    x = K.placeholder(shape=(None, 6, 6, 2), name="image")
    w = K.variable(_rng().normal(size=(3, 3, 2, 4)).astype("float32"), name="taps")
    b = K.variable(_rng().normal(size=(4,)).astype("float32"), name="bias")
    y = K.pool2d(K.relu(K.bias_add(K.conv2d(x, w), b)), (2, 2), strides=(2, 2))
    graph, _ = run_pipeline(Graph([x], [y], name="fused_conv"))
    assert [n.op for n in graph.nodes].count("fused_conv") == 1, str(graph)
    return graph, [_rng().normal(size=(2, 6, 6, 2)).astype("float32")]


RUNNABLE = {
    "windows": windows, "fused_conv": fused_conv,
    "more_ops": more_ops,
    "elementwise": elementwise, "reductions": reductions, "linalg": linalg, "shapes": shapes,
    "consts": consts, "dense_mlp": dense_mlp, "rnn": rnn,
    "rnn_backwards_mask": lambda: rnn(go_backwards=True, mask=True), "fused": fused,
}


def variables_of(graph) -> list:
    """Every Variable the graph (or a body) reads."""
    seen = {}
    for _, node in graph.walk():
        if node.op == "param":
            v = node.attrs["variable"]
            seen[id(v)] = v
    return list(seen.values())


def assert_same_results(g1, g2, feeds):
    """The interpreter gives bit-identical results on both graphs."""
    a = ir.evaluate(g1, feeds)
    b = ir.evaluate(g2, feeds)
    assert len(a) == len(b)
    for i, (u, v) in enumerate(zip(a, b)):
        assert u.dtype == v.dtype and u.shape == v.shape, (i, u.dtype, v.dtype, u.shape, v.shape)
        np.testing.assert_array_equal(u, v, err_msg=f"output {i}")


def nested():
    """A loop whose body holds a fused_elementwise node: bodies inside bodies."""
    x = K.placeholder(shape=(None, 4, 2), name="x")
    xt = placeholder_node((None, 2), "float32", "x_t")
    h = placeholder_node((None, 2), "float32", "h")
    p = placeholder_node((None, 2), "float32", "p")
    q = placeholder_node((None, 2), "float32", "q")
    inner = Graph([p, q], [K.tanh(p + q)], name="body")
    ins = (xt, h)
    attrs = {"body": inner, "ops": ("add", "tanh")}
    fused = Node("fused_elementwise", ins, attrs,
                 get_op("fused_elementwise").infer([t.type for t in ins], attrs), layer="cell")
    new_h = fused.outputs[0]
    body = Graph([xt, h], [new_h, new_h], name="body")
    h0 = K.zeros_like(x[:, 0, :])
    attrs = dict(body=body, num_sequences=1, num_states=1, num_constants=0, num_outputs=1,
                 has_mask=False, go_backwards=False, zero_output_for_mask=False,
                 return_all_outputs=False, time_major=False, length=4)
    ins = (x, h0)
    loop = Node("loop", ins, attrs, get_op("loop").infer([t.type for t in ins], attrs),
                layer="rnn")
    feeds = [_rng().normal(size=(3, 4, 2)).astype("float32")]
    return Graph([x], [loop.outputs[0], loop.outputs[1]], name="nested"), feeds


def cut():
    """A graph whose input is an intermediate value (feeding it cuts the graph there)."""
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(_rng().normal(size=(3, 3)), name="w")
    h = K.dot(x, w)
    y = K.relu(h) + h
    feeds = [_rng().normal(size=(2, 3)).astype("float32")]
    return Graph([h], [y], name="cut"), feeds


def scan():
    """The canonical ``scan`` (what ``canonicalize_loops`` makes of a masked
    go_backwards loop: a reverse scan with the mask as a sequence)."""
    graph, feeds = rnn(go_backwards=True, mask=True)
    return canonicalize_loops(graph), feeds


RUNNABLE["nested"] = nested
RUNNABLE["cut"] = cut
RUNNABLE["scan"] = scan


def random_graph(data):
    """A small random graph over x: f32[?,3] drawn with hypothesis's ``data``."""
    from hypothesis import strategies as st
    x = K.placeholder(shape=(None, 3), name="x")
    values = [x]
    unary = ["exp", "tanh", "sigmoid", "abs", "square", "negative", "softsign", "relu"]
    binary = ["add", "subtract", "multiply", "maximum", "minimum"]
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["unary", "binary", "reduce", "shape"]))
        a = data.draw(st.sampled_from(values))
        if kind == "unary":
            values.append(ir.call(data.draw(st.sampled_from(unary)), a))
        elif kind == "binary":
            other = data.draw(st.one_of(st.sampled_from(values),
                                        st.floats(-3, 3, width=32).map(np.float32)))
            values.append(ir.call(data.draw(st.sampled_from(binary)), a, other))
        elif kind == "reduce":
            values.append(K.sum(a, axis=-1, keepdims=True) * a)
        else:
            values.append(K.reverse(K.permute_dimensions(K.expand_dims(a, 1), (0, 2, 1)),
                                    axes=1)[:, :, 0])
    return Graph([x], values[-2:], name="random"), [
        np.linspace(-2, 2, 6, dtype="float32").reshape(2, 3)]


def golden_layer_cases() -> list:
    """The tf_keras layer golden cases (tests/goldens/layers.json): every layer kind."""
    import json
    import pathlib
    path = pathlib.Path(__file__).parent / "goldens" / "layers.json"
    return json.loads(path.read_text())["cases"]


def build_golden_model(case):
    """The case's model, built by its committed construction code, with tf_keras's weights.

    Returns ``(model, feeds)``.
    """
    import pathlib

    import symkb
    K.clear_session()
    scope = {"layers": symkb.layers, "Input": symkb.layers.Input, "Model": symkb.Model,
             "Sequential": symkb.Sequential}
    exec(case["code"], scope)
    model = scope["model"]
    z = np.load(pathlib.Path(__file__).parent / "goldens" / "layers.npz")
    model.set_weights([z[k] for k in case["weight_keys"]])
    return model, [z[case["input_key"]]]


def writes():
    """A training step: a loss, and its weight's and a counter's new values as ``assign``s."""
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(_rng().normal(size=(3, 2)), name="dense/kernel")
    steps = K.variable(0.0, name="steps")
    loss = K.mean(K.square(K.dot(x, w)))
    (grad,) = K.gradients(loss, [w])
    feeds = [_rng().normal(size=(4, 3)).astype("float32")]
    return Graph([x], [loss, K.update_sub(w, 0.1 * grad), K.update(steps, steps.tensor + 1.0)],
                 name="writes"), feeds


RUNNABLE["writes"] = writes
