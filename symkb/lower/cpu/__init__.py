"""The cpu target: the whole graph as one generated, readable Numba function.

``compile_cpu(graph)`` generates the module (``codegen.py`` and the emitter
tables in ``elementwise.py``, ``arrays.py``, ``loops.py``), writes it to the
cache folder (``symkb/lower/cache.py``), imports it and compiles the function
for the graph's argument types (or loads it from numba's disk cache). The
generated function's argument list (``Generated.args``) is the one contract
between the code and the executable: the inputs first, then each Variable
(its current value) and array constant in the order the code declares them,
then the output buffers. ``set_value`` is seen by the next call, batch size
and sequence length vary freely, and neither recompiles. A graph that keeps its
batch rows apart runs on blocks of rows, one a thread (``blocks.py``).

numba is imported with this package (its kernels and runtime helpers are
numba functions); ``symkb.lower`` imports it only to compile a graph for the
cpu target.
"""
from __future__ import annotations

import os
import time
import weakref
from typing import NamedTuple

import numpy as np

from .. import tiers
from ..cache import attach, clear_numba_cache, hold, load_module, release
from ..executable import Executable
from ..passes.canonicalize_loops import legalize_loops
from ..payloads import ParamSpecs, check_const
from ..shape_guard import ShapeGuard
from ..timing import PhaseClock, numba_phases
from . import blas, gemm, numba_setup
from .blocks import row_blocks, rows_per_block, run_blocks, thread_count
from .codegen import EMITTERS, Unsupported, generate  # noqa: F401
from .phases import compile_phased, plan_phases
from .workspace import Workspaces


