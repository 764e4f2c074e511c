"""The cuda target's executable: device-resident values, one copy in, one copy out.

A call uploads each input once, reuses the device copy of every weight
(``param``) until its Variable changes, runs the lowered steps (each a kernel
launch on device arrays) and downloads each output once. Intermediates live
only on the device and are released after their last use.
"""
from __future__ import annotations

import numpy as np

from ..emitters import merge, registrar
from ..executable import Executable
from ..payloads import ParamSpecs
from . import adapter, elementwise, linalg, movement, reduce, rnn, windows
from .program import Lowering
from .source import KernelModule

_HOST: dict = {}  # the ops the executable itself provides
emitter = registrar(_HOST)


@emitter("input", "param")
def _lower_source(low, node):
    """Inputs and parameters are placed in the environment by the executable."""


@emitter("const")
def _lower_const(low, node):
    low.upload_const(node.outputs[0])


@emitter("assign")
def _lower_assign(low, node):
    """The new value stays on the device as the Variable's copy (``CudaExecutable._run``
    stores it after every result is computed; the kernels never write a weight)."""
    value, out = node.inputs[1], node.outputs[0]

    def run(env):
        env[out] = env[value]
    low.add(run, reads=[value], label="assign")


# The cuda target's table, op -> emitter: each kernel module declares its own.
EMITTERS = merge("cuda", _HOST, elementwise.EMITTERS, linalg.EMITTERS, movement.EMITTERS,
                 reduce.EMITTERS, rnn.EMITTERS, windows.EMITTERS)


class _WeightCache:
    """Device copies of Variables, re-uploaded only when the value changed.

    A Variable's ``version`` counter (bumped by ``assign``) decides when it
    has one; otherwise the bytes are compared with the copy last uploaded.
    """

    def __init__(self):
        self._entries = {}

    def get(self, variable):
        value = variable.value()
        version = getattr(variable, "version", None)
        key = id(variable)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is variable:
            _, old_id, old_version, host, device = entry
            if version is not None:
                if version == old_version and old_id == id(value):
                    return device
            elif old_id == id(value) and np.array_equal(host, value):
                return device
        device = adapter.to_device(value)
        host = None if version is not None else np.array(value, copy=True)
        self._entries[key] = (variable, id(value), version, host, device)
        self.uploads += 1
        return device

    uploads = 0

    def put(self, variable, device) -> None:
        """``device`` is now the copy of ``variable``'s current value (an assign)."""
        self._entries[id(variable)] = (variable, id(variable.value()), variable.version, None,
                                       device)


class CudaExecutable(Executable):
    """A graph compiled to numba.cuda kernels (see the module docstring)."""

    target = "cuda"

    def __init__(self, graph, *, lowered_graph=None, single_output=False, name=None,
                 passes_report=None, strategy="auto"):
        adapter.require_device()
        lowered_graph = lowered_graph or graph
        super().__init__(graph, single_output=single_output, name=name,
                         passes_report=passes_report)
        self.lowered_graph = lowered_graph
        self.module = KernelModule(self.name)
        self.lowering = Lowering(lowered_graph, self.module, options={"strategy": strategy},
                                 emitters=EMITTERS).lower()
        self.module.compile()
        self.source = self.module.source
        self.weights = _WeightCache()
        self._params = [n for n in lowered_graph.nodes if n.op == "param"]
        # the kernels index each weight up to its declared shape: checked every call
        self._specs = ParamSpecs(self.name, lowered_graph,
                                 [n.attrs["variable"] for n in self._params])

    def _run(self, arrays) -> list:
        g = self.lowered_graph
        self._ran_on("kernel")
        env = {}
        self._specs.values()
        for t, a in zip(g.inputs, arrays):
            env[t] = adapter.to_device(a)
        for node in self._params:
            env[node.outputs[0]] = self.weights.get(node.attrs["variable"])
        self.lowering.run(env)
        results = [adapter.to_host(env[t]) for t in g.outputs]
        for k, variable in self.writes:  # after every result: the host copy, then the device's
            variable.value()[...] = results[k]
            variable.version += 1
            self.weights.put(variable, env[g.outputs[k]])
        return results


def supported_ops() -> set:
    """The ops the cuda target can compile (kernels and decompositions)."""
    return set(EMITTERS)
