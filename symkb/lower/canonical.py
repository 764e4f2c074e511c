"""The canonical form of a generated module: what the cache key hashes.

Generated code is readable: its identifiers come from layer and node names
(``dense_kernel``, ``lstm_state``) and comments print the IR line each
statement came from. Two models that differ only in those names compute the
same thing, so they should share one compiled module. :func:`canonical_source`
rewrites a module into a form where they coincide:

* comments and blank lines are dropped, each logical line is one physical
  line indented by its depth, and tokens are spaced one way;
* a statement that is only a string (a docstring) becomes ``''``;
* every other identifier is renamed ``v0``, ``v1``, ... in order of first
  appearance, except the ones whose spelling matters: keywords, builtins,
  names an ``import`` statement mentions, attribute names (after ``.``) and
  keyword-argument names (before ``=`` in a call), which keep their spelling
  everywhere in the module.

It works on Python's tokens only (``tokenize``), not on how the code
generators choose names, so any generator's output can be keyed this way.
The renaming is a bijection on the renamed names, so the canonical module
runs exactly as the readable one; ``names`` maps each readable name to its
canonical one, to find a generated function in the canonical module.
"""
from __future__ import annotations

import builtins
import io
import keyword
import tokenize
from dataclasses import dataclass
from typing import NamedTuple

# tokens that carry no code
_SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER)
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Canonical:
    """A module's canonical text and the renaming that produced it.

    Attributes:
        text: the canonical module's source.
        names: readable identifier -> canonical identifier, for every renamed one.
    """

    text: str
    names: dict

    def name(self, readable: str) -> str:
        """The canonical spelling of ``readable`` (itself when it was kept)."""
        return self.names.get(readable, readable)


def canonical_source(source: str) -> Canonical:
    """The canonical form of the Python module ``source`` (see the module docstring).

    Raises:
        SyntaxError: ``source`` cannot be tokenized (an unclosed bracket or string).
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError) as exc:
        raise SyntaxError(f"canonical_source: the generated module cannot be tokenized "
                          f"({exc})") from None
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python >= 3.12
    if fstring_start is not None and any(t.type == fstring_start for t in tokens):
        return Canonical(source, {})  # f-strings split into tokens: keep the module as is
    kept = _kept_names(tokens)
    if any(t.type == tokenize.STRING and "f" in _prefix(t.string) for t in tokens):
        # an f-string reads names from inside a string token: rename nothing
        kept |= {t.string for t in tokens if t.type == tokenize.NAME}
    renamed: dict = {}
    lines, line, depth, prev = [], [], 0, None
    statement_start = True
    for i, tok in enumerate(tokens):
        kind, text = tok.type, tok.string
        if kind in _SKIPPED:
            continue
        if kind == tokenize.INDENT:
            depth += 1
            continue
        if kind == tokenize.DEDENT:
            depth -= 1
            continue
        if kind == tokenize.NEWLINE:
            if line:
                lines.append("    " * depth + "".join(line))
            line, prev, statement_start = [], None, True
            continue
        if kind == tokenize.STRING and statement_start and _ends_statement(tokens, i):
            text = "''"  # a docstring: no code, and it may print names
        elif kind == tokenize.NAME and text not in kept:
            text = renamed.get(text) or renamed.setdefault(text, _fresh(len(renamed), kept))
        if prev is not None and (prev.end != tok.start):
            line.append(" ")
        line.append(text)
        prev, statement_start = tok, False
    return Canonical("\n".join(lines) + "\n", renamed)


def _fresh(index: int, kept: set) -> str:
    """The ``index``-th canonical name, skipping names that keep their spelling."""
    name = f"v{index}"
    while name in kept:
        index += 1_000_003  # far from the names handed out in order
        name = f"v{index}"
    return name


def _prefix(literal: str) -> str:
    """A string literal's prefix (``rb``, ``f``, ...), lower case."""
    return literal[:min(literal.find(q) for q in "'\"" if q in literal)].lower()


