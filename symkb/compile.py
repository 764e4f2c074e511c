"""``symkb.compile``: the public entry point of the compiler.

    c = symkb.compile(model)               # target='auto': cuda on a real GPU, else cpu
    y = c(x)                               # or c([x, y]) for several inputs
    print(c.source)                        # the generated code
    c = symkb.compile(model, verbose=True)  # says on stderr that it compiles, and how long
    c = symkb.compile(model, background=True)  # returns at once; c(x) waits for the compile
    symkb.wait_compiles()                  # the kernels compiling in the background are done
    print(c.graph)                         # the graph after the passes
    for record in c.passes_report: print(record)

Accepted: anything with a ``.graph`` attribute (symkb models, ``K.function``
results, executables) or a :class:`symkb.ir.Graph`.
"""
from __future__ import annotations

from .ir import Graph


def _as_graph(obj):
    if isinstance(obj, Graph):
        return obj, None
    graph = getattr(obj, "graph", None)
    if isinstance(graph, Graph):
        single = getattr(obj, "single_output", None)
        if single is None:
            single = len(graph.outputs) == 1
        return graph, single
    if hasattr(obj, "graph") and graph is None:
        raise ValueError(f"compile: model {getattr(obj, 'name', '')!r} has not been built yet "
                         "(its input shape is unknown); call `build(input_shape)` or "
                         "`predict` on a batch of data first, or start it with an Input")
    raise TypeError(f"compile: expected a model, a K.function result or a symkb.ir.Graph "
                    f"(anything with a .graph), received {type(obj).__name__}")


def compile(model_or_graph, target: str = "auto", *, passes=None, dump: bool = False,  # noqa: A001
            verify_each: bool = False, name: str | None = None, verbose: bool = False,
            background: bool = False):
    """Compile a model, a ``K.function`` result or a graph.

    Args:
        model_or_graph: the computation.
        target: ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'interpreter'``.
        passes: the pass list (default ``symkb.lower.PIPELINE``).
        dump: print the graph after every pass.
        verify_each: verify the graph after every pass.
        name: the generated function's name (default: the graph's).
        verbose: print on stderr that the compile starts, then how long it
            took and whether it was a cold compile or loaded from the cache
            (a cold compile takes seconds: say so rather than pause silently).
        background: return at once, the compile running on a daemon thread:
            a :class:`symkb.lower.background.BackgroundCompile`, which has
            ``done()``, ``wait(timeout)`` and ``result(timeout)`` and is
            called like the executable (a call, or reading an attribute such
            as ``.source``, waits for the compile; its error is raised there).

    Returns:
        An executable with ``.source``, ``.graph`` (after passes) and
        ``.passes_report``, called like ``K.function`` (with
        ``background=True``, the handle standing for it).
    """
    from .lower import TARGETS, compile_graph
    if target not in TARGETS:  # refused here, not on a background thread
        raise ValueError(f"compile: unknown target {target!r}; expected one of {TARGETS}")
    graph, single = _as_graph(model_or_graph)
    if single is None:
        single = len(graph.outputs) == 1
    for flag, value in (("verbose", verbose), ("background", background)):
        if not isinstance(value, (bool, int)):
            raise TypeError(f"compile: `{flag}` must be True or False, received {value!r}")

    def build():
        return compile_graph(graph, target, single_output=single, name=name, passes=passes,
                             dump=dump, verify_each=verify_each)

    what = name or graph.name
    if verbose:
        from .lower.announce import announce_start, announced
        start = announce_start(what, target)  # in the caller's thread, before it returns
        plain = build

        def build():
            return announced(plain, what, target, start=start)
    if background:
        from .lower.background import BackgroundCompile
        return BackgroundCompile(build, what)
    return build()


def wait_compiles(timeout: float | None = None) -> bool:
    """Wait for the compiles symkb runs in the background on its own.

    A model whose small sizes differ from one compiled before (an LSTM of 16
    units made 24) runs at once on the size-generic kernel of the earlier
    one, and a cold compile on its quick kernel, while its own kernel
    compiles in the background (in a child process); after a cold compile,
    the size-generic kernel for the variants to come compiles there too
    (``docs/compiler.md``, "Three forms of a kernel"). This waits until
    nothing is left: then every executable runs its own kernel and the disk
    cache holds every form.

    Args:
        timeout: seconds to wait at most; ``None``: as long as it takes.

    Returns:
        True when nothing is left to compile, False when ``timeout`` passed first.
    """
    from .lower import tiers
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout < 0):
        raise ValueError(f"wait_compiles: `timeout` must be None or seconds >= 0, "
                         f"received {timeout!r}")
    return tiers.wait(timeout)
