"""The version of symkb, in a module of its own.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), ``symkb`` exports
it, and the compile cache and saved files record it, without importing the
package above them.
"""
__version__ = "0.1.0"
