"""Lambda layers in Keras model files: refused unless the user trusts the file.

A ``Lambda`` layer in a tf_keras or Keras 3 file carries its function as
marshalled Python bytecode. Running it runs whatever the file's author wrote,
so (Keras's rule) :func:`symkb.models.load_model` refuses such files unless
called with ``safe_mode=False``; only then is the bytecode turned into a
function, and only the bytecode of Python's own version can be.
"""
from __future__ import annotations

import base64
import binascii
import builtins
import marshal
import sys
import types

from ..ir.errors import FileFormatError
from ..layers.core import Lambda


def lambda_layers(doc) -> list:
    """``[name, ...]`` of the Lambda layers anywhere in a model document."""
    found = []

    def visit(value, depth=0):
        if depth > 200:
            return
        if isinstance(value, dict):
            if value.get("class_name") == "Lambda" and isinstance(value.get("config"), dict):
                found.append(str(value["config"].get("name", "?")))
            for item in value.values():
                visit(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                visit(item, depth + 1)
    visit(doc)
    return found


def refuse(names, source: str) -> None:
    """The error for Lambda layers met in safe mode."""
    raise FileFormatError(
        f"load_model: {source} holds Lambda layer(s) {names[:5]}, whose Python code symkb "
        "will not run from a file in safe mode (it could do anything). If you trust the "
        "file, load it with safe_mode=False; or rebuild the layer in code and pass it in "
        "custom_objects={'Lambda': ...}", field="Lambda")


def _code(config: dict, name: str):
    function = config.get("function")
    kind = config.get("function_type", "lambda")
    if isinstance(function, dict):  # Keras 3: {"class_name": "__lambda__", "config": {...}}
        kind = "lambda" if function.get("class_name") == "__lambda__" else "function"
        inner = function.get("config") or {}
        function = [inner.get("code"), inner.get("defaults"), inner.get("closure")]
    if kind != "lambda" or not isinstance(function, list) or not function or \
            not isinstance(function[0], str):
        raise FileFormatError(f"load_model: Lambda layer {name!r} names a function "
                              f"({str(function)[:60]}) rather than holding its code; pass "
                              "the layer in custom_objects", field="function")
    try:
        raw = base64.decodebytes(function[0].encode("ascii"))
        code = marshal.loads(raw)
    except (binascii.Error, ValueError, EOFError, TypeError, UnicodeError) as exc:
        raise FileFormatError(f"load_model: Lambda layer {name!r}: its code cannot be read "
                              f"by Python {sys.version_info[0]}.{sys.version_info[1]} "
                              f"(the bytecode of another Python version?): {exc}",
                              field="function") from None
    if not isinstance(code, types.CodeType):
        raise FileFormatError(f"load_model: Lambda layer {name!r}: its function is not "
                              "code", field="function")
    if len(function) > 2 and function[2]:
        raise FileFormatError(f"load_model: Lambda layer {name!r}: its function closes over "
                              "variables of the code that made it, which a file cannot "
                              "restore; pass the layer in custom_objects", field="function")
    defaults = tuple(function[1]) if len(function) > 1 and isinstance(function[1], list) \
        else None
    return types.FunctionType(code, {"__builtins__": builtins}, code.co_name, defaults)


class TrustedLambda:
    """``custom_objects["Lambda"]`` under ``safe_mode=False``: builds a symkb
    :class:`~symkb.layers.Lambda` running the file's function."""

    @classmethod
    def from_config(cls, config):
        """The Lambda layer, its function made from the file's bytecode."""
        name = config.get("name")
        fn = _code(config, str(name))
        return Lambda(fn, arguments=config.get("arguments") or None, name=name,
                      trainable=config.get("trainable", True), dtype=config.get("dtype"))
