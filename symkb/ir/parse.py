"""Reading the printed text form back into a graph (:func:`parse`).

``parse(format_graph(g, full=True))`` builds a graph that prints the same text
and computes the same values as ``g``: inputs become placeholders with their
printed names and types, ``param`` lines become Variables (their printed name,
shape and dtype; zeros unless a mapping of variables is given), constants are
read back exactly, and every graph-valued attribute (``body(...) { ... }``)
becomes a nested :class:`Graph`. The grammar, in the printer's own terms::

    graph    := 'graph' NAME '(' [param {',' param}] ')' '->' '(' [type {',' type}] ')'
                '{' {node} 'return' [%v {',' %v}] '}'
    param    := %v ':' type
    type     := DTYPE '[' [dim {',' dim}] ']'           dim := INT | '?'
    node     := result {',' result} '=' OP ['[' attr {',' attr} ']'] [%v {',' %v}]
                ['{' {body} '}'] ['#' layer]
    body     := KEY [NAME] '(' [param {',' param}] ')' '{' {node} 'return' [%v {',' %v}] '}'
    attr     := KEY '=' value          (getitem's index: '[' numpy-style items ']')
    value    := none | true | false | INT | FLOAT | inf | nan | STRING
              | '(' values ')' | '[' values ']' | '{' value ':' value, ... '}'
              | type '{' scalars '}'

Line breaks are not significant (long attribute lists wrap); a ``#`` comment
ends the node before it and names its layer. Parsing builds nodes and
Variables only: it never imports or runs anything named in the text. The
text is untrusted data: its size, nesting depth and the Variables it
declares are checked against :mod:`symkb.ir.limits` before anything is
allocated, and the result is verified.
"""
from __future__ import annotations

import functools
import json
import re

import numpy as np

from . import limits
from .build import placeholder_node
from .graph import Graph
from .lexer import ParseError, Token, tokenize, where
from .node import Node
from .printer import INDEX_ATTRS, format_scalar
from .restore import make_variable, variable_mapping
from .types import TensorType, long_dtype
from .verify import verify as run_verify

# How an expected token kind reads in a message.
_KIND_NAMES = {"ident": "an identifier", "value": "a value name (%name)"}


class _Scope:
    def __init__(self, parent=None):
        self.values: dict = {}
        self.parent = parent

    def define(self, name, tensor, parser):
        if name in self.values:
            parser.fail(f"value {name} is defined twice")
        self.values[name] = tensor

    def lookup(self, name):
        scope = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None