class CpuExecutable(Executable):
    """Calls the generated function (see the module docstring)."""

    target = "cpu"

    def __init__(self, graph, fn, args, *, row_split=None, sizes=(), path=None, cache_hit=False,
                 reused=False, compile_seconds=0.0, source_graph=None, narrow=None,
                 invariant_inputs=0, **kwargs):
        super().__init__(graph, **kwargs)
        # the generated function and the sizes it takes as its last argument
        # (``cache.load_module``'s ``lift``: graphs that differ only in sizes share
        # it), read once per call: ``specialise`` swaps both at once
        # the form running ("own", "quick" or "size-generic": ``tiers.py``); the
        # other two run while the own form compiles in the background
        self.specialise(fn, sizes)
        # the last inputs are the same for every row block (``phases.py``): not split
        self._row_inputs = len(graph.inputs) - invariant_inputs
        # float16 results of a widened graph (``lower/float16.py``), narrowed back
        self._narrow = narrow
        # the kernel indexes every weight up to its declared shape: each call
        # checks the Variables against it (one comparison each), the constants once
        self._params = ParamSpecs(self.name, graph, [p for _, kind, p in args if kind == "param"])
        declared = {id(n.attrs["value"]): n.out_types[0] for _, n in graph.walk()
                    if n.op == "const"}
        self._consts = [check_const(self.name, declared[id(p)], np.array(p))
                        for _, kind, p in args if kind == "const"]
        # the Variables and constants interleave in the function's arguments (the
        # code declares each where a node first reads it): True where a Variable goes
        self._param_slots = [kind == "param" for _, kind, _ in args if kind in ("param", "const")]
        self.row_split = row_split  # per result, row-wise; None: the function runs whole
        self._per_block = rows_per_block(graph) if row_split is not None else 1
        self._threads = None        # row blocks to run at most; None: numba's thread count
        # output arguments: (result index, type); the result shapes (less the
        # batch) seen for each set of input shapes, to allocate them up front
        self._outs = [(list(graph.outputs).index(t), t) for _, kind, t in args if kind == "out"]
        self._out_shapes: dict = {}
        # the large buffers the function keeps from call to call (``workspace.py``)
        self._spaces = Workspaces(p for _, kind, p in args if kind == "scratch")
        self._nresults = len(graph.outputs)
        self.path = path
        self.cache_hit = cache_hit
        # the machine code was in this process already (an earlier compile of
        # this graph, or of one that differs only in names or sizes)
        self.reused = reused
        self.compile_seconds = compile_seconds
        # the graph before the passes (what symkb.scale sends to workers)
        self.source_graph = source_graph if source_graph is not None else graph
        self._guard = ShapeGuard(source_graph if source_graph is not None else graph,
                                 name=self.name, target=self.target)

    @property
    def function(self):
        """The generated numba function the calls run now."""
        return self._kernel[0]

    @function.setter
    def function(self, fn) -> None:
        self._kernel = (fn, self._kernel[1])

    def specialise(self, fn, sizes, form: str = "own") -> None:
        """Run ``fn``, taking ``sizes``, from the next call on (``tiers.py``: this
        graph's own form, compiled in the background, replaces the quick or
        size-generic one)."""
        self._kernel = (fn, (sizes,) if sizes else ())
        self.form = form

    @property
    def generic(self) -> bool:
        """Whether the size-generic form runs while the own one compiles (``tiers.py``)."""
        return self.form == "size-generic"

    @property
    def threads(self):
        """The most row blocks (threads) one call uses; ``None``: numba's thread count."""
        return self._threads

    @threads.setter
    def threads(self, value) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"{self.name}: `threads` must be None or a positive int, "
                             f"received {value!r}")
        self._threads = value

    def _run(self, arrays) -> list:
        results = self._run_wide(arrays)
        if self._narrow is None:
            return results
        return [r.astype(np.float16) if n else r for r, n in zip(results, self._narrow)]

    def _run_wide(self, arrays) -> list:
        if not self._guard.fits(arrays):
            # inputs disagree on an unknown size the kernel assumes equal (a size-1
            # batch broadcast against a larger one, say): the interpreter runs it
            return self._interpret(arrays)
        self._ran_on("kernel")
        # numba types a read-only array apart; the kernels take writable ones
        arrays = [a if not isinstance(a, np.ndarray) or a.flags.writeable else a.copy()
                  for a in arrays]
        params = iter(self._params.values(None if self._narrow is None else _wide))
        consts = iter(self._consts)
        rest = [next(params) if is_param else next(consts) for is_param in self._param_slots]
        fn, tail = self._kernel
        if self.row_split is not None and arrays:
            return self._run_blocks(arrays, rest, fn, tail)
        if not self._spaces:
            results = list(fn(*arrays, *rest, *tail))
            self._kernel_wrote()  # the function stored its assign results in the Variables
            return results
        key = tuple(a.shape for a in arrays)
        (spaces,), new = self._spaces.take(key)
        results = list(fn(*arrays, *rest, *spaces, *tail))
        self._kernel_wrote()
        results, kept = results[:self._nresults], results[self._nresults:]
        self._spaces.give(key, [kept], new, [*results, *arrays, *rest])
        return results

    def _run_blocks(self, arrays, rest, fn, tail) -> list:
        arrays, rest = arrays[:self._row_inputs], arrays[self._row_inputs:] + rest
        batch = arrays[0].shape[0]
        blocks = row_blocks(batch, self.threads or thread_count(), self._per_block)
        key = tuple(a.shape for a in arrays[1:]) + tuple(a.shape[1:] for a in arrays[:1])
        known = self._out_shapes.get(key)
        common = all(a.shape[0] == batch for a in arrays)
        if not common:
            blocks, known = 1, None  # inputs of other batch sizes: no common rows to split
        if known is None:
            outs = [(k, np.empty((0,) * t.ndim, dtype=t.dtype)) for k, t in self._outs]
        else:
            outs = [(k, np.empty((batch,) + shape, dtype=t.dtype))
                    for (k, t), shape in zip(self._outs, known)]
        spaces, new = self._spaces.take((blocks, key), blocks) if self._spaces else (None, False)
        results, kept = run_blocks(fn, arrays, rest, self.row_split, blocks, outs,
                                   tail, spaces)
        if spaces is not None:
            self._spaces.give((blocks, key), kept, new,
                              [*results, *arrays, *rest] if new else ())
        if known is None and common:
            if len(self._out_shapes) >= 64:
                self._out_shapes.clear()
            self._out_shapes[key] = [results[k].shape[1:] for k, _ in self._outs]
        return results


def _wide(value: np.ndarray) -> np.ndarray:
    """A float16 Variable's value as float32 (numba has no float16; exact)."""
    return value.astype(np.float32) if value.dtype == np.float16 else value


