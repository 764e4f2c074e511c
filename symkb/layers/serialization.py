"""A layer as tf_keras serialises it inside a model or wrapper config.

``serialize(layer)`` gives tf_keras's entry ``{"module", "class_name",
"config", "registered_name"}`` plus ``"build_config": {"input_shape": ...}``
once the layer is built (the shape its ``build`` was given, a list of shapes
for several inputs). ``deserialize(entry)`` makes a layer of
:mod:`symkb.layers` from such an entry (or from a bare ``{"class_name",
"config"}``); ``module``, ``registered_name`` and ``build_config`` are
information only, since symkb builds a layer on its first call.
"""
from __future__ import annotations

import sys

from .base import Layer


def serialize(layer) -> dict:
    """tf_keras's config entry for ``layer`` (see the module docstring).

    Args:
        layer: a built or unbuilt :class:`~symkb.layers.Layer`.
    """
    entry = {"module": layer._config_module, "class_name": layer._config_class_name(),
             "config": layer.get_config(), "registered_name": layer._config_registered_name}
    shape = getattr(layer, "_build_input_shape", None)
    if layer.built and shape is not None:
        entry["build_config"] = {"input_shape": _as_lists(shape)}
    return entry


def _as_lists(shape):
    if isinstance(shape, (list, tuple)) and any(isinstance(s, (list, tuple)) for s in shape):
        return [_as_lists(s) for s in shape]
    return list(shape)


def layer_classes() -> dict:
    """The layer classes of :mod:`symkb.layers`, by name (aliases included).

    They are found among :class:`Layer`'s subclasses defined in symkb.layers
    (public names only) rather than by importing the package, which imports
    the wrappers that deserialise the layer they hold. Importing any module of
    symkb.layers runs the package first, so every layer module is loaded by
    the time this runs. tf_keras's other names for a class (``MaxPool2D``
    for ``MaxPooling2D``) are public names bound to it in its own module.
    """
    found = {"Layer": Layer}
    stack = [Layer]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            if cls.__module__.startswith("symkb.layers.") and not cls.__name__.startswith("_"):
                found.setdefault(cls.__name__, cls)
    found.update(aliases(found.values()))
    return found


def aliases(classes) -> dict:
    """``{other name: class}``: the public names that ``classes``' own modules
    bind to them besides their class names."""
    out = {}
    for cls in classes:
        for name, value in vars(sys.modules[cls.__module__]).items():
            if value is cls and name != cls.__name__ and not name.startswith("_"):
                out[name] = cls
    return out


def deserialize(entry, classes=None):
    """A layer from a config entry ``{"class_name", "config", ...}``.

    Args:
        entry: the entry (extra keys such as ``module`` are ignored).
        classes: optional ``{class name: class}`` searched before
            :mod:`symkb.layers`.

    Raises:
        ValueError: for an entry that is not a dict with ``class_name`` and
            ``config``, or a class that is not a symkb layer.
    """
    if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
        raise ValueError("A layer entry is a dict with 'class_name' and 'config'. Received: "
                         f"{str(entry)[:80]}")
    name = entry["class_name"]
    cls = (classes or {}).get(name) or layer_classes().get(name)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"Unknown layer: {name!r}. It is not a layer of symkb.layers.")
    return cls.from_config(dict(entry["config"]))
