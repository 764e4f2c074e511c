"""The op catalogue. Importing this package registers every op."""
from . import debug, elementwise, linalg, loop, nn, random, reduce, shape, source  # noqa: F401
from . import fused  # noqa: F401  (built by symkb.lower's fusion passes)
from ..registry import declare

# The loop's traits, declared here until its register() call in loop.py names
# them: its step is the nested graph ``body``, and its row rule looks into it.
declare("loop", bodies=("body",), rows="loop")