def _ends_statement(tokens, i: int) -> bool:
    """Whether the string token ``tokens[i]`` is a whole statement (a docstring)."""
    for tok in tokens[i + 1:]:
        if tok.type in (tokenize.COMMENT, tokenize.NL):
            continue
        return tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
    return True


def _kept_names(tokens) -> set:
    """Identifiers whose spelling matters (see the module docstring)."""
    kept = set(keyword.kwlist) | set(getattr(keyword, "softkwlist", ())) | set(dir(builtins))
    code = [t for t in tokens if t.type not in _SKIPPED]
    in_import = False
    nesting = 0
    for i, tok in enumerate(code):
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            in_import = False
            continue
        if tok.type == tokenize.OP:
            nesting += tok.string in _OPEN
            nesting -= tok.string in _CLOSE
        if tok.type != tokenize.NAME:
            continue
        prev = code[i - 1] if i else None
        nxt = code[i + 1] if i + 1 < len(code) else None
        starts = prev is None or prev.type in (tokenize.NEWLINE, tokenize.INDENT,
                                               tokenize.DEDENT)
        if starts and tok.string in ("import", "from"):
            in_import = True
        if in_import:
            kept.add(tok.string)
        elif prev is not None and prev.type == tokenize.OP and prev.string == ".":
            kept.add(tok.string)  # an attribute: its spelling is looked up
        elif (nesting and nxt is not None and nxt.type == tokenize.OP and nxt.string == "="
              and prev is not None and prev.type == tokenize.OP and prev.string in "(,"):
            kept.add(tok.string)  # a keyword argument (or a parameter's default)
    return kept


# -- sizes as arguments ------------------------------------------------------

SIZES = "sizes_"  # the lifted function's last parameter (no canonical name looks so)
NONNEG = "nonneg_sizes"  # the helper binding the sizes (``cpu/runtime.py``)
NONNEG_IMPORT = f"from symkb.lower.cpu.runtime import {NONNEG}"
# A literal of at most this stays: LLVM unrolls and vectorises a short loop
# whole and folds the strides of small axes when it knows them; a 2000-step
# SimpleRNN of 16 units ran 3x slower with its loop bounds lifted, and about
# 6% slower with its buffers' small sizes lifted. Small models (units of 32
# or fewer) therefore compile per size; a variant runs meanwhile on the
# size-generic form of an earlier one (``small=1``, ``tiers.py``).
SMALL = 32


class Lifted(NamedTuple):
    """A canonical module whose function takes its int literals as an argument.

    Attributes:
        text: the module's source: in the function's body each int literal
            but the structural ones (see :func:`lift_sizes`) reads the local
            ``sizes_k``, bound from ``sizes_[k]`` on the body's first lines,
            and ``sizes_`` is the function's last parameter.
        sizes: the literals, in order: the value the caller passes.
    """

    text: str
    sizes: tuple


