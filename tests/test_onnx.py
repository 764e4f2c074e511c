"""ONNX both ways, with two outside oracles.

* export: every golden Keras model (tests/goldens/keras_files/, written by
  real tf_keras) exported by ``symkb.onnx.export`` passes ``onnx.checker``,
  and runs in ``onnx.reference.ReferenceEvaluator`` and onnxruntime to
  tf_keras's recorded outputs and symkb's interpreter (1e-5); batch and time
  stay symbolic; one compiled (cpu) model agrees too.
* import: LSTM/GRU/bidirectional LSTM files written by ``torch.onnx.export``
  (tools/goldens_keras_files.py --torch) give torch's recorded outputs; every
  exported golden model imports back to the same values.
* refusals: unsupported ops listed by name in one error (both ways), broken
  files and external data refused.
"""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb.backend.nest import flatten
from symkb.ir import Graph
from symkb.ir.errors import FileFormatError
from symkb.models import load_model

onnx = pytest.importorskip("onnx")  # the extra symkb[onnx], in the test extra
ort = pytest.importorskip("onnxruntime")
from onnx.reference import ReferenceEvaluator  # noqa: E402

from symkb.onnx import export, from_onnx, load, to_onnx  # noqa: E402

HERE = pathlib.Path(__file__).parent / "goldens" / "keras_files"
DOC = json.loads((HERE / "tfk.json").read_text())
ARRAYS = np.load(HERE / "tfk.npz")
CASES = [c for c in DOC["cases"] if not c.get("refused")]
TORCH = np.load(HERE / "torch.npz")


def _inputs(case):
    return [ARRAYS[f"{case['id']}/input{i}"] for i in range(case["inputs"])]


def _recorded(case):
    return [ARRAYS[f"{case['id']}/output{i}"] for i in range(case["outputs"])]


def _interpreter(model_or_graph, xs):
    return [np.asarray(y) for y in flatten(symkb.compile(model_or_graph,
                                                         target="interpreter")(*xs))]


def _close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _ort(proto, feed):
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(None, feed)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_exported_golden_model_runs_in_both_onnx_oracles(case, tmp_path):
    model = load_model(HERE / case["files"][0])
    xs = _inputs(case)
    path = tmp_path / "m.onnx"
    export(model, path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    for vi in proto.graph.input:
        assert vi.type.tensor_type.shape.dim[0].dim_param == "batch"
    feed = {vi.name: x for vi, x in zip(proto.graph.input, xs)}
    ours = _interpreter(model, xs)
    _close(ours, _recorded(case))
    _close(_ort(proto, feed), ours)
    _close(ReferenceEvaluator(proto).run(None, feed), ours)
    if any(n.op_type == "Scan" for n in proto.graph.node):
        assert case["id"] not in ("dense_stack", "reshapes", "shared_layers",
                                  "nested_sequential")
    _close(_interpreter(from_onnx(proto), xs), ours)  # and back into symkb


def test_batch_is_symbolic_and_the_compiled_target_agrees():
    case = next(c for c in CASES if c["id"] == "masking")
    model = load_model(HERE / case["files"][0])
    proto = to_onnx(model, opset=17)
    x = np.concatenate([_inputs(case)[0]] * 3)[:7]  # another batch size
    x[4, -3:] = 0.0
    got = _ort(proto, {proto.graph.input[0].name: x})
    compiled = model.predict(x, verbose=0)
    _close(got, [np.asarray(compiled)])
    _close(got, _interpreter(model, [x]))


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm"])
def test_torch_exported_recurrent_files_import_to_torchs_outputs(name):
    graph = load(HERE / f"torch_{name}.onnx")
    assert isinstance(graph, Graph) and "loop" in str(graph)
    x = TORCH[f"{name}/input0"]
    got = _interpreter(graph, [x])[0]
    np.testing.assert_allclose(got, TORCH[f"{name}/output0"], rtol=1e-5, atol=1e-5)
    batch = np.concatenate([x, x[:1]])  # the batch is symbolic in the file
    np.testing.assert_allclose(_interpreter(graph, [batch])[0][:2], got, rtol=1e-6)


def _model_with(*op_types):
    h = onnx.helper
    x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", 3])
    y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    nodes, prev = [], "x"
    for i, op in enumerate(op_types):
        nodes.append(h.make_node(op, [prev], [f"t{i}"]))
        prev = f"t{i}"
    nodes.append(h.make_node("Identity", [prev], ["y"]))
    return h.make_model(h.make_graph(nodes, "g", [x], [y]),
                        opset_imports=[h.make_opsetid("", 18)])


def test_unsupported_ops_are_listed_in_one_error_both_ways(tmp_path):
    proto = _model_with("Relu", "NonMaxSuppression", "Det", "Tanh")
    with pytest.raises(FileFormatError, match=r"does not import: \['Det', "
                                              r"'NonMaxSuppression'\]"):
        from_onnx(proto)
    K.clear_session()
    x = K.placeholder(shape=(None, 3))
    graph = Graph([x], [K.cumsum(K.exp(x), axis=1)], name="g")
    with pytest.raises(ValueError, match=r"ops with no ONNX form in symkb yet: \['cumsum'\]"):
        export(graph, tmp_path / "g.onnx")
    assert not (tmp_path / "g.onnx").exists()


def test_broken_files_and_external_data_are_refused(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07garbage" * 20)
    with pytest.raises(FileFormatError, match="not an ONNX model"):
        load(tmp_path / "junk.onnx")
    proto = _model_with("Relu")
    weight = onnx.helper.make_tensor("w", onnx.TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    weight.data_location = onnx.TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "../../secret.bin"
    weight.ClearField("float_data")
    proto.graph.initializer.append(weight)
    (tmp_path / "ext.onnx").write_bytes(proto.SerializeToString())
    with pytest.raises(FileFormatError, match="external file, which symkb never reads"):
        load(tmp_path / "ext.onnx")
