"""``symkb inspect FILE``: what a saved model or graph holds.

FILE is a model saved with ``model.save(path)`` (a folder, or a file under
any name: it is recognised by its content), a model's ``to_json()`` text, or a
graph's ``symkb.ir.to_json`` document.
Prints the model summary (for models), the graph statistics and the IR;
``--dot OUT`` writes Graphviz source; ``--passes`` prints the graph after
every compiler pass.
"""
from __future__ import annotations

import json
import pathlib
import zipfile


_FORMATS = ("expected a model saved with model.save(path) (a folder or a saved-model file), "
            "a model's to_json() text, a graph's symkb.ir.to_json document, or printed IR text")
_SAVED_SUFFIXES = (".symkb", ".zip", ".npz", ".keras", ".h5", ".hdf5")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_saved_model(p: pathlib.Path) -> bool:
    """A folder, a saved-model name, or a zip archive or HDF5 file under any name."""
    if p.is_dir() or p.suffix in _SAVED_SUFFIXES or zipfile.is_zipfile(p):
        return True
    with open(p, "rb") as f:
        return f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE


def load_any(path: str):
    """``(model or None, graph)`` for a saved model, model JSON or graph JSON."""
    from . import ir
    p = pathlib.Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if _is_saved_model(p):
        from .models import load_model
        model = load_model(str(p))
        return model, model.graph
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text file, a zip archive or an HDF5 file; "
                         f"{_FORMATS}") from None
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
        pathlib.Path(args.dot).write_text(ir.to_dot(graph))
        print(f"\nwrote {args.dot}")
    if args.passes:
        from .lower.passes import run_pipeline
        print()
        run_pipeline(graph, dump=True)
    return 0
