"""Merge adjacent loop nests over the same ranges into one (generated source).

Each fused group becomes a loop nest of its own, and numba's cost of a nest
is mostly its own (typing, lowering and the analyses of its blocks run about
50 ms a two-level nest, whatever its body holds). A recurrent step often
ends in nests over the same ``(batch, units)`` ranges: the gates, the new
output, the masked states. :func:`merge_nests` writes such neighbours as one
nest whose body runs the first body, then the second, per iteration. The
second nest's buffer, allocated between the two (``name = empty(...)``, or
bound to a caller's argument of the right shape, else allocated), moves above
the first.

That is safe when no iteration of the second nest reads or writes an element
that another iteration of the first writes, or the other way round. The test
is on the text and conservative: every array that either body writes (or any
name that may view the same memory: a reshape, a slice, a plain copy of the
reference, anywhere in the function) must appear in both bodies under one
name only, always subscripted by the same index, and that index names each
loop variable as a whole subscript (so distinct iterations touch distinct
elements). Scalars assigned in one body are not read in the other, and a
body holds simple statements only (no nested blocks, calls with array
arguments, or nested subscripts). Anything else stays as it was.
"""
from __future__ import annotations

import re

_FOR = re.compile(r"^(\s*)for (\w+) in range\((.*)\):$")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)(\[[^\]]*\])?\s*([-+*/%]?=)\s*(.*)$")
_KEYWORDS = ("if", "for", "while", "break", "continue", "return", "raise", "with", "else",
             "elif", "try", "except", "finally", "del", "pass")
_WORDS = {"if", "else", "and", "or", "not", "in", "is", "None", "True", "False"}


def merge_nests(lines: list) -> list:
    """``lines`` (a function body, as ``SourceWriter`` lines) with adjacent loop
    nests over identical ranges merged where that is safe (module docstring)."""
    aliases = _alias_classes(lines)
    out = list(lines)
    i = 0
    while i < len(out):
        first = _nest_at(out, i)
        if first is None:
            i += 1
            continue
        j = first["end"]
        while j < len(out) and _indent(out[j]) == first["indent"]:
            if not out[j].strip() or out[j].lstrip().startswith("#") \
                    or _fresh_allocation(out[j], first):
                j += 1
            elif _given_buffer(out, j, first):
                j += 3
            else:
                break
        second = _nest_at(out, j)
        if second is None or second["headers"] != first["headers"] \
                or second["indent"] != first["indent"] \
                or not _independent(first, second, aliases):
            i += 1
            continue
        between = out[first["end"]:j]
        body = out[second["body"]:second["end"]]
        out[i:second["end"]] = (between + out[i:first["body"]] + out[first["body"]:first["end"]]
                                + body)
        i += len(between)  # the merged nest may take the next one too
    return out


_ALLOC = re.compile(r"^\s*([A-Za-z_]\w*) = (?:np\.)?(?:empty|zeros)\((.*)\)$")


def _fresh_allocation(line: str, nest: dict) -> bool:
    """Whether ``line`` allocates a new array (``name = empty(...)``) that
    may move above ``nest``: the nest does not mention its name, nor assign a
    scalar its shape names (element stores change no shape)."""
    m = _ALLOC.match(line)
    if m is None:
        return False
    scalars = set(nest["vars"])
    for statement in nest["statements"]:
        if any(m.group(1) == n for n in _NAME.findall(statement)):
            return False
        a = _ASSIGN.match(statement)
        if a is None:
            return False
        if a.group(2) is None:
            scalars.add(a.group(1))
    return not scalars & set(_NAME.findall(m.group(2)))


_GIVEN = re.compile(r"^(\s*)([A-Za-z_]\w*) = ([A-Za-z_]\w*)$")


def _given_buffer(lines: list, j: int, nest: dict) -> bool:
    """Whether ``lines[j:j+3]`` bind a buffer to a caller's argument when its
    shape fits, else to a new array (``CpuCodegen.alloc_buffer`` with
    ``given``), and may move above ``nest`` as a fresh allocation may: ``name
    = arg``, ``if arg.shape != (...):``, ``    name = empty(...)``."""
    m = _GIVEN.match(lines[j])
    if m is None or j + 2 >= len(lines):
        return False
    indent, name, arg = m.groups()
    test, fresh = lines[j + 1], lines[j + 2]
    if not test.startswith(f"{indent}if {arg}.shape != (") or not test.endswith(":"):
        return False
    a = _ALLOC.match(fresh)
    if a is None or a.group(1) != name or _indent(fresh) != len(indent) + 4:
        return False
    shape = test[len(f"{indent}if {arg}.shape != "):-1]
    return _fresh_allocation(f"{indent}{name} = empty({shape})", nest) and not any(
        arg == n for statement in nest["statements"] for n in _NAME.findall(statement))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _nest_at(lines: list, i: int):
    """The perfect loop nest whose outer header is ``lines[i]``, or None:
    ``{indent, headers, vars, body, end}`` (``body:end`` the innermost lines)."""
    if i >= len(lines):
        return None
    m = _FOR.match(lines[i])
    if m is None:
        return None
    indent = len(m.group(1))
    headers, k = [], i
    while k < len(lines):
        m = _FOR.match(lines[k])
        if m is None or len(m.group(1)) != indent + 4 * len(headers):
            break
        headers.append(lines[k].strip())
        k += 1
    depth = indent + 4 * len(headers)
    body = k
    while k < len(lines) and lines[k].strip() and _indent(lines[k]) >= depth:
        k += 1
    if k == body:
        return None
    if k < len(lines) and lines[k].strip() and _indent(lines[k]) > indent:
        return None  # statements after the inner loop: not a perfect nest
    statements = [ln.strip() for ln in lines[body:k] if not ln.lstrip().startswith("#")]
    if any(_indent(ln) != depth for ln in lines[body:k] if not ln.lstrip().startswith("#")):
        return None  # a block or a continued line inside
    if any(s.endswith(":") or s.split(" ", 1)[0] in _KEYWORDS for s in statements):
        return None
    loop_vars = [_FOR.match(ln).group(2) for ln in lines[i:body]]
    return {"indent": indent, "headers": headers, "vars": loop_vars, "body": body, "end": k,
            "statements": statements}


