"""``plot_model``: draw a model's (or graph's) IR with Graphviz.

The drawing is :func:`symkb.ir.to_dot`: one box per IR node, value types on
the edges, loop bodies as clusters, and (by default) the nodes of each layer
grouped in a dashed cluster named after the layer. Rendering needs the
Graphviz ``dot`` program; without it :func:`plot_model` still writes the
``.dot`` source and raises :class:`GraphvizNotFoundError` saying how to
install Graphviz. No Python Graphviz binding is needed.
"""
from __future__ import annotations

import os
import shutil
import subprocess

_INSTALL = ("Install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: "
            "`brew install graphviz`; conda: `conda install graphviz`; Windows and others: "
            "https://graphviz.org/download/) so that the `dot` program is on PATH")


class GraphvizNotFoundError(ImportError):
    """The Graphviz ``dot`` program is needed to render an image and was not found."""


def _graph_of(model_or_graph):
    from ..ir import Graph
    if isinstance(model_or_graph, Graph):
        return model_or_graph
    graph = getattr(model_or_graph, "graph", None)
    if isinstance(graph, Graph):
        return graph
    raise TypeError("plot_model: expected a symkb model (with a .graph), an executable from "
                    "K.function / symkb.compile, or a symkb.ir.Graph; received "
                    f"{type(model_or_graph).__name__}")


def model_to_dot(model_or_graph, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = True,
                 dpi: int = 96, layer_range=None, show_layer_activations: bool = False,
                 show_trainable: bool = False, *, group_layers: bool = True,
                 show_attrs: bool = True) -> str:
    """The Graphviz source :func:`plot_model` renders (a string); same arguments."""
    from ..ir import to_dot
    if layer_range is not None:
        raise ValueError("plot_model: layer_range is not supported (symkb draws the op graph); "
                         f"received {layer_range!r}. Build a Model over the layers you want "
                         "and plot that.")
    del show_layer_activations, show_trainable  # activations are ops: always drawn
    return to_dot(_graph_of(model_or_graph), show_shapes=show_shapes or show_dtype,
                  show_layer_names=show_layer_names, show_attrs=show_attrs,
                  group_layers=group_layers and show_layer_names, expand_bodies=expand_nested,
                  rankdir=rankdir, dpi=dpi)


def plot_model(model_or_graph, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = True, dpi: int = 96, layer_range=None,
               show_layer_activations: bool = False, show_trainable: bool = False, *,
               group_layers: bool = True, show_attrs: bool = True):
    """Draw ``model_or_graph`` to ``to_file`` with Graphviz (tf_keras's signature).

    symkb draws the op graph: one box per IR node, the nodes of each layer in
    a dashed cluster named after the layer (``show_layer_names``), loop
    bodies as clusters.

    Args:
        model_or_graph: a model, an executable (anything with a ``.graph``)
            or a :class:`symkb.ir.Graph`.
        to_file: the output file; its extension picks the format (``.png``,
            ``.svg``, ``.pdf``, ...; ``.dot``/``.gv`` writes the source only).
        show_shapes: value types (shape and dtype) on the edges and in the boxes.
        show_dtype: the same as ``show_shapes`` (types always carry both).
        show_layer_names: group nodes by layer.
        rankdir: ``'TB'`` (top to bottom) or ``'LR'`` (left to right).
        expand_nested: draw loop bodies and fused groups inside their node
            (unlike tf_keras, on by default: they are the model's recurrences).
        dpi: image resolution.
        layer_range: not supported (``ValueError`` unless ``None``).
        show_layer_activations, show_trainable: accepted for tf_keras
            compatibility; activations are drawn as ops anyway.
        group_layers: cluster the nodes of each layer (with ``show_layer_names``).
        show_attrs: node attributes in the boxes.

    Returns:
        The path of the written file (``to_file``).

    Raises:
        GraphvizNotFoundError: (an ``ImportError``) when ``dot`` is not
            installed; the ``.dot`` source has then been written next to
            ``to_file`` and the message says how to install Graphviz.
    """
    source = model_to_dot(model_or_graph, show_shapes=show_shapes, show_dtype=show_dtype,
                          show_layer_names=show_layer_names, rankdir=rankdir,
                          expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                          show_layer_activations=show_layer_activations,
                          show_trainable=show_trainable, group_layers=group_layers,
                          show_attrs=show_attrs)
    to_file = os.fspath(to_file)
    root, ext = os.path.splitext(to_file)
    fmt = ext[1:].lower() or "png"
    if fmt in ("dot", "gv"):
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(source)
        return to_file
    dot_file = root + ".dot"
    with open(dot_file, "w", encoding="utf-8") as f:
        f.write(source)
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFoundError(
            f"plot_model: the Graphviz `dot` program was not found, so {to_file!r} could not be "
            f"rendered. The Graphviz source was written to {dot_file!r}. {_INSTALL}, then call "
            f"plot_model again or run `dot -T{fmt} {dot_file} -o {to_file}`.")
    result = subprocess.run([program, f"-T{fmt}", dot_file, "-o", to_file],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"plot_model: `dot -T{fmt}` failed (exit {result.returncode}): "
                           f"{result.stderr.strip()}; the source is in {dot_file!r}")
    os.remove(dot_file)
    return to_file
