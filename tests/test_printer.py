"""The printed IR: golden files pin the exact text; unit tests pin the layout rules.

Set SYMKB_UPDATE_GOLDENS=1 to rewrite tests/goldens/ir/*.txt on purpose (then
review the diff like code).
"""
import os
import pathlib

import numpy as np
import pytest

import graph_cases as cases
from symkb import backend as K
from symkb import ir
from symkb.ir import Graph, Node, layer_scope, placeholder_node
from symkb.ir.printer import (format_graph, format_node, format_value, name_values,
                              param_base_name)

GOLDENS = pathlib.Path(__file__).parent / "goldens" / "ir"
UPDATE = os.environ.get("SYMKB_UPDATE_GOLDENS") == "1"

def _lstm_model():
    import symkb
    from symkb import layers
    model = symkb.Sequential([layers.Input((5, 3)), layers.LSTM(4),
                              layers.Dense(2, activation="softmax")])
    return model.graph, None


GOLDEN_CASES = {
    "lstm_model": _lstm_model,
    "dense_mlp": cases.dense_mlp,
    "rnn": cases.rnn,
    "rnn_backwards_mask": lambda: cases.rnn(go_backwards=True, mask=True),
    "fused": cases.fused,
    "nested": cases.nested,
    "shapes": cases.shapes,
    "consts": cases.consts,
    "attrs": cases.attrs_only,
}


def _check_golden(name: str, text: str):
    path = GOLDENS / f"{name}.txt"
    if UPDATE:
        GOLDENS.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run the tests with SYMKB_UPDATE_GOLDENS=1 "
                    "to create it, and review it")
    expected = path.read_text()[:-1]
    assert text == expected, (f"printed IR differs from {path} (SYMKB_UPDATE_GOLDENS=1 rewrites "
                              f"it):\n{text}")


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_printed_ir(name):
    graph, _ = GOLDEN_CASES[name]()
    _check_golden(name, str(graph))


def test_golden_full_form_of_large_constants():
    graph, _ = cases.consts()
    _check_golden("consts_full", format_graph(graph, full=True))


def test_long_parameter_lists_wrap_aligned():
    graph, _ = _lstm_model()
    lines = str(graph).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("    body("))
    assert lines[at].endswith(",") and lines[at + 1].startswith(" " * 9 + "%")
    assert lines[at + 1].endswith(") {")
    assert len(lines[at]) <= 80


def test_printing_is_deterministic_and_repeatable():
    graph, _ = cases.rnn()
    assert str(graph) == str(graph) == format_graph(graph)
    K.clear_session()
    again, _ = cases.rnn()
    assert str(again) == str(graph)


def test_target_look_of_a_loop_graph():
    graph, _ = cases.rnn()
    lines = str(graph).splitlines()
    assert lines[0] == "graph rnn(%x: f32[?,5,3]) -> (f32[?,4], f32[?,5,4], f32[?,4]) {"
    # parameters come first and keep their names; the full name is the attribute
    assert lines[1] == '  %kernel: f32[3,4] = param[name="cell/kernel"]'
    assert lines[2] == '  %recurrent_kernel: f32[4,4] = param[name="cell/recurrent_kernel"]'
    loop_at = next(i for i, line in enumerate(lines) if "= loop[" in line)
    # the long attribute list wraps onto indented continuation lines
    assert lines[loop_at].endswith(",") and lines[loop_at + 1].startswith("      ")
    body_at = next(i for i, line in enumerate(lines) if line.startswith("    body("))
    assert lines[body_at].endswith(") {")
    # the body is indented in place and numbering continues inside it
    assert lines[body_at + 1].startswith("      %")
    closing = next(i for i in range(body_at, len(lines)) if lines[i].startswith("  }"))
    assert lines[closing].endswith("# rnn")
    assert lines[-2].startswith("  return ") and lines[-1] == "}"


def test_layer_comment_column_and_sorted_attributes():
    x = K.placeholder(shape=(None, 3), name="x")
    with layer_scope("dense"):
        y = K.relu(K.exp(x), alpha=0.5, max_value=2.0)
    lines = str(Graph([x], [y], name="g")).splitlines()
    assert lines[1] == "  %0: f32[?,3] = exp %x".ljust(60) + "  # dense"
    # a line past the comment column gets its comment two spaces after it
    assert lines[2] == "  %1: f32[?,3] = relu[alpha=0.5, max_value=2.0, threshold=0.0] %0  # dense"


