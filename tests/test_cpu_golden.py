"""Golden files of the optimised graph and the generated cpu source of a few
canonical models (no compile needed: only the passes and the code generator run).

Set SYMKB_UPDATE_GOLDENS=1 to rewrite tests/goldens/cpu/*.txt on purpose, then
review the diff like code.
"""
import os
import pathlib

import numpy as np
import pytest

import symkb
from symkb import layers
from symkb.lower import run_pipeline
from symkb.lower.cpu.codegen import generate

GOLDENS = pathlib.Path(__file__).parent / "goldens" / "cpu"
UPDATE = os.environ.get("SYMKB_UPDATE_GOLDENS") == "1"


def _dense():
    return symkb.Sequential([layers.Input((3,)), layers.Dense(4, activation="relu"),
                             layers.Dense(2, activation="softmax")])


def _simple_rnn():
    return symkb.Sequential([layers.Input((5, 3)), layers.SimpleRNN(4, return_sequences=True)])


def _lstm_masked():
    return symkb.Sequential([layers.Input((5, 3)), layers.Masking(0.0),
                             layers.LSTM(4, go_backwards=True)])


def _gru():
    return symkb.Sequential([layers.Input((5, 3)), layers.GRU(4, reset_after=True)])


MODELS = {"dense": _dense, "simple_rnn": _simple_rnn, "lstm_masked": _lstm_masked, "gru": _gru}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_golden_optimised_graph_and_source(name):
    graph, _ = run_pipeline(MODELS[name]().graph, verify_each=True)
    source = generate(graph, graph.name).source
    text = f"{graph}\n\n{source}"
    path = GOLDENS / f"{name}.txt"
    if UPDATE:
        GOLDENS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with SYMKB_UPDATE_GOLDENS=1 and review it")
    assert text == path.read_text(), (f"optimised graph or generated source differs from {path} "
                                      f"(SYMKB_UPDATE_GOLDENS=1 rewrites it):\n{text}")


def test_golden_source_is_valid_python_and_deterministic():
    a = generate(run_pipeline(_dense().graph)[0], "m").source
    symkb.backend.clear_session()
    b = generate(run_pipeline(_dense().graph)[0], "m").source
    assert a == b
    compile(a, "<generated>", "exec")
    assert np.float32  # the generated module's only numeric import
