"""The import graph of symkb: imports point one way, and cycles only shrink.

The check reads every ``symkb/**.py`` with :mod:`ast` (no import is run): each
``import``/``from ... import`` statement, at module level or inside a function
(a function-level import hides a dependency, it does not remove it), with
relative imports resolved against the importing module. ``from pkg import
name`` points at ``pkg.name`` when that is a module of symkb, else at ``pkg``.

Two rules, from DESIGN.md ("Layout", docs/compiler.md "Layers"):

* every import stays inside its layer or points down to a layer the table
  :data:`MAY_IMPORT` allows; the only exceptions are the lazy reaches of
  :data:`SANCTIONED`, which must stay inside a function;
* the module graph has no cycle (a strongly connected component of more than
  one module) beyond :data:`KNOWN_CYCLES`, a list that may only shrink.
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from dataclasses import dataclass

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "symkb"

# The layers, by module-name prefix (the longest prefix names a module's layer),
# and the layers each may import besides its own. Helpers that import nothing
# of symkb (the version, atomic writes, the progress bar, the graphviz runner,
# the name table of losses and metrics)
# sit below everything but ir, which imports nothing of symkb at all.
_BASE = ("symkb._version", "symkb.utils.atomic", "symkb.utils.graphviz", "symkb.utils.progbar",
         "symkb.utils.registry")
MAY_IMPORT = {
    "symkb._version": (),
    "symkb.utils.atomic": (),
    "symkb.utils.graphviz": (),
    "symkb.utils.progbar": (),
    "symkb.utils.registry": (),
    "symkb.ir": (),
    "symkb.utils.safe_io": ("symkb.ir",),
    # lower sees graphs only; each target is on its own
    "symkb.lower": ("symkb.ir", *_BASE),
    "symkb.lower.cpu": ("symkb.lower", "symkb.ir", *_BASE),
    "symkb.lower.cuda": ("symkb.lower", "symkb.ir", *_BASE),
    "symkb.backend": ("symkb.ir", *_BASE),
    "symkb.mixed_precision": ("symkb.backend", "symkb.ir", *_BASE),
    "symkb.layers": ("symkb.backend", "symkb.mixed_precision", "symkb.ir", *_BASE),
    "symkb.compile": ("symkb.lower", "symkb.ir", *_BASE),
    # dask: payloads of graphs, compiled on the workers
    "symkb.scale": ("symkb.compile", "symkb.lower", "symkb.ir", *_BASE),
    "symkb.models": ("symkb.layers", "symkb.backend", "symkb.mixed_precision", "symkb.lower",
                     "symkb.scale", "symkb.compile", "symkb.ir", "symkb.utils.safe_io",
                     "symkb.losses", "symkb.metrics", "symkb.optimizers", "symkb.callbacks",
                     *_BASE),
    # optimizers build symbolic update steps with K ops
    "symkb.optimizers": ("symkb.backend", "symkb.ir", *_BASE),
    # losses build graphs with K ops (and read the masks layers give tensors);
    # metrics compute on numpy, with the loss functions; callbacks drive a model
    "symkb.losses": ("symkb.layers", "symkb.backend", "symkb.ir", *_BASE),
    "symkb.metrics": ("symkb.losses", "symkb.backend", "symkb.ir", *_BASE),
    "symkb.callbacks": ("symkb.backend", "symkb.ir", *_BASE),
    # plot_model draws models
    "symkb.utils": ("symkb.models", "symkb.layers", "symkb.ir", *_BASE),
    # the package, the command line and its commands sit on top
    "symkb": ("symkb.utils", "symkb.models", "symkb.optimizers", "symkb.losses", "symkb.metrics",
              "symkb.callbacks", "symkb.scale", "symkb.compile",
              "symkb.layers", "symkb.mixed_precision", "symkb.backend", "symkb.lower", "symkb.ir",
              "symkb.utils.safe_io", *_BASE),
}

# Imports that point up or across on purpose, each inside a function so that
# it runs only when needed: (importing module, imported layer) -> why.
SANCTIONED = {
    # K.function compiles its graph: backend reaches lower at call time only
    ("symkb.backend.function", "symkb.lower"): "K.function compiles",
    # a target is imported (numba with it) only when a graph is compiled for it
    ("symkb.lower", "symkb.lower.cpu"): "compile_graph(target='cpu')",
    ("symkb.lower", "symkb.lower.cuda"): "compile_graph(target='cuda'), the 'auto' check",
}

# Import cycles that remain (each a set of modules): this list may only shrink.
KNOWN_CYCLES: list[frozenset] = [
    # a KerasTensor's Python operators (x + y) build nodes through build.call,
    # which makes nodes, and param nodes for Variables (tensors with operators too)
    frozenset({"symkb.ir.node", "symkb.ir.build", "symkb.ir.variable"}),
]


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int
    lazy: bool  # inside a function


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict:
    """Every module of symkb: name -> path."""
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str, path: pathlib.Path, known: dict) -> list:
    """The symkb imports of module ``name`` (module and function level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, lazy):
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(name, a.name, child.lineno, lazy) for a in child.names
                             if a.name.split(".")[0] == "symkb")
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(child, package)
                if target.split(".")[0] == "symkb":
                    for a in child.names:
                        sub = f"{target}.{a.name}"
                        found.append(Import(name, sub if sub in known else target,
                                            child.lineno, lazy))
            visit(child, inner)
    visit(tree, False)
    return found


