"""The tokens of the printed IR (for :mod:`symkb.ir.parse`).

Tokens: ``%value`` names, words, numbers (``-inf``/``-nan`` included),
JSON-style strings, ``...``, ``->``, punctuation and ``# comments`` (kept:
a comment after a node names its layer). Whitespace and line breaks separate
tokens and mean nothing else.
"""
from __future__ import annotations

import re

from .errors import FileFormatError

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<value>%[A-Za-z0-9_.]+)
  | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|-(?:inf|nan)\b)
  | (?P<ellipsis>\.\.\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<arrow>->)
  | (?P<punct>[\[\](){},=:?])
""", re.VERBOSE)


class ParseError(FileFormatError):
    """The text is not a printed graph; the message gives the line and column."""


class Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind, self.text, self.pos = kind, text, pos

    def __repr__(self):
        return "end of text" if self.kind == "eof" else repr(self.text)


def tokenize(text: str) -> list:
    toks, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(where(text, pos) + f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind != "ws":
            toks.append(Token(kind, m.group(), pos))
        pos = m.end()
    toks.append(Token("eof", "", len(text)))
    return toks


def where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    source = text[start:end if end >= 0 else len(text)]
    return f"line {line}, column {col} ({source.strip()[:80]!r}): "
