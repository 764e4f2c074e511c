"""symkb's global state, in one place.

Everything the framework remembers between calls lives in :data:`STATE`: the
configuration (floatx, epsilon, image data format), the uid counters of
:func:`get_uid`, the per-session object-name counter that names layers and
models, and the learning phase. :func:`clear_session` resets what tf_keras
resets (not the configuration) and runs the reset hooks other modules
register (compile caches), so no reference to an old graph, layer or model
survives it.
"""
from __future__ import annotations

import collections
import contextlib
import re
from dataclasses import dataclass, field


@dataclass
class _State:
    floatx: str = "float32"
    epsilon: float = 1e-7
    image_data_format: str = "channels_last"
    uids: collections.Counter = field(default_factory=collections.Counter)
    object_names: collections.Counter = field(default_factory=collections.Counter)
    learning_phase: int | None = None


STATE = _State()
_RESET_HOOKS: list = []


def register_reset_hook(fn) -> None:
    """Call ``fn()`` on every :func:`clear_session` (to drop caches)."""
    _RESET_HOOKS.append(fn)


def get_uid(prefix: str = "") -> int:
    """A unique integer per ``prefix``: 1, 2, 3, ...

    Example:
        >>> get_uid('dense')
        1
        >>> get_uid('dense')
        2
    """
    STATE.uids[prefix] += 1
    return STATE.uids[prefix]


def reset_uids() -> None:
    """Restart every :func:`get_uid` counter."""
    STATE.uids.clear()


def unique_object_name(name: str, zero_based: bool = True) -> str:
    """``name``, ``name_1``, ``name_2``, ... per session (layer and model names).

    With ``zero_based=False`` the first is ``name_1`` (as for ``Input``).
    Separate from :func:`get_uid`'s counters, as in tf_keras.
    """
    count = STATE.object_names[name]
    STATE.object_names[name] += 1
    if zero_based:
        return name if count == 0 else f"{name}_{count}"
    return f"{name}_{count + 1}"


def to_snake_case(name: str) -> str:
    """``SimpleRNN`` -> ``simple_rnn``, ``TimeDistributed`` -> ``time_distributed``."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if snake[0] != "_" else "private" + snake


def learning_phase() -> int:
    """The learning phase: 0 (inference, the default) or 1 (training)."""
    return 0 if STATE.learning_phase is None else STATE.learning_phase


def set_learning_phase(value) -> None:
    """Set the learning phase to 0 or 1."""
    if value not in (0, 1) or isinstance(value, float):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: {value!r}")
    STATE.learning_phase = int(value)


@contextlib.contextmanager
def learning_phase_scope(value):
    """Set the learning phase for the duration of a ``with`` block."""
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: {value!r}")
    previous = STATE.learning_phase
    STATE.learning_phase = int(value)
    try:
        yield value
    finally:
        STATE.learning_phase = previous


def clear_session() -> None:
    """Reset the global state: uids, layer names, learning phase, caches.

    The configuration (floatx, epsilon, image data format) is kept, as in
    tf_keras. Models and layers made before stay usable but are no longer
    referenced by symkb, so they are freed once the caller drops them.
    """
    STATE.uids.clear()
    STATE.object_names.clear()
    STATE.learning_phase = None
    for hook in _RESET_HOOKS:
        hook()
