"""The op catalogue. Importing this package registers every op."""
from . import debug, elementwise, linalg, loop, nn, random, reduce, scan, shape, source  # noqa: F401
from . import canonical  # noqa: F401  (a loop as plain nodes around one scan)
from . import fused  # noqa: F401  (built by symkb.lower's fusion passes)
# the gradient rules, declared on the ops above (symkb/ir/gradients.py applies them)
from . import elementwise_grad, linalg_grad, other_grad, reduce_grad, scan_grad  # noqa: F401
from . import shape_grad  # noqa: F401
from . import state  # noqa: F401  (assign: a graph's writes to Variables)
