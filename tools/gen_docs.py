"""Generate the reference pages of docs/ from the code, so they cannot drift.

    python tools/gen_docs.py          # rewrite docs/reference/*.md
    python tools/gen_docs.py --check  # exit 1 when a page is out of date

* docs/reference/backend.md: every public function of ``symkb.backend`` with
  its signature and docstring;
* docs/reference/ops.md: every op of the registry with its kind and the
  docstring of its numpy reference (its meaning).
"""
from __future__ import annotations

import inspect
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip() or "(no description)"


def backend_page() -> str:
    from symkb import backend as K
    lines = ["# Backend API reference", "",
             "Generated from the docstrings by `tools/gen_docs.py`; do not edit by hand.", "",
             "`from symkb import backend as K`. Every op accepts numpy arrays, Python numbers, "
             "Variables and KerasTensors: with a KerasTensor argument it records a graph node "
             "and returns a KerasTensor, otherwise it computes with numpy.", ""]
    names = sorted(n for n in dir(K) if not n.startswith("_")
                   and inspect.isfunction(getattr(K, n)))
    lines.append(f"{len(names)} functions: " + ", ".join(f"`{n}`" for n in names) + ".")
    lines.append("")
    for name in names:
        fn = getattr(K, name)
        try:
            sig = str(inspect.signature(fn))
        except (TypeError, ValueError):
            sig = "(...)"
        lines += [f"## `K.{name}{sig}`", "", _doc(fn), ""]
    return "\n".join(lines).rstrip() + "\n"


def ops_page() -> str:
    from symkb.ir import REGISTRY
    lines = ["# IR op reference", "",
             "Generated from the op registry by `tools/gen_docs.py`; do not edit by hand.", "",
             "Each op is registered once (`symkb/ir/ops/`) with its name, its kind, a type rule "
             "(operand types and attributes to result types) and a numpy reference, which is "
             "both the eager path of the backend and the interpreter's meaning of the op. "
             "Elementwise ops broadcast their operands with numpy's rules (`None` dims match "
             "anything). The traits column shows what the passes and targets read of the op "
             "(docs/ir.md): its row rule, step rule, bodies, whether it is a fused group, its "
             "verifier hook, its unit for `simplify`, when it is a no-op, and its gradient "
             "(`grad`: a reverse-mode rule; `no grad`: none, and why; `grad not yet`: "
             "differentiable, rule not written; docs/gradients.md).", ""]
    by_kind: dict = {}
    for name, op in REGISTRY.items():
        by_kind.setdefault(op.kind, []).append((name, op))
    for kind in sorted(by_kind):
        lines += [f"## {kind}", "", "| op | traits | meaning |", "|---|---|---|"]
        for name, op in sorted(by_kind[kind]):
            doc = " ".join((op.doc or "(no description)").split())
            if op.random:
                doc += " (random: never merged by CSE)"
            doc = doc.replace("|", "\\|")
            lines.append(f"| `{name}` | {_traits(op)} | {doc} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _traits(op) -> str:
    """The op's declared traits (``symkb/ir/registry.py``), short: ``rows=axis, step=dot``."""
    shown = [f"rows={op.rows}"] if op.rows else []
    shown += [f"step={op.step}"] if op.step else []
    shown += [f"bodies={','.join(op.bodies)}"] if op.bodies else []
    shown += ["fused"] if op.fused else []
    shown += ["check"] if op.check else []
    if op.right_identity is not None:
        shown.append(f"unit={op.right_identity}" + (", commutative" if op.commutative else ""))
    shown += [f"noop={op.noop_same_type}"] if op.noop_same_type else []
    if callable(op.grad):
        shown.append("grad")
    elif op.grad is not None:
        shown.append(("grad not yet: " if op.grad.pending else "no grad: ") + op.grad.reason)
    return ", ".join(shown)


PAGES = {"docs/reference/backend.md": backend_page, "docs/reference/ops.md": ops_page}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for rel, make in PAGES.items():
        path = ROOT / rel
        text = make()
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run python tools/gen_docs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
