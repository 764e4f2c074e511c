"""Crafted files against every loader: declared types checked against payloads,
bounded resources, one error family, safe output (docs/trust.md)."""
import base64
import io
import json
import os
import struct
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir, layers
from symkb.cli import main as cli_main
from symkb.inspect_cmd import load_any
from symkb.ir import GraphFormatError, Node, ParseError, ShapeError, TensorType, limits
from symkb.ir.errors import FileFormatError, LimitError
from symkb.models import load_model, model_from_json
from symkb.models.saving import ModelFormatError

MB = 1 << 20


def _doc(nodes, variables=(), outputs=((2, 0),), inputs=((0, 0),)) -> str:
    return json.dumps({"format": "symkb-graph", "version": 1, "variables": list(variables),
                       "graph": {"name": "g", "nodes": nodes, "inputs": [list(r) for r in inputs],
                                 "outputs": [list(r) for r in outputs]}})


def _param_doc(declared="f32[64]", shape=(1,), dtype="float32", width=64) -> str:
    """A param whose declared type can lie about the Variable it holds."""
    count = int(np.prod(shape))
    return _doc([{"op": "input", "name": "x", "type": [f"f32[?,{width}]"]},
                 {"op": "param", "name": "w", "attrs": {"variable": {"variable": 0}},
                  "type": [declared]},
                 {"op": "add", "inputs": [[0, 0], [1, 0]], "type": [f"f32[?,{width}]"]}],
                [{"name": "w", "dtype": dtype, "shape": list(shape),
                  "value": {"dtype": dtype, "shape": list(shape), "data": [1] * count}}])


def _const_doc(declared="f32[64]", shape=(1,), dtype="float32", width=64) -> str:
    count = int(np.prod(shape))
    return _doc([{"op": "input", "name": "x", "type": [f"f32[?,{width}]"]},
                 {"op": "const", "attrs": {"value": {"array": {
                     "dtype": dtype, "shape": list(shape), "data": [1] * count}}},
                  "type": [declared]},
                 {"op": "add", "inputs": [[0, 0], [1, 0]], "type": [f"f32[?,{width}]"]}])


