"""``symkb inspect FILE``: what a saved model or graph holds.

FILE is a model saved with ``model.save(path)`` (a folder or a zip archive,
whatever its name),
a model's ``to_json()`` text, or a graph's ``symkb.ir.to_json`` document.
Prints the model summary (for models), the graph statistics and the IR;
``--dot OUT`` draws the op graph: ``.dot``/``.gv`` get the Graphviz source,
``.png``/``.svg``/``.pdf``/... a picture (which needs Graphviz's ``dot``
program), any other extension is refused; ``--passes`` prints the graph
after every compiler pass.
"""
from __future__ import annotations

import pathlib


_FORMATS = ("expected a model saved with model.save(path) (a folder or zip archive), a "
            "model's to_json() text, a graph's symkb.ir.to_json document, or printed IR text")


def load_any(path: str):
    """``(model or None, graph)`` for a saved model, model JSON, graph JSON or printed IR.

    Raises:
        FileFormatError: (a ``ValueError``) for anything else, naming the file,
            the format tried and the field; ``FileNotFoundError`` when nothing
            is at ``path``.
    """
    from . import ir
    from .ir import limits
    from .ir.errors import FileFormatError
    from .utils import safe_io
    p = pathlib.Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if p.is_dir() or _is_binary_model(path):
        from .models import load_model
        model = load_model(str(p))
        return model, model.graph
    with limits.reading(str(path), "symkb inspect input"):
        try:
            text = safe_io.read_text(str(path))
        except FileFormatError as exc:
            raise FileFormatError(f"{exc}; {_FORMATS}", field=exc.field) from None
    if not text.lstrip().startswith(("{", "[")):
        return None, ir.parse(text, source=str(path))
    with limits.reading(str(path), "symkb inspect input"):
        doc = limits.load_json(text)
    if isinstance(doc, dict) and doc.get("format") == "symkb-graph":
        return None, ir.from_json(text, source=str(path))
    from .models.saving import model_from_text
    model = model_from_text(text, source=str(path))
    return model, model.graph


def _is_binary_model(path: str) -> bool:
    """A regular file that is a zip archive (symkb's model.save, or a tf_keras
    .keras file) or HDF5 (tf_keras's .h5), told by content: ``load_model``
    reads the one and explains the others, whatever the file is called. A
    FIFO or a device is left to the loaders, which refuse it."""
    from .models.file_kinds import is_hdf5, is_regular_file
    from .utils import safe_io
    return is_regular_file(path) and (safe_io.is_zip(path) or is_hdf5(path))


def run_inspect(args) -> int:
    from . import ir
    from .ir.safe_text import escape_controls
    model, graph = load_any(args.file)
    if model is not None:
        model.summary()
        print()
    print(ir.stats(graph))
    print()
    print(escape_controls(str(graph)))
    if args.dot:
        from .utils.graphviz import render
        render(ir.to_dot(graph), args.dot, "symkb inspect --dot")
        print(f"\nwrote {escape_controls(args.dot)}")
    if args.passes:
        from .lower.passes import run_pipeline
        print()
        run_pipeline(graph, dump=True)
    return 0
