"""symkb: the tf_keras.backend programming model as a symbolic graph IR with a
tiny compiler (Numba CPU kernels, numba.cuda kernels).

    import symkb
    from symkb import backend as K
    from symkb import layers
"""
from ._version import __version__  # noqa: F401
from . import backend, ir, layers, mixed_precision, models, utils  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Model, Sequential  # noqa: F401
from .compile import compile  # noqa: F401,A004
from .lower.errors import FallbackWarning  # noqa: F401

