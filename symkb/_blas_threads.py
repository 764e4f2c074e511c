"""BLAS threads that go to sleep soon after a product.

OpenBLAS (numpy's and scipy's) keeps its worker threads spinning for about
2**28 cycles (a tenth of a second) after each product, waiting for the next.
symkb's compiled functions call BLAS for the large products outside time
loops (``lower/cpu/blas.py``) and then run their row blocks on threads of
their own (``lower/cpu/blocks.py``): on a machine with as many cores as
threads the spinning BLAS threads took those cores, and a 32-row LSTM
gradient ran its row blocks at the speed of one thread (18 ms instead of 7).

So ``import symkb`` sets ``OPENBLAS_THREAD_TIMEOUT=20`` (2**20 cycles, well
under a millisecond) unless the environment sets it already. OpenBLAS reads
it when it is loaded, so it holds for the BLAS libraries loaded after symkb
(scipy's is loaded by the first compile that needs it); one loaded earlier
keeps its own setting. Set the variable yourself to choose another value.
"""
from __future__ import annotations

import os

SPIN_EXPONENT = "20"


def settle() -> None:
    """Set ``OPENBLAS_THREAD_TIMEOUT`` unless it is set (module docstring)."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", SPIN_EXPONENT)


settle()
