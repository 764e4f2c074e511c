"""Every kernel the differential tests launch also types and compiles for a real GPU.

Runs only where a CUDA toolkit (NVVM) is found through ``CUDA_HOME`` and no
GPU is present (on a GPU the other tests compile for the device anyway). See
``ptx_check.py``.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from symkb.lower.cuda import adapter, compile_cuda

HERE = pathlib.Path(__file__).parent


def _toolkit():
    home = os.environ.get("CUDA_HOME")
    if home and (pathlib.Path(home) / "nvvm" / "lib64").is_dir():
        return home
    return None


def _signature(args):
    sig = []
    for a in args:
        if hasattr(a, "dtype") and hasattr(a, "ndim") and not isinstance(a, np.generic):
            sig.append(("array", np.dtype(a.dtype).name, a.ndim))
        elif isinstance(a, (bool, np.bool_)):
            sig.append(("scalar", "bool"))
        elif isinstance(a, (int, np.integer)):
            sig.append(("scalar", "int64"))
        else:
            sig.append(("scalar", "float64"))
    return tuple(sig)


@pytest.mark.skipif(_toolkit() is None, reason="no CUDA toolkit (set CUDA_HOME to one with nvvm)")
@pytest.mark.skipif(adapter.real_gpu_available(), reason="a real GPU compiles the kernels itself")
def test_kernels_compile_for_a_device(monkeypatch, tmp_path):
    import linecache

    import test_kernels
    import test_loop

    records = {}

    def record(kernel, args):
        fn = kernel.fn
        source = "".join(linecache.getlines(fn.__code__.co_filename))
        records[(source, fn.__name__, _signature(args))] = True

    real_launch, real_1d = adapter.launch, adapter.launch_1d

    def launch(kernel, grid, block, *args):
        record(kernel, args)
        return real_launch(kernel, grid, block, *args)

    def launch_1d(kernel, n, *args):
        if n > 0:
            record(kernel, args)
        return real_1d(kernel, n, *args)

    monkeypatch.setattr(adapter, "launch", launch)
    monkeypatch.setattr(adapter, "launch_1d", launch_1d)
    builders = [b for _, b in sorted(test_kernels.CASES.items())]
    builders.append(lambda: test_loop._simple_rnn_graph(True, True))
    builders += [lambda k=k: test_loop._layer_model(k, return_sequences=True, masking=True)
                 for k in ("SimpleRNN", "LSTM", "GRU")]
    for build in builders:
        graph, feeds = build()
        for options in ({"passes": False}, {"strategy": "steps"}, {"strategy": "auto"}):
            compile_cuda(graph, **options)(list(feeds))
    path = tmp_path / "records.json"
    path.write_text(json.dumps([[s, n, list(sig)] for s, n, sig in records]))
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, str(HERE / "ptx_check.py"), str(path)], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
