"""cpu emitters of the impure ops: random draws and ``print_tensor``.

Random ops draw from Numba's generator (a Mersenne Twister per thread): a
seeded node calls ``np.random.seed(seed)`` before its draws, so it gives the
same values at every run; an unseeded node seeds from fresh entropy at each
run (``fresh_seed``, from object mode), so runs differ and no unseeded node
continues a seeded one's stream. The stream is Numba's, not numpy's: the cpu
target and the interpreter agree on the distribution, not on the values.
Inside a loop body the seeding sits before the time loop, so each step draws
new values. Truncated normals redraw values more than two standard
deviations out, as the reference does.

``print_tensor`` calls the numpy reference from object mode, so the text is
the interpreter's.
"""
from __future__ import annotations

from ..emitters import registrar
from ..errors import Unsupported
from .scalar import np_type

EMITTERS: dict = {}  # this module's ops (codegen.py merges the tables)
emitter = registrar(EMITTERS)

_DRAW = {
    "random_uniform": "{minval} + ({maxval} - {minval}) * np.random.random()",
    "random_normal": "{mean} + {stddev} * np.random.standard_normal()",
    "random_bernoulli": "1.0 if np.random.random() < {p} else 0.0",
}


@emitter("random_uniform", "random_normal", "truncated_normal", "random_bernoulli")
def emit_random(cg, node) -> None:
    (shape,) = node.inputs
    out = node.outputs[0]
    if out.dtype not in ("float32", "float64"):
        raise Unsupported(f"cpu codegen: {node.op} of {out.dtype}")
    sizes = cg.name(shape)
    dims = [d if d is not None else f"{sizes}[{k}]" for k, d in enumerate(out.shape)]
    # allocated where the sizes are known (in the step, inside a loop body)
    name = cg.fresh(cg.default_name(out))
    cg.w.line(f"{name} = empty({cg.shape_text(dims)}, {np_type(out.dtype)})")
    cg.bind(out, name)
    seed = node.attrs.get("seed")
    if seed is None:
        s = cg.fresh("seed")
        with cg.scope.hoist.block(f"with objmode({s}='int64'):"):
            cg.scope.hoist.line(f"{s} = fresh_seed()")
        cg.scope.hoist.line(f"np.random.seed({s})")
    else:
        cg.scope.hoist.line(f"np.random.seed({int(seed) % 2**32})")
    flat = cg.fresh("flat")
    cg.w.line(f"{flat} = reshaped({name}, (-1,))" if out.ndim else f"{flat} = reshaped({name}, (1,))")
    params = {k: repr(float(v)) for k, v in node.attrs.items()
              if k in ("minval", "maxval", "mean", "stddev", "p")}
    with cg.w.block(f"for i0 in range({flat}.size):"):
        if node.op == "truncated_normal":
            cg.w.line("v = np.random.standard_normal()")
            with cg.w.block("while abs(v) > 2.0:"):
                cg.w.line("v = np.random.standard_normal()")
            cg.w.line(f"{flat}[i0] = {params['mean']} + {params['stddev']} * v")
        else:
            cg.w.line(f"{flat}[i0] = {_DRAW[node.op].format(**params)}")


@emitter("print_tensor")
def emit_print(cg, node) -> None:
    (x,) = node.inputs
    out = node.outputs[0]
    with cg.w.block("with objmode():"):
        cg.w.line(f"print_ref({cg.name(x)}, {node.attrs['message']!r}, "
                  f"{int(node.attrs['summarize'])})")
    name = cg.fresh(cg.default_name(out))
    cg.w.line(f"{name} = {cg.name(x)}.copy()")
    cg.bind(out, name, cg.dims(x))



@emitter("assign")
def emit_assign(cg, node) -> None:
    """Deferred: the function stores every assign after all its results
    (``Codegen.emit_writes``), so each read sees the value from before the call."""
    target = node.inputs[0]
    if target.node.attrs.get("widened") or cg.scope.depth:
        raise Unsupported(f"cpu codegen: assign to Variable "
                          f"{target.node.attrs['variable'].name!r} "
                          + ("inside a loop body" if cg.scope.depth else
                             "of float16 (the kernel reads a float32 copy of it)"))
    cg.writes.append(node)
    cg.bind(node.outputs[0], cg.name(node.inputs[1]))
