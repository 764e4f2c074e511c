"""The cuda target's tests run on Numba's CUDA simulator (or a real GPU:
``NUMBA_ENABLE_CUDASIM=0 python -m pytest tests/cuda``, or tools/gpu_check.sh).

The simulator must be switched on before numba is imported, so this file
sets ``NUMBA_ENABLE_CUDASIM=1`` before anything imports numba. Run the suite
in its own process:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda -q

When numba was already imported without the simulator in this process (a
combined run with other test folders) and there is no GPU, the tests here
are skipped with a message saying how to run them.
"""
import os
import sys

if "numba" not in sys.modules:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402


def _cuda_usable():
    from symkb.lower.cuda import adapter
    return adapter.simulator() or adapter.real_gpu_available()


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    if _cuda_usable():
        return
    skip = pytest.mark.skip(reason="no GPU, and the simulator is off (numba was imported "
                                   "before NUMBA_ENABLE_CUDASIM=1 was set, or it was set to 0); "
                                   "run `NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda` "
                                   "on its own")
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)
