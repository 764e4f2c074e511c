"""The op catalogue. Importing this package registers every op."""
from . import debug, elementwise, linalg, loop, nn, random, reduce, shape, source  # noqa: F401
from . import fused  # noqa: F401  (built by symkb.lower's fusion passes)
