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

import json
import pathlib


_FORMATS = ("expected a model saved with model.save(path) (a folder or zip archive), a "
            "model's to_json() text, a graph's symkb.ir.to_json document, or printed IR text")


def load_any(path: str):
    """``(model or None, graph)`` for a saved model, model JSON or graph JSON."""
    from . import ir
    p = pathlib.Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if p.is_dir() or _is_binary_model(p):
        from .models import load_model
        model = load_model(str(p))
        return model, model.graph
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is a binary file that is neither a zip archive (as "
                         f"model.save writes) nor HDF5; {_FORMATS}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        try:
            return None, ir.parse(text)
        except ir.ParseError as exc:
            raise ValueError(f"{path} is neither JSON nor printed IR ({exc}); "
                             f"{_FORMATS}") from None
    if isinstance(doc, dict) and doc.get("format") == "symkb-graph":
        return None, ir.from_json(text)
    from .models import model_from_json
    model = model_from_json(text)
    return model, model.graph


def _is_binary_model(path: pathlib.Path) -> bool:
    """A zip archive (symkb's model.save, or a tf_keras .keras file) or HDF5
    (tf_keras's .h5), told by content: ``load_model`` reads the one and
    explains the others, whatever the file is called."""
    import zipfile
    from .models.file_kinds import is_hdf5
    return zipfile.is_zipfile(path) or is_hdf5(path)


def run_inspect(args) -> int:
    from . import ir
    model, graph = load_any(args.file)
    if model is not None:
        model.summary()
        print()
    print(ir.stats(graph))
    print()
    print(graph)
    if args.dot:
        from .utils.graphviz import render
        render(ir.to_dot(graph), args.dot, "symkb inspect --dot")
        print(f"\nwrote {args.dot}")
    if args.passes:
        from .lower.passes import run_pipeline
        print()
        run_pipeline(graph, dump=True)
    return 0
