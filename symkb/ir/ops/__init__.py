"""The op catalogue. Importing this package registers every op."""
from . import elementwise, linalg, loop, nn, reduce, shape, source  # noqa: F401
