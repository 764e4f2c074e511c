"""The lines a verbose compile prints on stderr, so a first call is never a silent pause.

``model.predict(verbose=1)`` (the tf_keras default, ``"auto"``) and
``symkb.compile(..., verbose=True)`` print two lines around a compile::

    demo: compiling the graph for the cpu target...
    demo: compiled in 2.91 s (cold compile)

The second line says where the machine code came from: ``cold compile``
(generated and compiled now), ``loaded from the cache`` (numba's disk cache
held it), the size-generic kernel of a model that differs only in small sizes
or the quick form of a cold compile (``tiers.py``: the model's own kernel then
compiles in the background), or the target when there is nothing more to say (``the cuda
target``: its kernels compile on their first launch; ``the interpreter
target``: nothing to compile). A compile that fails says so, with the error's
class, before the error propagates. stderr, because stdout carries the
progress bar of ``predict``, as in tf_keras.
"""
from __future__ import annotations

import sys
import time
from typing import Callable


def origin(executable) -> str:
    """Where ``executable``'s machine code came from, in a few words."""
    if getattr(executable, "generic", False):
        where = ("an earlier compile in this process" if getattr(executable, "reused", False)
                 else "the cache")
        return (f"the size-generic kernel, from {where}; the kernel for these sizes "
                "compiles in the background")
    if getattr(executable, "reused", False):
        how = "reused from an earlier compile in this process"
    elif getattr(executable, "cache_hit", False):
        how = "loaded from the cache"
    elif executable.target == "cpu":
        how = "cold compile"
    else:
        return f"the {executable.target} target"
    if getattr(executable, "form", "own") == "quick":
        return f"{how}: the quick form, its own form compiles in the background"
    return how


def announce_start(what: str, target: str, note: str = "") -> float:
    """Print the first line; returns the start time for :func:`announce_end`.

    Args:
        what: the name the lines start with (the model's or graph's).
        target: the target asked for (``'auto'`` is resolved here).
        note: words added to the line (``' (the first predict; ...)'``).
    """
    from . import resolve_target
    print(f"{what}: compiling the graph for the {resolve_target(target)} target{note}...",
          file=sys.stderr, flush=True)
    return time.perf_counter()


def announce_end(what: str, start: float, executable=None, error=None) -> None:
    """Print the second line: the seconds since ``start`` and :func:`origin`,
    or that the compile failed with ``error``."""
    seconds = time.perf_counter() - start
    if error is not None:
        line = f"{what}: the compile failed after {seconds:.2f} s ({type(error).__name__})"
    else:
        line = f"{what}: compiled in {seconds:.2f} s ({origin(executable)})"
    print(line, file=sys.stderr, flush=True)


def announced(build: Callable[[], object], what: str, target: str, note: str = "",
              start: float | None = None):
    """``build()``, between a line saying it starts and one saying how it went.

    Args:
        build: the compile, a function of no arguments returning the executable.
        what, target, note: as for :func:`announce_start`.
        start: the time :func:`announce_start` returned when the first line
            was printed already (by the thread that started a background compile).
    """
    if start is None:
        start = announce_start(what, target, note)
    try:
        executable = build()
    except BaseException as exc:
        announce_end(what, start, error=exc)
        raise
    announce_end(what, start, executable)
    return executable
