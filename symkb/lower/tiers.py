"""Three forms of a generated cpu function: its own, a quick one and a size-generic one.

A function's *own form* has its sizes past ``canonical.SMALL`` lifted into
an argument and the smaller ones literal: the form it runs in the long run
(models that differ only in the lifted sizes share it; short loops stay
literal, which pays: a SimpleRNN of 16 units ran 1.5-3x faster so). Its
*quick form* has every size a literal: LLVM has less to do (the W2
loss-and-gradient function compiled in 2.5 s instead of 3.2 s), but
gradients ran 2-7% slower on it, so it only serves a cold start. Its
*size-generic form* takes every size as an argument
(``canonical.lift_sizes(..., small=1)``): one machine code for every model
that differs only in sizes. The executable chooses (see ``compile_cpu``):

1. the own form is compiled in this process or in numba's disk cache: it
   runs. The size-generic form is compiled in the background if it is not
   yet, for the variants to come;
2. else the quick or the size-generic form is: it runs at once, and the own
   form compiles in the background; the executable switches to it when it
   is ready (results are the same: the forms are one code, literals apart);
3. else (a cold compile) the quick form compiles now (the own form where
   it lifts nothing: then the two are one), the own and size-generic ones
   in the background.

The background compiles run in a child process (:func:`compile_elsewhere`),
at a lower priority: a compile on a thread of this process would hold the
GIL for most of a second, and every call of a compiled model, which needs
the GIL between kernels, would wait for it (a 0.3 ms call took 10 ms). The
child writes numba's disk cache; this process then loads the machine code
from it (:func:`has_code`), in milliseconds. One daemon thread of this
process starts the children one after another and waits for them (a
model whose own form was cached looks for its size-generic form half a
second later, off its first calls); :func:`wait` waits until it has nothing
left (``symkb.wait_compiles``). At
exit the compiles queued to start at once are finished (for a minute at
most; the rest are dropped), so that a process started next finds what a
cold compile began: the own form, and the size-generic form its variants
run (the cache's writes are atomic either way). A failed background compile warns and leaves the
kernel that runs now running.

``SYMKB_CHILD_COMPILES=0`` turns off every compile in a child process: each
function then has one form, with its sizes past ``canonical.SMALL`` lifted
(variants that differ only in those share it, compiled in the foreground),
and a phased graph's tail compiles in this process too (``cpu/phases.py``).
"""
from __future__ import annotations

import atexit
import collections
import os
import threading
import time
import warnings
from typing import Callable

ENV_VAR = "SYMKB_CHILD_COMPILES"


def enabled() -> bool:
    """Whether symkb compiles in child processes: size-generic forms, a phased
    graph's tail (``$SYMKB_CHILD_COMPILES`` is not ``0``, and no child has
    failed to start in this process)."""
    if _STATE["broken"]:
        return False
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def has_code(dispatcher, sig) -> bool:
    """Whether ``dispatcher`` has machine code for ``sig``: compiled in this
    process, or now loaded from numba's disk cache. Never compiles.

    numba offers no public way to load without compiling; this does what
    ``Dispatcher.compile`` does before it compiles. Where that is not
    available, the answer is ``False`` (the caller compiles, as without tiers).
    """
    sig = tuple(sig)
    if sig in dispatcher.overloads:
        return True
    try:
        from numba.core.compiler_lock import global_compiler_lock
        with global_compiler_lock:
            if sig in dispatcher.overloads:
                return True
            cres = dispatcher._cache.load_overload(sig, dispatcher.targetctx)
            if cres is None:
                return False
            dispatcher._cache_hits[sig] += 1
            dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                      [cres.library])
            dispatcher.add_overload(cres)
            return True
    except Exception:  # noqa: BLE001 - a numba without these internals, a damaged entry
        return False