def _accesses(statement: str):
    """``(name, index or None, is_write)`` of each name in ``statement``;
    None when the statement is beyond this test (a nested subscript)."""
    m = _ASSIGN.match(statement)
    if m is None:
        return None
    target, index, op, rhs = m.groups()
    found = [(target, _norm(index[1:-1]) if index else None, True)]
    if op != "=":
        found.append((target, _norm(index[1:-1]) if index else None, False))
    if index:
        found.extend((n, None, False) for n in _NAME.findall(index))  # names in an index
    pos = 0
    while True:
        n = _NAME.search(rhs, pos)
        if n is None:
            return found
        name, pos = n.group(0), n.end()
        if name in _WORDS or name == "np":
            continue
        if pos < len(rhs) and rhs[pos] == "(":
            continue  # a function: its arguments are scanned as names
        if pos < len(rhs) and rhs[pos] == "[":
            close = rhs.find("]", pos)
            inner = rhs[pos + 1:close]
            if close < 0 or "[" in inner:
                return None
            found.append((name, _norm(inner), False))
            found.extend((n, None, False) for n in _NAME.findall(inner))
            pos = close + 1
        else:
            found.append((name, None, False))


def _norm(index: str) -> str:
    return index.replace(" ", "")


def _independent(a: dict, b: dict, aliases: dict) -> bool:
    """Whether the bodies of nests ``a`` and ``b`` may run interleaved."""
    found = []
    for nest in (a, b):
        per = []
        for s in nest["statements"]:
            acc = _accesses(s)
            if acc is None:
                return False
            per.extend(acc)
        found.append(per)
    scalars = [{n for n, ix, w in per if w and ix is None} for per in found]
    reads = [{n for n, ix, w in per if not w and ix is None} for per in found]
    if scalars[0] & (scalars[1] | reads[1]) or scalars[1] & reads[0]:
        return False
    written = {aliases.get(n, n) for per in found for n, ix, w in per if w and ix is not None}
    loop_vars = set(a["vars"])
    for cls in written:
        touches = [(n, ix) for per in found for n, ix, _ in per if aliases.get(n, n) == cls]
        if len({n for n, _ in touches}) != 1 or len({ix for _, ix in touches}) != 1:
            return False
        ix = touches[0][1]
        if ix is None or not loop_vars <= set(ix.split(",")):
            return False
        if any(p not in loop_vars and not p.isdigit() and
               any(p in s for s in scalars) for p in ix.split(",")):
            return False
    return True


def _alias_classes(lines: list) -> dict:
    """name -> a representative of the names that may share its memory.

    An assignment ``name = value`` joins ``name`` with each name ``value``
    mentions, except where it reads only an element (a subscript naming a
    variable of an enclosing loop, without a slice), only an attribute such
    as ``.shape``, or makes a new array (``.copy()``, ``.astype(...)``)."""
    parent: dict = {}

    def find(n):
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    loops = []  # (indent, variable) of the enclosing for loops
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ind = _indent(line)
        while loops and loops[-1][0] >= ind:
            loops.pop()
        m = _FOR.match(line)
        if m is not None:
            loops.append((ind, m.group(2)))
            continue
        m = _ASSIGN.match(line)
        if m is None or m.group(2):
            continue  # not an assignment, or a store into an element
        target, rhs = m.group(1), m.group(4)
        for name in _mentioned(rhs, {v for _, v in loops}):
            a, b = find(target), find(name)
            if a != b:
                parent[a] = b
    return {n: find(n) for n in list(parent) + [find(n) for n in parent]}


def _mentioned(rhs: str, loop_vars: set) -> list:
    """The names whose memory the value ``rhs`` may share (see :func:`_alias_classes`)."""
    if rhs.startswith(("empty(", "zeros(", "np.empty(", "np.zeros(", "np.full(")):
        return []  # a new array (its shape's names are sizes)
    names, pos = [], 0
    while True:
        n = _NAME.search(rhs, pos)
        if n is None:
            return names
        name, pos = n.group(0), n.end()
        rest = rhs[pos:]
        if name in _WORDS or name == "np" or rest.startswith(("(", "=", ".shape", ".ndim",
                                                              ".size", ".copy(", ".astype(")):
            continue
        if rest.startswith("["):
            close = _closing(rhs, pos)
            inner = rhs[pos + 1:close]
            pos = close + 1
            if not any(c in inner for c in (":", "None", "...")) \
                    and set(_norm(inner).split(",")) & loop_vars:
                continue  # an element
        names.append(name)


def _closing(text: str, i: int) -> int:
    """The index of the bracket closing the one at ``text[i]`` (or the end)."""
    depth = 0
    for k in range(i, len(text)):
        depth += text[k] in "([{"
        depth -= text[k] in ")]}"
        if depth == 0:
            return k
    return len(text)