def _peak(fn):
    """``(result or exception, peak bytes traced)`` of ``fn()``."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 (returned for the caller to check)
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _in_time(fn, seconds=20.0):
    """``fn()``'s result or exception, failing the test when it does not return in time."""
    box = {}

    def run():
        try:
            box["out"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["out"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the loader did not return within {seconds} s"
    return box["out"]


# -- 1. declared types against payloads ----------------------------------------------

def test_the_crafted_out_of_bounds_document_is_refused():
    # 64 floats declared, one stored: the cpu kernel used to read 63 past the end
    text = _param_doc()
    assert len(text) < 500
    with pytest.raises(GraphFormatError, match=r"graph\.nodes\[1\]: param 'w' declares type "
                                               r"f32\[64\] but its Variable holds f32\[1\]"):
        ir.from_json(text)
    with pytest.raises(GraphFormatError, match="declares type"):
        ir.from_json(text, verify=False)  # the payload check is not part of the opt-out


_HOLDS = r"declares type f32\[{}\] but its Variable holds {}"
_IS = r"const declares type f32\[{}\] but its value is {}"


@pytest.mark.parametrize("make, declared, shape, dtype, message", [
    (_param_doc, "f32[64]", (1,), "float32", _HOLDS.format(64, r"f32\[1\]")),
    (_param_doc, "f32[64]", (64,), "float64", _HOLDS.format(64, r"f64\[64\]")),
    (_param_doc, "f32[64]", (8, 8), "float32", _HOLDS.format(64, r"f32\[8,8\]")),
    (_param_doc, "f32[1]", (64,), "float32", _HOLDS.format(1, r"f32\[64\]")),
    (_const_doc, "f32[64]", (1,), "float32", _IS.format(64, r"f32\[1\]")),
    (_const_doc, "f32[64]", (64,), "int32", _IS.format(64, r"i32\[64\]")),
    (_const_doc, "f32[64]", (8, 8), "float32", _IS.format(64, r"f32\[8,8\]")),
])
def test_json_documents_with_lying_source_types_are_refused(make, declared, shape, dtype, message):
    with pytest.raises(GraphFormatError, match=message):
        ir.from_json(make(declared, shape, dtype))


def test_an_input_entry_with_two_types_is_refused():
    text = _doc([{"op": "input", "name": "x", "type": ["f32[4]", "f32[4]"]}],
                outputs=((0, 0),))
    with pytest.raises(GraphFormatError, match=r"graph\.nodes\[0\]: an input has one type"):
        ir.from_json(text)


def _small_graph():
    x = K.placeholder(shape=(None, 4), name="x")
    w = K.variable(np.arange(4, dtype="float32"), name="w")
    c = ir.const(np.ones(4, "float32"))
    return ir.Graph([x], [(x + w) * c])


@pytest.mark.parametrize("op, lie, message", [
    ("param", "f32[64]", r"param 'w' declares type f32\[64\] but its Variable holds f32\[4\]"),
    ("param", "f64[4]", r"param 'w' declares type f64\[4\] but its Variable holds f32\[4\]"),
    ("const", "f32[64]", r"const declares type f32\[64\] but its value is f32\[4\]"),
    ("const", "i32[4]", r"const declares type i32\[4\] but its value is f32\[4\]"),
    ("input", None, "an input has one type"),
])
def test_networkx_graphs_with_lying_source_types_are_refused(op, lie, message):
    G = ir.to_networkx(_small_graph())
    key = next(k for k, d in G.nodes(data=True) if d["op"] == op)
    G.nodes[key]["types"] = [lie] if lie else ["f32[?,4]", "f32[?,4]"]
    with pytest.raises(GraphFormatError, match=message):
        ir.from_networkx(G)


def test_printed_ir_with_lying_types_is_refused():
    text = ir.format_graph(_small_graph(), full=True)
    lying_const = text.replace("f32[4] = const", "f32[64] = const")
    assert lying_const != text
    with pytest.raises(ParseError, match=r"const: expected value=<array of type f32\[64\]>"):
        ir.parse(lying_const)
    given = {"w": ir.Variable(np.zeros(1), "float32", name="w")}
    with pytest.raises(ParseError, match=r"param 'w': the given variable has type f32\[1\]"):
        ir.parse(text, given)


# every source op, a lie about its payload in each form a graph is read from
_LYING_JSON = {
    "input": lambda: _doc([{"op": "input", "name": "x", "type": ["f32[4]", "f32[4]"]}],
                          outputs=((0, 0),)),
    "param": lambda: _param_doc("f32[64]", (1,)),
    "const": lambda: _const_doc("f32[64]", (1,)),
}


def test_every_source_op_has_lying_documents_that_are_refused():
    sources = {name for name, op in ir.REGISTRY.items() if op.kind == "source"}
    assert sources == set(_LYING_JSON), "a new source op needs its lying-document case here"
    for op, make in _LYING_JSON.items():
        text = make()
        for verify in (True, False):
            with pytest.raises(GraphFormatError) as info:
                ir.from_json(text, verify=verify)
            assert not info.value.internal, op
        graph = _small_graph()
        G = ir.to_networkx(graph)
        key = next(k for k, d in G.nodes(data=True) if d["op"] == op)
        G.nodes[key]["types"] = ["f32[9,9]"] if op != "input" else ["f32[?,4]", "f32[4]"]
        for verify in (True, False):
            with pytest.raises(GraphFormatError, match="declares type|one type"):
                ir.from_networkx(G, verify=verify)


def _spy(exe):
    calls = []
    kernel = exe.function

    def spy(*args):
        calls.append(args)
        return kernel(*args)
    exe.function = spy
    return calls


def test_a_lying_param_node_built_in_code_never_reaches_the_kernel():
    x = K.placeholder(shape=(None, 64), name="x")
    v = ir.Variable(np.ones(1), "float32", name="w")
    lying = Node("param", (), {"variable": v}, (TensorType((64,), "float32"),), name="w")
    graph = ir.Graph([x], [x + lying.outputs[0]])
    with pytest.raises(ir.VerifyError, match="declares type"):
        ir.verify(graph)
    with pytest.raises(ir.VerifyError, match="declares type"):
        symkb.compile(graph, target="cpu")  # the pipeline verifies first
    exe = symkb.compile(graph, target="cpu", passes=[])  # no verifier: the executable checks
    calls = _spy(exe)
    with pytest.raises(ShapeError, match=r"parameter 'w' holds an array of type f32\[1\], but "
                                         r"the kernel was compiled for f32\[64\]"):
        exe(np.zeros((2, 64), "float32"))
    assert calls == []


def test_a_variable_changed_behind_a_compiled_kernel_never_reaches_it():
    x = K.placeholder(shape=(None, 4), name="x")
    w = K.variable(np.arange(4, dtype="float32"), name="w")
    exe = symkb.compile(ir.Graph([x], [x + w]), target="cpu")
    feed = np.ones((3, 4), "float32")
    np.testing.assert_array_equal(exe(feed), feed + np.arange(4, dtype="float32"))
    calls = _spy(exe)
    w._value = np.zeros(2, "float32")  # what assign refuses, done behind its back
    with pytest.raises(ShapeError, match=r"compiled for f32\[4\]"):
        exe(feed)
    w._value = np.zeros(4, "float64")
    with pytest.raises(ShapeError, match=r"holds an array of type f64\[4\]"):
        exe(feed)
    assert calls == []


def test_a_lying_const_node_built_in_code_is_refused_before_any_call():
    x = K.placeholder(shape=(None, 64), name="x")
    lying = Node("const", (), {"value": np.ones(1, "float32")},
                 (TensorType((64,), "float32"),))
    graph = ir.Graph([x], [x * lying.outputs[0]])
    with pytest.raises(ShapeError, match=r"constant holds an array of type f32\[1\] but is "
                                         r"declared f32\[64\]"):
        symkb.compile(graph, target="cpu", passes=[])


# -- 2. bounded resources -------------------------------------------------------------

def test_a_huge_declared_array_is_refused_before_it_is_made():
    text = _doc([{"op": "input", "name": "x", "type": ["f32[4]"]},
                 {"op": "const", "attrs": {"value": {"array": {
                     "dtype": "float32", "shape": [1 << 20, 1 << 20], "data": []}}},
                  "type": ["f32[1048576,1048576]"]}], outputs=((1, 0),))
    err, peak = _peak(lambda: ir.from_json(text))
    assert isinstance(err, LimitError), err
    assert "1099511627776 elements" in str(err) and "max_array_elements" in str(err)
    assert peak < 8 * MB


def test_declared_element_counts_are_checked_against_the_stored_data():
    short = {"dtype": "float32", "shape": [25_000_000], "base64": base64.b64encode(b"\0" * 4)
             .decode()}
    text = _doc([{"op": "input", "name": "x", "type": ["f32[4]"]},
                 {"op": "const", "attrs": {"value": {"array": short}},
                  "type": ["f32[25000000]"]}], outputs=((1, 0),))
    err, peak = _peak(lambda: ir.from_json(text))
    assert isinstance(err, GraphFormatError) and "needs 100000000 bytes" in str(err), err
    assert peak < 8 * MB
    listed = {"dtype": "int8", "shape": [3], "data": [1, 2]}
    with pytest.raises(GraphFormatError, match=r"array of shape \(3,\) needs 3 elements, found 2"):
        ir.from_json(_doc([{"op": "input", "name": "x", "type": ["f32[4]"]},
                           {"op": "const", "attrs": {"value": {"array": listed}},
                            "type": ["i8[3]"]}], outputs=((1, 0),)))


def test_a_variable_without_value_of_huge_shape_is_refused_before_zeros_are_made():
    text = _doc([{"op": "input", "name": "x", "type": ["f32[4]"]}],
                [{"name": "w", "dtype": "float64", "shape": [100_000, 100_000]}],
                outputs=((0, 0),))
    err, peak = _peak(lambda: ir.from_json(text))
    assert isinstance(err, LimitError) and "variables[0].shape" in str(err), err
    assert peak < 8 * MB
    printed = ("graph g() -> (f32[100000,100000]) {\n"
               "  %w: f32[100000,100000] = param[name=\"w\"]\n  return %w\n}")
    err, peak = _peak(lambda: ir.parse(printed))
    assert isinstance(err, LimitError) and "param 'w'" in str(err), err
    assert peak < 8 * MB


def test_limits_are_configurable():
    text = _param_doc("f32[64]", (64,), width=64)
    assert ir.from_json(text).nodes[0].attrs["variable"].shape == (64,)
    with limits.raised(max_array_elements=10):
        with pytest.raises(LimitError, match=r"variables\[0\]\.shape: shape \[64\] has 64 "
                                             r"elements, more than the 10"):
            ir.from_json(text)
    assert limits.get_limits().max_array_elements == 1 << 26
    with pytest.raises(ValueError, match="unknown limit 'max_bytes'"):
        limits.configure(max_bytes=3)
    with pytest.raises(ValueError, match="max_depth must be a positive int. Received: 0"):
        limits.configure(max_depth=0)


def test_deep_json_nesting_is_a_limit_error_not_a_recursion_error():
    deep = "[" * 200_000 + "]" * 200_000
    text = _doc([{"op": "input", "name": "x", "type": ["f32[4]"]}], outputs=((0, 0),))
    text = text.replace('"variables": []', f'"variables": {deep}')
    for load in (ir.from_json, model_from_json):
        with pytest.raises(LimitError, match="nested 200001 levels deep, more than the 100"):
            load(text)
    with pytest.raises(LimitError, match="nested"):
        model_from_json("{" * 50_000)  # truncated as well


def test_deep_nesting_in_printed_ir_is_refused():
    text = ("graph g(%x: f32[4]) -> (f32[4]) {\n  %0: f32[4] = relu[a=" + "(" * 50_000
            + ")" * 50_000 + "] %x\n  return %0\n}")
    with pytest.raises(ParseError, match="nested more than 100 levels deep"):
        ir.parse(text)


def _saved(tmp_path, name="m.symkb"):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2)], name="small")
    path = tmp_path / name
    model.save(path)
    return model, path