def lift_sizes(text: str, function: str, small: int = SMALL) -> Lifted:
    """Make ``function`` of the canonical module ``text`` size-generic.

    Generated code spells the sizes it knows (units, widths, time steps,
    slice bounds of fused gates) as int literals. Each one in ``function``'s
    body becomes an element of one more argument, a tuple of ints, so two
    graphs that differ only in sizes have one text, one cache entry and one
    machine code. numba types a tuple by its length only: the values are
    data. Kept as they are, because they are structure rather than size or
    numba needs them constant: a small literal (at most ``SMALL``: ``0`` and
    ``1`` are broadcast axes and first elements, and known short loops and
    strides pay), a literal that is a whole subscript (``t[2]``:
    a tuple's element, an axis's length in ``x.shape[2]``), anything in a
    subscript of ``shape`` (``x.shape[2:]``), a keyword argument's value
    (``axis=2``), and an exponent's operands (``x ** 2`` stays a square).
    Other literals get one slot each, even equal ones: a model whose units
    equal its input width shares the kernel of one where they differ.
    ``small`` is the largest literal that stays: ``1`` lifts every size, the
    size-generic form (``tiers.py``) that serves models whose small sizes
    differ while their own form compiles.
    """
    code = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in _SKIPPED]
    lines = text.split("\n")
    head, body = _function_span(code, function)
    if head is None:
        return Lifted(text, ())
    edits, sizes = [], []
    stack = []  # per open bracket: whether its literals stay (a subscript of shape)
    for i, tok in enumerate(code):
        if tok.type == tokenize.OP and tok.string in _OPEN:
            prev = code[i - 1] if i else None
            stack.append(bool(stack and stack[-1]) or (
                tok.string == "[" and prev is not None and prev.string == "shape"))
        elif tok.type == tokenize.OP and tok.string in _CLOSE:
            if stack:
                stack.pop()
        if tok.type != tokenize.NUMBER or not body[0] <= tok.start[0] <= body[1]:
            continue
        if _structural(code, i, stack, small):
            continue
        edits.append((tok.start, tok.end, f"{SIZES}{len(sizes)}"))
        sizes.append(int(tok.string))
    if not sizes:
        return Lifted(text, ())
    for (row, c0), (_, c1), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:c0] + new + line[c1:]
    row, col = head
    line = lines[row - 1]
    lines[row - 1] = line[:col] + (", " if line[col - 1] != "(" else "") + SIZES + line[col:]
    # each size bound once at the top, as ``max(size, 0)``: LLVM then knows it is
    # not negative, so ``x[i, size + j]`` needs no wraparound test and
    # vectorises (an index it cannot prove non-negative ran a gate loop 10x
    # slower); one ``nonneg_sizes`` call for all of them compiles faster than
    # a ``max`` call each
    indent = " " * (len(lines[body[0] - 1]) - len(lines[body[0] - 1].lstrip()))
    names = [f"{SIZES}{k}" for k in range(len(sizes))]
    rows = [", ".join(names[k:k + 8]) for k in range(0, len(names), 8)]
    prologue = [f"{indent}({rows[0]},"] + [f"{indent} {r}," for r in rows[1:]]
    prologue[-1] = prologue[-1][:-1] + (",)" if len(names) == 1 else ")")
    prologue[-1] += f" = {NONNEG}({SIZES})"
    lines[row:row] = prologue
    return Lifted(f"{NONNEG_IMPORT}\n" + "\n".join(lines), tuple(sizes))


def _structural(code, i: int, stack, small: int = SMALL) -> bool:
    """Whether the int literal ``code[i]`` stays a literal (see :func:`lift_sizes`)."""
    text = code[i].string
    if not text.isdigit() or int(text) <= max(small, 1) or (stack and stack[-1]):
        return True  # not an int; 0, 1 and small sizes (short loops unroll); shape[...]
    prev, nxt = code[i - 1].string, code[i + 1].string if i + 1 < len(code) else ""
    if prev == "[" and nxt == "]":
        return True
    if "**" in (prev, nxt):
        return True
    # a keyword argument: `name=` inside a call's brackets
    return prev == "=" and bool(stack) and code[i - 2].type == tokenize.NAME


def _function_span(code, function: str):
    """Where ``def function(...)`` closes its parameters (row, col of the
    ``)``) and the rows of its body, or ``(None, None)``; ``code``: the
    module's tokens less comments and blank lines."""
    for i, tok in enumerate(code[:-1]):
        if tok.string == "def" and code[i + 1].string == function:
            depth, j = 0, i + 2
            while j < len(code):
                if code[j].string in _OPEN:
                    depth += 1
                elif code[j].string in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            close, indent, end = code[j], tok.start[1], code[-1].start[0]
            for t in code[j:]:
                if (t.type == tokenize.DEDENT and t.start[1] <= indent
                        and t.start[0] > close.start[0]):
                    end = t.start[0] - 1
                    break
            return close.start, (close.start[0] + 1, end)
    return None, None
