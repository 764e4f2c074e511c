"""``plot_model`` / ``model_to_dot``: tf_keras's picture of a model.

One Graphviz ``record`` box per layer, labelled exactly as tf_keras labels
it (``dense|Dense``; with ``show_shapes`` the input and output shapes, with
``show_dtype`` the layer's dtype, with ``show_layer_activations`` the
activation), an arrow from each layer to the layers that read its output,
and, with ``expand_nested``, a dashed cluster per nested model. The compiled
op graph (one box per IR node, :func:`symkb.ir.to_dot`) is drawn instead
when asked with ``op_graph=True``, or when given a graph or an executable,
which have no layers. Rendering a picture needs Graphviz's ``dot`` program
(:mod:`symkb.utils.graphviz`); ``.dot`` files get the source.
"""
from __future__ import annotations

import re

from ..ir import Graph, to_dot
from .graphviz import GraphvizNotFoundError, output_format, render

# symkb.models and symkb.layers are imported inside the functions that draw a
# model: symkb.utils also holds helpers those packages import (atomic writes,
# safe_io, the progress bar), and importing one runs this package first.

__all__ = ["model_to_dot", "plot_model", "GraphvizNotFoundError"]


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(text: str) -> str:
    # record labels keep their backslash escapes (\{ in shapes): only quotes are escaped
    return '"' + str(text).replace('"', '\\"') + '"'


def _format_shape(shape) -> str:
    return str(shape).replace("{", r"\{").replace("}", r"\}")


def _wrapped(layer):
    """``(name, class name)`` of the layer a wrapper wraps, else ``None``."""
    inner = getattr(layer, "layer", None)
    if inner is not None and hasattr(inner, "name"):
        return inner.name, type(inner).__name__
    forward = getattr(layer, "forward_layer", None)
    if forward is not None:
        return forward.name[len("forward_"):] if forward.name.startswith("forward_") \
            else forward.name, type(forward).__name__
    return None


def _activation_name(layer):
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    return getattr(fn, "name", None) or getattr(fn, "__name__", None) or str(fn)


def _is_model(layer) -> bool:
    from ..models.functional import Model
    return isinstance(layer, Model)


def _layer_label(layer, opts) -> str:
    """The box label, built as tf_keras's ``model_to_dot`` builds it."""
    from ..layers.core import InputLayer
    from ..models.config import class_name_of
    name, class_name = layer.name, class_name_of(layer)
    wrapped = _wrapped(layer)
    if wrapped is not None:
        name, class_name = f"{name}({wrapped[0]})", f"{class_name}({wrapped[1]})"
    label = class_name
    if opts["show_layer_activations"]:
        act = _activation_name(layer)
        if act is not None:
            label = "{%s|%s}" % (label, act)
    if opts["show_layer_names"]:
        label = f"{name}|{label}"
    if opts["show_dtype"]:
        label = f"{label}|{getattr(layer, 'dtype', None) or '?'}"
    if opts["show_shapes"]:
        if isinstance(layer, InputLayer):
            shape = [tuple(layer.output.shape)]
            inputs = outputs = _format_shape(shape)
        else:
            try:
                outputs = _format_shape(layer.output_shape)
            except AttributeError:
                outputs = "?"
            try:
                inputs = _format_shape(layer.input_shape)
            except AttributeError:
                inputs = "?"
        label = "{%s}|{input:|output:}|{{%s}|{%s}}" % (label, inputs, outputs)
    if opts["show_trainable"]:
        label = f"{'T' if layer.trainable else 'NT'}|{label}"
    return label


def _plotted_layers(model) -> list:
    """The layers tf_keras draws: the model's Input layers first (a Sequential's
    ``layers`` leaves them out), then ``model.layers``."""
    from ..layers.base import history
    layers = list(model.layers)
    inputs = []
    for t in model.inputs:
        record = history(t)
        if record is not None and record.layer not in layers and record.layer not in inputs:
            inputs.append(record.layer)
    return inputs + layers


def _edges(model) -> list:
    """``(source layer, destination layer)`` for every tensor a layer call reads."""
    from ..layers.base import history
    from ..models.functional import _call_inputs
    edges = []
    for call in model._calls:
        for record_t in _call_inputs(call):
            src = model._records.get(record_t) or history(record_t)
            if src is not None and (src.layer, call.layer) not in edges:
                edges.append((src.layer, call.layer))
    return edges


class _Drawing:
    """Collects the lines of the picture (boxes, clusters, arrows)."""

    def __init__(self, opts):
        self.opts = opts
        self.lines = []
        self.first, self.last, self.ids = {}, {}, {}

    def model(self, model, prefix: str, indent: str, layer_range=None) -> None:
        layers = _plotted_layers(model)
        lo, hi = _range_bounds(layers, layer_range) if layer_range is not None else \
            (0, len(layers))
        for i, layer in enumerate(layers):
            if not lo <= i < hi:
                continue
            if self.opts["expand_nested"] and _is_model(layer):
                sub_prefix = f"{prefix}{layer.name}/"
                self.lines.append(f"{indent}subgraph {_quote('cluster_' + layer.name)} {{")
                inner = indent + "  "
                self.lines.append(f"{inner}label={_quote(layer.name)};")
                self.lines.append(f"{inner}labeljust=l;")
                self.lines.append(f"{inner}style=dashed;")
                start = len(self.ids)
                self.model(layer, sub_prefix, inner)
                ids = list(self.ids.values())[start:]
                self.first[layer], self.last[layer] = ids[0], ids[-1]
                self.lines.append(f"{indent}}}")
                continue
            node_id = f"{prefix}{layer.name}"
            self.ids[(prefix, layer)] = node_id
            self.lines.append(f"{indent}{_quote(node_id)} "
                              f"[label={_label(_layer_label(layer, self.opts))}];")
        for src, dst in _edges(model):
            i_src, i_dst = layers.index(src), layers.index(dst)
            if not (lo <= i_src < hi and lo < i_dst < hi) and layer_range is not None:
                continue
            a = self.last.get(src) or self.ids[(prefix, src)]
            b = self.first.get(dst) or self.ids[(prefix, dst)]
            edge = f"{indent}{_quote(a)} -> {_quote(b)};"
            if edge not in self.lines:
                self.lines.append(edge)


