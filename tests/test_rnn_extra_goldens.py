"""More tf_keras 2.21 parity (tests/goldens/rnn_extra.npz, `make_goldens.py rnn_extra`).

Masks through Bidirectional (which makes its sublayers zero masked outputs),
stacked cells, state-returning, unrolled and backwards layers, Embedding and
TimeDistributed; and K.rnn with nested inputs, states and outputs, 3-D float
masks and per-sample input lengths.
"""
import json
import pathlib
import warnings

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb.backend.nest import flatten, pack_as

GOLDENS = pathlib.Path(__file__).parent / "goldens"
META = json.loads((GOLDENS / "rnn_extra.json").read_text())
Z = np.load(GOLDENS / "rnn_extra.npz")
TOL = dict(rtol=1e-5, atol=1e-5)
MODELS = META["models"]
CALLS = META["calls"]


def build(case):
    K.clear_session()
    scope = {"layers": symkb.layers, "Input": symkb.layers.Input, "Model": symkb.Model,
             "Sequential": symkb.Sequential}
    exec(case["code"], scope)
    model = scope["model"]
    model.set_weights([Z[k] for k in case["weight_keys"]])
    return model


@pytest.mark.parametrize("case", MODELS, ids=[c["id"] for c in MODELS])
@pytest.mark.parametrize("target", ["interpreter", "auto"])
def test_model(case, target):
    model = build(case)
    assert [w.name for w in model.weights] == case["weight_names"]
    assert _lists(pack_as(model.output, case["output_keys"])) == case["output_structure"]
    with warnings.catch_warnings():
        # a compiled target must not quietly fall back to the interpreter
        warnings.filterwarnings("error", message=r"symkb: the \w+ target failed",
                                category=RuntimeWarning)
        f = K.function(model.inputs, model.outputs, target=target)
        got = f([Z[case["input_key"]]])
    assert len(got) == len(case["output_keys"])
    for i, (g, key) in enumerate(zip(got, case["output_keys"])):
        np.testing.assert_allclose(g, Z[key], **TOL, err_msg=f"{case['id']} output {i}")


def _lists(structure):
    """Tuples as lists, as JSON holds them."""
    if isinstance(structure, (list, tuple)):
        return [_lists(s) for s in structure]
    return structure


def namespace(symbolic):
    ns = {"K": K, "np": np}
    ns.update({k: Z[v] for k, v in META["shared_keys"].items()})
    feeds = []
    if symbolic:
        for name in ("xa", "xb"):
            ph = K.placeholder(shape=(None,) + Z[f"shared/{name}"].shape[1:], name=name)
            feeds.append((ph, Z[f"shared/{name}"]))
            ns[name] = ph
    return ns, feeds


@pytest.mark.parametrize("case", CALLS, ids=[c["id"] for c in CALLS])
@pytest.mark.parametrize("symbolic", [False, True])
def test_k_rnn_call(case, symbolic):
    ns, feeds = namespace(symbolic)
    exec(case["step_code"], ns)
    last, outputs, states = eval(case["call"], ns)
    got = flatten(last) + flatten(outputs) + flatten(states)
    if symbolic:
        used = [(ph, v) for ph, v in feeds if ph.name in case["call"]]
        f = K.function([p for p, _ in used], got, target="interpreter")
        got = f([v for _, v in used])
    keys = case["keys"]
    want = keys["last_output"] + keys["outputs"] + keys["states"]
    assert len(got) == len(want)
    for g, key in zip(got, want):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, Z[key], **TOL, err_msg=f"{case['id']} {key}")
