"""The op catalogue. Importing this package registers every op."""
from . import elementwise, linalg, loop, nn, reduce, shape, source  # noqa: F401
from . import fused  # noqa: F401  (built by symkb.lower's fusion passes)