class _Parser:
    def __init__(self, text, variables):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.given = variable_mapping(variables)
        self.made: dict = {}        # variable name -> Variable used by this parse
        self.seen_vars: set = set()  # ids of Variables whose own param node is used
        self.depth = 0               # nesting of values and bodies (bounded)

    def enter(self, what: str):
        """One level deeper (a value in brackets, a body); bounded by the limits."""
        self.depth += 1
        if self.depth > limits.get_limits().max_depth:
            self.fail(f"{what} nested more than {limits.get_limits().max_depth} levels deep; "
                      "raise symkb.ir.limits.configure(max_depth=...) if the text is trusted")

    # -- token helpers -------------------------------------------------------
    def _skip(self, j: int) -> int:
        while self.toks[j].kind == "comment":
            j += 1
        return j

    def peek(self, k=0) -> Token:
        """The k-th next token, comments skipped (without consuming anything)."""
        j = self._skip(self.i)
        for _ in range(k):
            j = self._skip(j + 1)
        return self.toks[j]

    def skip_comments(self):
        self.i = self._skip(self.i)

    def next(self) -> Token:
        self.i = self._skip(self.i)
        tok = self.toks[self.i]
        if tok.kind != "eof":  # stay on the end: every caller then fails with a message
            self.i += 1
        return tok

    def fail(self, message, tok=None):
        tok = tok or self.peek()
        raise ParseError(where(self.text, tok.pos) + message)

    def expect(self, text=None, kind=None) -> Token:
        tok = self.peek()
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            want = repr(text) if text is not None else _KIND_NAMES.get(kind, f"a {kind}")
            self.fail(f"expected {want}, found {tok!r}")
        return self.next()

    def accept(self, text) -> bool:
        if self.peek().text == text and self.peek().kind in ("punct", "ident", "arrow"):
            self.next()
            return True
        return False

    def layer_comment(self):
        """The ``# layer`` comment right after a node, if any."""
        tok = self.toks[self.i]
        if tok.kind == "comment":
            self.i += 1
            text = tok.text[1:].strip()
            if text.startswith('"'):
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    self.fail(f"bad quoted layer name {text!r}", tok)
            return text or None
        return None

    # -- grammar -------------------------------------------------------------
    def module(self) -> Graph:
        tok = self.expect(kind="ident")
        if tok.text != "graph":
            self.fail("expected 'graph' at the start of a printed graph", tok)
        name = self.graph_name()
        scope = _Scope()
        inputs = self.params(scope)
        self.expect("->")
        self.expect("(")
        out_types = []
        if not self.accept(")"):
            out_types.append(self.type())
            while self.accept(","):
                out_types.append(self.type())
            self.expect(")")
        graph = self.block(scope, inputs, name)
        if [t.type for t in graph.outputs] != out_types:
            self.fail(f"graph {name!r} returns {[str(t.type) for t in graph.outputs]} but its "
                      f"header says {[str(t) for t in out_types]}")
        self.skip_comments()
        if self.peek().kind != "eof":
            self.fail(f"unexpected {self.peek()!r} after the end of the graph")
        return graph

    def string(self, tok) -> str:
        """A JSON-quoted string token's text."""
        try:
            return json.loads(tok.text)
        except json.JSONDecodeError as exc:
            self.fail(f"bad string {tok.text[:40]!r} ({exc.msg})", tok)

    def graph_name(self) -> str:
        tok = self.next()
        if tok.kind == "ident":
            return tok.text
        if tok.kind == "string":
            return self.string(tok)
        self.fail(f"expected a graph name, found {tok!r}", tok)

    def params(self, scope) -> list:
        self.expect("(")
        inputs = []
        if self.accept(")"):
            return inputs
        while True:
            tok = self.expect(kind="value")
            self.expect(":")
            t = self.type()
            tensor = placeholder_node(t.shape, t.dtype, tok.text[1:])
            scope.define(tok.text, tensor, self)
            inputs.append(tensor)
            if not self.accept(","):
                break
        self.expect(")")
        return inputs

    def block(self, scope, inputs, name) -> Graph:
        self.expect("{")
        while not (self.peek().kind == "ident" and self.peek().text == "return"):
            self.node(scope)
        self.next()
        outputs = []
        if self.peek().kind == "value":
            outputs.append(self.use(scope))
            while self.accept(","):
                outputs.append(self.use(scope))
        self.expect("}")
        return Graph(inputs, outputs, name=name)

    def use(self, scope):
        tok = self.expect(kind="value")
        tensor = scope.lookup(tok.text)
        if tensor is None:
            self.fail(f"value {tok.text} is used before it is defined", tok)
        return tensor

    def type(self) -> TensorType:
        tok = self.expect(kind="ident")
        try:
            dtype = long_dtype(tok.text)
        except KeyError:
            self.fail(f"unknown dtype {tok.text!r} (expected f32, i64, bool, ...)", tok)
        self.expect("[")
        dims = []
        if not self.accept("]"):
            while True:
                d = self.next()
                if d.text == "?":
                    dims.append(None)
                elif d.kind == "number" and re.fullmatch(r"\d+", d.text):
                    dims.append(int(d.text))
                else:
                    self.fail(f"expected a dimension (an int or ?), found {d!r}", d)
                if not self.accept(","):
                    break
            self.expect("]")
        return _make_type(tuple(dims), dtype)

    def node(self, scope):
        limits.check_nodes(1, "node")
        names, types = [], []
        while True:
            tok = self.expect(kind="value")
            self.expect(":")
            names.append(tok)
            types.append(self.type())
            if not self.accept(","):
                break
        self.expect("=")
        op_tok = self.expect(kind="ident")
        op = op_tok.text
        attrs = {}
        if self.accept("["):
            while True:
                key = self.expect(kind="ident").text
                self.expect("=")
                if key in attrs:
                    self.fail(f"attribute {key!r} is given twice")
                attrs[key] = self.index() if (op, key) in INDEX_ATTRS else self.value()
                if not self.accept(","):
                    break
            self.expect("]")
        operands = []
        if self.peek().kind == "value" and self.peek(1).text != ":":
            operands.append(self.use(scope))
            while self.accept(","):
                operands.append(self.use(scope))
        layer = self.layer_comment()
        if self.peek().text == "{" and self.peek().kind == "punct":
            self.next()
            while not self.accept("}"):
                key = self.expect(kind="ident").text
                body_name = key
                if self.peek().text != "(":
                    body_name = self.graph_name()
                if key in attrs:
                    self.fail(f"attribute {key!r} is given twice")
                body_scope = _Scope(scope)
                self.enter("a body")
                body_inputs = self.params(body_scope)
                attrs[key] = self.block(body_scope, body_inputs, body_name)
                self.depth -= 1
            layer = self.layer_comment()
        node = self.make_node(op, operands, attrs, types, layer, op_tok)
        for tok, tensor in zip(names, node.outputs):
            scope.define(tok.text, tensor, self)

    def make_node(self, op, operands, attrs, types, layer, tok) -> Node:
        if op == "param":
            return self.param_node(attrs, types, layer, tok)
        if op == "const":
            value = attrs.get("value")
            if not isinstance(value, np.ndarray) or len(types) != 1 \
                    or TensorType.of(value) != types[0]:
                self.fail(f"const: expected value=<array of type {types[0]}>", tok)
            value.flags.writeable = False
        return Node(op, tuple(operands), attrs, tuple(types), None, layer)

    def param_node(self, attrs, types, layer, tok) -> Node:
        name = attrs.get("name")
        if not isinstance(name, str) or len(types) != 1 or set(attrs) - {"name", "trainable"}:
            self.fail('param: expected param[name="...", (trainable=false)] with one result', tok)
        t = types[0]
        variable = self.made.get(name)
        if variable is None:
            if self.given.get(name) is None:
                limits.check_array(t.shape, f"param {name!r}")
            variable = make_variable(name, t, self.given.get(name),
                                      bool(attrs.get("trainable", True)))
            self.made[name] = variable
        if variable.type != t:
            self.fail(f"param {name!r}: the given variable has type {variable.type}, the text "
                      f"says {t}", tok)
        if id(variable) not in self.seen_vars:
            self.seen_vars.add(id(variable))
            node = variable.tensor.node
            if node.layer == layer:
                return node
        return Node("param", (), {"variable": variable}, (t,), name=variable.name, layer=layer)

    def value(self):
        self.enter("an attribute value")
        try:
            return self._value()
        finally:
            self.depth -= 1

    def _value(self):
        tok = self.next()
        kind, text = tok.kind, tok.text
        if kind == "number":
            if re.fullmatch(r"-?\d+", text):
                return int(text)
            return float(text)
        if kind == "string":
            return self.string(tok)
        if kind == "ident":
            if text in _WORDS:
                return _WORDS[text]
            if self.peek().text == "[":
                self.i -= 1
                return self.array()
            self.fail(f"unexpected word {text!r} in an attribute value", tok)
        if text == "(":
            items, trailing = self.sequence(")")
            return tuple(items)
        if text == "[":
            items, _ = self.sequence("]")
            return items
        if text == "{":
            out = {}
            if self.accept("}"):
                return out
            while True:
                key = self.value()
                self.expect(":")
                out[key] = self.value()
                if not self.accept(","):
                    break
            self.expect("}")
            return out
        self.fail(f"expected an attribute value, found {tok!r}", tok)

    def index(self) -> tuple:
        """A numpy-style index ``[:, 0, 1:3, ::2, newaxis, ...]`` as encoded items."""
        self.expect("[")
        items = []
        if self.accept("]"):
            return ()
        while True:
            tok = self.peek()
            if tok.kind == "ellipsis":
                self.next()
                items.append(("ellipsis",))
            elif tok.kind == "ident" and tok.text == "newaxis":
                self.next()
                items.append(("newaxis",))
            else:
                parts = [self.opt_int()]
                while self.accept(":"):
                    parts.append(self.opt_int())
                if len(parts) == 1:
                    if parts[0] is None:
                        self.fail(f"expected an index item, found {self.peek()!r}")
                    items.append(("int", parts[0]))
                elif len(parts) <= 3:
                    items.append(("slice",) + tuple(parts) + (None,) * (3 - len(parts)))
                else:
                    self.fail("a slice has at most three parts (start:stop:step)")
            if not self.accept(","):
                break
        self.expect("]")
        return tuple(items)

    def opt_int(self):
        tok = self.peek()
        if tok.kind == "number" and re.fullmatch(r"-?\d+", tok.text):
            self.next()
            return int(tok.text)
        return None

    def sequence(self, close):
        items, trailing = [], False
        while not self.accept(close):
            items.append(self.value())
            if self.accept(","):
                trailing = True
                continue
            trailing = False
            self.expect(close)
            break
        return items, trailing

    def array(self) -> np.ndarray:
        start = self.peek()
        t = self.type()
        if t.shape and None in t.shape:
            self.fail(f"an array value needs a static shape, found {t}", start)
        self.expect("{")
        toks = []
        while not self.accept("}"):
            tok = self.next()
            if tok.kind == "ellipsis":
                self.fail("this array was printed abbreviated (...); print the graph with "
                          "format_graph(graph, full=True) to read it back", tok)
            toks.append(tok)
            if not self.accept(","):
                self.expect("}")
                break
        size = limits.element_count(t.shape, f"array of type {t}")
        if len(toks) != size:
            self.fail(f"array of type {t} has {size} elements, found {len(toks)}", start)
        return _array(t, toks, self)


