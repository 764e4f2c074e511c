"""``symkb cache``: show, or with ``--clear`` empty, the compile cache folder.

The folder (``symkb.lower.cache.cache_dir``) holds one compiled module per
distinct graph up to names (``<kind>_<24 hex digits>.py``, the canonical form
numba compiles), a readable copy of it per name it was compiled under
(``<kind>_<hex>.<name>.py``) and numba's machine code for it
(``__pycache__/<kind>_<hex>.*.nbi`` / ``.nbc``, or under ``NUMBA_CACHE_DIR``
when that is set). Only those files are counted and removed: a cache folder
pointed somewhere shared keeps everything else. The listing ends with the
folder's bound (``$SYMKB_CACHE_MAX_MB``), beyond which the least recently
used entries are evicted.
"""
from __future__ import annotations

import pathlib

from .lower import cache_config
from .lower.cache_store import COMPILED_SUFFIXES, MODULE, READABLE, TEMPORARY


def cache_files(folder: pathlib.Path) -> dict:
    """The cache's files in ``folder``: ``{"modules": [...], "readable": [...],
    "compiled": [...], "temporary": [...]}`` (paths); compiled code under
    ``NUMBA_CACHE_DIR`` too."""
    modules, readable, temporary, stems = [], [], [], set()
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            m = MODULE.match(f.name)
            if m and f.is_file():
                modules.append(f)
                stems.add(m.group("stem"))
            elif READABLE.match(f.name) and f.is_file():
                readable.append(f)
            elif TEMPORARY.match(f.name) and f.is_file():
                temporary.append(f)
    roots = [folder / "__pycache__"]
    numba_dir = cache_config.numba_cache_dir()
    if numba_dir is not None:
        roots.append(numba_dir)
    compiled = []
    for root in roots:
        if not root.is_dir():
            continue
        for f in sorted(root.rglob("*")):
            head = f.name.split(".", 1)[0]
            if f.is_file() and (head in stems or MODULE.match(head + ".py")) and \
                    f.suffix in COMPILED_SUFFIXES:
                compiled.append(f)
    return {"modules": modules, "readable": readable, "compiled": compiled,
            "temporary": temporary}


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
    from .lower.cache import cache_dir
    folder = cache_dir()
    files = cache_files(folder)
    generated = files["modules"] + files["readable"]
    every = generated + files["compiled"] + files["temporary"]
    where = f" (from ${cache_config.ENV_VAR})" if cache_config.dir_from_environment() else ""
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
    print(f"generated modules: {len(generated)} ({_human(_size(generated))}): "
          f"{len(files['modules'])} compiled, {len(files['readable'])} readable "
          "(one per name a graph was compiled under)")
    print(f"compiled machine code: {len(files['compiled'])} file(s) "
          f"({_human(_size(files['compiled']))})")
    if files["temporary"]:
        print(f"unfinished writes: {len(files['temporary'])}")
    print(f"total: {_human(_size(every))}; `symkb cache --clear` removes it "
          "(graphs then compile again on first use)")
    origin = (f"from ${cache_config.MAX_MB_VAR}" if cache_config.bound_from_environment()
              else f"the default; ${cache_config.MAX_MB_VAR} sets it in MiB")
    print(f"bound: {_human(cache_config.max_bytes())} ({origin}); beyond it the least "
          "recently used entries are evicted when a new module is written")
    return 0
