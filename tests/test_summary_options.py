"""model.summary() options against tf_keras's text (tests/goldens/interchange.json,
written by tools/goldens_interchange.py): float64 parameter bytes,
show_trainable, expand_nested, layer_range, line_length with positions."""
import io
import json
import pathlib

import numpy as np
import pytest

from symkb import backend as K
from symkb import layers
from symkb.layers import Input
from symkb.models import Model, Sequential

GOLDEN = json.loads((pathlib.Path(__file__).parent / "goldens" / "interchange.json").read_text())


def _build(code):
    K.clear_session()
    ns = {"layers": layers, "Input": Input, "Model": Model, "Sequential": Sequential, "np": np}
    exec(code, ns)  # the golden's own construction code
    return ns["model"]


def _summary(model, **kwargs):
    buf = io.StringIO()
    model.summary(print_fn=lambda line: buf.write(line + "\n"), **kwargs)
    return buf.getvalue().rstrip("\n")


@pytest.mark.parametrize("case", GOLDEN["summaries"], ids=[c["id"] for c in GOLDEN["summaries"]])
def test_summary_option_matches_tf_keras(case):
    model = _build(case["code"])
    assert _summary(model, **case["kwargs"]) == case["summary"]


@pytest.mark.parametrize("case", GOLDEN["summary_errors"],
                         ids=[c["id"] for c in GOLDEN["summary_errors"]])
def test_summary_layer_range_errors_match_tf_keras(case):
    model = _build(case["code"])
    assert case["raises"]
    with pytest.raises(ValueError) as info:
        _summary(model, **case["kwargs"])
    assert str(info.value) == case["message"]


def test_summary_rejects_unknown_options():
    model = _build("model = Sequential([Input((4,)), layers.Dense(2)])")
    with pytest.raises(TypeError, match="expand"):
        model.summary(print_fn=lambda line: None, expand=True)
