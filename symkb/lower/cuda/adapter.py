"""The one module that talks to the CUDA binding (``numba.cuda`` today).

Everything else in :mod:`symkb.lower.cuda` reaches the device through the
names defined here: device arrays, kernel compilation, launch geometry and
the availability checks. Moving to another binding (``numba-cuda``'s own
package, say) touches this file only.

numba is imported lazily, on the first compile for the cuda target, never
when symkb is imported. With no GPU, kernels run on Numba's CUDA simulator,
which must be switched on with ``NUMBA_ENABLE_CUDASIM=1`` *before numba is
imported*; the simulator runs every CUDA thread as a Python thread, so launch
geometry shrinks there (see :func:`geometry`).
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

from ..cache import attach, load_module

_math = math


class CudaUnavailableError(RuntimeError):
    """``target='cuda'`` was asked for on a machine that cannot run kernels."""


def _numba_cuda():
    if not hasattr(np, "row_stack"):
        # numba-cuda up to 0.30 registers an overload of np.row_stack while it
        # compiles a first kernel; numpy 2.5 removed that alias of np.vstack, and
        # every kernel compile then fails with an AttributeError
        np.row_stack = np.vstack
    from numba import cuda  # the only import of the CUDA binding in symkb
    return cuda


def simulator() -> bool:
    """True when Numba's CUDA simulator stands in for a device."""
    import numba
    return bool(numba.config.ENABLE_CUDASIM)


# Files an NVIDIA driver makes on Linux (``/dev/dxg``: WSL's GPU bridge)
_DRIVER_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia", "/dev/dxg")


def _no_driver() -> bool:
    """True on a Linux machine where no NVIDIA driver is loaded: no device can
    answer, and importing ``numba.cuda`` to ask would cost a tenth of a second
    of every ``target='auto'`` start."""
    return sys.platform.startswith("linux") and not any(map(os.path.exists, _DRIVER_FILES))


def real_gpu_available() -> bool:
    """True only for a real CUDA device (the simulator also reports a device)."""
    try:
        if simulator() or _no_driver():
            return False
        return bool(_numba_cuda().is_available())
    except Exception:  # a broken driver install means: no GPU
        return False


_READY = None


def require_device():
    """Return the ``cuda`` module, or raise :class:`CudaUnavailableError` saying why."""
    global _READY
    if _READY is not None:
        return _READY
    try:
        cuda = _numba_cuda()
    except ImportError as exc:
        raise CudaUnavailableError(
            f"target='cuda': numba's CUDA support could not be imported ({exc}). Install numba "
            "(pip install numba), or use target='cpu'.") from exc
    if not simulator() and not cuda.is_available():
        env = os.environ.get("NUMBA_ENABLE_CUDASIM")
        late = (" NUMBA_ENABLE_CUDASIM is set in the environment now, but numba was imported "
                "before it was set, so it has no effect in this process." if env == "1" else "")
        raise CudaUnavailableError(
            "target='cuda': no CUDA GPU is available on this machine (numba.cuda.is_available() "
            "is False) and Numba's CUDA simulator is not enabled." + late + " Use target='cpu' "
            "(or target='auto', which picks 'cuda' only on a real GPU), or run the CUDA kernels "
            "on the simulator by setting the environment variable NUMBA_ENABLE_CUDASIM=1 before "
            "numba is imported (e.g. `NUMBA_ENABLE_CUDASIM=1 python script.py`); the simulator "
            "is slow: keep arrays tiny.")
    _READY = cuda
    return cuda


def __getattr__(name):
    # ``from symkb.lower.cuda.adapter import cuda`` (in generated kernel modules)
    # imports the binding only then; the simulator needs the real module object.
    if name == "cuda":
        return _numba_cuda()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# launch geometry
# ---------------------------------------------------------------------------

