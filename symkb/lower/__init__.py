"""Lowering: passes over the IR and the compile targets.

``compile_graph(graph, target)`` is the one entry point; ``K.function``,
``symkb.compile`` and ``Model.predict`` all go through it. Targets:

* ``'interpreter'``: the numpy oracle (``interpreter.py``), on the graph as built;
* ``'cpu'``: the optimised graph as one generated Numba function (``cpu/``);
* ``'cuda'``: numba.cuda kernels (a real GPU, or the simulator; ``cuda/``);
* ``'auto'``: ``'cuda'`` on a real GPU, else ``'cpu'`` (checked lazily, at
  compile time, never on import).

No fallback is silent. Under ``'auto'`` a graph the cuda target cannot lower
goes to the cpu target, and one the cpu target cannot compile to the
interpreter, each with a :class:`FallbackWarning` naming the graph, the
target and the reason; the executable's ``.target`` is where it runs and
``.fallback`` says why. A compiled executable whose kernel does not fit a
call's input shapes runs that call on the interpreter, with the same warning
once per tuple of input shapes; ``executable.calls`` counts where the calls
ran (``{"kernel": n, "interpreter": m}``).

The cpu target has no float16 arithmetic: a graph holding float16 values is
first widened to float32 with a rounding after every float16 result
(``float16.py``), and its float16 results come back as float16.

``PIPELINE`` (``passes/``) is the default pass list (an immutable tuple) every
compiled target runs first; a compile given ``passes=`` runs that list instead.

Every executable says where its compile's time went in ``compile_phases``
(``{phase: seconds}``: passes, codegen, cache, numba's typing and LLVM, or
its cache load; ``timing.py``).
"""
from __future__ import annotations

from .background import defer_warning
from .errors import FallbackWarning, LoweringError
from .executable import Executable
from .float16 import float16_outputs, has_float16, widen_float16
from .interpreter import Interpreter
from .passes import PIPELINE, run_pipeline
from .timing import PhaseClock

TARGETS = ("auto", "cpu", "cuda", "interpreter")


def resolve_target(target: str) -> str:
    """``'auto'`` -> ``'cuda'`` on a real GPU (not the simulator), else ``'cpu'``."""
    if target not in TARGETS:
        raise ValueError(f"compile: unknown target {target!r}; expected one of {TARGETS}")
    if target != "auto":
        return target
    try:
        from .cuda import real_gpu_available
        return "cuda" if real_gpu_available() else "cpu"
    except Exception:  # no CUDA support installed: the CPU it is
        return "cpu"


def compile_graph(graph, target: str = "auto", *, single_output: bool = False,
                  name: str | None = None, passes=None, dump: bool = False,
                  verify_each: bool = False) -> Executable:
    """Compile ``graph`` for ``target`` and return an :class:`Executable`.

    Args:
        graph: a :class:`symkb.ir.Graph`.
        target: ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'interpreter'``.
        single_output: calls return one array instead of a list.
        name: the executable's (and generated function's) name.
        passes: the passes to run (default :data:`PIPELINE`); ``[]`` for none.
        dump: print the graph after every pass.
        verify_each: verify after every pass, naming the pass that broke it.
    """
    chosen = resolve_target(target)
    if chosen == "interpreter":
        clock = PhaseClock()
        with clock.phase("prepare"):
            executable = Interpreter(graph, single_output=single_output, name=name)
        executable.compile_phases = clock.as_dict()
        return executable
    if chosen == "cuda":
        from .cuda import CudaLoweringError, compile_cuda
        try:
            clock = PhaseClock()
            with clock.phase("passes"):  # the kernels compile on their first call
                executable = compile_cuda(graph, single_output=single_output, name=name,
                                          passes=passes, dump=dump, verify_each=verify_each)
            executable.compile_phases = clock.as_dict()
            return executable
        except CudaLoweringError as exc:
            if target != "auto":
                raise
            # 'auto' on a GPU: an op without a cuda kernel sends the graph to the cpu target
            cuda_failure = _warn_fallback(graph, "cuda", "cannot lower it", exc, "cpu",
                                          stacklevel=4)
            executable = _compile_for_cpu(graph, target, single_output=single_output,
                                          name=name, passes=passes, dump=dump,
                                          verify_each=verify_each)
            executable.fallback = cuda_failure + (
                f"; {executable.fallback}" if executable.fallback else "")
            return executable
    return _compile_for_cpu(graph, target, single_output=single_output, name=name,
                            passes=passes, dump=dump, verify_each=verify_each)


def _compile_for_cpu(graph, target, *, single_output, name, passes, dump, verify_each):
    """The cpu target; under ``'auto'``, the interpreter for what it cannot compile."""
    narrow = None
    source = graph
    clock = PhaseClock()
    with clock.phase("passes"):
        if has_float16(graph):
            narrow = float16_outputs(graph)
            source = widen_float16(graph)
        optimised, report = run_pipeline(source, passes, dump=dump, verify_each=verify_each)
    with clock.phase("import"):  # numba and the cpu target, on a process's first compile
        from .cpu import Unsupported, compile_cpu
    try:
        return compile_cpu(optimised, single_output=single_output, name=name,
                           passes_report=report, source_graph=source, narrow=narrow,
                           phases=clock)
    except Exception as exc:
        if target != "auto":
            raise
        what = "cannot compile it" if isinstance(exc, Unsupported) else "crashed compiling it"
        reason = _warn_fallback(graph, "cpu", what, exc, "interpreter", stacklevel=5)
        executable = Interpreter(optimised, single_output=single_output, name=name,
                                 passes_report=report)
        executable.fallback = reason
        executable.compile_phases = clock.as_dict()
        return executable


def _warn_fallback(graph, target: str, what: str, exc: Exception, instead: str, *,
                   stacklevel: int) -> str:
    """Warn that ``graph`` leaves ``target`` for ``instead``; returns the message.

    ``stacklevel`` points the warning at the code that called ``compile_graph``'s
    caller (``K.function``, ``symkb.compile``, ``predict``): the user's line.
    """
    message = (f"symkb: the {target} target failed on graph {graph.name!r}: it {what} "
               f"({type(exc).__name__}: {exc}); running it on the {instead} target instead")
    # held for the caller when the compile runs in the background (``background.py``)
    defer_warning(message, FallbackWarning, stacklevel=stacklevel)
    return message


__all__ = ["compile_graph", "resolve_target", "Executable", "Interpreter", "PIPELINE",
           "run_pipeline", "TARGETS", "FallbackWarning", "LoweringError"]
