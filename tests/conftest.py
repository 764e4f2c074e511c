"""Shared test set-up: one Numba cache folder inside the checkout for every test
process, so compiled kernels are reused across tests and runs."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
os.environ.setdefault("SYMKB_CACHE_DIR", str(ROOT / ".symkb_cache"))

import pytest  # noqa: E402

# The CUDA kernels run on Numba's simulator, which must be switched on before
# numba is imported: they run in their own pytest process
# (NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda).
collect_ignore = [] if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else ["cuda"]

from symkb import backend as K  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_session():
    """Each test starts with a clean session and default configuration."""
    K.clear_session()
    yield
    K.clear_session()
    K.set_floatx("float32")
    K.set_epsilon(1e-7)
    K.set_image_data_format("channels_last")
