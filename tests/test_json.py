"""to_json / from_json: versioned schema, exact round trips, data only."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graph_cases as cases
from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, GraphFormatError, from_json, to_json
from symkb.ir.printer import format_graph
from symkb.ir.json_read import decode_array
from symkb.ir.serialize import encode_array


@pytest.mark.parametrize("encoding", ["base64", "list"])
@pytest.mark.parametrize("name", sorted(cases.RUNNABLE))
def test_round_trip_text_and_results(name, encoding):
    graph, feeds = cases.RUNNABLE[name]()
    text = to_json(graph, encoding=encoding)
    back = from_json(text)
    assert format_graph(back, full=True) == format_graph(graph, full=True)
    ir.verify(back)
    cases.assert_same_results(graph, back, feeds)
    # new Variables holding copies of the stored values
    for old, new in zip(cases.variables_of(graph), cases.variables_of(back)):
        assert new is not old and new.name == old.name and new.trainable == old.trainable
        np.testing.assert_array_equal(new.numpy(), old.numpy())
    # writing the loaded graph again gives the same document
    assert to_json(back, encoding=encoding) == text


def test_schema_header_and_layout():
    graph, _ = cases.linalg()
    doc = json.loads(to_json(graph))
    assert doc["format"] == "symkb-graph" and doc["version"] == 1
    g = doc["graph"]
    assert g["name"] == "linalg"
    assert [n["op"] for n in g["nodes"][:3]] == ["input"] * 3
    assert g["inputs"] == [[0, 0], [1, 0], [2, 0]]
    dot = next(n for n in g["nodes"] if n["op"] == "dot")
    assert dot["type"] == ["f32[?,3]"] and dot["inputs"][0] == [0, 0]
    param = next(n for n in g["nodes"] if n["op"] == "param")
    assert param["attrs"] == {"variable": {"variable": 0}} and param["name"] == "w"
    (var,) = doc["variables"]
    assert var["name"] == "w" and var["shape"] == [4, 3] and var["dtype"] == "float32"
    assert set(var["value"]) == {"dtype", "shape", "base64"}
    batch_dot = next(n for n in g["nodes"] if n["op"] == "batch_dot")
    assert batch_dot["attrs"] == {"axes": [2, 1]}


def test_loop_body_is_a_nested_graph():
    graph, _ = cases.rnn()
    doc = json.loads(to_json(graph))
    loop = next(n for n in doc["graph"]["nodes"] if n["op"] == "loop")
    body = loop["attrs"]["body"]["graph"]
    assert body["nodes"][0] == {"op": "input", "name": "x_t", "type": ["f32[?,3]"]}
    assert loop["attrs"]["length"] == 5 and loop["layer"] == "rnn"


def test_without_values_variables_come_from_the_caller_or_zeros():
    graph, feeds = cases.dense_mlp()
    text = to_json(graph, include_values=False)
    doc = json.loads(text)
    assert all("value" not in v for v in doc["variables"])
    zeros = from_json(text)
    assert all(not v.numpy().any() for v in cases.variables_of(zeros))
    given = from_json(text, cases.variables_of(graph))
    assert cases.variables_of(given) == cases.variables_of(graph)
    cases.assert_same_results(graph, given, feeds)
    by_value = from_json(text, {v.name: v.numpy() for v in cases.variables_of(graph)})
    cases.assert_same_results(graph, by_value, feeds)


def test_every_attribute_kind_round_trips_exactly():
    graph, _ = cases.attrs_only()
    text = to_json(graph)
    back = from_json(text, verify=False)  # an unregistered test op: verify=False reads it
    assert format_graph(back, full=True) == format_graph(graph, full=True)
    a, b = graph.nodes[0].attrs, back.nodes[0].attrs
    for key in a:
        if key in ("nan",):
            assert np.isnan(b[key])
        elif isinstance(a[key], np.ndarray):
            assert b[key].dtype == a[key].dtype
            np.testing.assert_array_equal(a[key], b[key])
        else:
            assert b[key] == a[key] and type(b[key]) is type(a[key]), key
    assert back.inputs[0].node.name == "in put"  # names kept as they are
    assert back.nodes[0].layer == "odd layer # name"
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


def test_numpy_scalar_attributes_keep_their_type():
    x = K.placeholder(shape=(2,), name="x")
    node = ir.Node("test_scalar", (x,), {"s": np.float32(0.1), "i": np.int8(-3),
                                         "n": np.float64("nan")}, (x.type,))
    back = from_json(to_json(Graph([x], [node.outputs[0]])), verify=False)
    attrs = back.nodes[0].attrs
    assert attrs["s"] == np.float32(0.1) and attrs["s"].dtype == np.float32
    assert attrs["i"] == -3 and attrs["i"].dtype == np.int8
    assert np.isnan(attrs["n"]) and attrs["n"].dtype == np.float64


def test_unknown_attribute_type_is_a_clear_error():
    x = K.placeholder(shape=(2,), name="x")
    node = ir.Node("test_obj", (x,), {"fn": len}, (x.type,), layer="lam")
    with pytest.raises(TypeError, match="attribute 'fn' of node test_obj \\(layer lam\\)"):
        to_json(Graph([x], [node.outputs[0]]))


@pytest.mark.parametrize("doc, message", [
    ({"format": "other", "version": 1}, "not a symkb graph"),
    ({"format": "symkb-graph", "version": 2, "graph": {}}, "version 2 is not supported"),
    ({"format": "symkb-graph", "version": "1", "graph": {}}, "version '1'"),
    ({"format": "symkb-graph", "version": 1, "graph": {"name": "g"}}, "'nodes'"),
    ({"format": "symkb-graph", "version": 1,
      "graph": {"name": "g", "nodes": [], "outputs": [[3, 0]]}}, "bad value reference"),
    ({"format": "symkb-graph", "version": 1, "variables": [{"name": "v"}],
      "graph": {"name": "g", "nodes": []}}, "variables\\[0\\]"),
    ({"format": "symkb-graph", "version": 1, "graph": {"name": "g", "nodes": [
        {"op": "x", "type": ["f32[]"], "attrs": {"a": {"pickle": "gASV"}}}]}},
     "unknown attribute value"),
])
def test_bad_documents(doc, message):
    with pytest.raises(GraphFormatError, match=message):
        from_json(json.dumps(doc))


def test_not_json():
    with pytest.raises(GraphFormatError, match="not valid JSON"):
        from_json("graph g() {")


def test_array_encodings_are_exact():
    for array in [np.array([np.nan, -0.0, np.inf, 1e-45], "float32"),
                  np.arange(6, dtype=">i4").reshape(2, 3).astype("int32"),
                  np.array([[True, False]]), np.zeros((0, 3), "float64"),
                  np.array(np.float16(65504))]:
        for encoding in ("base64", "list"):
            data = json.loads(json.dumps(encode_array(array, encoding), allow_nan=False))
            back = decode_array(data)
            assert back.dtype == array.dtype and back.shape == array.shape
            assert back.tobytes() == array.tobytes()


def test_base64_payload_is_never_unpickled():
    data = {"dtype": "object", "shape": [1], "base64": "gASVAAAAAA=="}
    with pytest.raises(GraphFormatError, match="Unsupported dtype 'object'"):
        decode_array(data)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_graphs_round_trip(data):
    g, feeds = cases.random_graph(data)
    back = from_json(to_json(g))
    assert format_graph(back, full=True) == format_graph(g, full=True)
    cases.assert_same_results(g, back, feeds)
    again = ir.from_networkx(ir.to_networkx(g))
    assert format_graph(again, full=True) == format_graph(g, full=True)


@pytest.mark.parametrize("name", ["dense_mlp", "rnn", "rnn_backwards_mask", "elementwise"])
def test_optimised_graphs_round_trip_through_every_format(name):
    """The compiler's passes build fused nodes with bodies; all formats carry them."""
    from symkb.lower.passes import run_pipeline
    graph, feeds = cases.RUNNABLE[name]()
    optimised, _ = run_pipeline(graph)
    text = format_graph(optimised, full=True)
    for back in (ir.parse(text, cases.variables_of(optimised), verify=True),
                 from_json(to_json(optimised)),
                 ir.from_networkx(ir.to_networkx(optimised))):
        assert format_graph(back, full=True) == text
        cases.assert_same_results(optimised, back, feeds)