def import_graph() -> list:
    """Every symkb -> symkb import edge of the package."""
    known = modules()
    return [e for name, path in known.items() for e in imports(name, path, known)]


def layer_of(module: str) -> str:
    """The layer of ``module``: the longest prefix in :data:`MAY_IMPORT`."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in MAY_IMPORT:
            return prefix
    raise KeyError(module)


def cycles(edges) -> list:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict = {}
    for e in edges:
        if e.source != e.target:
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.add(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _describe(component, edges) -> str:
    inner = sorted({(e.source, e.target, e.line) for e in edges
                    if e.source in component and e.target in component})
    return "\n".join([f"cycle of {len(component)} modules:"] +
                     [f"  {s} -> {t} (line {n})" for s, t, n in inner])


@pytest.fixture(scope="module")
def edges():
    return import_graph()


def test_every_module_has_a_layer(edges):
    for name in modules():
        layer_of(name)


def test_imports_point_down_or_stay_in_their_layer(edges):
    wrong = []
    for e in edges:
        src, dst = layer_of(e.source), layer_of(e.target)
        if dst == src or dst in MAY_IMPORT[src]:
            continue
        reach = SANCTIONED.get((e.source, dst))
        if reach is not None and e.lazy:
            continue
        where = "function-level" if e.lazy else "module-level"
        wrong.append(f"{e.source} (layer {src}) imports {e.target} (layer {dst}) at line "
                     f"{e.line}, {where}; {src} may import {list(MAY_IMPORT[src]) or 'nothing'}")
    assert not wrong, "imports that point up or across:\n" + "\n".join(wrong)


def test_sanctioned_reaches_exist_and_stay_lazy(edges):
    for (source, layer), why in SANCTIONED.items():
        reaches = [e for e in edges if e.source == source and layer_of(e.target) == layer]
        assert reaches, f"{source} no longer reaches {layer} ({why}): drop it from SANCTIONED"
        assert all(e.lazy for e in reaches), (
            f"{source} imports {layer} at module level; {why} must import it inside a function")


def test_no_import_cycle_beyond_the_known_ones(edges):
    found = cycles(edges)
    new = [c for c in found if c not in KNOWN_CYCLES]
    assert not new, "import cycles:\n" + "\n".join(_describe(c, edges) for c in new)
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"no longer cycles, remove them from KNOWN_CYCLES: {gone}"


def test_cycle_finder_sees_function_level_imports():
    a = [Import("m.a", "m.b", 1, False), Import("m.b", "m.c", 1, False),
         Import("m.c", "m.a", 9, True), Import("m.c", "m.d", 2, False)]
    assert cycles(a) == [frozenset({"m.a", "m.b", "m.c"})]
    assert cycles(a[:2] + a[3:]) == []


def test_relative_imports_resolve(tmp_path):
    pkg = tmp_path / "symkb" / "lower" / "cpu"
    known = {"symkb.ir": None, "symkb.lower.cpu.scalar": None, "symkb.lower.errors": None}
    path = pkg / "codegen.py"
    pkg.mkdir(parents=True)
    path.write_text("from ...ir import Graph\nfrom . import scalar\n"
                    "def f():\n    from ..errors import LoweringError\n")
    found = imports("symkb.lower.cpu.codegen", path, known)
    assert [(e.target, e.lazy) for e in found] == [
        ("symkb.ir", False), ("symkb.lower.cpu.scalar", False), ("symkb.lower.errors", True)]


def test_import_symkb_leaves_the_heavy_dependencies_out():
    code = ("import sys, symkb, symkb.lower; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numba', 'scipy', 'networkx'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_layer_lookup_by_name_finds_exactly_the_exported_layers():
    # layers.serialization finds layer classes without importing symkb.layers
    # (which imports it): the same classes the package exports
    from symkb import layers
    from symkb.layers.serialization import layer_classes
    exported = {name: obj for name, obj in vars(layers).items()
                if isinstance(obj, type) and issubclass(obj, layers.Layer)}
    assert layer_classes() == exported


# tf_keras.layers' other names for its classes (tf_keras.layers.MaxPool2D is MaxPooling2D)
TF_KERAS_ALIASES = {
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D", "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D", "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalAvgPool3D": "GlobalAveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D", "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
}


def test_layer_aliases_are_tf_keras_names_of_the_same_classes():
    # every exported layer is under its class name, or under one of tf_keras's
    # aliases bound to the very class the canonical name is
    from symkb import layers
    exported = {name: obj for name, obj in vars(layers).items()
                if isinstance(obj, type) and issubclass(obj, layers.Layer)}
    renamed = {name: obj.__name__ for name, obj in exported.items() if name != obj.__name__}
    assert renamed == TF_KERAS_ALIASES
    for alias, name in TF_KERAS_ALIASES.items():
        assert exported[alias] is exported[name]


def test_model_lookup_by_name_finds_the_model_classes():
    # models.config finds the model classes without importing functional.py and
    # sequential.py (which import it)
    import symkb
    from symkb.models.config import model_classes
    assert model_classes() == {"Sequential": symkb.Sequential, "Functional": symkb.Model,
                               "Model": symkb.Model}


def test_emitter_tables_merge_explicitly_and_refuse_a_second_emitter():
    from symkb.lower.emitters import merge, registrar
    first, second = {}, {}
    emitter, other = registrar(first), registrar(second)

    @emitter("relu", "tanh")
    def emit_unary(cg, node):
        return "unary"

    @other("relu")
    def emit_relu(cg, node):
        return "relu"

    assert first == {"relu": emit_unary, "tanh": emit_unary}
    assert merge("cpu", first, {"tanh": emit_unary}) == first
    with pytest.raises(ValueError, match=r"cpu target: op 'relu' has two emitters"):
        merge("cpu", first, second)


if __name__ == "__main__":  # python tests/test_imports.py: the numbers for a closing note
    graph = import_graph()
    found = cycles(graph)
    print(f"import cycles: {len(found)} (modules in them: {sum(map(len, found))}); "
          f"function-level symkb imports: {len({(e.source, e.line) for e in graph if e.lazy})}")
    for component in found:
        print(_describe(component, graph))
