"""Model JSON interchange with tf_keras, both ways (tests/goldens/interchange.json
and .npz, written by tools/goldens_interchange.py with real tf_keras).

* tf_keras -> symkb: symkb loads the JSON tf_keras wrote (nested functional
  and Sequential models, Bidirectional with and without ``backward_layer``,
  stacked cells with ``return_state``, Bidirectional and LSTM called with
  ``initial_state``, Embedding first, an implicit Sequential input), gives
  tf_keras's outputs with tf_keras's weights, and writes the same JSON back.
* symkb -> tf_keras: symkb's JSON for the same models equals tf_keras's, and
  equals the file tf_keras loaded in the generator (its outputs there are
  symkb's).
"""
import json
import pathlib

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import layers
from symkb.backend.nest import flatten
from symkb.models import model_from_json

HERE = pathlib.Path(__file__).parent / "goldens"
GOLDEN = json.loads((HERE / "interchange.json").read_text())
ARRAYS = np.load(HERE / "interchange.npz")
CASES = GOLDEN["cases"]
IDS = [c["id"] for c in CASES]


def _architecture(doc):
    """A to_json document without the writer's version keys."""
    return {k: v for k, v in doc.items() if k not in ("keras_version", "backend")}


def _build(code):
    K.clear_session()
    ns = {"layers": layers, "Input": layers.Input, "Model": symkb.Model,
          "Sequential": symkb.Sequential}
    exec(code, ns)  # the golden's own construction code
    return ns["model"]


def _outputs(model, case):
    inputs = [ARRAYS[k] for k in case["input_keys"]]
    got = model.predict(inputs if len(inputs) > 1 else inputs[0])
    return [np.asarray(g) for g in flatten(got)]


def _check(model, case, keys):
    model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
    got = _outputs(model, case)
    assert len(got) == len(keys)
    for g, k in zip(got, keys):
        np.testing.assert_allclose(g, ARRAYS[k], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_symkb_loads_tf_keras_json(case):
    K.clear_session()
    model = model_from_json(json.dumps(case["tf_json"]))
    assert [w.name for w in model.weights] == case["weight_names"]
    _check(model, case, case["output_keys"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tf_keras_json_goes_back_out_unchanged(case):
    # module, registered_name, build_config, trainable: all kept
    K.clear_session()
    model = model_from_json(json.dumps(case["tf_json"]))
    assert _architecture(json.loads(model.to_json())) == _architecture(case["tf_json"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_symkb_json_is_tf_keras_json(case):
    model = _build(case["code"])
    mine = json.loads(model.to_json())
    assert _architecture(mine) == _architecture(case["tf_json"])
    # and it is the document tf_keras was given to load in the generator
    verified = case["symkb_json"]
    assert verified["loaded"], verified.get("error")
    assert mine == verified["text"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tf_keras_loaded_symkb_json_and_agrees(case):
    verified = case["symkb_json"]
    assert verified["loaded"], verified.get("error")
    # tf_keras's outputs from symkb's JSON are tf_keras's own model's ...
    for mine, theirs in zip(verified["output_keys"], case["output_keys"]):
        np.testing.assert_allclose(ARRAYS[mine], ARRAYS[theirs], rtol=1e-5, atol=1e-5)
    # ... and symkb's model from the same code gives them
    _check(_build(case["code"]), case, verified["output_keys"])
    # tf_keras wrote the loaded model back out as it reads: the same config
    assert _architecture(verified["tf_json_after_load"]) == _architecture(case["tf_json"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_built_at_construction_like_tf_keras(case):
    model = _build(case["code"])
    assert model.built == case["built_at_construction"]
    if model.built:
        # so set_weights works at once, as in tf_keras
        model.set_weights([ARRAYS[k] for k in case["weight_keys"]])
        assert [w.name for w in model.weights] == case["weight_names"]


def test_embedding_then_gru_is_built_at_once():
    model = _build("model = Sequential([layers.Embedding(10, 3), layers.GRU(2)])")
    assert model.built and model.input_shape == (None, None)
    assert model.get_config()["layers"][0]["config"]["name"] == "embedding_input"
    assert [tuple(w.shape) for w in model.weights] == [(10, 3), (3, 6), (2, 6), (2, 6)]


def test_nested_sequential_without_input_builds_on_its_call():
    model = _build("inner = Sequential([layers.Dense(3), layers.Dense(2)])\n"
                   "x = Input((4,))\n"
                   "model = Model(x, layers.Dense(1)(inner(x)))\n")
    inner = model.get_layer("sequential")
    assert inner.built and inner.input_shape == (None, 4)
    assert inner.layers[0].get_output_at(1).shape == (None, 3)


def test_layer_called_twice_gives_its_first_call():
    golden = GOLDEN["called_twice"]
    K.clear_session()
    ns = {"layers": layers, "Input": layers.Input}
    exec(golden["code"], ns)
    dense = ns["d"]
    assert (dense.output is ns["y1"]) == golden["output_is_first_call"] is True
    assert (dense.input is ns["x1"]) == golden["input_is_first_call"] is True
    assert list(dense.output.shape) == golden["output_shape_of_output"]
    for attr in ("input_shape", "output_shape"):
        assert golden[attr]["raises"]
        with pytest.raises(AttributeError) as info:
            getattr(dense, attr)
        assert str(info.value) == golden[attr]["message"]
    assert dense.get_output_shape_at(1) == (None, 5, 2)


def test_unresolvable_config_names_the_layers():
    case = next(c for c in CASES if c["id"] == "nested_functional")
    config = json.loads(json.dumps(case["tf_json"]))
    last = config["config"]["layers"][-1]
    last["inbound_nodes"][0][0][1] = 5  # a call of 'inner' that no layer makes
    with pytest.raises(ValueError, match=r"unresolved layers: \['dense_1'\]"):
        model_from_json(json.dumps(config))


def test_trainable_reaches_sublayers_as_in_tf_keras():
    case = next(c for c in CASES if c["id"] == "frozen_nested")
    model = _build(case["code"])
    inner = model.get_layer("frozen")
    assert [layer.trainable for layer in inner.layers] == [False, False]
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 6
    lstm = layers.LSTM(2)
    lstm.trainable = False
    assert lstm.cell.trainable is False
    bidir = layers.Bidirectional(layers.GRU(2))
    bidir.trainable = False
    assert not bidir.forward_layer.cell.trainable and not bidir.layer.trainable


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_summary_matches_tf_keras(case):
    model = _build(case["code"])
    if not model.built:
        inputs = [ARRAYS[k] for k in case["input_keys"]]
        model.build((None,) + inputs[0].shape[1:])
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == case["summary"]


def test_bidirectional_needs_states_for_both_directions():
    K.clear_session()
    x, h = layers.Input((5, 4)), layers.Input((3,))
    with pytest.raises(ValueError, match="an even number of tensors. Received: 3 states"):
        layers.Bidirectional(layers.GRU(3))([x, h, h, h])


def test_unknown_regularizer_name_is_refused_naming_the_argument():
    with pytest.raises(ValueError, match=r"`kernel_constraint`: 'positive'.*"
                                         r"Received: kernel_constraint='positive'"):
        layers.Dense(2, kernel_constraint="positive")
