"""The on-disk cache of generated modules.

Numba cannot cache functions made with ``exec``, so each generated module is
written to a file named by a hash of its source (which prints the whole graph)
and of the numba and symkb versions, then imported; ``@njit(cache=True)`` then
keeps the machine code next to it (or under ``NUMBA_CACHE_DIR``), and a second
process that builds the same graph loads it instead of compiling.

The folder is ``$SYMKB_CACHE_DIR``, else ``$XDG_CACHE_HOME/symkb``, else
``~/.cache/symkb``. Files are written atomically (a temporary file, then
``os.replace``), and rewritten when their content is not what it should be (a
truncated or edited file is recompiled, never trusted).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import sys

from ..utils.atomic import write_atomic

ENV_VAR = "SYMKB_CACHE_DIR"


def cache_dir() -> pathlib.Path:
    """The folder generated modules are written to (created on demand)."""
    root = os.environ.get(ENV_VAR)
    if root:
        path = pathlib.Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = pathlib.Path(base) / "symkb"
    path.mkdir(parents=True, exist_ok=True)
    return path


# The symkb modules generated cpu code imports (numba's cache does not see them).
RUNTIME_MODULES = ("runtime.py", "gemm.py")


def _runtime_stamp() -> str:
    """A hash of ``RUNTIME_MODULES``."""
    here = pathlib.Path(__file__).resolve().parent / "cpu"
    h = hashlib.sha256()
    for name in RUNTIME_MODULES:
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(b"?")
    return h.hexdigest()[:16]


def source_key(source: str) -> str:
    """The cache key of a generated module: its source and the tool versions."""
    import numba

    from .. import __version__ as symkb_version
    h = hashlib.sha256()
    for part in (source, numba.__version__, symkb_version, _runtime_stamp(), sys.version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def load_module(source: str, stem: str):
    """Import the module holding ``source`` from the cache folder.

    Returns:
        ``(module, path, written)``: ``written`` tells whether the file had to
        be (re)written, i.e. whether numba will compile rather than load.
    """
    key = source_key(source)
    path = cache_dir() / f"{stem}_{key}.py"
    written = False
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:
        write_atomic(path, source)
        written = True
    modname = f"symkb_generated.{path.stem}"
    module = sys.modules.get(modname)
    if module is not None and not written:
        return module, path, written
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: numba's cache records the module by name and
    # finds it again through sys.modules when it loads the machine code.
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[modname]
        raise
    return module, path, written


def clear_numba_cache(path: pathlib.Path) -> None:
    """Delete numba's cached machine code of the module at ``path`` and of the
    runtime helpers it calls (``RUNTIME_MODULES``), wherever found."""
    here = pathlib.Path(__file__).resolve().parent / "cpu"
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    for module in (path, *(here / name for name in RUNTIME_MODULES)):
        roots = [module.parent / "__pycache__"]
        if numba_dir:
            roots.append(pathlib.Path(numba_dir))
        for root in roots:
            if not root.exists():
                continue
            for f in root.rglob(f"{module.stem}*"):
                if f.suffix in (".nbi", ".nbc"):
                    try:
                        f.unlink()
                    except OSError:
                        pass
