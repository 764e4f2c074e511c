"""Text from files, made safe to print.

Names in a graph or model (layer, node, variable and graph names, string
attributes, op names) come from whoever wrote the file. Printed as they are,
a name could carry terminal control sequences (``ESC [ 2 J`` clears the
screen; C1 codes such as ``\\x9b`` do the same on many terminals) or
bidirectional overrides that make text read differently from what it is.
Everything symkb prints for people (the IR, summaries, statistics, error
lines of the ``symkb`` command) goes through :func:`escape_controls`, which
writes such characters as ``\\uXXXX`` escapes. Inside a printed JSON string
those escapes are JSON's own, so printed IR still reads back exactly.
"""
from __future__ import annotations

import re

# C0 controls but the line break, DEL, C1 controls, zero-width and
# bidirectional formatting characters, line and paragraph separators, BOM
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                     "\u2028\u2029\u2060-\u2069\ufeff]")
_UNSAFE_ALL = re.compile("[\n" + _UNSAFE.pattern[1:])


def _escape(match) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control and invisible formatting characters written as ``\\uXXXX``.

    Args:
        text: the text to print.
        keep_newlines: leave ``\\n`` as it is (multi-line output); else it is
            escaped too (a single name).
    """
    pattern = _UNSAFE if keep_newlines else _UNSAFE_ALL
    return pattern.sub(_escape, text)


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character :func:`escape_controls` would escape (``\\n`` too)."""
    return _UNSAFE_ALL.search(text) is not None
