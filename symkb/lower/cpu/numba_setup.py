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
when they first run: numba's C helper (``numba_xxgemm``) finds ``sgemm`` by
importing ``scipy.linalg.cython_blas``, once, and keeps the pointer.
:func:`load_blas` loads that one extension module from its file under its
own name, without running ``scipy.linalg``'s package (0.03 s instead of
0.13-0.15 s), has the helper take the pointer from it (one product of 1 x 1
matrices), then takes the name out of ``sys.modules`` again: a later
``import scipy.linalg.cython_blas`` runs the package as usual (and gets the
same module object back). Where scipy or numba is laid out otherwise, or a
step fails, it leaves nothing behind and the import happens as before.
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
_BLAS_STATE = {"done": False}


def _cython_blas_path():
    """The file of scipy's ``linalg/cython_blas`` extension, or None."""
    found = importlib.util.find_spec("scipy")
    if found is None or not found.submodule_search_locations:
        return None
    folder = os.path.join(list(found.submodule_search_locations)[0], "linalg")
    paths = [os.path.join(folder, "cython_blas" + suffix)
             for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    return next((p for p in paths if os.path.isfile(p)), None)


def _take_sgemm() -> None:
    """Have numba's ``numba_xxgemm`` fetch (and keep) scipy's ``sgemm``: one
    float32 product of 1 x 1 matrices, 2 * 3."""
    import ctypes

    from numba import _helperlib
    size, ptr = ctypes.c_ssize_t, ctypes.c_void_p
    gemm = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char, ctypes.c_char, ctypes.c_char,
                            size, size, size, ptr, ptr, size, ptr, size, ptr, ptr, size)(
        _helperlib.c_helpers["xxgemm"])
    a, b, c = (ctypes.c_float * 1)(2.0), (ctypes.c_float * 1)(3.0), (ctypes.c_float * 1)(0.0)
    alpha, beta = ctypes.c_float(1.0), ctypes.c_float(0.0)
    at = ctypes.addressof
    status = gemm(b"s", b"n", b"n", 1, 1, 1, at(alpha), at(a), 1, at(b), 1, at(beta), at(c), 1)
    if status != 0 or c[0] != 6.0:
        raise RuntimeError(f"numba_xxgemm answered {status}, {c[0]}")


def load_blas() -> bool:
    """Give numba's BLAS helper scipy's ``sgemm`` without importing
    ``scipy.linalg`` (see the module docstring); True when this call did."""
    if _BLAS_STATE["done"] or _BLAS in sys.modules:
        return False
    with _LOCK:
        if _BLAS_STATE["done"] or _BLAS in sys.modules:
            return False
        _BLAS_STATE["done"] = True  # tried once: a failure is not tried again
        try:
            path = _cython_blas_path()
            if path is None:
                return False
            spec = importlib.util.spec_from_file_location(_BLAS, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[_BLAS] = module
            try:
                spec.loader.exec_module(module)
                _take_sgemm()
            finally:
                sys.modules.pop(_BLAS, None)
        except Exception:  # noqa: BLE001 - numba's own import runs instead, as before
            return False
        return True
