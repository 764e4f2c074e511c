"""The on-disk cache of generated modules.

Numba cannot cache functions made with ``exec``, so each generated module is
written to a file and imported; ``@njit(cache=True)`` then keeps the machine
code next to it (or under ``NUMBA_CACHE_DIR``), and a second process that
builds the same graph loads it instead of compiling.

The file numba compiles is the module's canonical form (``canonical.py``: no
comments, identifiers renamed ``v0``, ``v1``, ...), named by a hash of that
form, of the cache format (:data:`CACHE_FORMAT`, bumped when the canonical
form changes) and of the numba, symkb, runtime-helper and Python versions:
``<kind>_<24 hex digits>.py``. Two graphs that differ only in layer or node
names share one compiled module, across processes too. The readable source
is stored beside it (``<kind>_<hex>.<name>.py``) and stays the executable's
``.source``.

The folder is ``$SYMKB_CACHE_DIR``, else ``$XDG_CACHE_HOME/symkb``, else
``~/.cache/symkb`` (``cache_config.py`` reads the environment). It is
bounded: when a new module is written, the least recently used entries
beyond ``$SYMKB_CACHE_MAX_MB`` (default 1024 MiB) are evicted, never one a
live executable of this process uses (``cache_store.py``). A folder that
cannot be used (a file in the way, no permission to write) does not fail the
compile: the process falls back to a temporary folder of its own, with a
:class:`RuntimeWarning` naming the folder and the reason (compiled code is
then not shared between processes). Files are written atomically (a
temporary file, then ``os.replace``), and rewritten when their content is
not what it should be (a truncated or edited file is recompiled, never
trusted).

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
from typing import NamedTuple

from .._version import __version__ as symkb_version
from ..utils.atomic import write_atomic
from . import cache_store
from .cache_config import ENV_VAR, configured_cache_dir, max_bytes  # noqa: F401
from .canonical import Canonical, canonical_source, lift_sizes

# the canonical form's version: part of every key (bump it when canonical.py
# changes what it writes, so old entries are never mistaken for new ones)
CACHE_FORMAT = "canonical-1"


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
RUNTIME_MODULES = ("runtime.py", "gemm.py", "conv_kernels.py", "pool_kernels.py", "blas.py")


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
    """The cache key of a generated module: its canonical form and the tool versions."""
    return _key(canonical_source(source).text)


def _key(canonical_text: str) -> str:
    import numba

    h = hashlib.sha256()
    for part in (canonical_text, CACHE_FORMAT, numba.__version__, symkb_version,
                 _runtime_stamp(), sys.version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


# How many holds each registered generated module has (by id: a module whose
# file was rewritten is replaced in sys.modules while the old one may live on).
_HOLDS: dict = {}
_HOLDS_LOCK = threading.RLock()


def _take(module) -> None:
    _HOLDS[id(module)] = _HOLDS.get(id(module), 0) + 1


def hold(module) -> None:
    """Take one more hold on a module :func:`load_module` returned (for a second
    holder: each hold is given back once, by :func:`release` or :func:`attach`)."""
    with _HOLDS_LOCK:
        _take(module)


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
    """The names of the generated modules now registered in ``sys.modules``.

    A finalizer (:func:`release`, run by the garbage collector in the middle
    of any allocation, this thread's included) may unregister one while the
    names are copied: the copy is then taken again.
    """
    while True:
        try:
            names = list(sys.modules)
        except RuntimeError:  # dictionary changed size during iteration
            continue
        return sorted(name for name in names if name.startswith("symkb_generated."))


class Loaded(NamedTuple):
    """What :func:`load_module` returns.

    Attributes:
        module: the imported canonical module (shared by every source with
            the same canonical form).
        path: its file.
        written: whether the file had to be (re)written, i.e. whether numba
            will compile rather than load.
        canonical: the canonical form, whose ``name(readable)`` is the name a
            generated function or kernel has in ``module``.
        sizes: the literals the lifted function takes as its last argument
            (``()``: nothing lifted, the function takes no such argument).
    """

    module: object
    path: pathlib.Path
    written: bool
    canonical: Canonical
    sizes: tuple = ()

    def get(self, name: str):
        """The object the readable source calls ``name``."""
        return getattr(self.module, self.canonical.name(name))

    def namespace(self) -> dict:
        """The module's names as the readable source spells them."""
        names = dict(vars(self.module))
        for readable, canonical in self.canonical.names.items():
            if canonical in names:
                names[readable] = names[canonical]
        return names


def load_module(source: str, stem: str, kind: str = "gen", *,
                lift: str | None = None, small: int | None = None) -> Loaded:
    """Import the canonical form of ``source`` from the cache folder.

    Args:
        source: the generated module, as readable as its generator made it.
        stem: a name for the readable copy stored beside the compiled module.
        kind: the target (``'cpu'``, ``'cuda'``), the start of the file's name.
        lift: the (readable) name of a function to make size-generic
            (``canonical.lift_sizes``): its int literals become its last
            argument, ``Loaded.sizes`` the value to pass, and graphs that
            differ only in sizes share the module.
        small: with ``lift``, the largest literal that stays one
            (``canonical.SMALL`` by default; ``1``: the size-generic form).

    The module is registered in ``sys.modules`` with one hold for the caller,
    who passes it to :func:`attach` or gives it back with :func:`release`.
    A new module written may evict old entries (see the module docstring).
    """
    canonical = canonical_source(source)
    text, sizes = canonical.text, ()
    if lift is not None:
        text, sizes = lift_sizes(text, canonical.name(lift),
                                 *(() if small is None else (small,)))
    with _HOLDS_LOCK:
        module, path, written = _load_module(text, f"{kind}_{_key(text)}")
        _take(module)
    _keep_readable(path, stem, source)
    if written:
        _evict(path)
    return Loaded(module, path, written, canonical, sizes)


def _keep_readable(path: pathlib.Path, stem: str, source: str) -> None:
    """Store (or touch: a use) the readable copy of the module at ``path``."""
    readable = cache_store.readable_path(path, stem)
    try:
        if readable.read_text(encoding="utf-8") == source:
            os.utime(readable)
            return
    except (OSError, UnicodeDecodeError):
        pass
    try:
        write_atomic(readable, source)
    except OSError:
        pass  # a copy for people to read: the compiled module does not need it


def _evict(path: pathlib.Path) -> None:
    """Bound the folder of ``path`` (``cache_store.evict``), sparing live modules."""
    live = {name.rpartition(".")[2] for name in live_modules()}
    live.add(path.stem)
    try:
        cache_store.evict(path.parent, max_bytes(), live)
    except OSError:
        pass  # a folder another process is emptying: the next write tries again


def _load_module(source: str, stem: str):
    folder = cache_dir()
    path = folder / f"{stem}.py"
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
