"""One table of named classes and functions, with Keras's ``get``,
``serialize`` and ``deserialize`` over it.

Losses and metrics are both looked up this way: a name (a function's or a
class's, an alias such as ``'mse'``), a ``{'class_name', 'config'}`` dict, a
function, an instance or a class. Each kind keeps its own table; the rules of
the lookup are written once here.
"""
from __future__ import annotations


class Registry:
    """Names of one kind of object (``'loss'``, ``'metric'``).

    Args:
        kind: the word used in errors (``'loss'``).
        module: the public module named in errors (``'losses'``).
        base: the class whose instances are returned as they are.
        classes: class name -> class.
        functions: name -> function (aliases included).
        abstract: class names that cannot be built from a name or config.
    """

    def __init__(self, kind, module, base, classes, functions, abstract=()):
        self.kind = kind
        self.module = module
        self.base = base
        self.classes = classes
        self.functions = functions
        self.abstract = frozenset(abstract)

    def valid_names(self) -> str:
        return ", ".join(sorted(self.functions) + sorted(self.classes))

    def serialize(self, obj):
        """``{'class_name', 'config'}`` for an instance, the name of a known function."""
        if isinstance(obj, self.base):
            return {"class_name": type(obj).__name__, "config": obj.get_config()}
        for name, fn in self.functions.items():
            if fn is obj:
                return fn.__name__ if self.functions.get(fn.__name__) is fn else name
        raise ValueError(f"{self.module}.serialize: cannot serialize {obj!r}; expected a "
                         f"{self.base.__name__} object or one of the functions "
                         f"{sorted(self.functions)}")

    def deserialize(self, config, custom_objects=None):
        """The object :meth:`serialize` describes (a name or a ``class_name``/``config`` dict)."""
        custom = dict(custom_objects or {})
        if isinstance(config, dict):
            name = config.get("class_name")
            cls = custom.get(name) or self.classes.get(name)
            if cls is None or (name in self.abstract and name not in custom):
                raise ValueError(f"unknown {self.kind} class {name!r} in {config!r}; known "
                                 f"classes: {', '.join(sorted(set(self.classes) - self.abstract))}")
            return cls.from_config(dict(config.get("config") or {}))
        if isinstance(config, str):
            if config in custom:
                found = custom[config]
                return found() if isinstance(found, type) else found
            if config in self.functions:
                return self.functions[config]
            if config in self.classes and config not in self.abstract:
                return self.classes[config]()
        raise ValueError(f"Unknown {self.kind} {config!r}; expected one of: {self.valid_names()}")

    def get(self, identifier):
        """An object from a name, a function, an instance, a class or a config dict.

        Raises:
            ValueError: for None, an unknown name or anything else, naming what
                was received and listing the known names.
        """
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if isinstance(identifier, type) and issubclass(identifier, self.base):
            return identifier()
        if callable(identifier) and not isinstance(identifier, type):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier {identifier!r}; expected "
                         f"a {self.kind} name, a function, a {self.base.__name__} object or a "
                         f"config dict. Known names: {self.valid_names()}")
