"""parse(text) reads the printed IR back: same text, same interpreter results."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graph_cases as cases
from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, ParseError, parse
from symkb.ir.printer import format_graph


@pytest.mark.parametrize("name", sorted(cases.RUNNABLE))
def test_round_trip_text_and_results(name):
    graph, feeds = cases.RUNNABLE[name]()
    text = format_graph(graph, full=True)
    back = parse(text, cases.variables_of(graph), verify=True)
    assert format_graph(back, full=True) == text
    assert str(back) == str(graph)
    cases.assert_same_results(graph, back, feeds)


def test_round_trip_of_unregistered_op_with_every_attribute_kind():
    graph, _ = cases.attrs_only()
    text = format_graph(graph, full=True)
    back = parse(text, verify=False)  # an unregistered test op: verify=False reads it
    assert format_graph(back, full=True) == text
    attrs = back.nodes[0].attrs
    assert attrs["nested"] == ((1, 2.5), ("a", None), [True, []])
    assert isinstance(attrs["listed"], list) and isinstance(attrs["one"], tuple)
    assert attrs["text"] == 'quote " back \\ newline \n tab \t é'
    assert np.isnan(attrs["nan"]) and str(attrs["negzero"]) == "-0.0"
    assert attrs["tiny"] == 5e-324 and attrs["array"].dtype == np.int16
    assert attrs["empty_array"].shape == (0, 2)
    assert back.nodes[0].layer == "odd layer # name"
    assert back.name == "attrs graph"


def test_params_become_zero_variables_unless_given():
    graph, feeds = cases.dense_mlp()
    text = format_graph(graph, full=True)
    fresh = parse(text)
    variables = cases.variables_of(fresh)
    assert [v.name for v in variables] == [v.name for v in cases.variables_of(graph)]
    for v in variables:
        assert not v.numpy().any() and v.dtype == "float32"
    # a mapping of arrays gives new Variables with those values
    values = {v.name: v.numpy() for v in cases.variables_of(graph)}
    from_values = parse(text, values)
    cases.assert_same_results(graph, from_values, feeds)
    assert all(v not in cases.variables_of(graph) for v in cases.variables_of(from_values))
    # a list of Variables reuses them (assign is seen by both graphs)
    shared = parse(text, cases.variables_of(graph))
    assert cases.variables_of(shared) == cases.variables_of(graph)


def test_given_variable_of_wrong_shape_is_an_error():
    graph, _ = cases.linalg()
    with pytest.raises(ParseError, match="given variable has type f32\\[2\\]"):
        parse(str(graph), {"w": ir.Variable(np.zeros(2), "float32", name="w")})
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        parse(str(graph), {"w": np.zeros(2)})


def test_non_trainable_flag_survives():
    v = ir.Variable(np.ones(2), "float32", name="moving_mean", trainable=False)
    x = K.placeholder(shape=(2,), name="x")
    back = parse(str(Graph([x], [x * v])))
    assert cases.variables_of(back)[0].trainable is False


def test_abbreviated_array_cannot_be_read_back():
    x = K.placeholder(shape=(30,), name="x")
    g = Graph([x], [x + np.arange(30, dtype="float32")])
    with pytest.raises(ParseError, match="full=True"):
        parse(str(g))
    parse(format_graph(g, full=True))


@pytest.mark.parametrize("text, message", [
    ("grph g() -> () {\n  return\n}", "expected 'graph'"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  return %y\n}", "%y is used before it is defined"),
    ("graph g(%x: q32[2]) -> (f32[2]) {\n  return %x\n}", "unknown dtype 'q32'"),
    ("graph g(%x: f32[2]) -> (f32[3]) {\n  return %x\n}", "header says"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  %x: f32[2] = exp %x\n  return %x\n}",
     "defined twice"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = const[value=f32[3]{1.0, 2.0, 3.0}]\n"
     "  return %0\n}", "const: expected value"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = const[value=f32[2]{1.0}]\n"
     "  return %0\n}", "has 2 elements, found 1"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  return %x\n} extra", "after the end"),
    ("graph g(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = exp[a=$] %x\n  return %0\n}",
     "unexpected character '\\$'"),
])
def test_errors_name_line_and_problem(text, message):
    with pytest.raises(ParseError, match=message) as info:
        parse(text)
    assert "line " in str(info.value) and "column " in str(info.value)


def test_error_position_is_exact():
    text = "graph g(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = exp %nope\n  return %0\n}"
    with pytest.raises(ParseError, match="line 2, column 20"):
        parse(text)


def test_line_breaks_are_not_significant_and_comments_name_layers():
    text = """graph g(%x: f32[?,2]) -> (f32[?,2]) {
      %0: f32[?,2] = relu[alpha=0.0,
          max_value=none, threshold=0.0] %x        # act
      %1: f32[] = const[value=f32[]{2.0}]
      %2: f32[?,2] = multiply %0,
          %1
      return %2
    }"""
    g = parse(text, verify=True)
    assert [n.layer for n in g.nodes] == ["act", None, None]
    np.testing.assert_array_equal(ir.evaluate(g, [np.array([[-1.0, 3.0]], "float32")])[0],
                                  [[0.0, 6.0]])


def test_parse_does_not_execute_text():
    # op names and strings are data: nothing is imported or called
    text = ('graph g(%x: f32[2]) -> (f32[2]) {\n'
            '  %0: f32[2] = __import__[name="os", cmd="rm -rf /"] %x\n  return %0\n}')
    with pytest.raises(ParseError, match="op '__import__' is not registered"):
        parse(text)  # verified by default
    g = parse(text, verify=False)
    assert g.nodes[0].op == "__import__"
    with pytest.raises(ir.VerifyError, match="not registered"):
        ir.verify(g)


_floats = st.sampled_from(["float16", "float32", "float64"])


@settings(max_examples=60, deadline=None)
@given(dtype=_floats, data=st.data())
def test_float_constants_round_trip_bit_exactly(dtype, data):
    array = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
                                 elements=hnp.from_dtype(np.dtype(dtype), allow_nan=True)))
    x = K.placeholder(shape=array.shape, dtype=dtype, name="x")
    g = Graph([x], [x + ir.const(array)])
    back = parse(format_graph(g, full=True))
    value = back.nodes[0].attrs["value"]
    assert value.dtype == array.dtype and value.shape == array.shape
    nan = np.isnan(array)
    np.testing.assert_array_equal(np.isnan(value), nan)
    assert (value[~nan].view(f"u{array.itemsize}") ==
            array[~nan].view(f"u{array.itemsize}")).all()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_graphs_round_trip(data):
    g, feeds = cases.random_graph(data)
    text = format_graph(g, full=True)
    back = parse(text, verify=True)
    assert format_graph(back, full=True) == text
    cases.assert_same_results(g, back, feeds)


@pytest.mark.parametrize("index, text", [
    ((slice(None), 0, slice(None, None, 2)), "[:, 0, ::2]"),
    ((Ellipsis, None, slice(1, 3)), "[..., newaxis, 1:3]"),
    (-1, "[-1]"),
    ((slice(None), slice(1, -1, 2), 3), "[:, 1:-1:2, 3]"),
    ((slice(None, None, 1),), "[::1]"),
])
def test_getitem_index_prints_numpy_style_and_reads_back(index, text):
    x = K.placeholder(shape=(None, 4, 5), name="x")
    g = Graph([x], [x[index]])
    printed = str(g)
    assert f"getitem[index={text}] %x" in printed
    back = parse(printed, verify=True)
    assert back.nodes[0].attrs["index"] == g.nodes[0].attrs["index"]
    feed = np.arange(40, dtype="float32").reshape(2, 4, 5)
    cases.assert_same_results(g, back, [feed])


def test_bad_index_is_an_error():
    text = "graph g(%x: f32[4]) -> (f32[]) {\n  %0: f32[] = getitem[index=[1:2:3:4]] %x\n" \
           "  return %0\n}"
    with pytest.raises(ParseError, match="at most three parts"):
        parse(text)


@pytest.mark.parametrize("layer", ["dense", "odd # name", " padded ", "two\nlines", '"quoted"',
                                   "é ünïcode"])
def test_layer_names_read_back_exactly(layer):
    x = K.placeholder(shape=(2,), name="x")
    with ir.layer_scope(layer):
        y = K.exp(x)
    g = Graph([x], [y])
    back = parse(str(g))
    assert back.nodes[0].layer == layer
    assert str(back) == str(g)


def test_truncated_or_damaged_text_always_gives_a_parse_error():
    graph, _ = cases.rnn()
    text = format_graph(graph, full=True)
    for cut in range(0, len(text) - 1, 7):
        with pytest.raises(ParseError):
            parse(text[:cut])
    for i in range(0, len(text), 13):
        damaged = text[:i] + "}" + text[i + 1:]
        try:
            parse(damaged)
        except ParseError:
            pass


def test_the_cases_use_every_registered_op():
    seen = set()
    for build in cases.RUNNABLE.values():
        graph, _ = build()
        seen |= {node.op for _, node in graph.walk()}
    missing = sorted(set(ir.REGISTRY) - seen - {"input"})
    assert not missing, (f"ops {missing} appear in no graph of tests/graph_cases.py, so their "
                         "printing, parsing and JSON are untested; add a graph using them there")


def test_an_unknown_op_fails_clearly_when_run_and_an_empty_text_does_not_parse():
    g = parse("graph g(%x: f32[?,3]) -> (f32[?,3]) {\n"
              "  %0: f32[?,3] = frobnicate[foo=1] %x\n  return %0\n}", verify=False)
    with pytest.raises(KeyError, match=r"no op named 'frobnicate' is registered"):
        ir.evaluate(g, [np.ones((1, 3), "float32")])
    with pytest.raises(ParseError, match="expected an identifier, found end of text"):
        parse("")
