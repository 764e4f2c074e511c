"""How a model travels to a worker: its graph as JSON, its weights as arrays.

A :class:`Payload` is data only. The graph is the document
:func:`symkb.ir.to_json` writes, without values; the weights travel beside it
as numpy arrays, in the document's ``variables`` order. A worker rebuilds the
graph with :func:`symkb.ir.from_json` (which checks the document as the
untrusted data it is) and compiles it once per process (:func:`executable`):
no code is pickled, and the compile itself hits symkb's and numba's disk
caches when another process of the machine compiled the same graph before.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Variable
from ..ir.serialize import split_values


@dataclass(frozen=True, eq=False)
class Payload:
    """A compiled model's recipe: what a worker needs and nothing more.

    Attributes:
        graph_json: the graph document, without variable values.
        weights: the variables' values, in the document's order.
        target: the compile target on the worker.
        single_output: whether the model gives one array (else a list).
        key: a digest of all of the above: two payloads with the same key
            compile to the same executable.
    """

    graph_json: str
    weights: tuple
    target: str
    single_output: bool
    key: str

    @property
    def nbytes(self) -> int:
        """The weights' size in bytes."""
        return sum(w.nbytes for w in self.weights)

    def graph(self) -> Graph:
        """The graph, rebuilt from the document (checked as untrusted data)."""
        from ..ir import from_json
        try:
            doc = json.loads(self.graph_json)
        except (TypeError, ValueError):
            doc = None  # from_json says what is wrong with it
        entries = doc.get("variables") if isinstance(doc, dict) else None
        given = {}
        if isinstance(entries, list):
            if len(entries) != len(self.weights):
                raise ValueError(f"Payload: the graph document names {len(entries)} "
                                 f"variable(s) but {len(self.weights)} weight array(s) came "
                                 "with it")
            for entry, value in zip(entries, self.weights):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    given[entry["name"]] = Variable(value, value.dtype.name, name=entry["name"],
                                                    trainable=bool(entry.get("trainable", True)))
        return from_json(self.graph_json, given, source="the model's graph JSON")


def digest(graph_json: str, weights, target: str, single_output: bool) -> str:
    """The payload key: sha256 of the document, the weights' bytes and the target."""
    h = hashlib.sha256()
    h.update(graph_json.encode())
    for w in weights:
        h.update(f"{w.dtype.str}{w.shape}".encode())
        h.update(np.ascontiguousarray(w).tobytes())
    h.update(f"{target}:{single_output}".encode())
    return h.hexdigest()


def payload_of(model_or_graph, target: str = "cpu") -> Payload:
    """The payload of a model, a ``K.function`` / ``symkb.compile`` result or a graph.

    The document is read back here, on the client, before anything is sent:
    a graph that does not survive JSON fails now, with the reason, and not
    on every worker.
    """
    if isinstance(model_or_graph, Payload):
        return model_or_graph
    from ..compile import _as_graph
    graph, single = _as_graph(model_or_graph)
    graph = getattr(model_or_graph, "source_graph", None) or graph  # before the passes
    if single is None:
        single = len(graph.outputs) == 1
    doc, variables = split_values(graph)
    names: dict = {}
    for i, entry in enumerate(doc["variables"]):  # names must pick one variable each
        if entry["name"] in names:
            entry["name"] = f"{entry['name']}#{i}"
        names[entry["name"]] = i
    weights = tuple(np.ascontiguousarray(v.value()) for v in variables)
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    payload = Payload(text, weights, target, bool(single),
                      digest(text, weights, target, bool(single)))
    payload.graph()  # fails here, on the client, when the document does not read back
    return payload


class _Memo:
    """This process's executables, by payload key: one compile per process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.executables: dict = {}
        self.compiles = 0

    def get(self, payload: Payload):
        with self.lock:  # the threads of one worker wait for one compile
            exe = self.executables.get(payload.key)
            if exe is None:
                from ..lower import compile_graph
                exe = compile_graph(payload.graph(), payload.target,
                                    single_output=payload.single_output)
                self.executables[payload.key] = exe
                self.compiles += 1
            return exe


MEMO = _Memo()


def executable(payload: Payload):
    """This process's executable for ``payload`` (compiled on first use)."""
    return MEMO.get(payload)


def stats() -> dict:
    """What this process compiled: ``{"compiles": n, "models": [keys]}``."""
    with MEMO.lock:
        return {"compiles": MEMO.compiles, "models": sorted(MEMO.executables)}
