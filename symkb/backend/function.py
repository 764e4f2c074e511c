"""``K.function``: a callable computing ``outputs`` from ``inputs``."""
from __future__ import annotations

from ..ir import Graph, KerasTensor


def function(inputs, outputs, updates=None, name=None, target="auto", **kwargs):
    """Compile the graph from ``inputs`` to ``outputs``.

    Args:
        inputs: a placeholder/Input or a list of them.
        outputs: a KerasTensor, a list of them, or a dict of them (a single
            tensor gives a single array when called, a dict a dict of arrays
            under the same keys).
        updates: not supported (symkb does not train); must be None or empty.
        name: the graph's name.
        target: ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'interpreter'``.

    Returns:
        An executable: ``f([x, y])`` -> list of ``np.ndarray``. Its ``.graph``
        is the optimised graph and ``.source`` the generated code.
    """
    if updates:
        raise ValueError("function: `updates` are not supported (symkb runs inference only); "
                         f"received {len(updates)} update(s)")
    if kwargs:
        raise ValueError(f"function: unexpected keyword arguments {sorted(kwargs)}")
    single_input = isinstance(inputs, KerasTensor)
    ins = [inputs] if single_input else list(inputs)
    single_output = isinstance(outputs, KerasTensor)
    keys = list(outputs) if isinstance(outputs, dict) else None
    outs = [outputs] if single_output else [outputs[k] for k in keys] if keys is not None \
        else list(outputs)
    for kind, seq in (("inputs", ins), ("outputs", outs)):
        for i, t in enumerate(seq):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"function: {kind}[{i}] must be a KerasTensor (a placeholder, "
                                f"Input or op output), received {type(t).__name__}")
    graph = Graph(ins, outs, name=name or "function")
    from ..lower import compile_graph
    executable = compile_graph(graph, target, single_output=single_output, name=name)
    executable.output_keys = keys
    return executable