@functools.lru_cache(maxsize=4096)
def _make_type(dims: tuple, dtype: str) -> TensorType:
    return TensorType(dims, dtype)


_WORDS = {"none": None, "true": True, "false": False, "inf": float("inf"),
          "nan": float("nan")}


def _array(t: TensorType, toks, parser) -> np.ndarray:
    dtype = t.dtype
    if dtype == "bool":
        values = []
        for tok in toks:
            if tok.text not in ("true", "false"):
                parser.fail(f"expected true or false in a bool array, found {tok!r}", tok)
            values.append(tok.text == "true")
        return np.array(values, dtype=bool).reshape(t.shape)
    for tok in toks:
        if not (tok.kind == "number" or tok.text in ("inf", "nan")):
            parser.fail(f"expected a number in a {dtype} array, found {tok!r}", tok)
    texts = [tok.text for tok in toks]
    if dtype.startswith(("int", "uint")):
        for tok in toks:
            if not re.fullmatch(r"-?\d+", tok.text):
                parser.fail(f"expected an integer in a {dtype} array, found {tok!r}", tok)
        try:
            return np.array([int(s) for s in texts], dtype=dtype).reshape(t.shape)
        except OverflowError:
            parser.fail(f"a value of this {dtype} array is out of its range", toks[0])
    array = np.array([float(s) for s in texts], dtype=np.float64).astype(dtype)
    _fix_double_rounding(array, texts)
    return array.reshape(t.shape)


