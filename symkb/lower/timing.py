"""Where a compile's time goes: the ``compile_phases`` of every executable.

Every executable that :func:`symkb.lower.compile_graph` returns carries
``compile_phases``, an ordered ``{phase: seconds}`` dict whose values add up
to (nearly all of) the compile's wall time, so that a slow compile says which
part to work on. The phases, in order:

* ``import``: importing numba and the cpu target (a process's first cpu
  compile only: ``import symkb`` does not import numba);
* ``passes``: the pass pipeline (and the float16 widening before it);
* ``codegen``: generating the module's source from the optimised graph;
* ``cache``: the canonical form of that source, writing it to the cache
  folder and importing it (``cache.load_module``);
* ``setup``: numba's once-per-process set-up of its cpu target (loading
  its lowering registries; ``cpu/numba_setup.py`` keeps out the
  ``scipy.linalg`` import numba makes there for a BLAS check); about zero
  after a process's first compile;
* ``typing``: numba compiling, outside LLVM: bytecode analysis, type
  inference, numba's rewrites and its generation of the LLVM IR, for the
  generated function and every runtime helper and numpy implementation
  compiled along with it;
* ``llvm``: LLVM itself during those compiles: parsing the IR,
  optimising it and emitting machine code;
* ``load``: the rest of numba's time: loading machine code from its disk
  cache (the whole numba figure of a warm compile), or looking it up and
  writing it after a compile;
* ``beside``: waiting for a part compiled in a child process at the same
  time (a gradient or train step's tail, ``cpu/phases.py``), once this
  process's own part is done.

The numba figures come from numba's own events: ``numba:compile`` spans
the compiles (as opposed to cache loads), ``numba:llvm_lock`` the calls
into LLVM. Where a numba version lacks them the split degrades to one
``numba`` figure; timing never fails a compile. Events are process-wide;
only those of the compiling thread are counted.

The interpreter target reports ``prepare`` (setting the executable up: it
compiles nothing); the cuda target ``passes`` (its kernels compile on their
first call, apart from ``symkb.compile``).
"""
from __future__ import annotations

import contextlib
import threading
import time

# the phases in the order a cpu compile goes through them
PHASES = ("import", "passes", "codegen", "cache", "setup", "typing", "llvm", "load", "beside",
          "numba", "prepare")


class PhaseClock:
    """Accumulates seconds per phase while one executable compiles."""

    def __init__(self):
        self._seconds: dict = {}

    def add(self, phase: str, seconds: float) -> None:
        """Count ``seconds`` (clamped at zero) towards ``phase``."""
        self._seconds[phase] = self._seconds.get(phase, 0.0) + max(0.0, float(seconds))

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time the ``with`` block as ``name`` (also when it raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def as_dict(self) -> dict:
        """The phases so far, in :data:`PHASES` order (others after them)."""
        known = [p for p in PHASES if p in self._seconds]
        rest = [p for p in self._seconds if p not in PHASES]
        return {p: self._seconds[p] for p in known + rest}


@contextlib.contextmanager
def numba_phases(clock: PhaseClock, dispatcher):
    """Time numba's part of a compile (the ``with`` block) into ``clock``.

    ``dispatcher`` is the generated function's: its target's set-up is run
    (and timed as ``setup``) first, so that a first compile's registry
    loading is not mistaken for typing or loading.
    """
    setup = time.perf_counter()
    try:
        dispatcher.targetctx.refresh()
    except Exception:  # another numba's internals: counted in the block below
        pass
    clock.add("setup", time.perf_counter() - setup)
    listener = _listener()
    start = time.perf_counter()
    with _installed(listener) if listener is not None else contextlib.nullcontext():
        yield
    total = time.perf_counter() - start
    if listener is None or not listener.consistent():
        clock.add("numba", total)
        return
    clock.add("typing", listener.seconds - listener.llvm.seconds)
    clock.add("llvm", listener.llvm.seconds)
    clock.add("load", total - listener.seconds)


_COMPILE, _LLVM = "numba:compile", "numba:llvm_lock"


@contextlib.contextmanager
def _installed(listener):
    """``listener`` registered for the ``with`` block; one numba refuses is left out."""
    from numba.core import event
    try:
        event.register(_COMPILE, listener)
    except Exception:  # a numba without this event kind: no split, no failure
        listener.broken = True
        yield
        return
    try:
        yield
    finally:
        event.unregister(_COMPILE, listener)
        listener.stop()


def _listener():
    """A listener for numba's compile events; None where numba has none."""
    try:
        from numba.core import event
        event.Listener  # noqa: B018 (numba < 0.53 has no events)
    except (ImportError, AttributeError):
        return None

    class Span(event.Listener):
        """The seconds between the outermost start and end events of one kind,
        on the thread that made it (a background compile's are not this one's)."""

        def __init__(self):
            self.depth = 0
            self.started = 0.0
            self.seconds = 0.0
            self.thread = threading.get_ident()

        def on_start(self, ev):
            if threading.get_ident() != self.thread:
                return
            if self.depth == 0:
                self.started = time.perf_counter()
            self.depth += 1

        def on_end(self, ev):
            if self.depth == 0 or threading.get_ident() != self.thread:
                return  # an event that began before the listener, or another thread's
            self.depth -= 1
            if self.depth == 0:
                self.seconds += time.perf_counter() - self.started

    class Compiles(Span):
        """Times the compiles, and the LLVM lock held inside them: the LLVM
        listener is registered only while a compile runs (a cache load of a
        few hundred LLVM calls pays nothing for it)."""

        def __init__(self):
            super().__init__()
            self.llvm = Span()
            self.listening = False
            self.broken = False

        def on_start(self, ev):
            super().on_start(ev)
            if threading.get_ident() != self.thread:
                return
            if not self.listening and not self.broken:
                try:
                    event.register(_LLVM, self.llvm)
                    self.listening = True
                except Exception:  # a numba without the LLVM-lock event
                    self.broken = True

        def on_end(self, ev):
            super().on_end(ev)
            if self.depth == 0:
                self.stop()

        def stop(self) -> None:
            if self.listening:
                event.unregister(_LLVM, self.llvm)
                self.listening = False

        def consistent(self) -> bool:
            """Whether every event ended (so the figures are whole)."""
            return (not self.broken and self.depth == 0 and self.llvm.depth == 0
                    and self.llvm.seconds <= self.seconds)

    return Compiles()