def _signature(args, sizes=()):
    from numba import typeof, types
    from numba.np.numpy_support import from_dtype
    sig = []
    for _, kind, payload in args:
        if kind in ("input", "out"):
            sig.append(types.Array(from_dtype(np.dtype(payload.dtype)), payload.ndim, "C"))
        elif kind == "scratch":
            ndim, dtype = payload
            sig.append(types.Array(from_dtype(np.dtype(dtype)), ndim, "C"))
        elif kind == "param":
            sig.append(typeof(_wide(payload.value())))
        else:
            sig.append(typeof(np.array(payload)))
    if sizes:
        sig.append(types.UniTuple(types.int64, len(sizes)))
    return tuple(sig)


def compile_cpu(graph, *, single_output=False, name=None, passes_report=None,
                source_graph=None, narrow=None, phases=None, invariant_inputs=0, split=True):
    """Generate, cache and compile ``graph`` (already optimised) for the CPU.

    ``source_graph`` (the graph before the passes, default ``graph``) is the
    one the run-time shape guard walks (``shape_guard.py``). ``narrow`` lists,
    for a graph widened from float16, which results go back to float16.
    ``phases`` (a ``timing.PhaseClock``, holding the passes' time) receives
    this compile's phases; they become the executable's ``compile_phases``.
    The last ``invariant_inputs`` inputs are the same for every batch row. A
    graph whose row-wise core holds a time loop but which mixes the rows
    around it (a loss and the weights' gradients) is compiled as two
    functions run one after the other (``phases.py``): a ``PhasedExecutable``
    (``split=False``: one function, always).

    Raises:
        Unsupported: a node the cpu target cannot compile (the message names it).
    """
    clock = phases if phases is not None else PhaseClock()
    with clock.phase("codegen"):
        graph = legalize_loops(graph)  # scans only, also for a graph compiled with passes=[]
        plan = plan_phases(graph) if split and narrow is None and not invariant_inputs else None
    if plan is not None:
        return compile_phased(plan, compile_cpu, single_output=single_output, name=name,
                              passes_report=passes_report, source_graph=source_graph,
                              clock=clock, beside=(start_beside, finish_beside))
    with clock.phase("codegen"):
        generated = generate(graph, name or graph.name, invariant_inputs)
    source, args, fn_name = generated.source, generated.args, generated.fn_name
    start = time.perf_counter()
    with clock.phase("cache"):
        loaded = _own_form(source, fn_name)
    module, path = loaded.module, loaded.path
    quick = generic = None  # the other forms' modules, when this compile needed them
    try:
        dispatcher = loaded.get(fn_name)
        sig = _signature(args, loaded.sizes)
        reused = sig in dispatcher.overloads  # compiled already in this process
        with clock.phase("setup"):
            numba_setup.prepare()  # numba's set-up without its scipy.linalg import
            if "sgemm_into(" in source:
                numba_setup.load_blas()  # what its first call would import, lighter
        with numba_phases(clock, dispatcher):
            own = reused or not tiers.enabled() or tiers.has_code(dispatcher, sig)
        served = None  # the form that runs first, when it is not the own form
        if not own:
            def loaded_here(form, name):  # its machine code, loaded from the disk cache
                with numba_phases(clock, dispatcher):
                    return _compiled_form(form, fn_name, args, name)
            served, generic, quick = _other_forms(graph, source, fn_name, loaded,
                                                  invariant_inputs, clock, loaded_here)
        if served is None:  # compiled now: the own form, or on a cold start the quick one
            form = quick if quick is not None else loaded
            compiling = form.get(fn_name)
            with numba_phases(clock, compiling):
                _compile_here(compiling, _signature(args, form.sizes), source, form.path)
            hit = bool(sum(compiling.stats.cache_hits.values())) and not form.written
            served = Served(compiling, form.sizes, reused, "own" if form is loaded else "quick",
                            hit)
        executable = CpuExecutable(graph, served.function, args, row_split=generated.row_split,
                                   sizes=served.sizes,
                                   single_output=single_output, name=name,
                                   passes_report=passes_report, source=source, path=path,
                                   cache_hit=served.cache_hit, reused=served.reused,
                                   compile_seconds=time.perf_counter() - start,
                                   source_graph=source_graph, narrow=narrow,
                                   invariant_inputs=invariant_inputs)
        executable.form = served.form
        executable.compile_phases = clock.as_dict()
    except BaseException:
        for held in (module, getattr(quick, "module", None), getattr(generic, "module", None)):
            if held is not None:
                release(held)
        raise
    # the modules stay importable by name (numba's cache needs them) while the executable lives
    for held in (module, getattr(quick, "module", None), getattr(generic, "module", None)):
        if held is not None:
            attach(executable, held)
    if served.form != "own":
        _specialise_later(executable, dispatcher, sig, loaded, fn_name)
    if served.form != "size-generic" and tiers.enabled():
        _generic_later(executable, graph, fn_name, args, invariant_inputs, generic)
    return executable


