"""``model.summary()``: the Keras-style table of layers, shapes and parameters."""
from __future__ import annotations

import numpy as np

from ..ir.safe_text import escape_controls


def _format_shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(shape)) if len(shape) != 1 else f"({shape[0]},)"


def _print_row(fields, positions, print_fn):
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
            fit = left[col][:cutoff]
            breaks = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if breaks:
                cutoff = min(breaks)
                fit = fit[:cutoff]
            if col == 0:
                line += " "
            line += fit
            line += " " * space
            left[col] = left[col][cutoff:]
            line += " " * (positions[col] - len(line))
        print_fn(line)


def _bytes(count: int, itemsize: int = 4) -> str:
    size = float(count * itemsize)
    for unit in ("Byte", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _count(weights) -> int:
    seen, total = set(), 0
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            total += int(np.prod(w.shape, dtype=np.int64))
    return total


def summarize(model, line_length=None, positions=None, print_fn=None) -> None:
    """Print the summary of ``model`` (Sequential or functional) with ``print_fn``."""
    print_fn = print_fn or print
    rows = model._summary_rows()
    connected = model._summary_has_connections()
    if connected:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.70, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    else:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print_fn(f'Model: "{escape_controls(str(model.name), keep_newlines=False)}"')
    print_fn("_" * line_length)
    _print_row(header, positions, print_fn)
    print_fn("=" * line_length)
    for i, row in enumerate(rows):
        fields = [f"{row['name']} ({row['class_name']})", _format_shape(row["shape"]),
                  row["params"]]
        if connected:
            fields.append(row.get("connected", []))
        _print_row(fields, positions, print_fn)
        print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    total = trainable + non_trainable
    print_fn(f"Total params: {total} ({_bytes(total)})")
    print_fn(f"Trainable params: {trainable} ({_bytes(trainable)})")
    print_fn(f"Non-trainable params: {non_trainable} ({_bytes(non_trainable)})")
    print_fn("_" * line_length)
