"""Where the compile cache lives and how big it may grow: the environment, read here only.

* ``SYMKB_CACHE_DIR``: the folder of generated modules; default
  ``$XDG_CACHE_HOME/symkb``, else ``~/.cache/symkb``.
* ``SYMKB_CACHE_MAX_MB``: the bound on the folder's entries (generated modules,
  their readable sources and numba's machine code for them), in MiB; default
  :data:`DEFAULT_MAX_MB`. Beyond it the least recently used entries are
  evicted (``cache_store.py``). ``0`` keeps only the modules in use.
* ``NUMBA_CACHE_DIR``: numba's own setting; when set, numba keeps the machine
  code there instead of in the folder's ``__pycache__``.

Each function reads the environment when called, so a test or a long-lived
service can change a setting between compiles.
"""
from __future__ import annotations

import os
import pathlib

ENV_VAR = "SYMKB_CACHE_DIR"
MAX_MB_VAR = "SYMKB_CACHE_MAX_MB"
NUMBA_VAR = "NUMBA_CACHE_DIR"
DEFAULT_MAX_MB = 1024


def configured_cache_dir() -> pathlib.Path:
    """The folder the environment asks for (see the module docstring); not created."""
    root = os.environ.get(ENV_VAR)
    if root:
        return pathlib.Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "symkb"


def dir_from_environment() -> bool:
    """Whether ``SYMKB_CACHE_DIR`` chose the folder."""
    return bool(os.environ.get(ENV_VAR))


def numba_cache_dir() -> pathlib.Path | None:
    """``NUMBA_CACHE_DIR`` when set, else ``None`` (numba writes beside each module)."""
    root = os.environ.get(NUMBA_VAR)
    return pathlib.Path(root) if root else None


def max_bytes() -> int:
    """The cache bound in bytes (``SYMKB_CACHE_MAX_MB``, default :data:`DEFAULT_MAX_MB`).

    Raises:
        ValueError: the variable is not a number of MiB >= 0 (the message
            names the variable and the value received).
    """
    text = os.environ.get(MAX_MB_VAR, "").strip()
    if not text:
        return DEFAULT_MAX_MB * 2**20
    try:
        mib = float(text)
    except ValueError:
        mib = -1.0
    if not mib >= 0 or mib == float("inf"):
        raise ValueError(f"symkb cache: ${MAX_MB_VAR} must be a number of MiB >= 0 (such as "
                         f"{DEFAULT_MAX_MB} or 0.5), received {text!r}")
    return int(mib * 2**20)


def bound_from_environment() -> bool:
    """Whether ``SYMKB_CACHE_MAX_MB`` set the bound."""
    return bool(os.environ.get(MAX_MB_VAR, "").strip())
