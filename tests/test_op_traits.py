"""Every op declares the rules the passes and the targets ask of it.

The passes and the code generators look an op's facts up in its
:class:`~symkb.ir.registry.OpDef` traits (``symkb/ir/registry.py``), never
by its name; these tests fail when an op lacks a rule one of them needs, so
adding an op is one registration plus one emitter per target.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import symkb  # noqa: F401  (registers every op)
from symkb import backend as K
from symkb import ir
from symkb.ir.registry import REGISTRY, TRAITS, declare, register
from symkb.lower.cpu import arrays, elementwise, impure, loops  # noqa: F401  (fill the table)
from symkb.lower.cpu.codegen import EMITTERS as CPU_EMITTERS
from symkb.lower.cpu.rows import ROW_RULES
from symkb.lower.cuda import elementwise as _ce, linalg, movement, reduce, rnn  # noqa: F401
from symkb.lower.cuda.executable import EMITTERS as CUDA_EMITTERS
from symkb.lower.cuda.program import UNSUPPORTED as CUDA_REFUSED
from symkb.lower.passes.canonicalize_loops import LEGALIZED_OPS
from symkb.lower.passes.licm import STEP_RULES


def _graph_params(opdef) -> set:
    """The keyword parameters of an op's reference that hold a graph (``body``)."""
    try:
        params = inspect.signature(opdef.impl).parameters
    except (TypeError, ValueError):  # a numpy ufunc
        return set()
    return {p for p in params if p == "body" or p.endswith("_body")}


def gaps(registry) -> list:
    """Each rule an op of ``registry`` lacks, as ``'op: what is missing'``."""
    out = []
    for name, op in sorted(registry.items()):
        if op.kind == "elementwise" and (op.rows is None or op.step is None):
            out.append(f"{name}: an elementwise op needs a row rule and a step rule")
        if op.kind == "reduction" and op.rows is None:
            out.append(f"{name}: a reduction needs a row rule")
        if op.rows is not None and op.rows not in ROW_RULES:
            out.append(f"{name}: row rule {op.rows!r} is not in lower/cpu/rows.py ROW_RULES")
        if op.step is not None and op.step not in STEP_RULES:
            out.append(f"{name}: step rule {op.step!r} is not in lower/passes/licm.py STEP_RULES")
        if _graph_params(op) != set(op.bodies):
            out.append(f"{name}: its reference takes the graphs {sorted(_graph_params(op))} "
                       f"but it declares bodies={op.bodies}")
        if op.fused and not op.bodies:
            out.append(f"{name}: a fused op holds its group as a body")
        if op.bodies and not op.fused and op.check is None:
            out.append(f"{name}: an op with a step (a loop) needs a verifier hook")
        if name in LEGALIZED_OPS:
            continue  # every target rewrites it into ops it lowers (canonicalize_loops)
        if op.kind != "source" and name not in CPU_EMITTERS:
            out.append(f"{name}: no cpu emitter")
        if op.kind != "source" and name not in CUDA_EMITTERS and name not in CUDA_REFUSED:
            out.append(f"{name}: no cuda emitter (nor a reason in cuda UNSUPPORTED)")
    return out


def test_every_op_has_the_rules_the_passes_and_targets_need():
    assert gaps(REGISTRY) == []


def test_an_op_without_its_rules_is_found():
    name = "test_traits_twice"

    @register(name, type_rule=lambda types: types[0], kind="elementwise", rows=None, step=None)
    def twice(x):
        return 2 * x

    try:
        found = [g for g in gaps(REGISTRY) if g.startswith(name)]
        assert found == [f"{name}: an elementwise op needs a row rule and a step rule",
                         f"{name}: no cpu emitter",
                         f"{name}: no cuda emitter (nor a reason in cuda UNSUPPORTED)"]
    finally:
        del REGISTRY[name]


def test_traits_are_checked_at_registration():
    with pytest.raises(TypeError, match=r"register\('x'\): unknown trait\(s\) \['row'\]"):
        register("x", type_rule=None, kind="other", row="axis")
    with pytest.raises(ValueError, match=r"noop_same_type must be one of .* received 'never'"):
        declare("cast", noop_same_type="never")
    with pytest.raises(TypeError, match="bodies is a tuple of attribute names"):
        declare("cast", bodies="body")
    assert set(TRAITS) <= set(ir.get_op("add").__dataclass_fields__)


def test_units_and_commutativity_hold_for_the_references():
    """The units ``simplify`` drops are units of the op's numpy reference."""
    x = np.array([[-1.5, 0.0, -0.0], [2.0, np.inf, 7.25]], dtype="float32")
    declared = {name for name, op in REGISTRY.items() if op.right_identity is not None}
    assert declared == {"add", "subtract", "multiply", "divide"}
    for name in sorted(declared):
        op = ir.get_op(name)
        unit = np.float32(op.right_identity)
        np.testing.assert_array_equal(op.run([x, unit], {})[0], x)
        swapped = op.run([unit, x], {})[0]
        assert op.commutative == bool(np.array_equal(swapped, x)), name


def test_no_op_casts_are_their_operand():
    x = K.placeholder(shape=(None, 3), name="x")
    g = ir.Graph([x], [K.exp(K.cast(x, "float32"))], name="g")
    assert [n.op for n in g.nodes if n.op != "input"] == ["cast", "exp"]
    from symkb.lower.passes import simplify
    assert [n.op for n in simplify(g).nodes if n.op != "input"] == ["exp"]
    assert ir.get_op("reshape").noop_same_type == "static"


def test_the_loop_check_and_printer_come_from_the_traits():
    assert ir.get_op("loop").check is not None
    assert ir.get_op("param").print_attrs({"variable": K.variable(np.zeros(2), name="w")}) \
        == {"name": "w"}


def test_an_undeclared_body_fails_verification():
    """The passes reach bodies through the ``bodies`` trait; the verifier names
    a graph-valued attribute its op does not declare instead of letting the
    passes skip it."""
    xs = K.placeholder(shape=(None, 4, 3), name="xs")
    _, outs, _ = K.rnn(lambda x, s: (x + s[0], [x + s[0]]), xs, [K.zeros_like(xs[:, 0])])
    g = ir.Graph([xs], [outs])
    ir.verify(g)
    loop = REGISTRY["loop"]
    declare("loop", bodies=())
    try:
        with pytest.raises(ir.VerifyError, match=r"node loop: attribute 'body' holds a graph, "
                                                 r"but op 'loop' declares the bodies \(\)"):
            ir.verify(g)
    finally:
        REGISTRY["loop"] = loop
