"""A compile that runs on a thread of its own: ``symkb.compile(..., background=True)``.

A cold compile takes seconds (numba's typing and LLVM); a program that has
other work to do meanwhile starts the compile in the background and gets a
:class:`BackgroundCompile` at once. It is a ``concurrent.futures``-style
handle (``done()``, ``wait(timeout)``/``result(timeout)``, ``exception()``)
that also stands for the executable it will hold: calling it, or reading or
setting any of the executable's attributes (``.source``, ``.target``,
``.threads``, ...), waits for the compile first. Nothing runs elsewhere
meanwhile: a call made before the compile ends blocks until the kernel is
ready, never falling back to the interpreter.

An exception raised by the compile is raised again, the same object with its
original traceback, by every wait, call and attribute access. Warnings the
compile issues through :func:`defer_warning` (the ``target='auto'``
fallbacks) are held and issued once, in the thread that first collects the
result, pointing at its line, where a warning filter (``-W error``) applies
as it would to a foreground compile.

The thread is a daemon: a process may end while a compile runs (the cache
files are written atomically, so an interrupted compile leaves no entry,
only, at worst, a temporary file that ``symkb cache --clear`` removes).
numba compiles one function at a time under its global lock, so concurrent
compiles (background or not) queue there; symkb's own locks are never held
while waiting for it, which keeps them free of deadlocks.
"""
from __future__ import annotations

import concurrent.futures
import threading
import warnings
from typing import Callable

# the warnings of the compile running on this thread, when it runs in the background
_HELD = threading.local()

_OWN = frozenset({"_future", "_what", "_held", "_deliver_lock", "_delivered", "_thread"})


def defer_warning(message: str, category: type, stacklevel: int) -> None:
    """Issue a warning, or hold it for the handle when a background compile
    runs on this thread (see the module docstring).

    Args:
        message: the warning's text.
        category: its class (``FallbackWarning``).
        stacklevel: as for ``warnings.warn``, counted from the caller of this
            function.
    """
    held = getattr(_HELD, "warnings", None)
    if held is None:
        warnings.warn(message, category, stacklevel=stacklevel + 1)
    else:
        held.append((message, category))


class BackgroundCompile:
    """A compile running on a daemon thread, and the executable it will give.

    Args:
        build: the compile: a function of no arguments returning the executable.
        what: the name shown by ``repr`` and given to the thread.
    """

    def __init__(self, build: Callable[[], object], what: str):
        object.__setattr__(self, "_future", concurrent.futures.Future())
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_held", [])
        object.__setattr__(self, "_deliver_lock", threading.Lock())
        object.__setattr__(self, "_delivered", False)
        self._future.set_running_or_notify_cancel()
        thread = threading.Thread(target=self._work, args=(build,), daemon=True,
                                  name=f"symkb-compile-{what}")
        object.__setattr__(self, "_thread", thread)
        thread.start()

    def _work(self, build) -> None:
        _HELD.warnings = self._held
        try:
            result = build()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            self._future.set_exception(exc)
        else:
            self._future.set_result(result)
        finally:
            _HELD.warnings = None

    # ---------------------------------------------------------- the future
    def done(self) -> bool:
        """Whether the compile has ended (with an executable or an error)."""
        return self._future.done()

    def running(self) -> bool:
        """Whether the compile is still running."""
        return not self._future.done()

    def cancelled(self) -> bool:
        """Always False: a compile, once started, runs to its end."""
        return False

    def wait(self, timeout: float | None = None):
        """The executable, once compiled.

        Args:
            timeout: seconds to wait at most; ``None``: as long as it takes.

        Raises:
            TimeoutError: the compile did not end within ``timeout``.
            Exception: whatever the compile raised, with its traceback.
        """
        return self._result(timeout, stacklevel=3)

    def result(self, timeout: float | None = None):
        """The executable once compiled (:meth:`wait`, as ``Future.result``)."""
        return self._result(timeout, stacklevel=3)

    def exception(self, timeout: float | None = None):
        """The exception the compile raised, or ``None`` (waits up to ``timeout``)."""
        return self._future.exception(timeout)

    def add_done_callback(self, fn: Callable) -> None:
        """Call ``fn(self)`` when the compile ends (at once when it has ended),
        on the compiling thread."""
        self._future.add_done_callback(lambda _: fn(self))

    def _result(self, timeout, stacklevel: int):
        executable = self._future.result(timeout)
        if not self._delivered:
            with self._deliver_lock:
                if not self._delivered:
                    object.__setattr__(self, "_delivered", True)
                    for message, category in self._held:
                        warnings.warn(message, category, stacklevel=stacklevel)
        return executable

    # --------------------------------------------------- the executable's face
    def __call__(self, *args):
        return self._result(None, stacklevel=3)(*args)

    def __getattr__(self, name: str):
        if name in _OWN or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(self._result(None, stacklevel=3), name)

    def __setattr__(self, name: str, value) -> None:
        if name in _OWN:
            raise AttributeError(f"{self!r}: {name!r} is the handle's own")
        setattr(self._result(None, stacklevel=3), name, value)

    def __repr__(self) -> str:
        if not self._future.done():
            state = "compiling"
        elif self._future.exception() is not None:
            exc = self._future.exception()
            state = f"failed: {type(exc).__name__}"
        else:
            state = f"done: {self._future.result()!r}"
        return f"<symkb background compile {self._what!r} ({state})>"