GOLDEN_LAYER_CASES = cases.golden_layer_cases()


@pytest.mark.parametrize("case", GOLDEN_LAYER_CASES, ids=[c["id"] for c in GOLDEN_LAYER_CASES])
def test_every_layer_model_round_trips_through_every_format(case):
    model, feeds = cases.build_golden_model(case)
    graph = model.graph
    text = format_graph(graph, full=True)
    for back in (ir.parse(text, cases.variables_of(graph), verify=True),
                 from_json(to_json(graph)),
                 ir.from_networkx(ir.to_networkx(graph))):
        assert format_graph(back, full=True) == text
        cases.assert_same_results(graph, back, feeds)


@settings(max_examples=20, deadline=None)
@given(go_backwards=st.booleans(), masked=st.booleans(), time_major=st.booleans(),
       all_outputs=st.booleans(), zero_output=st.booleans())
def test_loop_flags_round_trip_through_every_format(go_backwards, masked, time_major,
                                                    all_outputs, zero_output):
    K.clear_session()
    shape = (5, None, 3) if time_major else (None, 5, 3)
    x = K.placeholder(shape=shape, name="x")
    w = K.variable(np.linspace(-1, 1, 12).reshape(3, 4), name="w")

    def step(xt, states):
        h = K.tanh(K.dot(xt, w) + states[0])
        return h, [h]

    mask = K.placeholder(shape=(5, None) if time_major else (None, 5), dtype="bool",
                         name="m") if masked else None
    h0 = K.zeros_like(K.dot(x[0] if time_major else x[:, 0], w))
    outs = K.rnn(step, x, [h0], go_backwards=go_backwards, mask=mask, time_major=time_major,
                 return_all_outputs=all_outputs, zero_output_for_mask=zero_output)
    graph = Graph([x] + ([mask] if masked else []), [outs[0], outs[1], outs[2][0]])
    rng = np.random.default_rng(1)
    feeds = [rng.normal(size=(5, 2, 3) if time_major else (2, 5, 3)).astype("float32")]
    if masked:
        feeds.append(rng.random((5, 2) if time_major else (2, 5)) > 0.3)
    text = format_graph(graph, full=True)
    for back in (ir.parse(text, cases.variables_of(graph), verify=True),
                 from_json(to_json(graph)), ir.from_networkx(ir.to_networkx(graph))):
        assert format_graph(back, full=True) == text
        cases.assert_same_results(graph, back, feeds)
