"""symkb's global state, in one place.

Two kinds of state live here:

* the configuration (floatx, epsilon, image data format) in :data:`STATE`,
  shared by every thread and never reset by :func:`clear_session`;
* the *session* of each thread (:class:`Session`): the uid counters of
  :func:`get_uid`, the object-name counter that names layers and models, the
  learning phase, and the tables other modules keep beside symbolic tensors
  (the layers' call history and masks, :func:`session_table`).

:func:`clear_session` starts a new session for the calling thread only (as
tf_keras keeps its learning phase per thread), so a model being built in
another thread keeps its layer names, its call history and its learning
phase. A thread's first call starts its session (names from ``dense``). The
tables of every live session are searched by :func:`lookup`, so tensors made
in one thread can be wired into a model in another; a session whose thread
has ended is dropped by the next :func:`clear_session` in any thread.
"""
from __future__ import annotations

import collections
import contextlib
import re
import threading
import weakref
from dataclasses import dataclass


@dataclass
class _Config:
    floatx: str = "float32"
    epsilon: float = 1e-7
    image_data_format: str = "channels_last"


STATE = _Config()
_RESET_HOOKS: list = []


class Session:
    """One thread's session state (see the module docstring)."""

    __slots__ = ("uids", "object_names", "learning_phase", "tables", "thread")

    def __init__(self):
        self.uids: collections.Counter = collections.Counter()
        self.object_names: collections.Counter = collections.Counter()
        self.learning_phase = None
        self.tables: dict = {}  # name -> WeakKeyDictionary (tensor -> value)
        self.thread = weakref.ref(threading.current_thread())

    def finished(self) -> bool:
        """Whether the thread that owns this session has ended."""
        thread = self.thread()
        return thread is None or not thread.is_alive()


_LOCAL = threading.local()
_SESSIONS: list = []  # every session whose tables may still be read (lookup)
_SESSIONS_LOCK = threading.Lock()


def current_session() -> Session:
    """The calling thread's :class:`Session` (started on its first use)."""
    session = getattr(_LOCAL, "session", None)
    if session is None:
        session = _LOCAL.session = Session()
        with _SESSIONS_LOCK:
            # sessions of ended threads that hold nothing are of no further use
            _SESSIONS[:] = [s for s in _SESSIONS
                            if not (s.finished() and not any(s.tables.values()))]
            _SESSIONS.append(session)
    return session


def session_table(name: str) -> "weakref.WeakKeyDictionary":
    """The calling thread's table ``name`` (tensor -> value), for writing.

    Args:
        name: the table's name (``'history'``, ``'masks'``, ...).

    Returns:
        A :class:`weakref.WeakKeyDictionary`, emptied by :func:`clear_session`
        in this thread.
    """
    tables = current_session().tables
    table = tables.get(name)
    if table is None:
        table = tables[name] = weakref.WeakKeyDictionary()
    return table


_MISSING = object()


def lookup(name: str, key, default=None):
    """The value of ``key`` in table ``name``: the calling thread's session
    first, then the other live sessions (a tensor made in another thread).

    Args:
        name: the table's name.
        key: the tensor.
        default: returned when no session has it.
    """
    own = current_session()
    table = own.tables.get(name)
    if table is not None:
        value = table.get(key, _MISSING)
        if value is not _MISSING:
            return value
    with _SESSIONS_LOCK:
        others = [s for s in _SESSIONS if s is not own]
    for session in others:
        table = session.tables.get(name)
        if table is not None:
            value = table.get(key, _MISSING)
            if value is not _MISSING:
                return value
    return default


def register_reset_hook(fn) -> None:
    """Register ``fn`` to be called (with no arguments) on every :func:`clear_session`.

    Modules holding caches of graphs or compiled code use it so that no
    reference to an old graph survives a ``clear_session``.

    Args:
        fn: a callable.
    """
    _RESET_HOOKS.append(fn)


