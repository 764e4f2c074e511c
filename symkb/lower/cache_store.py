"""The cache folder's entries, and the bound that evicts the least recently used.

An *entry* is one compiled module, keyed by the hash of its canonical form
(``canonical.py``): ``<kind>_<24 hex digits>.py`` (the module numba compiles
and caches), one readable copy per name it was compiled under
(``<kind>_<hex>.<name>.py``, the code as generated, comments and all) and
numba's files for it (``__pycache__/<kind>_<hex>.*``, or under
``NUMBA_CACHE_DIR``). Every file of an entry starts with its stem.

An entry's last use is the newest modification time among its files: each
load of a module touches its readable copy (never the compiled module, whose
time numba checks against its machine code). When a new module is written,
:func:`evict` removes whole entries, least recently used first, until the
entries fit the bound (``cache_config.max_bytes``), never one that this
process has loaded and still uses.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import re

from . import cache_config

# <kind>_<key>.py: the compiled module; <kind>_<key>.<name>.py: a readable copy
MODULE = re.compile(r"^(?P<stem>\w+_[0-9a-f]{24})\.py$")
READABLE = re.compile(r"^(?P<stem>\w+_[0-9a-f]{24})\.(?P<name>\w+)\.py$")
# a write in progress (``symkb.utils.atomic``) of either
TEMPORARY = re.compile(r"^\.\w+_[0-9a-f]{24}(\.\w+)?\.py\.[0-9a-f]+\.tmp$")
COMPILED_SUFFIXES = (".nbi", ".nbc", ".pyc")


def readable_path(module_path: pathlib.Path, name: str) -> pathlib.Path:
    """Where the readable copy of ``module_path`` compiled under ``name`` goes."""
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)[:80] or "module"
    return module_path.with_name(f"{module_path.stem}.{safe}.py")


def compiled_roots(folder: pathlib.Path) -> list:
    """The folders where numba keeps machine code for modules in ``folder``."""
    roots = [folder / "__pycache__"]
    numba_dir = cache_config.numba_cache_dir()
    if numba_dir is not None:
        # numba's UserProvidedCacheLocator: <dir name>_<sha1 of the dir's absolute path>
        here = os.path.abspath(folder)
        digest = hashlib.sha1(here.encode()).hexdigest()
        roots.append(numba_dir / f"{os.path.basename(here)}_{digest}")
    return roots


def entries(folder: pathlib.Path) -> dict:
    """``{stem: [(path, size, mtime), ...]}`` for every entry in ``folder``."""
    found: dict = {}
    if not folder.is_dir():
        return found
    for root in [folder, *compiled_roots(folder)]:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            stem = _stem_of(name, compiled=root != folder)
            if stem is None:
                continue
            path = root / name
            try:
                st = path.stat()
            except OSError:
                continue
            # numba's files of a module whose own file is gone still form an entry
            found.setdefault(stem, []).append((path, st.st_size, st.st_mtime))
    return found


def _stem_of(name: str, *, compiled: bool):
    if compiled:
        head = name.split(".", 1)[0]
        if MODULE.match(head + ".py") and name.endswith(COMPILED_SUFFIXES):
            return head
        return None
    m = MODULE.match(name) or READABLE.match(name)
    return m.group("stem") if m else None


def total_bytes(found: dict) -> int:
    """The size of ``entries``' files together."""
    return sum(size for files in found.values() for _, size, _ in files)


def evict(folder: pathlib.Path, bound: int, live: set) -> list:
    """Remove least recently used entries of ``folder`` until they fit ``bound`` bytes.

    Args:
        folder: the cache folder.
        bound: the most bytes the entries may take together.
        live: stems of entries in use (never removed), such as the one just written.

    Returns:
        The stems removed. Files another process removed first, or that cannot
        be removed, are skipped (the next eviction tries again).
    """
    found = entries(folder)
    size = total_bytes(found)
    removed = []
    by_age = sorted(found.items(), key=lambda item: max(t for _, _, t in item[1]))
    for stem, files in by_age:
        if size <= bound:
            break
        if stem in live:
            continue
        for path, nbytes, _ in files:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue
            size -= nbytes
        removed.append(stem)
    return removed
