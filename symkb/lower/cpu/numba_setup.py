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

The products that call BLAS (``blas.py``) meet the same import once more,
when they first run: numba's C helper finds ``sgemm`` by importing
``scipy.linalg.cython_blas``. :func:`load_blas` loads that one extension
module from its file under its own name, as the import would, without
running ``scipy.linalg``'s package (0.03 s instead of 0.13-0.15 s); the
helper then finds it in ``sys.modules``. Where scipy is laid out otherwise,
or the load fails, it does nothing and the import happens as before.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
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


_BLAS = "scipy.linalg.cython_blas"


def load_blas() -> bool:
    """Load scipy's ``cython_blas`` without ``scipy.linalg`` (see the module
    docstring); True when this call loaded it."""
    if _BLAS in sys.modules:
        return False
    with _LOCK:
        if _BLAS in sys.modules:
            return False
        try:
            found = importlib.util.find_spec("scipy")
            if found is None or not found.submodule_search_locations:
                return False
            folder = os.path.join(list(found.submodule_search_locations)[0], "linalg")
            paths = [os.path.join(folder, "cython_blas" + suffix)
                     for suffix in importlib.machinery.EXTENSION_SUFFIXES]
            path = next((p for p in paths if os.path.isfile(p)), None)
            if path is None:
                return False
            spec = importlib.util.spec_from_file_location(_BLAS, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[_BLAS] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(_BLAS, None)
                raise
        except Exception:  # noqa: BLE001 - numba's own import runs instead, as before
            return False
        return True
