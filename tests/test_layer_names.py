"""Default layer and model names against real tf_keras (tests/goldens/config.json)."""
import json
import pathlib

import pytest

from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential

CONFIG = json.loads((pathlib.Path(__file__).parent / "goldens" / "config.json").read_text())
FRESH = CONFIG["default_names_fresh"]["cases"]
NAMESPACE = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential}


def _check(case, obj, ns):
    if "input_layer_name" in case:  # obj is the Input KerasTensor
        assert obj.name == case["name"]
        assert layers.core.input_layer_of(obj).name == case["input_layer_name"]
    else:
        assert obj.name == case["name"]
    if "first_name" in case:
        assert ns["first"].name == case["first_name"]
    if "layer_names" in case:
        assert [layer.name for layer in obj.layers] == case["layer_names"]
    if "input_name" in case:
        assert obj.inputs[0].name == case["input_name"]
    if "forward_layer_name" in case:
        assert obj.forward_layer.name == case["forward_layer_name"]
        assert obj.backward_layer.name == case["backward_layer_name"]
    if "inner_layer_name" in case:
        assert obj.layer.name == case["inner_layer_name"]
    if "cell_name" in case:
        assert obj.cell.name == case["cell_name"]
    if "cell_cell_names" in case:
        assert [c.name for c in obj.cell.cells] == case["cell_cell_names"]


@pytest.mark.parametrize("case", FRESH, ids=[c["code"].replace("\n", "; ") for c in FRESH])
def test_default_name_in_a_fresh_session(case):
    K.clear_session()
    ns = dict(NAMESPACE)
    exec(case["code"], ns)
    _check(case, ns["obj"], ns)


def test_default_names_in_one_session():
    K.clear_session()
    for case in CONFIG["default_names_one_session"]["cases"]:
        ns = dict(NAMESPACE)
        code = case["code"]
        *setup, last = code.split("; ")
        for line in setup:
            exec(line, ns)
        obj = eval(last, ns)
        _check(case, obj, ns)


def test_get_uid_does_not_shift_layer_names():
    K.clear_session()
    assert [K.get_uid("dense"), K.get_uid("dense")] == CONFIG["get_uid_shift"]["get_uid_values"]
    assert layers.Dense(2).name == CONFIG["get_uid_shift"]["dense_name"]


def test_eleven_dense_names_then_clear_session():
    assert [layers.Dense(10).name for _ in range(11)] == CONFIG["dense_names_11"]
    K.clear_session()
    assert layers.Dense(10).name == CONFIG["dense_name_after_clear_session"]
