"""What every compile target returns: a callable over a graph.

:class:`Executable` checks the arguments once, for every target alike (count,
rank, known dims, dtype cast to the placeholder's dtype in native byte
order), then hands plain contiguous numpy arrays to the target's ``_run``. Errors name the input.

Every executable counts where its calls ran (:attr:`Executable.calls`): on
the target's kernel, or on the numpy interpreter (the interpreter target
itself, or a compiled kernel handing a call it does not fit to numpy; see
``shape_guard.py``). ``.target`` is where the executable runs; an executable
that ``target='auto'`` sent elsewhere says why in ``.fallback``.
"""
from __future__ import annotations

import threading

import numpy as np

from ..ir import Graph, KerasTensor
from ..ir.ops.state import written_variables
from .passes import PassReport


class Executable:
    """A compiled graph: ``f([x, y])`` or ``f(x, y)`` -> array or list of arrays."""

    target = "abstract"

    def __init__(self, graph: Graph, *, single_output: bool = False, name: str | None = None,
                 passes_report=None, source: str = ""):
        self.graph = graph
        self.name = name or graph.name
        self.single_output = single_output
        self.output_keys = None  # K.function given a dict of outputs: the dict's keys
        self.passes_report = PassReport(passes_report or [])
        self.source = source
        # why target='auto' did not give the target it chose (``lower/__init__.py``)
        self.fallback: str | None = None
        # {phase: seconds} of the compile that made it (``lower/timing.py``)
        self.compile_phases: dict = {}
        self._calls = {"kernel": 0, "interpreter": 0}
        self._calls_lock = threading.Lock()
        # the graph's ``assign`` results: (result index, Variable); a call
        # returns the other results (``symkb/ir/ops/state.py``)
        self.writes = written_variables(graph)
        self._written = {k for k, _ in self.writes}

    @property
    def calls(self) -> dict:
        """Where the calls so far ran: ``{"kernel": n, "interpreter": m}``.

        A compiled target counts a call under ``"interpreter"`` when its kernel
        did not fit the input shapes and numpy ran it instead; the interpreter
        target counts every call there.
        """
        with self._calls_lock:
            return dict(self._calls)

    def _ran_on(self, where: str) -> None:
        """Count one call run on ``where`` (``'kernel'`` or ``'interpreter'``)."""
        with self._calls_lock:
            self._calls[where] += 1

    def _check(self, args) -> list:
        graph = self.graph
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and len(graph.inputs) != 1:
            args = list(args[0])
        elif len(args) == 1 and isinstance(args[0], (list, tuple)) and len(graph.inputs) == 1 \
                and len(args[0]) == 1 and (not np.isscalar(args[0][0])
                                           or graph.inputs[0].ndim == 0):
            args = [args[0][0]]
        elif len(args) == 1 and isinstance(args[0], (list, tuple)) and len(graph.inputs) == 1 \
                and len(args[0]) > 1 and all(isinstance(a, np.ndarray) for a in args[0]):
            args = list(args[0])  # a list of several arrays: a count mismatch, reported below
        elif len(args) == 1 and isinstance(args[0], dict):
            by_name = args[0]
            args = [by_name[t.node.name] if t.node.name in by_name else by_name[t]
                    for t in graph.inputs]
        if len(args) != len(graph.inputs):
            raise ValueError(
                f"{self.name}: expected {len(graph.inputs)} input array(s) "
                f"({', '.join(f'{t.name}: {t.type}' for t in graph.inputs)}), "
                f"received {len(args)}")
        arrays = []
        for i, (t, a) in enumerate(zip(graph.inputs, args)):
            if isinstance(a, KerasTensor):
                a._no_value(f"{self.name}: input {i} ({t.name}) received")
            try:
                a = np.asarray(a)
            except ValueError as exc:
                raise ValueError(f"{self.name}: input {i} ({t.name}) expects an array of shape "
                                 f"{t.shape}, received a value numpy cannot convert: {exc}") \
                    from None
            if a.ndim != t.ndim:
                raise ValueError(
                    f"{self.name}: input {i} ({t.name}) expects rank {t.ndim} with shape "
                    f"{t.shape}, received an array of shape {a.shape}")
            for d, (want, got) in enumerate(zip(t.shape, a.shape)):
                if want is not None and want != got:
                    raise ValueError(
                        f"{self.name}: input {i} ({t.name}) expects shape {t.shape}, received "
                        f"an array of shape {a.shape} (axis {d}: expected {want}, got {got})")
            if a.dtype.name != t.dtype or not a.dtype.isnative:
                # the placeholder's dtype, in this machine's byte order (numba and
                # numpy's ufunc loops take native arrays only)
                a = a.astype(t.dtype)
            # np.ascontiguousarray turns a 0-d array into shape (1,)
            arrays.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))
        return arrays

    def __call__(self, *args):
        if COLLECTIONS and any(type(a).__module__.startswith(COLLECTIONS)
                               for a in _leaves(args)):
            # lazy collections out, one task a chunk (symkb.scale installs the handler)
            one = len(args) == 1
            return COLLECTION_CALL[0](self, list(args[0]) if one and isinstance(
                args[0], (list, tuple)) else args[0] if one else list(args))
        outs = self._run(self._check(args))
        if self.writes:
            outs = [o for k, o in enumerate(outs) if k not in self._written]
        if self.output_keys is not None:
            return dict(zip(self.output_keys, outs))
        return outs[0] if self.single_output else list(outs)

    def _run(self, arrays) -> list:
        raise NotImplementedError

    def _interpret(self, arrays) -> list:
        """Run the graph on the interpreter for a call the kernel cannot take
        (inputs that disagree on a size the kernel assumes equal: the shape
        guard warned once for those shapes; ``calls`` counts each such call)."""
        from ..ir import evaluate
        self._ran_on("interpreter")
        results = list(evaluate(self.graph, arrays))
        self._write_on_host(results)
        return results

    def _write_on_host(self, results) -> None:
        """Store each ``assign`` result in its Variable, after the whole graph ran.

        A result that is (a view of) a Variable's array is copied first, so the
        results keep the values from before the writes.
        """
        if not self.writes:
            return
        for k, r in enumerate(results):
            if k not in self._written and isinstance(r, np.ndarray) and any(
                    np.may_share_memory(r, v.value()) for _, v in self.writes):
                results[k] = r.copy()
        new = [(v, np.array(results[k], copy=True)) for k, v in self.writes]
        for variable, value in new:
            variable.assign(value)

    def _kernel_wrote(self) -> None:
        """A kernel stored the ``assign`` results in the Variables' arrays itself."""
        for _, variable in self.writes:
            variable.version += 1

    def __repr__(self) -> str:
        return f"<symkb {self.target} executable {self.name!r}: {self.graph!r}>"


def _leaves(args):
    """The arguments of a call, and the items of a list, tuple or dict given as one."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return args[0]
    if len(args) == 1 and isinstance(args[0], dict):
        return list(args[0].values())
    return args


# Module prefixes of lazy collections (dask) an executable maps itself over, and
# the function doing it; both set by :mod:`symkb.scale` when it is imported.
COLLECTIONS: tuple = ()
COLLECTION_CALL: list = [None]