class Served(NamedTuple):
    """The form of a function an executable runs first (``tiers.py``)."""

    function: object  # its numba dispatcher
    sizes: tuple      # the sizes it takes (() where it has none)
    reused: bool      # compiled in this process already
    form: str         # "own", "quick" or "size-generic"
    cache_hit: bool   # loaded from numba's disk cache


def _compile_here(dispatcher, sig, source: str, path) -> None:
    """Compile (or load) ``dispatcher`` for ``sig`` in this process, with the
    product kernels ``source`` calls. A damaged numba cache entry is not fatal:
    it is dropped and the function compiled."""
    try:
        _prepare_products(source)
        dispatcher.compile(sig)
    except Exception:
        clear_numba_cache(path)
        _prepare_products(source)
        dispatcher.compile(sig)


class Beside(NamedTuple):
    """A graph compiling in a child process (:func:`start_beside`)."""

    child: object
    module: object


def start_beside(graph, name: str, clock, invariant_inputs: int = 0):
    """Start compiling ``graph`` in a child process, as :func:`compile_cpu`
    (``split=False``) would compile it here, while this process compiles
    something else: a :class:`Beside` for :func:`finish_beside`, or None where
    no second core is free or child compiles are off (``tiers.enabled``).
    ``clock`` receives numba's set-up and cache lookup."""
    if not tiers.enabled():
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return None
    generated = generate(legalize_loops(graph), name or graph.name, invariant_inputs)
    fn_name, args = generated.fn_name, generated.args
    loaded = _own_form(generated.source, fn_name)
    dispatcher = loaded.get(fn_name)
    with clock.phase("setup"):
        numba_setup.prepare()  # before numba's cache index loads its registries
    with numba_phases(clock, dispatcher):  # numba's set-up, timed as such
        # the index only: compile_cpu loads the code
        if tiers.cached(dispatcher, _signature(args, loaded.sizes)):
            return Beside(None, loaded.module)  # compile_cpu runs the own form

    def indexed(form, name):
        return tiers.cached(form.get(fn_name), _signature(args, form.sizes))
    found, generic, quick = _other_forms(graph, generated.source, fn_name, loaded,
                                         invariant_inputs, clock, indexed)
    if generic is not None:
        release(generic.module)
    if quick is not None:  # what compile_cpu compiles on a cold start, where there is one
        release(loaded.module)
        loaded = quick
    if found:
        return Beside(None, loaded.module)  # compile_cpu runs the form found
    child = tiers.start_elsewhere(loaded.module, loaded.canonical.name(fn_name),
                                  _signature(args, loaded.sizes), nice=False)
    return Beside(child, loaded.module)


def finish_beside(beside, clock) -> None:
    """Wait for a :func:`start_beside` child (timed as ``beside``). A child that
    failed is let be: :func:`compile_cpu` then compiles the graph here."""
    if beside is None:
        return
    with clock.phase("beside"):
        if beside.child is not None:
            try:
                tiers.finish(beside.child)
            except RuntimeError:
                pass  # compiled here instead, where an error says what went wrong


def _own_form(source: str, fn_name: str):
    """The module of the graph's own form, the one it runs in the long run:
    its sizes past ``canonical.SMALL`` lifted (variants that differ only in
    those share it; the only form where child compiles are off)."""
    return load_module(source, fn_name, kind="cpu", lift=fn_name)


def _quick_form(source: str, fn_name: str, loaded):
    """The module of the graph's quick form (``tiers.py``), every size a literal,
    with one hold for the caller, or None: the own form ``loaded`` lifts none."""
    if not loaded.sizes:
        return None
    return load_module(source, fn_name, kind="cpu", lift=None)


def _generic_form(graph, fn_name: str, loaded, invariant_inputs: int):
    """The size-generic form of ``graph``'s function (``tiers.py``), with one
    hold for the caller, or None: child compiles off, or the function has no
    size to lift (``loaded``, its own form, if given, has the same text)."""
    if not tiers.enabled():
        return None
    # without the wide-vector line, a line drawn on the sizes (codegen.WIDE_ROWS):
    # models on either side of it share the size-generic form
    source = generate(graph, fn_name, invariant_inputs, wide=False).source
    generic = load_module(source, fn_name, kind="cpu", lift=fn_name, small=1)
    if not generic.sizes or (loaded is not None and generic.path == loaded.path):
        release(generic.module)
        return None
    return generic


