"""clear_session keeps memory constant when models are made in a loop, and old
models and layers are freed (the seed page's Example 1)."""
import gc
import tracemalloc
import weakref

import pytest

import symkb
from symkb import backend as K
from symkb import layers


def _model(with_input):
    stack = [layers.Dense(10) for _ in range(10)]
    if with_input:
        stack = [layers.Input((8,))] + stack
    return symkb.Sequential(stack)


@pytest.mark.parametrize("with_input", [False, True], ids=["no_input", "with_input"])
def test_memory_constant_with_clear_session(with_input):
    tracemalloc.start()
    try:
        sizes = []
        for i in range(100):
            K.clear_session()
            model = _model(with_input)
            if i in (20, 99):
                del model
                gc.collect()
                sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    growth = sizes[1] - sizes[0]
    assert growth < 1_000_000, f"memory grew by {growth} bytes over iterations 20..100"


def test_names_restart_after_clear_session():
    for _ in range(3):
        K.clear_session()
        model = _model(True)
        assert [layer.name for layer in model.layers][:2] == ["dense", "dense_1"]
        assert model.name == "sequential"


def test_old_models_and_layers_are_freed():
    model = _model(True)
    refs = [weakref.ref(model)] + [weakref.ref(layer) for layer in model.layers]
    graph_ref = weakref.ref(model.graph)
    K.clear_session()
    del model
    gc.collect()
    assert all(r() is None for r in refs)
    assert graph_ref() is None


def test_model_made_before_clear_session_still_works():
    import numpy as np
    model = _model(True)
    K.clear_session()
    out = model.predict(np.ones((2, 8), np.float32))
    assert out.shape == (2, 10)
