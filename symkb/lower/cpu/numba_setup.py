"""numba's once-per-process set-up, without the scipy.linalg import it does not need.

The first compile or cache load of a process loads numba's lowering
registries (``targetctx.refresh()``). One of them, ``numba.np.arraymath``,
asks at import time whether a BLAS is available (its ``_HAVE_BLAS``, read
only to choose how ``np.convolve``/``np.correlate`` take inner products)
by importing ``scipy.linalg.cython_blas``: that import loads all of
``scipy.linalg`` (and through it ``numpy.f2py`` and ``unittest``), about
0.16 s on an idle machine and a fifth of a warm process's start.

symkb's products run on its own kernel (``gemm.py``); code that still calls
``np.dot`` has numba check the BLAS when that call compiles (numba's
``ensure_blas``, untouched here). So :func:`prepare` imports
``numba.np.arraymath`` with that one import-time question answered by
whether scipy is installed (``importlib.util.find_spec``, which imports
nothing) and then puts numba's own check back in place, also in
``arraymath``'s namespace. It does nothing when numba already set itself up
(the process compiled something before, or numba's layout is not the one
this was written for): behaviour never depends on it, only start-up time.
"""
from __future__ import annotations

import importlib.util
import sys
import threading

_LOCK = threading.Lock()
_MODULE = "numba.np.arraymath"


def _scipy_installed() -> None:
    """numba's question 'is there a BLAS?', answered without importing scipy.linalg.

    Raises:
        ImportError: scipy is not installed (numba then reports no BLAS).
    """
    if importlib.util.find_spec("scipy") is None:
        raise ImportError("scipy 0.16+ is required for linear algebra")


def prepare() -> bool:
    """Import ``numba.np.arraymath`` without its scipy.linalg import (see the
    module docstring); True when this call did so."""
    if _MODULE in sys.modules:
        return False
    with _LOCK:
        if _MODULE in sys.modules:
            return False
        try:
            from numba.np import linalg
        except ImportError:  # another numba's layout: its own set-up runs as usual
            return False
        check = getattr(linalg, "ensure_blas", None)
        if check is None:
            return False
        linalg.ensure_blas = _scipy_installed
        try:
            import numba.np.arraymath as arraymath
        finally:
            linalg.ensure_blas = check
        if getattr(arraymath, "ensure_blas", None) is _scipy_installed:
            arraymath.ensure_blas = check
        return True