def _rezip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_an_archive_member_declaring_a_huge_size_is_refused_before_inflating(tmp_path):
    _, path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")  # the central directory entry of config.json
    data[at + 24:at + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    err, peak = _peak(lambda: load_model(path))
    assert isinstance(err, LimitError), err
    assert "config.json: archive member inflates to 4294967280 bytes" in str(err)
    assert "max_member_bytes" in str(err) and peak < 8 * MB


def test_a_zip_bomb_member_is_refused_by_its_ratio(tmp_path):
    _, path = _saved(tmp_path)
    members = _members(path)
    members["model.weights.npz"] = b"\0" * (4 * MB)
    _rezip(path, members)
    assert path.stat().st_size < 64 * 1024
    with limits.raised(ratio_floor_bytes=MB):
        err, peak = _peak(lambda: load_model(path))
    assert isinstance(err, LimitError) and "a ratio over 200" in str(err), err
    assert peak < 2 * MB


def _npy(header_shape, data: bytes, dtype="<f4") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": header_shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def _npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, raw in arrays.items():
            archive.writestr(f"{key}.npy", raw)
    return buffer.getvalue()


@pytest.mark.parametrize("shape, kind, message", [
    ((50_000_000,), ModelFormatError, r"weight_0'\]: an array of shape \(50000000,\) and "
                                       r"dtype float32 needs 200000000 bytes; the file holds 16"),
    ((1 << 40,), LimitError, r"has 1099511627776 elements"),
])
def test_npz_headers_are_checked_against_the_stored_bytes_before_allocating(
        tmp_path, shape, kind, message):
    model, path = _saved(tmp_path)
    members = _members(path)
    members["model.weights.npz"] = _npz({"weight_0": _npy(shape, b"\0" * 16),
                                         "weight_1": _npy((2,), b"\0" * 8)})
    _rezip(path, members)
    err, peak = _peak(lambda: load_model(path))
    assert isinstance(err, kind), err
    assert peak < 8 * MB
    with pytest.raises(kind, match=message):
        load_model(path)


def test_units_from_a_file_are_checked_before_weights_are_made():
    text = symkb.Sequential([layers.Input((1000,)), layers.Dense(3)]).to_json()
    text = text.replace('"units": 3', '"units": 1000000000')
    err, peak = _peak(lambda: model_from_json(text))
    assert isinstance(err, LimitError), err
    assert "layer 'dense' weight 'kernel': shape (1000, 1000000000)" in str(err)
    assert peak < 8 * MB


def test_a_superlinear_initializer_from_a_file_is_bounded():
    # 5000 units: a 5000 x 5000 QR decomposition (1.25e11 operations, a minute or more)
    text = symkb.Sequential([layers.Input((4, 3)), layers.SimpleRNN(2)]).to_json()
    big = text.replace('"units": 2', '"units": 5000')
    err, peak = _peak(lambda: model_from_json(big))
    assert isinstance(err, LimitError), err
    assert ("Orthogonal initializer of shape (5000, 5000): initialising it takes "
            "125000000000 operations" in str(err)) and "max_init_work" in str(err)
    assert peak < 8 * MB
    with limits.raised(max_init_work=4):
        with pytest.raises(LimitError, match=r"shape \(2, 2\): initialising it takes 8 "):
            model_from_json(text)
        layers.SimpleRNN(30)(layers.Input((4, 3)))  # code is not limited
    assert model_from_json(text).count_params() == 3 * 2 + 2 * 2 + 2


def test_fifos_and_devices_are_not_read(tmp_path):
    fifo = tmp_path / "m.symkb"
    os.mkfifo(fifo)
    for load in (load_model, load_any):
        err = _in_time(lambda: load(str(fifo)))
        assert isinstance(err, FileFormatError) and "a FIFO (named pipe)" in str(err), err
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    for load in (load_model, load_any):
        err = _in_time(lambda: load(str(link)))
        assert isinstance(err, FileFormatError) and "a character device" in str(err), err
    folder = tmp_path / "saved"
    folder.mkdir()
    os.mkfifo(folder / "config.json")
    err = _in_time(lambda: load_model(folder))
    assert isinstance(err, ModelFormatError) and "config.json: is a FIFO" in str(err), err


# -- 3. one error family ------------------------------------------------------------------

def test_truncated_and_random_archives_are_recognised(tmp_path):
    _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    for load in (load_model, load_any):
        with pytest.raises(ModelFormatError, match="a truncated or damaged zip archive"):
            load(str(path))
    noise = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    other = tmp_path / "noise.bin"
    other.write_bytes(b"\xff" + noise)
    with pytest.raises(ModelFormatError, match=r"noise\.bin: symkb model: file: binary data, "
                                               r"not UTF-8 text"):
        load_model(other)
    with pytest.raises(FileFormatError, match="binary data, not UTF-8 text"):
        load_any(str(other))


@pytest.mark.parametrize("text", ["", "null", "[]", "{}", "[1, 2", '{"format": "symkb-graph"}',
                                  '"\\ud800"', "\x00\x01", "graph g(", "{" * 10])
def test_every_text_loader_raises_the_family(text, tmp_path):
    loaders = [ir.from_json, model_from_json, ir.parse]
    for load in loaders:
        with pytest.raises(FileFormatError) as info:
            load(text)
        assert not info.value.internal, (load.__name__, info.value.__cause__)
    path = tmp_path / "doc.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for load in (load_model, load_any):
        with pytest.raises(FileFormatError) as info:
            load(str(path))
        assert str(path) in str(info.value)
        assert not info.value.internal, (load.__name__, info.value.__cause__)


def test_malformed_networkx_graphs_raise_the_family():
    import networkx as nx
    G = ir.to_networkx(_small_graph())
    cyclic = G.copy()
    cyclic.add_edge("2", "0", key=1, operand=1, output=0)
    cases = [nx.MultiDiGraph(), cyclic, "not a graph"]
    dropped = G.copy()
    del dropped.nodes["0"]["op"]
    cases.append(dropped)
    for case in cases:
        with pytest.raises(GraphFormatError) as info:
            ir.from_networkx(case)
        assert not info.value.internal, info.value.__cause__
        assert "<networkx graph>" in str(info.value)


def test_a_bad_model_config_names_the_entry():
    text = symkb.Model(*_functional_io()).to_json()
    doc = json.loads(text)
    doc["config"]["layers"][1]["inbound_nodes"][0][0][2] = 7
    with pytest.raises(ModelFormatError, match="refers to output 7 of call 0 of layer 'x'"):
        model_from_json(json.dumps(doc))
    doc = json.loads(text)
    doc["config"]["layers"][1]["config"]["units"] = [2]
    with pytest.raises(ModelFormatError, match=r"Dense: `units` must be a positive integer, "
                                               r"received \[2\]"):
        model_from_json(json.dumps(doc))
    doc = json.loads(text)
    doc["config"]["layers"][1]["config"]["no_such_argument"] = 1
    with pytest.raises(ModelFormatError, match="layer Dense 'd' cannot be built from its "
                                               "config: .*no_such_argument"):
        model_from_json(json.dumps(doc))
    doc = json.loads(text)
    doc["config"]["output_layers"] = [["nowhere", 0, 0]]
    with pytest.raises(ModelFormatError, match=r"config\.output_layers\[0\] must be the name of "
                                               "one of the layers"):
        model_from_json(json.dumps(doc))


def _functional_io():
    x = layers.Input((3,), name="x")
    return x, layers.Dense(2, name="d")(x)


# -- 5. safe output -------------------------------------------------------------------------

EVIL = "evil\x1b[2J\x9b31m\u202e\x07"


def _assert_clean(text):
    for bad in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert bad not in text, repr(text[:200])


def test_inspect_prints_no_control_codes_from_names(tmp_path, capsys):
    model = symkb.Sequential([layers.Input((3,)), layers.Dense(2, name=EVIL)], name=EVIL)
    path = tmp_path / "evil.symkb"
    model.save(path)
    assert cli_main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    _assert_clean(out)
    assert "evil\\u001b[2J\\u009b31m\\u202e\\u0007" in out
    graph_path = tmp_path / "evil.json"
    graph_path.write_text(ir.to_json(model.graph).replace('"op": "dot"', json.dumps(
        {"op": EVIL})[1:-1]))
    assert cli_main(["inspect", str(graph_path)]) == 1
    err = capsys.readouterr().err
    _assert_clean(err)
    assert "op 'evil\\x1b[2J\\x9b31m\\u202e\\x07' is not registered" in err


def test_printed_ir_escapes_names_and_reads_back_exactly():
    x = K.placeholder(shape=(None, 3), name="x")
    with ir.layer_scope(EVIL):
        y = K.relu(x)
    graph = ir.Graph([x], [y], name=EVIL)
    text = str(graph)
    _assert_clean(text)
    back = ir.parse(ir.format_graph(graph, full=True))
    assert back.name == EVIL and back.nodes[0].layer == EVIL
    _assert_clean(str(ir.stats(graph)))
    lines = []
    symkb.Sequential([layers.Input((3,)), layers.Dense(2, name=EVIL)]).summary(
        print_fn=lines.append)
    _assert_clean("\n".join(lines))