def _fix_double_rounding(array, texts):
    """Make each element the one whose shortest text is ``texts[i]``.

    Reading decimal text through float64 rounds twice; for float32/float16 the
    result could in principle miss by one unit. Check, and step to the
    neighbour whose text matches where it does.
    """
    if array.dtype == np.float64:
        return
    name = array.dtype.name
    for i, text in enumerate(texts):
        if format_scalar(array[i], name) != text and text not in ("nan", "-nan"):
            for toward in (np.inf, -np.inf):
                candidate = np.nextafter(array[i], array.dtype.type(toward))
                if format_scalar(candidate, name) == text:
                    array[i] = candidate
                    break


def parse(text: str, variables=None, *, verify: bool = True, source: str = "<text>") -> Graph:
    """Read a printed graph back (see the module docstring).

    Args:
        text: the output of ``format_graph(graph, full=True)`` (or of
            ``print(graph)`` when it holds no abbreviated array).
        variables: optional mapping ``variable name -> Variable`` (used as is)
            or ``-> array`` (the initial value of a new Variable), or a list of
            Variables; the other parameters become new Variables of zeros.
        verify: run the verifier on the result (the default; ``False`` skips
            it, for text of a trusted origin only).
        source: what ``text`` came from (a file name), named in errors.

    Returns:
        The :class:`Graph`.

    Raises:
        ParseError: (a ``ValueError``; one of the
            :class:`~symkb.ir.errors.FileFormatError` family) naming the line
            and column of the problem, e.g. an abbreviated array;
            :class:`~symkb.ir.errors.LimitError` for text over a limit.
    """
    with limits.reading(source, "printed symkb IR", ParseError):
        if not isinstance(text, str):
            raise ParseError(f"expected the printed graph as a str. Received: a "
                             f"{type(text).__name__}")
        limits.check_bytes(len(text), "text", "printed graph")
        graph = _Parser(text, variables).module()
        if verify:
            run_verify(graph)
        return graph
