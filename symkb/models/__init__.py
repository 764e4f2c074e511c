"""Models: Sequential and the functional Model."""
from .functional import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401
