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
        updates: writes to Variables, done by every call after the outputs
            are computed (the outputs see the values from before the call):
            ``(variable, new_value)`` pairs and the results of ``K.update``,
            ``K.update_add``, ``K.update_sub`` and ``K.moving_average_update``
            on symbolic values. They are compiled into the kernel, which
            stores into the Variables' arrays in place.
        name: the graph's name.
        target: ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'interpreter'``.

    Returns:
        An executable: ``f([x, y])`` -> list of ``np.ndarray``. Its ``.graph``
        is the optimised graph and ``.source`` the generated code.
    """
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
    writes = _writes(updates)
    graph = Graph(ins, outs + writes, name=name or "function")
    from ..lower import compile_graph
    executable = compile_graph(graph, target, single_output=single_output, name=name)
    executable.output_keys = keys
    return executable


def _writes(updates) -> list:
    """The ``assign`` tensors of ``updates`` (see :func:`function`)."""
    from ..ir.ops.state import build_assign
    from ..ir import Variable
    writes = []
    for i, u in enumerate(updates or ()):
        if isinstance(u, KerasTensor) and u.node.op == "assign":
            writes.append(u)
        elif isinstance(u, (tuple, list)) and len(u) == 2 and isinstance(u[0], Variable):
            writes.append(build_assign(u[0], u[1], f"function: updates[{i}]"))
        elif isinstance(u, Variable):
            raise TypeError(f"function: updates[{i}] is the Variable {u.name!r}: an update "
                            "made on concrete values ran already; give a (variable, "
                            "new_value) pair or K.update* of a symbolic value")
        else:
            raise TypeError(f"function: updates[{i}] must be a (variable, new_value) pair or "
                            f"the result of K.update/update_add/update_sub/"
                            f"moving_average_update on a symbolic value; received "
                            f"{type(u).__name__}")
    seen = {}
    for i, w in enumerate(writes):
        variable = w.node.inputs[0].node.attrs["variable"]
        if id(variable) in seen:
            raise ValueError(f"function: updates[{seen[id(variable)]}] and updates[{i}] both "
                             f"write Variable {variable.name!r}; expected one update per "
                             "Variable")
        seen[id(variable)] = i
    return writes