def cached(dispatcher, sig) -> bool:
    """Whether ``dispatcher`` has machine code for ``sig`` in this process or in
    numba's disk cache, without loading it (numba's cache index is read; where
    its internals differ, :func:`has_code` answers, loading it)."""
    sig = tuple(sig)
    if sig in dispatcher.overloads:
        return True
    try:
        cache = dispatcher._cache
        key = cache._index_key(sig, dispatcher.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - another numba's internals
        return has_code(dispatcher, sig)


# -- a compile in a child process ------------------------------------------------

_CHILD = """
import os, pickle, sys, importlib.util
try:
    os.nice(int(os.environ.get("SYMKB_NICE", "10")))  # the parent's work first
except (AttributeError, OSError, ValueError):
    pass
path, name, function, sig = sys.argv[1:5]
from symkb.lower.cpu import _prepare_products, numba_setup
numba_setup.prepare()
with open(path, encoding="utf-8") as f:
    _prepare_products(f.read())  # the product kernels, as this process compiles them
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module  # where numba's cache finds the module again
spec.loader.exec_module(module)
getattr(module, function).compile(pickle.loads(bytes.fromhex(sig)))
"""


def start_elsewhere(module, function: str, sig, nice: bool = True):
    """Start compiling ``function`` of the generated ``module`` for ``sig`` in a
    child process, into numba's disk cache (the environment's ``NUMBA_CACHE_DIR``);
    :func:`finish` waits for it. ``nice``: at a lower priority."""
    import pickle
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["SYMKB_NICE"] = "10" if nice else "0"
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, module.__file__, module.__name__, function,
         pickle.dumps(tuple(sig)).hex()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(child, timeout: float = 600.0) -> None:
    """Wait for a child of :func:`start_elsewhere`.

    Raises:
        RuntimeError: the child failed (its last lines of stderr say why).
    """
    import subprocess
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise RuntimeError(f"the compiling process ran past {timeout:g} s") from None
    if child.returncode != 0:
        tail = "\n".join((err or out).strip().splitlines()[-3:])
        raise RuntimeError(f"the compiling process exited with {child.returncode}: {tail}")


def compile_elsewhere(module, function: str, sig) -> None:
    """Compile ``function`` of ``module`` for ``sig`` in a child process, at a
    lower priority, and wait for it (:func:`start_elsewhere`, :func:`finish`)."""
    finish(start_elsewhere(module, function, sig))


# -- the worker ------------------------------------------------------------------

_COND = threading.Condition()
_JOBS: collections.deque = collections.deque()
_STATE = {"busy": False, "closing": False, "thread": None, "broken": False, "failed": 0}


def submit(job: Callable[[], None], what: str, delay: float = 0.0) -> None:
    """Run ``job()`` on the worker thread, after the jobs already queued.

    Args:
        job: the compile (exceptions become a :class:`RuntimeWarning`).
        what: words for that warning (``'the size-generic form of sequential'``).
        delay: seconds from now before it may start (a check that need not
            share the GIL with a model's first calls).
    """
    with _COND:
        if _STATE["closing"]:
            return
        _JOBS.append((job, what, time.monotonic() + delay))
        thread = _STATE["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_work, daemon=True, name="symkb-tiers")
            _STATE["thread"] = thread
            thread.start()
        _COND.notify_all()


def _work() -> None:
    while True:
        with _COND:
            while not _JOBS:
                _COND.wait()
            job, what, due = _JOBS.popleft()
            _STATE["busy"] = True
            while not _STATE["closing"] and time.monotonic() < due:
                _COND.wait(due - time.monotonic())
            if _STATE["closing"] and time.monotonic() < due:
                _STATE["busy"] = False  # a delayed check, given up at exit
                _COND.notify_all()
                continue
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - the kernel running now keeps running
            _failed(what, exc)
        finally:
            with _COND:
                _STATE["busy"] = False
                _COND.notify_all()


def _failed(what: str, exc: Exception) -> None:
    """Warn of a failed background compile: the first one in this process (the
    next ones are counted). A child that cannot start turns child compiles off."""
    if isinstance(exc, OSError):
        _STATE["broken"] = True  # no interpreter to start (a frozen program, say)
    _STATE["failed"] += 1
    if _STATE["failed"] > 1:
        return
    warnings.warn(f"symkb: the background compile of {what} failed "
                  f"({type(exc).__name__}: {exc}); the kernel it would have replaced "
                  f"keeps running. Later failures in this process are not reported; "
                  f"{ENV_VAR}=0 turns compiles in child processes off",
                  RuntimeWarning, stacklevel=1)


def pending() -> int:
    """How many background compiles are queued or running."""
    with _COND:
        return len(_JOBS) + _STATE["busy"]


def wait(timeout: float | None = None) -> bool:
    """Wait until no background compile is queued or running.

    Args:
        timeout: seconds to wait at most; ``None``: as long as it takes.

    Returns:
        True when the worker is idle, False when ``timeout`` passed first.
    """
    with _COND:
        return _COND.wait_for(lambda: not _JOBS and not _STATE["busy"], timeout)


# seconds the end of a process waits for the background compile in progress
EXIT_WAIT = 60.0


def _close() -> None:
    """At exit: finish the compiles queued to start at once (a cold compile's
    own and size-generic forms, a variant's own: a process started next finds
    them in the cache), for :data:`EXIT_WAIT` seconds at most; drop the rest."""
    with _COND:
        _STATE["closing"] = True
        now = time.monotonic()
        kept = [entry for entry in _JOBS if entry[2] <= now]
        _JOBS.clear()
        _JOBS.extend(kept)
        _COND.notify_all()  # a job waiting for its start gives up
        _COND.wait_for(lambda: not _JOBS and not _STATE["busy"], EXIT_WAIT)
        _JOBS.clear()


atexit.register(_close)
