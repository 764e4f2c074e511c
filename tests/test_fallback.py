"""No silent fallback: every one raises symkb.FallbackWarning, executables count
where their calls ran, and ``.target`` names where the graph runs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import symkb
from symkb import backend as K
from symkb import ir
from symkb.lower import FallbackWarning, compile_graph


def _int_batch_dot():
    """A graph the cpu target cannot compile (batch_dot of integers)."""
    x = K.placeholder(shape=(2, 3, 4), dtype="int32", name="x")
    return ir.Graph([x], [K.batch_dot(x, x, axes=(2, 2))], name="int_batch_dot")


def _tiny():
    x = K.placeholder(shape=(None, 3), name="x")
    return ir.Graph([x], [K.tanh(x) * 2.0], name="tiny_fallback_probe")


def test_the_warning_is_symkbs_own_runtime_warning():
    assert symkb.FallbackWarning is FallbackWarning
    assert issubclass(FallbackWarning, RuntimeWarning)


def test_the_suite_turns_a_fallback_into_an_error():
    # pyproject's filterwarnings: a test that falls back without saying so fails
    with pytest.raises(FallbackWarning):
        compile_graph(_int_batch_dot(), "auto")


def test_auto_cpu_to_interpreter_names_graph_target_and_reason():
    with pytest.warns(FallbackWarning) as record:
        f = compile_graph(_int_batch_dot(), "auto")
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("symkb: the cpu target failed on graph 'int_batch_dot': it "
                              "cannot compile it (Unsupported: cpu codegen: batch_dot of "
                              "integer tensors is not supported")
    assert message.endswith("running it on the interpreter target instead")
    assert f.target == "interpreter" and f.fallback == message
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    np.testing.assert_array_equal(f(x)[0], np.einsum("bik,bjk->bij", x, x))
    f(x)
    assert f.calls == {"kernel": 0, "interpreter": 2}


def test_auto_cuda_to_cpu_warns_and_reports_cpu(monkeypatch):
    import symkb.lower.cuda as cuda

    def no_kernel(graph, **kwargs):
        raise cuda.CudaLoweringError("cuda codegen: no kernel for op 'tanh'", op="tanh")
    monkeypatch.setattr(cuda, "real_gpu_available", lambda: True)
    monkeypatch.setattr(cuda, "compile_cuda", no_kernel)
    with pytest.warns(FallbackWarning, match=r"^symkb: the cuda target failed on graph "
                      r"'tiny_fallback_probe': it cannot lower it \(CudaLoweringError: cuda "
                      r"codegen: no kernel for op 'tanh'.*running it on the cpu target instead"):
        f = compile_graph(_tiny(), "auto")
    assert f.target == "cpu" and "cuda target failed" in f.fallback
    a = np.array([[0.0, 1.0, -2.0]], np.float32)
    np.testing.assert_allclose(f(a)[0], np.tanh(a) * 2, rtol=1e-6)
    assert f.calls == {"kernel": 1, "interpreter": 0}
    # both fallbacks in a row: cuda -> cpu -> interpreter, each said
    with pytest.warns(FallbackWarning) as record:
        g = compile_graph(_int_batch_dot(), "auto")
    assert [str(r.message).split(" target")[0] for r in record] == ["symkb: the cuda",
                                                                     "symkb: the cpu"]
    assert g.target == "interpreter" and "cuda" in g.fallback and "cpu" in g.fallback


def test_an_explicit_target_never_falls_back(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NotImplementedError, match="batch_dot of integer tensors"):
            compile_graph(_int_batch_dot(), "cpu")
    f = compile_graph(_tiny(), "cpu")
    assert f.fallback is None and f.calls == {"kernel": 0, "interpreter": 0}
    f(np.ones((2, 3), np.float32))
    assert f.calls == {"kernel": 1, "interpreter": 0}
    reference = compile_graph(_tiny(), "interpreter")
    reference(np.ones((2, 3), np.float32))
    assert reference.calls == {"kernel": 0, "interpreter": 1}


def test_no_driver_means_no_gpu_without_importing_numba_cuda(monkeypatch, tmp_path):
    from symkb.lower.cuda import adapter
    monkeypatch.setattr(adapter.sys, "platform", "linux")
    monkeypatch.setattr(adapter, "_DRIVER_FILES", (str(tmp_path / "nvidiactl"),))
    monkeypatch.setattr(adapter, "_numba_cuda", lambda: pytest.fail("numba.cuda was asked"))
    assert adapter.real_gpu_available() is False
    (tmp_path / "nvidiactl").touch()  # a driver: numba.cuda is asked
    monkeypatch.setattr(adapter, "_numba_cuda", lambda: type("cuda", (), {
        "is_available": staticmethod(lambda: True)}))
    assert adapter.real_gpu_available() is (not adapter.simulator())