def test_names_are_unique_and_valid():
    a = K.placeholder(shape=(2,), name="a b")
    b = K.placeholder(shape=(2,), name="a_b")
    c = K.placeholder(shape=(2,), name="7")
    v1 = K.variable(np.ones(2), name="l1/kernel:0")
    v2 = K.variable(np.ones(2), name="l2/kernel:0")
    g = Graph([a, b, c], [a + b + c + v1 + v2], name="names")
    text = str(g)
    assert text.splitlines()[0] == \
        "graph names(%a_b: f32[2], %a_b_1: f32[2], %7_1: f32[2]) -> (f32[2]) {"
    assert '%kernel: f32[2] = param[name="l1/kernel:0"]' in text
    assert '%kernel_1: f32[2] = param[name="l2/kernel:0"]' in text
    assert param_base_name("a/b/c:0") == "c"


def test_non_trainable_param_and_quoted_graph_name():
    v = ir.Variable(np.zeros(2), "float32", name="bn/moving_mean", trainable=False)
    x = K.placeholder(shape=(2,), name="x")
    text = str(Graph([x], [x - v], name="my model"))
    assert text.startswith('graph "my model"(%x: f32[2])')
    assert 'param[name="bn/moving_mean", trainable=false]' in text


def test_large_arrays_abbreviated_unless_full():
    x = K.placeholder(shape=(20,), name="x")
    g = Graph([x], [x + np.arange(20, dtype="float32")], name="g")
    short, full = format_graph(g), format_graph(g, full=True)
    assert "f32[20]{0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, ...}" in short
    assert "f32[20]{" + ", ".join(f"{i}.0" for i in range(20)) + "}" in full
    small = Graph([x], [x + np.ones(20, "float32")[:16].sum()], name="g")
    assert "..." not in str(small)


@pytest.mark.parametrize("value, text", [
    (None, "none"), (True, "true"), (False, "false"), (3, "3"), (np.int64(-2), "-2"),
    (0.1, "0.1"), (1e-07, "1e-07"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (float("nan"), "nan"), (-0.0, "-0.0"), ("a\"b", '"a\\"b"'), ((), "()"), ((1,), "(1,)"),
    ((1, (2, 3)), "(1, (2, 3))"), ([1, 2], "[1, 2]"), ({"b": 1, "a": 2}, '{"a": 2, "b": 1}'),
    (np.array([0.1, -0.0], "float32"), "f32[2]{0.1, -0.0}"),
    (np.array(0.1, "float64"), "f64[]{0.1}"),
    (np.array([[True], [False]]), "bool[2,1]{true, false}"),
    (np.array([1, 2], "uint16"), "u16[2]{1, 2}"), (np.array(65504, "float16"), "f16[]{6.55e+04}"),
])
def test_format_value(value, text):
    assert format_value(value) == text


def test_format_node_for_generated_code_comments():
    graph, _ = cases.fused()
    names = name_values(graph)
    fused = next(n for n in graph.nodes if n.op == "fused_elementwise")
    assert format_node(fused, names, compact=True) == \
        "%1: f32[?,4] = fused{bias_add, relu} %0, %bias"
    assert format_node(fused, names) == \
        '%1: f32[?,4] = fused_elementwise[ops=("bias_add", "relu")] %0, %bias'
    body = fused.attrs["body"]
    assert format_node(body.nodes[0], names) == "%2: f32[?,4] = bias_add %p, %q"


def test_body_with_its_own_name_prints_it():
    graph, _ = cases.fused()
    text = str(graph)
    assert "    body(%p: f32[?,4], %q: f32[4]) {" in text
    assert "    body epilogue(%acc: f32[?,4], %b: f32[4]) {" in text


def test_multiple_graph_attributes_print_in_key_order():
    x = placeholder_node((2,), "float32", "x")
    b1 = Graph([x], [K.exp(x)], name="then")
    y = placeholder_node((2,), "float32", "y")
    b2 = Graph([y], [K.log(y)], name="else")
    z = K.placeholder(shape=(2,), name="z")
    node = Node("test_cond", (z,), {"then": b1, "else": b2, "n": 1}, (z.type,))
    text = str(Graph([z], [node.outputs[0]], name="g"))
    assert text.index("else(%y") < text.index("then(%x")
    assert "= test_cond[n=1] %z {" in text