class Geometry:
    """Launch sizes: generous on a GPU, tiny on the simulator (a Python thread per CUDA thread)."""

    def __init__(self, sim: bool):
        self.threads = 32 if sim else 256        # threads per block, 1-D kernels
        self.max_blocks = 2 if sim else 4096     # grid-stride loops cover the rest
        self.tile = 4 if sim else 16             # matrix-product tile edge (tile*tile threads)
        self.reduce_threads = 8 if sim else 256  # power of two: tree reduction
        self.reduce_blocks = 2 if sim else 64    # blocks per row before the second pass
        self.loop_threads = 32 if sim else 256   # persistent rnn kernel, threads per block
        self.persistent_max_units = 64 if sim else 128  # shared-memory weights bound
        self.persistent_max_shared = 12 * 1024 if sim else 40 * 1024  # bytes

    def blocks_for(self, n: int) -> int:
        return max(1, min(self.max_blocks, math.ceil(n / self.threads)))


_GEOMETRY = None


def geometry() -> Geometry:
    global _GEOMETRY
    if _GEOMETRY is None:
        _GEOMETRY = Geometry(simulator())
    return _GEOMETRY


def launch_1d(kernel, n: int, *args):
    """Launch a grid-stride kernel over ``n`` items (nothing to do when ``n == 0``)."""
    if n <= 0:
        return
    g = geometry()
    kernel[g.blocks_for(n), g.threads](*args)


def launch(kernel, grid, block, *args):
    """Launch ``kernel`` with an explicit grid and block shape."""
    kernel[grid, block](*args)


# ---------------------------------------------------------------------------
# device memory
# ---------------------------------------------------------------------------

def to_device(array: np.ndarray):
    """One host-to-device copy of a contiguous array."""
    return require_device().to_device(np.ascontiguousarray(array))


def empty(shape, dtype):
    """An uninitialised device array."""
    return require_device().device_array(tuple(int(d) for d in shape), dtype=np.dtype(dtype))


def to_host(device_array) -> np.ndarray:
    """One device-to-host copy."""
    return device_array.copy_to_host()


def reshape(device_array, shape):
    """A view of a contiguous device array in another shape (no copy)."""
    shape = tuple(int(d) for d in shape)
    if tuple(device_array.shape) == shape:
        return device_array
    return device_array.reshape(shape)


def flat(device_array):
    """The contiguous 1-D view kernels index with one flat index."""
    n = int(np.prod(device_array.shape, dtype=np.int64)) if device_array.ndim else 1
    if device_array.ndim == 1:
        return device_array
    return device_array.reshape(n)


def synchronize():
    """Wait for every queued kernel (launches are asynchronous on a GPU)."""
    _numba_cuda().synchronize()


# ---------------------------------------------------------------------------
# kernel modules
# ---------------------------------------------------------------------------

def compile_module(source: str, stem: str, owner=None) -> dict:
    """Import a generated kernel module; ``@cuda.jit`` compiles each kernel on first launch.

    The module's canonical form is written to symkb's cache folder under a
    name made of a hash of it (``symkb.lower.cache``; the readable source
    beside it under ``stem``), so numba can cache the compiled kernels and
    graphs that differ only in names share them. The
    module stays registered (numba finds it by name) while ``owner`` lives;
    with no owner, for the life of the process.
    """
    require_device()
    loaded = load_module(source, stem, kind="cuda")
    module = loaded.module
    if owner is not None:
        attach(owner, module)
    if simulator() and getattr(module, "math", None) is _math:
        module.math = IEEE_MATH
    return loaded.namespace()  # kernels by the names the readable source gives them


class _IEEEMath:
    """``math`` as a GPU answers it, for kernels run on the simulator.

    The simulator runs kernels as Python, where ``math.log(0.0)``,
    ``math.sqrt(-1.0)`` or ``math.exp(1000.0)`` raise; a GPU returns -inf,
    NaN and inf. Where Python's ``math`` raises, this answers with numpy's
    IEEE result instead (computed in float64, as the simulator computes).
    """

    _NUMPY = {"fabs": "abs", "pow": "power", "atan2": "arctan2", "asin": "arcsin",
              "acos": "arccos", "atan": "arctan"}

    def __getattr__(self, name):
        fn = getattr(_math, name)
        if not callable(fn):
            return fn
        np_fn = getattr(np, self._NUMPY.get(name, name), None)

        def ieee(*args):
            try:
                return fn(*args)
            except (ValueError, OverflowError):
                if np_fn is None:
                    raise
                with np.errstate(all="ignore"):
                    return float(np_fn(*(np.float64(a) for a in args)))
        ieee.__name__ = name
        setattr(self, name, ieee)
        return ieee


IEEE_MATH = _IEEEMath()
