"""``symkb cache``: show, or with ``--clear`` empty, the compile cache folder.

The folder (``symkb.lower.cache.cache_dir``) holds one generated module per
compiled graph (``<name>_<24 hex digits>.py``) and numba's machine code for
it (``__pycache__/<name>_<hash>.*.nbi`` / ``.nbc``, or under
``NUMBA_CACHE_DIR`` when that is set). Only those files are counted and
removed: a cache folder pointed somewhere shared keeps everything else.
"""
from __future__ import annotations

import os
import pathlib
import re

_MODULE = re.compile(r"^(?P<stem>.+_[0-9a-f]{24})\.py$")
_TEMP = re.compile(r"^\..+_[0-9a-f]{24}\.py\.[0-9a-f]+\.tmp$")


def cache_files(folder: pathlib.Path) -> dict:
    """The cache's files in ``folder``: ``{"modules": [...], "compiled": [...],
    "temporary": [...]}`` (paths); compiled code under ``NUMBA_CACHE_DIR`` too."""
    modules, temporary, stems = [], [], set()
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            m = _MODULE.match(f.name)
            if m and f.is_file():
                modules.append(f)
                stems.add(m.group("stem"))
            elif _TEMP.match(f.name) and f.is_file():
                temporary.append(f)
    roots = [folder / "__pycache__"]
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        roots.append(pathlib.Path(numba_dir))
    compiled = []
    for root in roots:
        if not root.is_dir():
            continue
        for f in sorted(root.rglob("*")):
            head = f.name.split(".", 1)[0]
            if f.is_file() and (head in stems or _MODULE.match(head + ".py")) and \
                    f.suffix in (".nbi", ".nbc", ".pyc"):
                compiled.append(f)
    return {"modules": modules, "compiled": compiled, "temporary": temporary}


def _size(paths) -> int:
    total = 0
    for p in paths:
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def run_cache(args) -> int:
    """Print the cache folder and what it holds; ``args.clear`` removes it all."""
    from .lower.cache import ENV_VAR, cache_dir
    folder = cache_dir()
    files = cache_files(folder)
    every = files["modules"] + files["compiled"] + files["temporary"]
    where = f" (from ${ENV_VAR})" if os.environ.get(ENV_VAR) else ""
    print(f"cache folder: {folder}{where}")
    if args.clear:
        freed, removed, failed = _size(every), 0, []
        for f in every:
            try:
                f.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                failed.append(f"{f}: {exc.strerror}")
        print(f"cleared: removed {removed} file(s), {_human(freed)}")
        if failed:
            raise OSError("could not remove " + "; ".join(failed))
        return 0
    print(f"generated modules: {len(files['modules'])} ({_human(_size(files['modules']))})")
    print(f"compiled machine code: {len(files['compiled'])} file(s) "
          f"({_human(_size(files['compiled']))})")
    if files["temporary"]:
        print(f"unfinished writes: {len(files['temporary'])}")
    print(f"total: {_human(_size(every))}; `symkb cache --clear` removes it "
          "(graphs then compile again on first use)")
    return 0
