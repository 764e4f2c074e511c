"""symkb: the tf_keras.backend programming model as a symbolic graph IR with a
tiny compiler (Numba CPU kernels, numba.cuda kernels).

    import symkb
    from symkb import backend as K
    from symkb import layers
"""
from . import _blas_threads  # noqa: F401  (first: before a BLAS library loads)
from ._version import __version__  # noqa: F401
from . import backend, ir, layers, mixed_precision, models, utils  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Model, Sequential  # noqa: F401
from .compile import compile, wait_compiles  # noqa: F401,A004
from . import scale  # noqa: F401  (installs the dask handler of executables; imports no dask)
from .lower.errors import FallbackWarning  # noqa: F401

from . import callbacks, losses, metrics, optimizers  # noqa: F401  (training)
from . import onnx  # noqa: F401,E402 (symkb.onnx.export / load; the onnx package loads lazily)
from .layers import regularizers  # noqa: F401,E402 (symkb.regularizers: L1, L2, L1L2)