def _other_forms(graph, source: str, fn_name: str, loaded, invariant_inputs: int, clock,
                 find):
    """Look for the form a function runs first when its own form (``loaded``) is
    not compiled (``tiers.py``): the size-generic form (a variant of a model
    compiled before), then the quick form (a cold start cut short).

    ``find(module, name)`` answers whether a form's machine code is there
    (``name``: "size-generic" or "quick"). Returns ``(found, generic, quick)``:
    the first truthy answer (or None) and the two forms' modules, each with
    one hold for the caller, or None where not made (the quick form is not
    made once the size-generic form is found) or not there to make.
    """
    generic = quick = None
    try:
        with clock.phase("cache"):  # the sources: not numba's time
            generic = _generic_form(graph, fn_name, loaded, invariant_inputs)
        found = find(generic, "size-generic") if generic is not None else None
        if not found:
            with clock.phase("cache"):
                quick = _quick_form(source, fn_name, loaded)
            if quick is not None:
                found = find(quick, "quick")
    except BaseException:
        for form in (generic, quick):
            if form is not None:
                release(form.module)
        raise
    return found or None, generic, quick


def _compiled_form(form, fn_name: str, args, name: str):
    """:class:`Served` for the quick or size-generic module ``form`` when its
    machine code is in this process or numba's disk cache, else None."""
    dispatcher = form.get(fn_name)
    sig = _signature(args, form.sizes)
    reused = sig in dispatcher.overloads
    if reused or tiers.has_code(dispatcher, sig):
        return Served(dispatcher, form.sizes, reused, name, not reused)
    return None


def _specialise_later(executable, dispatcher, sig, loaded, fn_name: str) -> None:
    """Compile the graph's own form in a child process; ``executable`` runs it
    from then on."""
    ref = weakref.ref(executable)
    hold(loaded.module)  # the job's own: the executable may go before the job runs

    def job():
        try:  # compiled even when the executable has gone: the next compile finds it
            if not tiers.cached(dispatcher, sig):
                tiers.compile_elsewhere(loaded.module, loaded.canonical.name(fn_name), sig)
            current = ref()
            if current is None:
                return
            if not tiers.has_code(dispatcher, sig):
                raise RuntimeError("its machine code is not in numba's cache")
            current.specialise(dispatcher, loaded.sizes)
        finally:
            release(loaded.module)

    tiers.submit(job, f"the own form of {fn_name}")


# seconds before a model whose own form was cached looks for its size-generic form
LAZY_DELAY = 0.5


def _generic_later(executable, graph, fn_name: str, args, invariant_inputs: int,
                   generic=None) -> None:
    """Make sure the size-generic form of ``graph``'s function is in numba's disk
    cache, for later variants: on the worker thread (its source is generated
    there unless ``generic`` holds it), compiled in a child process if it is
    not there yet. ``executable`` holds its module from then on."""
    ref = weakref.ref(executable)
    if generic is not None:
        hold(generic.module)  # the job's own

    def job():
        form = generic
        if form is None:  # made here even when the executable has gone: for later ones
            form = _generic_form(graph, fn_name, None, invariant_inputs)
            if form is None:
                return  # nothing to lift
            current = ref()
            if current is not None:
                hold(form.module)
                attach(current, form.module)
        try:
            dispatcher = form.get(fn_name)
            sig = _signature(args, form.sizes)
            if not tiers.cached(dispatcher, sig):
                tiers.compile_elsewhere(form.module, form.canonical.name(fn_name), sig)
        finally:
            release(form.module)

    # made in the foreground already (a cold compile): at once; else a check that
    # waits until the model's first calls are likely done
    tiers.submit(job, f"the size-generic form of {fn_name}",
                 delay=0.0 if generic is not None else LAZY_DELAY)


def _prepare_products(source: str) -> None:
    """Compile (or load) the product kernels ``source`` calls, and only those
    (cold: about a second each)."""
    if "gemm_serial(" in source or "pack_rhs(" in source:
        gemm.prepare()
    if "pack_rhs_t(" in source:
        gemm.prepare(transposed=True)
    if "sgemm_into(" in source:
        blas.prepare()
