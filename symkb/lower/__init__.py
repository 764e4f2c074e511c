"""Lowering: passes over the IR and the compile targets.

``compile_graph(graph, target)`` is the one entry point; ``K.function``,
``symkb.compile`` and ``Model.predict`` all go through it. Targets:

* ``'interpreter'``: the numpy oracle (``interpreter.py``);
* ``'cpu'``: one generated Numba function for the whole graph;
* ``'cuda'``: numba.cuda kernels (a real GPU, or the simulator);
* ``'auto'``: ``'cuda'`` on a real GPU, else ``'cpu'`` (checked lazily).
"""
from __future__ import annotations

from .executable import Executable
from .interpreter import Interpreter

TARGETS = ("auto", "cpu", "cuda", "interpreter")


def compile_graph(graph, target: str = "auto", *, single_output: bool = False,
                  name: str | None = None) -> Executable:
    """Compile ``graph`` for ``target`` and return an :class:`Executable`."""
    if target not in TARGETS:
        raise ValueError(f"compile: unknown target {target!r}; expected one of {TARGETS}")
    if target == "interpreter":
        return Interpreter(graph, single_output=single_output, name=name)
    if target == "auto" and _real_gpu():
        target = "cuda"
    if target == "cuda":
        from .cuda import compile_cuda  # imports numba (and its CUDA binding) only now
        return compile_cuda(graph, single_output=single_output, name=name)
    # The compiled targets are added by the codegen modules; until one is
    # available for this graph, the interpreter stands in.
    return Interpreter(graph, single_output=single_output, name=name)


def _real_gpu() -> bool:
    """True on a machine with a real CUDA GPU (never the simulator); checked per compile."""
    from .cuda.adapter import real_gpu_available
    return real_gpu_available()
