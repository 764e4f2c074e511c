"""symkb's graph IR: the ground floor (it imports numpy only).

* :class:`Node`, :class:`KerasTensor` (``symkb/ir/node.py``): frozen nodes and
  their result values;
* :class:`Graph` (``graph.py``): a closed computation, nodes in topological
  order, nested bodies reached through :meth:`Graph.walk`;
* the op registry (``registry.py``) and the op catalogue (``ops/``): each op's
  type rule and numpy reference;
* :func:`call` (``build.py``): eager or symbolic, chosen in one place;
* :func:`verify`, :func:`format_graph` (``print(graph)``) and :func:`parse`;
* reverse mode: :func:`vjp` (gradients of output tensors) and :func:`grad`
  (the gradient graph of a graph), applying each op's ``grad`` rule;
  :func:`recompute_loop_steps` has loop gradients save only the states,
  :func:`checkpoint_loops` only every k-th step's states;
* loading untrusted documents: :mod:`limits` (sizes, nesting, the error
  boundary) and one error family, :class:`FileFormatError`;
* exchange and inspection: :func:`to_json`/:func:`from_json`,
  :func:`to_networkx`/:func:`from_networkx`, :func:`to_dot`, :func:`stats`,
  :func:`op_histogram`, :func:`ancestors`, :func:`critical_path`.
"""
from . import ops as _ops  # noqa: F401  (registers the op catalogue)
from .build import (as_tensor, autocast_variables, call, const, is_symbolic,  # noqa: F401
                    layer_scope, placeholder_node)
from . import limits
from .errors import (DTypeError, FileFormatError, LimitError, ShapeError, SymbolicValueError,
                     VerifyError)
from .graph import Graph, evaluate, run_node
from .gradients import checkpoint_loops, grad, vjp
from .ops.scan_grad import recompute_loop_steps
from .node import KerasTensor, Node
from .export import from_networkx, to_dot, to_networkx
from .parse import ParseError, parse
from .printer import format_graph
from .query import ancestors, critical_path, op_histogram
from .json_read import from_json
from .serialize import GraphFormatError, to_json
from .stats import GraphStats, stats
from .registry import REGISTRY, NoGradient, OpDef, get_op, register
from .replay import replay
from .types import TensorType, broadcast_shapes
from .variable import Variable
from .verify import verify

__all__ = [
    "Graph", "Node", "KerasTensor", "Variable", "TensorType", "OpDef", "REGISTRY",
    "register", "get_op", "call", "const", "as_tensor", "is_symbolic", "layer_scope",
    "placeholder_node", "evaluate", "run_node", "verify", "format_graph", "broadcast_shapes",
    "replay", "parse", "ParseError", "to_json", "from_json", "GraphFormatError",
    "to_networkx", "from_networkx", "to_dot", "stats", "GraphStats", "op_histogram",
    "ancestors", "critical_path", "ShapeError", "DTypeError", "VerifyError", "SymbolicValueError",
    "FileFormatError", "LimitError", "limits", "grad", "vjp", "recompute_loop_steps", "NoGradient",
    "checkpoint_loops",
]
