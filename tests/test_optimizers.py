"""``symkb.optimizers`` against real tf_keras steps (``tools/goldens_optimizers.py``).

Each case's train step (loss, gradients and every update) is one graph run
through ``K.function(..., updates=...)``: on the interpreter for every case,
and on the cpu target for Adam, where the kernel itself writes the weights.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from symkb import backend as K
from symkb import optimizers

HERE = os.path.join(os.path.dirname(__file__), "goldens")
with open(os.path.join(HERE, "optimizers.json")) as _fh:
    DOC = json.load(_fh)
GOLD = dict(np.load(os.path.join(HERE, "optimizers.npz")))
CASES = {c["id"]: c for c in DOC["cases"]}


def _train(case, target):
    w = K.variable(GOLD["w0"], name="w")
    b = K.variable(GOLD["b0"], name="b")
    opt = optimizers.deserialize({"class_name": case["class_name"], "config": case["config"]})
    x = K.placeholder(shape=(None, 3), name="x")
    y = K.placeholder(shape=(None, 2), name="y")
    loss = K.mean(K.square(K.dot(x, w) + b - y))
    step = K.function([x, y], [loss], updates=opt.get_updates(loss, [w, b]), target=target)
    got = []
    for _ in range(DOC["steps"]):
        step([GOLD["x"], GOLD["y"]])
        got.append((w.numpy(), b.numpy()))
    return got, opt, step


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_optimizer_steps_match_tf_keras(case_id):
    got, opt, _ = _train(CASES[case_id], "interpreter")
    for k, (w, b) in enumerate(got, 1):
        np.testing.assert_allclose(w, GOLD[f"{case_id}/w{k}"], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case_id} step {k}")
        np.testing.assert_allclose(b, GOLD[f"{case_id}/b{k}"], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case_id} step {k}")
    assert int(opt.iterations.numpy()) == DOC["steps"]


@pytest.mark.parametrize("case_id", ["adam"])  # SGD compiles in test_training_goldens.py
def test_compiled_train_step_matches_tf_keras(case_id):
    got, _, step = _train(CASES[case_id], "cpu")
    assert step.calls["kernel"] == DOC["steps"]
    w, b = got[-1]
    np.testing.assert_allclose(w, GOLD[f"{case_id}/w{DOC['steps']}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, GOLD[f"{case_id}/b{DOC['steps']}"], rtol=1e-5, atol=1e-6)


def test_config_round_trip_state_and_bad_names():
    opt = optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True, clipnorm=1.0)
    config = opt.get_config()
    assert config["momentum"] == 0.5 and config["centered"] and config["clipnorm"] == 1.0
    again = optimizers.RMSprop.from_config(config)
    assert again.get_config() == config
    assert optimizers.get("adam").get_config()["learning_rate"] == pytest.approx(0.001)
    assert isinstance(optimizers.get("SGD"), optimizers.SGD)
    assert float(K.get_value(optimizers.SGD().learning_rate)) == pytest.approx(0.01)
    w = K.variable(np.ones(2, "float32"), name="w")
    opt.build([w])
    assert [v.name.split("/")[-1] for v in opt.variables()] == [
        "iteration", "velocity", "momentum", "average_gradient"]
    with pytest.raises(ValueError, match="'adamx'"):
        optimizers.get("adamx")
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    sched = optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    assert float(optimizers.SGD(learning_rate=sched).learning_rate) == pytest.approx(0.1)
    assert float(sched(2)) == pytest.approx(0.05)