def get_uid(prefix: str = "") -> int:
    """Associate a string prefix with an integer counter and return the next value.

    Args:
        prefix: the counter's name.

    Returns:
        A unique integer per prefix: 1, 2, 3, ...

    Example:
        >>> get_uid('dense')
        1
        >>> get_uid('dense')
        2
    """
    uids = current_session().uids
    uids[prefix] += 1
    return uids[prefix]


def reset_uids() -> None:
    """Reset every :func:`get_uid` counter (the next ``get_uid(p)`` is 1)."""
    current_session().uids.clear()


def unique_object_name(name: str, zero_based: bool = True) -> str:
    """Make a session-unique object name: ``name``, ``name_1``, ``name_2``, ...

    Layer and model default names come from here. The counter is separate
    from :func:`get_uid`'s, as in tf_keras, and is reset by :func:`clear_session`.

    Args:
        name: the base name (a snake-cased class name, say).
        zero_based: with False the first name is ``name_1`` (as for ``Input``).

    Returns:
        The unique name.
    """
    names = current_session().object_names
    count = names[name]
    names[name] += 1
    if zero_based:
        return name if count == 0 else f"{name}_{count}"
    return f"{name}_{count + 1}"


def to_snake_case(name: str) -> str:
    """Convert a class name to snake case: ``SimpleRNN`` -> ``simple_rnn``.

    Args:
        name: a CamelCase name.

    Returns:
        The snake-cased name (prefixed ``private`` if it would start with ``_``).
    """
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if not snake.startswith("_") else "private" + snake


def learning_phase() -> int:
    """Return the learning phase flag: 0 (test, the default) or 1 (train).

    Returns:
        0 by default, else the value last set (``1``, ``True``, ...), as
        tf_keras keeps it.
    """
    phase = current_session().learning_phase
    return 0 if phase is None else phase


def set_learning_phase(value) -> None:
    """Set the learning phase to a fixed value.

    Args:
        value: 0 (test) or 1 (train); ``True``/``False`` are accepted too.

    Raises:
        ValueError: for any other value.
    """
    if isinstance(value, str) or value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: {value!r}")
    current_session().learning_phase = value


@contextlib.contextmanager
def learning_phase_scope(value):
    """A context manager setting the learning phase inside a ``with`` block.

    Args:
        value: 0 or 1.

    Yields:
        ``value``; the previous learning phase is restored on exit.

    Raises:
        ValueError: for a value other than 0 or 1.
    """
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: {value!r}")
    session = current_session()
    previous = session.learning_phase
    session.learning_phase = value
    try:
        yield value
    finally:
        session.learning_phase = previous


def clear_session() -> None:
    """Reset all state generated by symkb in the calling thread.

    Starts a new session for this thread: the :func:`get_uid` counters and
    the layer-name counter start again (the next ``Dense`` is named
    ``dense``), the learning phase is back to its default, and the call
    history and masks of the tensors made before are forgotten; the
    registered reset hooks run. Sessions of threads that have ended are
    dropped too.

    What stays: the configuration (floatx, epsilon, image data format), as
    in tf_keras; the sessions of other running threads (a model being built
    in another thread keeps its names, history and learning phase); models
    and layers made before, which stay usable (their own graphs and compiled
    functions), but are no longer referenced by symkb. So calling
    ``clear_session()`` at the top of a loop that creates models keeps memory
    constant: symkb's own references to old models are gone, and a compiled
    function's generated module is released with the last executable using
    it (``symkb.lower.cache``). What compiling leaves behind for the life of
    the process is bounded: numba's machine code of the shared runtime
    helpers, numba's own list of its most recently compiled functions (at
    most ``NUMBA_FUNCTION_CACHE_SIZE``, 128 by default), and the files in the
    cache folders on disk.
    """
    old = current_session()
    _LOCAL.session = None
    with _SESSIONS_LOCK:
        _SESSIONS[:] = [s for s in _SESSIONS if s is not old and not s.finished()]
    current_session()
    for hook in _RESET_HOOKS:
        hook()
