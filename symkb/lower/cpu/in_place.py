"""A plain gradient-descent step on a weight matrix as one BLAS call, in place.

A train step's update of a Dense kernel is, after fusion, one ``fused_dot``:
the weight gradient ``x^T @ dy`` with the epilogue ``p + -(acc) * lr``, whose
result an ``assign`` stores in the Variable ``p``. Written plainly that is a
product into a new buffer, a loop over it, and a copy into the Variable at
the end (three passes over the matrix, on one thread). BLAS computes
``C = alpha * A @ B + beta * C``: with ``C`` the Variable's own array,
``alpha = -lr`` and ``beta = 1`` the whole update is the product.

That writes the Variable before the function ends, so it is done only when
nothing can see the difference: every other reader of ``p`` (the forward
product, a transposed view read by a backward product) comes before the
update in the function, neither operand of the product reads ``p``, and the
result is read by its ``assign`` alone. Results equal the interpreter's to
float32 rounding: BLAS may round ``acc * lr + p`` once where the epilogue
rounds twice.
"""
from __future__ import annotations

_VIEWS = ("transpose", "reshape", "expand_dims", "squeeze", "getitem", "identity")
_PRODUCTS = ("dot", "matmul", "fused_dot")


def emit_update_in_place(cg, node) -> bool:
    """Emit ``node`` (a ``fused_dot``) as ``p -= lr * (x @ w)`` into the
    Variable's array when it is such an update and that is safe; returns
    whether it did."""
    x, w = node.inputs[:2]
    out = node.outputs[0]
    if cg.scope.depth or cg.serial_products or not _matrices_f32(x, w, out):
        return False
    form = sgd_form(node.attrs["body"])
    if form is None:
        return False
    p, s = node.inputs[1 + form[0]], node.inputs[1 + form[1]]
    if p.node.op != "param" or p.shape != out.shape or s.ndim != 0 or s.dtype != "float32":
        return False
    if _reads(x, p) or _reads(w, p) or not _only_assigned(cg, out, p):
        return False
    if not _earlier_readers(cg, node, p):
        return False
    name = cg.name(p)
    cg.w.comment("the product and the update in one BLAS call, into the Variable's array")
    cg.w.line(f"sgemm_into({cg.name(x)}, {cg.name(w)}, {name}, "
              f"-{cg.name(s)}[()], 1.0)")
    cg.bind(out, name, cg.dims(p))
    return True


def sgd_form(body):
    """``(p, s)``, positions in ``body.inputs``, when ``body`` (a fused_dot
    epilogue whose first input is the product ``acc``) computes ``p - acc * s``
    spelt ``p + -(acc) * s``, ``p + s * -(acc)`` or ``p - acc * s`` (either
    operand order of the add and multiply); else None."""
    acc = body.inputs[0]
    top = body.outputs[0].node
    if top.op not in ("add", "subtract") or len(top.inputs) != 2:
        return None
    pairs = [(0, 1)] if top.op == "subtract" else [(0, 1), (1, 0)]
    for pi, mi in pairs:
        p, m = top.inputs[pi], top.inputs[mi]
        s = _scaled(m, acc, negated=top.op == "add")
        if s is not None and _position(body, p) and _position(body, s):
            return _position(body, p), _position(body, s)
    return None


def _scaled(t, acc, negated: bool):
    """``s`` when ``t`` is ``acc * s`` (``-(acc) * s`` where ``negated``)."""
    node = t.node
    if node.op != "multiply" or len(node.inputs) != 2:
        return None
    for a, s in (node.inputs, node.inputs[::-1]):
        if negated and a.node.op == "negative" and a.node.inputs[0] is acc:
            return s
        if not negated and a is acc:
            return s
    return None


def _position(body, t):
    """The index (>= 1) of ``t`` among the body's inputs past ``acc``, or None."""
    for k, inp in enumerate(body.inputs[1:], 1):
        if inp is t:
            return k
    return None


def _matrices_f32(x, w, out) -> bool:
    return (x.ndim == w.ndim == out.ndim == 2
            and x.dtype == w.dtype == out.dtype == "float32")


def _reads(t, p) -> bool:
    """Whether ``t`` is ``p`` or a view of it."""
    while True:
        if t is p:
            return True
        if t.node.op not in _VIEWS:
            return False
        t = t.node.inputs[0]


def _only_assigned(cg, out, p) -> bool:
    """Whether ``out``'s one reader is an ``assign`` of it to ``p``."""
    users = cg.users.get(out, [])
    return len(users) == 1 and users[0][0] is not None and users[0][0].op == "assign" \
        and users[0][0].inputs[0] is p and users[0][1] == 1


def _earlier_readers(cg, node, p) -> bool:
    """Whether every other reader of ``p`` runs before ``node`` and makes a new
    array (a product), or is a transposed view whose readers are such products."""
    order = {id(n): k for k, n in enumerate(cg.graph.nodes)}
    here = order[id(node)]
    for user, _ in cg.users.get(p, []):
        if user is None:
            return False  # a result of the function: read after the writes
        if user is node or (user.op == "assign" and user.inputs[0] is p):
            continue
        if order.get(id(user), here) >= here:
            return False
        if user.op == "transpose":
            readers = cg.users.get(user.outputs[0], [])
            if not all(r is not None and r.op in _PRODUCTS
                       and order.get(id(r), here) < here for r, _ in readers):
                return False
        elif user.op not in _PRODUCTS:
            return False
    return True
