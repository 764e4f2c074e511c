"""``model.summary()``: the Keras-style table of layers, shapes and parameters.

The text is tf_keras's, character for character: the same column layout
(``line_length``, ``positions``), the ``Connected to`` column for models that
are not a simple chain, a ``Trainable`` column (``show_trainable``), nested
models expanded in a box (``expand_nested``), a slice of the layers
(``layer_range``) and parameter memory from each weight's dtype (float64
weights count 8 bytes).
"""
from __future__ import annotations

import re

import numpy as np

from ..ir.safe_text import escape_controls


def _format_shape(shape) -> str:
    if isinstance(shape, str):
        return shape
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(shape)) if len(shape) != 1 else f"({shape[0]},)"


def _print_row(fields, positions, print_fn, nested_level=0):
    # names come from files too: no control codes or line breaks reach the terminal
    left = [escape_controls(str(f), keep_newlines=False) for f in fields]
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col > 0 else 0
            end = positions[col]
            space = 2 if col != len(positions) - 1 else 0
            cutoff = end - start - space
            if col != len(positions) - 1:
                cutoff -= 1
            if col == 0:
                cutoff -= nested_level
            fit = left[col][:cutoff]
            breaks = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if breaks:
                cutoff = min(breaks)
                fit = fit[:cutoff]
            if col == 0:
                line += "|" * nested_level + " "
            line += fit
            line += " " * space
            left[col] = left[col][cutoff:]
            if nested_level and col == len(positions) - 1:
                line += " " * (positions[col] - len(line) - nested_level)
            else:
                line += " " * (positions[col] - len(line))
        line += "|" * nested_level
        print_fn(line)


def readable_memory_size(size: float) -> str:
    """``size`` bytes as tf_keras prints them (``'16.42 KB'``)."""
    for unit in ("Byte", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _unique(weights) -> list:
    return list({id(w): w for w in weights}.values())


def _count(weights) -> int:
    return sum(int(np.prod(w.shape, dtype=np.int64)) for w in _unique(weights))


def _memory(weights) -> int:
    return sum(int(np.prod(w.shape, dtype=np.int64)) * np.dtype(w.dtype).itemsize
               for w in _unique(weights))


def layer_range_bounds(model, layer_range) -> tuple:
    """``[first, last + 1]`` indices into ``model.layers`` for ``layer_range``.

    Args:
        model: the model.
        layer_range: ``None`` (every layer) or two names or regular
            expressions (matched with ``re.match``): the first layer matching
            the first, the last layer matching the second (both included).

    Raises:
        ValueError: when ``layer_range`` is not two strings, or matches no layer.
    """
    names = [layer.name for layer in model.layers]
    if layer_range is None:
        return 0, len(names)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not all(isinstance(p, str) for p in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, n in enumerate(names) if re.match(layer_range[0], n)]
    upper = [i for i, n in enumerate(names) if re.match(layer_range[1], n)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summarize(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
              show_trainable=False, layer_range=None) -> None:
    """Print the summary of ``model`` (Sequential or functional) with ``print_fn``.

    Args:
        model: the model.
        line_length: the width of the table (default 65, or 98 with the
            ``Connected to`` column).
        positions: the columns' right edges, as fractions of the width or
            absolute positions.
        print_fn: called with each line (default ``print``).
        expand_nested: also list the layers of nested models, boxed.
        show_trainable: add a ``Trainable`` column (``Y``/``N``).
        layer_range: two layer names or patterns; see :func:`layer_range_bounds`.
    """
    print_fn = print_fn or print
    connected = model._summary_has_connections()
    if connected:
        line_length = line_length or 98
        positions = list(positions or [0.3, 0.6, 0.70, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    else:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")
    first, stop = layer_range_bounds(model, layer_range)

    def print_layer(row, level=0, is_last=False):
        fields = [f"{row['name']} ({row['class_name']})", _format_shape(row["shape"]),
                  row["params"]]
        if connected:
            # rows of a nested model are not calls of this model: tf_keras
            # shows no connections for them
            fields.append(row.get("connected", []) if level == 0 else [])
        if show_trainable:
            fields.append("Y" if row["layer"].trainable else "N")
        _print_row(fields, positions, print_fn, level)
        inner = getattr(row["layer"], "_summary_rows", None)
        if expand_nested and inner is not None and row["layer"].layers:
            print_fn("|" * (level + 1) + "\u00af" * (line_length - 2 * level - 2)
                     + "|" * (level + 1))
            rows = inner()
            for i, sub in enumerate(rows):
                print_layer(sub, level + 1, i == len(rows) - 1)
            print_fn("|" * level + "\u00af" * (line_length - 2 * level) + "|" * level)
            is_last = True  # tf_keras prints no blank row after a box
        if not is_last:
            print_fn("|" * level + " " * (line_length - 2 * level) + "|" * level)

    print_fn(f'Model: "{escape_controls(str(model.name), keep_newlines=False)}"')
    print_fn("_" * line_length)
    _print_row(header, positions, print_fn)
    print_fn("=" * line_length)
    for row in model._summary_rows()[first:stop]:
        print_layer(row)
    print_fn("=" * line_length)
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    n_train, n_frozen = _count(trainable), _count(non_trainable)
    m_train, m_frozen = _memory(trainable), _memory(non_trainable)
    print_fn(f"Total params: {n_train + n_frozen} ({readable_memory_size(m_train + m_frozen)})")
    print_fn(f"Trainable params: {n_train} ({readable_memory_size(m_train)})")
    print_fn(f"Non-trainable params: {n_frozen} ({readable_memory_size(m_frozen)})")
    print_fn("_" * line_length)
