"""The on-disk cache of generated modules.

Numba cannot cache functions made with ``exec``, so each generated module is
written to a file named by a hash of its source (which prints the whole graph)
and of the numba and symkb versions, then imported; ``@njit(cache=True)`` then
keeps the machine code next to it (or under ``NUMBA_CACHE_DIR``), and a second
process that builds the same graph loads it instead of compiling.

The folder is ``$SYMKB_CACHE_DIR``, else ``$XDG_CACHE_HOME/symkb``, else
``~/.cache/symkb``. A folder that cannot be used (a file in the way, no
permission to write) does not fail the compile: the process falls back to a
temporary folder of its own, with a :class:`RuntimeWarning` naming the
folder and the reason (compiled code is then not shared between processes). Files are written atomically (a temporary file, then
``os.replace``), and rewritten when their content is not what it should be (a
truncated or edited file is recompiled, never trusted).

A generated module stays in ``sys.modules`` (where numba finds it by name when
it loads cached machine code) only while an executable uses it: each
:func:`load_module` takes a hold that the caller hands to its executable
(:func:`attach`) or gives back (:func:`release`); when the last holder is
collected the module leaves ``sys.modules`` and is freed with its compiled
code. Compiling many distinct graphs thus keeps only the live ones in memory.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import pathlib
import shutil
import sys
import threading
import weakref

from .._version import __version__ as symkb_version
from ..utils.atomic import write_atomic

ENV_VAR = "SYMKB_CACHE_DIR"


def configured_cache_dir() -> pathlib.Path:
    """The folder the environment asks for (see the module docstring); not created."""
    root = os.environ.get(ENV_VAR)
    if root:
        return pathlib.Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "symkb"


def cache_dir() -> pathlib.Path:
    """The folder generated modules are written to (created on demand).

    Returns:
        :func:`configured_cache_dir`, or this process's temporary folder when
        it cannot be created (a warning says so, once per folder).
    """
    path = configured_cache_dir()
    fallback = _FALLBACKS.get(str(path))
    if fallback is not None:
        return fallback
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not path.is_dir():
            raise NotADirectoryError(f"{path} is not a folder")
    except OSError as exc:
        return _fall_back(path, exc)
    return path


# configured folder (str) -> the temporary folder used instead
_FALLBACKS: dict = {}
_FALLBACK_LOCK = threading.Lock()


def _fall_back(path: pathlib.Path, exc: OSError) -> pathlib.Path:
    """Use a temporary folder instead of ``path`` for this process, with a warning."""
    import tempfile
    import warnings
    with _FALLBACK_LOCK:
        fallback = _FALLBACKS.get(str(path))
        if fallback is None:
            fallback = pathlib.Path(tempfile.mkdtemp(prefix="symkb-cache-"))
            atexit.register(shutil.rmtree, fallback, True)  # private to this process
            _FALLBACKS[str(path)] = fallback
            warnings.warn(
                f"symkb: the cache folder {str(path)!r} cannot be used "
                f"({type(exc).__name__}: {exc}); generated code goes to the temporary "
                f"folder {str(fallback)!r} for this process instead. Set {ENV_VAR} to a "
                "writable folder to share compiled code between processes.",
                RuntimeWarning, stacklevel=4)
    return fallback


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

    h = hashlib.sha256()
    for part in (source, numba.__version__, symkb_version, _runtime_stamp(), sys.version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


# How many holds each registered generated module has (by id: a module whose
# file was rewritten is replaced in sys.modules while the old one may live on).
_HOLDS: dict = {}
_HOLDS_LOCK = threading.RLock()


def _take(module) -> None:
    _HOLDS[id(module)] = _HOLDS.get(id(module), 0) + 1


def release(module) -> None:
    """Give back one hold on ``module`` (from :func:`load_module`); the last
    one removes it from ``sys.modules``."""
    with _HOLDS_LOCK:
        count = _HOLDS.get(id(module), 0) - 1
        if count > 0:
            _HOLDS[id(module)] = count
            return
        _HOLDS.pop(id(module), None)
        if sys.modules.get(module.__name__) is module:
            del sys.modules[module.__name__]
    _forget_compiled(module)


def _forget_compiled(module) -> None:
    """Let the functions ``module`` defines be freed.

    numba keeps a compiled function reachable from its own finalizer and its
    target context (machine code -> environment -> the module's globals ->
    the function), so a generated function would live as long as the
    process. Its name is dropped from the module's globals and its machine
    code from the target context: nothing calls it from other compiled code,
    and imported runtime helpers are left alone.
    """
    namespace = vars(module)
    for name, value in list(namespace.items()):
        py_func = getattr(value, "py_func", None)
        if getattr(py_func, "__module__", None) != module.__name__:
            continue
        targetctx = getattr(value, "targetctx", None)
        for compiled in list(getattr(value, "overloads", {}).values()):
            try:
                targetctx.remove_user_function(compiled.entry_point)
            except (KeyError, AttributeError):
                pass
        del namespace[name]


def attach(owner, module) -> None:
    """Hand the hold :func:`load_module` took on ``module`` to ``owner``: it is
    given back when ``owner`` is garbage collected."""
    finalizer = weakref.finalize(owner, release, module)
    finalizer.atexit = False  # nothing to give back when the process ends


def live_modules() -> list:
    """The names of the generated modules now registered in ``sys.modules``."""
    return sorted(name for name in list(sys.modules) if name.startswith("symkb_generated."))


def load_module(source: str, stem: str):
    """Import the module holding ``source`` from the cache folder.

    The module is registered in ``sys.modules`` with one hold for the caller,
    who passes it to :func:`attach` or gives it back with :func:`release`.

    Returns:
        ``(module, path, written)``: ``written`` tells whether the file had to
        be (re)written, i.e. whether numba will compile rather than load.
    """
    with _HOLDS_LOCK:
        module, path, written = _load_module(source, stem)
        _take(module)
    return module, path, written


def _load_module(source: str, stem: str):
    key = source_key(source)
    folder = cache_dir()
    path = folder / f"{stem}_{key}.py"
    written = False
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:
        try:
            write_atomic(path, source)
        except OSError as exc:
            if folder != configured_cache_dir():
                raise  # the temporary folder itself failed: nothing left to try
            path = _fall_back(folder, exc) / path.name
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
