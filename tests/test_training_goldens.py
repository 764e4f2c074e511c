"""``fit`` and ``evaluate`` against real tf_keras runs (``tools/goldens_training.py``).

Every run starts from tf_keras's initial weights and trains with
``shuffle=False``: the per-epoch losses and metrics, the weights after three
epochs and ``evaluate``'s results must match to 1e-4 relative. The runs use
the interpreter target (the oracle; no compile per run); the MLP run with SGD
runs on the cpu target too, where one compiled train step updates the weights
in place.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import symkb
from symkb import optimizers

HERE = os.path.join(os.path.dirname(__file__), "goldens")
with open(os.path.join(HERE, "training.json")) as _fh:
    DOC = json.load(_fh)
GOLD = dict(np.load(os.path.join(HERE, "training.npz")))
RUNS = {r["id"]: r for r in DOC["runs"]}
RTOL, ATOL = 1e-4, 1e-6


def _data(model_id, prefix):
    keys = sorted((k for k in GOLD if k.startswith(f"{model_id}/{prefix}")),
                  key=lambda k: int(k.rsplit(prefix, 1)[1]))
    arrays = [GOLD[k] for k in keys]
    return arrays[0] if len(arrays) == 1 else arrays


def _train(run, target):
    model = symkb.models.model_from_json(json.dumps(DOC["models"][run["model"]]))
    model.set_weights([GOLD[f"{run['model']}/w0_{k}"] for k in range(run["n_weights"])])
    model.compile(optimizer=optimizers.deserialize(run["optimizer"]), loss=run["loss"],
                  metrics=run["metrics"], loss_weights=run["loss_weights"], target=target)
    x, y = _data(run["model"], "x"), _data(run["model"], "y")
    history = model.fit(x, y, batch_size=run["batch_size"], epochs=DOC["epochs"],
                        shuffle=False, verbose=0)
    evaluated = model.evaluate(x, y, batch_size=run["batch_size"], verbose=0, return_dict=True)
    return model, history, evaluated


def _check(run, model, history, evaluated):
    assert set(history.history) == set(run["history"])
    for key, values in run["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: history {key}")
    for k, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, GOLD[f"{run['id']}/w_{k}"], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: weight {k}")
    for key, value in run["evaluate"].items():
        np.testing.assert_allclose(evaluated[key], value, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{run['id']}: evaluate {key}")


@pytest.mark.parametrize("run_id", sorted(RUNS))
def test_fit_matches_tf_keras(run_id):
    run = RUNS[run_id]
    _check(run, *_train(run, "interpreter"))


# one compiled run keeps the suite in its budget (an LSTM's train step, a scan
# and its gradient scan, costs ~30 s to compile; "lstm/adam" matches too)
@pytest.mark.parametrize("run_id", ["mlp/sgd"])
def test_compiled_fit_matches_tf_keras(run_id):
    run = RUNS[run_id]
    model, history, evaluated = _train(run, "cpu")
    _check(run, model, history, evaluated)
    train_step = model._training.train_fn
    assert train_step.target == "cpu"
    # 3 epochs of 3 batches, one kernel for every batch size
    assert train_step.calls == {"kernel": 9, "interpreter": 0}
