"""Rendering Graphviz source to a file: the output format from the file's
extension, the picture drawn by Graphviz's ``dot`` program.

No Python binding is needed, only the ``dot`` executable on ``PATH``;
without it the source is written to a ``.dot`` file beside the picture's
name and the error says how to install Graphviz.
"""
from __future__ import annotations

import os
import shutil
import subprocess

# The formats every Graphviz build writes (cairo's bmp/tiff are optional), by extension.
FORMATS = {"png": "png", "svg": "svg", "pdf": "pdf", "jpg": "jpg", "jpeg": "jpeg",
           "gif": "gif", "ps": "ps", "eps": "eps", "json": "json"}
SOURCE_EXTENSIONS = ("dot", "gv")

INSTALL = ("Install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: "
           "`brew install graphviz`; conda: `conda install graphviz`; others: "
           "https://graphviz.org/download/) so that its `dot` program is on PATH")


class GraphvizNotFoundError(ImportError):
    """The Graphviz ``dot`` program is needed to render a picture and was not found."""


def output_format(to_file: str, who: str) -> str:
    """The Graphviz format of ``to_file``'s extension (``'dot'`` for ``.dot``/``.gv``
    source, ``'png'`` when there is no extension).

    Raises:
        ValueError: for an extension Graphviz is not asked to write, naming ``who``.
    """
    ext = os.path.splitext(os.fspath(to_file))[1][1:].lower()
    if not ext:
        return "png"
    if ext in SOURCE_EXTENSIONS:
        return "dot"
    if ext in FORMATS:
        return FORMATS[ext]
    known = ", ".join(f".{e}" for e in (*SOURCE_EXTENSIONS, *FORMATS))
    raise ValueError(f"{who}: cannot write {os.fspath(to_file)!r}: unknown extension .{ext}. "
                     f"Expected one of {known} (.dot and .gv write the Graphviz source, "
                     "the others a picture drawn by Graphviz).")


def render(source: str, to_file, who: str) -> str:
    """Write ``source`` to ``to_file``: the text for ``.dot``/``.gv``, else the
    picture ``dot`` draws in the extension's format.

    Args:
        source: Graphviz DOT text.
        to_file: the output path.
        who: the caller's name, for messages (``'plot_model'``).

    Returns:
        ``to_file``.

    Raises:
        ValueError: an extension Graphviz does not write.
        GraphvizNotFoundError: (an ``ImportError``) no ``dot`` program on PATH:
            the source has been written beside ``to_file`` (``.dot``) and the
            message says how to install Graphviz.
        RuntimeError: ``dot`` failed (its message is included).
    """
    to_file = os.fspath(to_file)
    fmt = output_format(to_file, who)
    if fmt == "dot":
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(source)
        return to_file
    program = shutil.which("dot")
    if program is None:
        dot_file = os.path.splitext(to_file)[0] + ".dot"
        with open(dot_file, "w", encoding="utf-8") as f:
            f.write(source)
        raise GraphvizNotFoundError(
            f"{who}: drawing {to_file!r} needs Graphviz, whose `dot` program was not found "
            f"on PATH. The Graphviz source was written to {dot_file!r}. {INSTALL}, then try "
            f"again or run `dot -T{fmt} {dot_file} -o {to_file}`.")
    result = subprocess.run([program, f"-T{fmt}", "-o", to_file], input=source,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{who}: Graphviz `dot -T{fmt}` failed (exit {result.returncode}): "
                           f"{result.stderr.strip()}")
    return to_file
