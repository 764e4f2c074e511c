"""The cuda target: numba.cuda kernels generated from the optimised graph.

Layout (one concept per module):

* ``adapter.py``: the only module that touches the CUDA binding (device
  arrays, launches, availability checks, launch geometry);
* ``source.py``: the generated kernel module (``.source`` of an executable);
* ``program.py``: the lowering driver, host steps and decompositions;
* ``scalar.py``: scalar code of each elementwise op;
* ``elementwise.py``: fused / plain elementwise kernels (grid-stride, any
  rank, broadcasting);
* ``linalg.py``: the tiled shared-memory matrix product with a fused epilogue;
* ``reduce.py``: block tree reductions (two passes), softmax, scans;
* ``movement.py``: reshape (a view), transpose, slicing, concatenate, gather, ...;
* ``rnn.py``: the recurrence: a raw ``loop`` rewritten into the canonical
  ``scan``, the strategy choice and per-step launches;
* ``persistent_plan.py``: which scan bodies run as one persistent kernel, and
  its shared-memory layout;
* ``persistent.py``: the ``scan`` node as one persistent kernel;
* ``executable.py``: device-resident execution, the weight cache and the
  target's ``op -> emitter`` table, merged from the kernel modules' tables.

numba is imported only when a graph is compiled for this target.
"""
from __future__ import annotations

from ..passes import run_pipeline
from ..passes.canonicalize_loops import legalize_loops
from . import adapter
from .adapter import CudaUnavailableError, real_gpu_available
from .program import CudaLoweringError


def compile_cuda(graph, *, single_output=False, name=None, strategy="auto", passes=None,
                 dump=False, verify_each=False):
    """Compile ``graph`` to numba.cuda kernels.

    Args:
        graph: the graph to compile.
        single_output: return one array instead of a list.
        name: the executable's name (default: the graph's).
        strategy: how ``scan`` nodes run: ``'auto'`` (by size), ``'steps'``
            (a host loop of per-step kernels) or ``'persistent'`` (the whole
            time loop in one kernel launch).
        passes: the passes to run first (default ``symkb.lower.PIPELINE``, the
            cpu target's); ``[]`` or ``False`` for none. Loops are rewritten
            into the canonical ``scan`` either way (the target lowers no other).
        dump, verify_each: as for ``symkb.lower.run_pipeline``.

    Raises:
        CudaUnavailableError: no GPU and no simulator.
        CudaLoweringError: the graph uses an op the cuda target cannot run.
    """
    from .executable import CudaExecutable
    if strategy not in ("auto", "steps", "persistent"):
        raise ValueError(f"compile_cuda: strategy must be 'auto', 'steps' or 'persistent', "
                         f"received {strategy!r}")
    adapter.require_device()
    if passes is False:
        passes = []
    elif passes is True:
        passes = None
    lowered, report = run_pipeline(graph, passes, dump=dump, verify_each=verify_each)
    lowered = legalize_loops(lowered)    # the target lowers only the canonical scan
    return CudaExecutable(graph, lowered_graph=lowered, single_output=single_output, name=name,
                          passes_report=report, strategy=strategy)


__all__ = ["compile_cuda", "CudaUnavailableError", "CudaLoweringError", "real_gpu_available"]