def _range_bounds(layers, layer_range):
    """tf_keras's ``layer_range``: two layer names (or regexes), both included."""
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2 or \
            not all(isinstance(n, str) for n in layer_range):
        raise ValueError("plot_model: layer_range must be a list of two layer names (or "
                         f"regex patterns); received {layer_range!r}")
    lows = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    highs = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lows or not highs:
        raise ValueError(f"plot_model: layer_range {list(layer_range)!r} names no layer of "
                         f"the model; its layers are {[layer.name for layer in layers]}")
    if min(lows) > max(highs):
        return min(highs), max(lows) + 1
    return min(lows), max(highs) + 1


def _graph_of(obj):
    if isinstance(obj, Graph):
        return obj
    graph = getattr(obj, "graph", None)
    if isinstance(graph, Graph):
        return graph
    raise TypeError("plot_model: expected a symkb model, an executable from K.function / "
                    "symkb.compile, or a symkb.ir.Graph; received "
                    f"{type(obj).__name__}")


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 96, layer_range=None,
                 show_layer_activations: bool = False, show_trainable: bool = False, *,
                 op_graph: bool = False, show_attrs: bool = True) -> str:
    """The Graphviz source of :func:`plot_model`'s picture (same arguments).

    Returns:
        DOT text: one ``record`` box per layer labelled as tf_keras labels it,
        or with ``op_graph`` (or for a graph / executable) the op graph.

    Raises:
        ValueError: an unbuilt model, a bad ``rankdir`` or ``layer_range``.
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"plot_model: rankdir must be 'TB', 'LR', 'BT' or 'RL'; "
                         f"received {rankdir!r}")
    if op_graph or not _is_model(model):
        if layer_range is not None:
            raise ValueError("plot_model: layer_range picks layers, and the op graph is drawn "
                             f"node by node; received layer_range={layer_range!r}. Plot the "
                             "model's layers (op_graph=False) or build a Model over the "
                             "layers you want.")
        return to_dot(_graph_of(model), show_shapes=show_shapes or show_dtype,
                      show_layer_names=show_layer_names, show_attrs=show_attrs,
                      group_layers=show_layer_names, expand_bodies=expand_nested,
                      rankdir=rankdir, dpi=dpi)
    if not getattr(model, "built", True) or getattr(model, "_nested_inputs", None) is None:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")
    opts = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                show_layer_names=show_layer_names, expand_nested=expand_nested,
                show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    drawing = _Drawing(opts)
    drawing.model(model, "", "  ", layer_range)
    head = [f"digraph {_quote(model.name)} {{", f"  rankdir={rankdir};",
            "  concentrate=true;", f"  dpi={int(dpi)};", "  node [shape=record];"]
    return "\n".join(head + drawing.lines + ["}"]) + "\n"


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 96, layer_range=None,
               show_layer_activations: bool = False, show_trainable: bool = False, *,
               op_graph: bool = False, show_attrs: bool = True) -> str:
    """Draw ``model`` as tf_keras does: one box per layer, arrows between them.

    Args:
        model: a built model; a graph or an executable draws its op graph.
        to_file: the output file; its extension picks the format (``.png``,
            ``.svg``, ``.pdf``, ...; ``.dot``/``.gv`` write the Graphviz source).
        show_shapes: each box shows the layer's input and output shapes.
        show_dtype: each box shows the layer's dtype.
        show_layer_names: each box shows the layer's name.
        rankdir: ``'TB'`` (top to bottom), ``'LR'`` (left to right), ``'BT'``, ``'RL'``.
        expand_nested: draw nested models as dashed clusters of their layers.
        dpi: the picture's resolution.
        layer_range: two layer names (or regexes): draw only that stretch.
        show_layer_activations: boxes of layers with an ``activation`` name it.
        show_trainable: boxes start with ``T`` (trainable) or ``NT``.
        op_graph: draw the compiled op graph (one box per IR node) instead.
        show_attrs: in the op graph, node attributes in the boxes.

    Returns:
        ``to_file``.

    Raises:
        GraphvizNotFoundError: (an ``ImportError``) a picture was asked for and
            Graphviz's ``dot`` program is not installed; the message says how
            to install it.
        ValueError: an unknown extension, an unbuilt model, a bad option.
    """
    output_format(to_file, "plot_model")  # refuse a bad extension before drawing
    source = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                          show_layer_names=show_layer_names, rankdir=rankdir,
                          expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                          show_layer_activations=show_layer_activations,
                          show_trainable=show_trainable, op_graph=op_graph,
                          show_attrs=show_attrs)
    return render(source, to_file, "plot_model")
