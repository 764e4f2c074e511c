"""``symkb cache warm MODEL_FILE``: compile a saved model ahead of time.

A cold compile costs seconds the first ``predict`` would otherwise pause
for. Warming loads the file (the formats ``symkb inspect`` reads: a model
saved with ``model.save``, a model's ``to_json()`` text, a graph's
``symkb.ir.to_json`` document or printed IR; read by the same loaders, which
never execute anything a file holds), compiles its graph for the target, so
that symkb's cache folder and numba's disk cache hold its kernel, and runs
it once on a batch of zeros (``--batch`` rows; an unknown size other than
the batch is taken as 1), which checks the kernel and, on the cuda target,
compiles its kernels (they compile on their first launch). A later process
that builds the same graph (any names, the same weights or others) then
loads the machine code instead of compiling it.

It prints what it compiled, for which target, how long it took and where
the code came from: ``cold compile`` (the cache is warm now) or ``already
warm`` (loaded from the cache). A missing file or one of no format symkb
reads exits with status 2 and one line saying so; a graph the target cannot
compile exits with status 1.
"""
from __future__ import annotations

import sys
import time

import numpy as np


def _refuse(args, exc: BaseException) -> int:
    """One line on stderr for a file that cannot be read; status 2."""
    if getattr(args, "debug", False):
        raise exc
    from .ir.safe_text import escape_controls
    line = f"symkb: error: cache warm: {type(exc).__name__}: {exc}".splitlines()[0]
    print(escape_controls(line), file=sys.stderr)
    return 2


def sample_inputs(graph, batch: int) -> list:
    """Zeros for each input of ``graph``: ``batch`` rows where the first size
    is unknown, 1 for any other unknown size."""
    arrays = []
    for t in graph.inputs:
        shape = [(batch if axis == 0 else 1) if d is None else d
                 for axis, d in enumerate(t.shape)]
        arrays.append(np.zeros(shape, dtype=t.dtype))
    return arrays


def run_warm(args) -> int:
    """Load ``args.file``, compile it for ``args.target``, run it once; print how it went."""
    from . import compile as compile_model
    from .inspect_cmd import load_any
    from .ir.errors import FileFormatError
    from .ir.safe_text import escape_controls
    try:
        model, graph = load_any(args.file)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileFormatError) as exc:
        return _refuse(args, exc)
    what = "model" if model is not None else "graph"
    print(escape_controls(f"{what} {graph.name!r} from {args.file}: "
                          f"{len(graph.inputs)} input(s), {len(graph.outputs)} output(s)"))
    from .lower import resolve_target
    print(f"compiling for the {resolve_target(args.target)} target...", flush=True)
    start = time.perf_counter()
    executable = compile_model(model if model is not None else graph, target=args.target)
    seconds = time.perf_counter() - start
    if executable.fallback:
        raise RuntimeError(f"cache warm: nothing was cached for the {args.target} target: "
                           f"{executable.fallback}")
    start = time.perf_counter()
    executable(*sample_inputs(graph, args.batch))
    first_call = time.perf_counter() - start
    print(f"target: {executable.target}; {_how(executable, seconds)}")
    print(f"first call on {args.batch} row(s) of zeros: {first_call * 1e3:.1f} ms")
    from . import wait_compiles
    start = time.perf_counter()
    if wait_compiles():  # every form of each kernel in the cache (docs/compiler.md)
        waited = time.perf_counter() - start
        if waited >= 0.01:
            print(f"background compiles (the kernels' own and size-generic forms): "
                  f"{waited:.2f} s")
    return 0


def _how(executable, seconds: float) -> str:
    """What the compile did, and where its code is now."""
    path = getattr(executable, "path", None)
    where = f" ({path})" if path is not None else ""
    if getattr(executable, "cache_hit", False):
        return f"already warm: loaded from the cache in {seconds:.2f} s{where}"
    if executable.target == "cpu":
        return f"cold compile in {seconds:.2f} s; the cache is warm now{where}"
    return (f"prepared in {seconds:.2f} s; the {executable.target} target's kernels compile "
            "on their first launch: the call below")
