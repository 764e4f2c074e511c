"""Activation functions by name, as in tf_keras.activations."""
from __future__ import annotations

from .. import backend as K
from .. import ir


def linear(x):
    """Identity."""
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return K.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def softmax(x, axis=-1):
    return K.softmax(x, axis=axis)


def exponential(x):
    return K.exp(x)


def swish(x):
    """``x * sigmoid(x)``."""
    return x * K.sigmoid(x)


def silu(x):
    """``x * sigmoid(x)`` (tf.nn.silu, the same as swish)."""
    return x * K.sigmoid(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit: ``0.5 * x * (1 + erf(x / sqrt(2)))``, or with
    ``approximate`` ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``
    (tf.nn.gelu)."""
    if approximate:
        return 0.5 * x * (1.0 + K.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + ir.call("erf", x / 1.4142135623730951))


def mish(x):
    """``x * tanh(softplus(x))``."""
    return x * K.tanh(K.softplus(x))


def relu6(x):
    """``min(max(x, 0), 6)`` (tf.nn.relu6)."""
    return K.relu(x, max_value=6.0)


def leaky_relu(x, alpha=0.2):
    """``x`` for ``x >= 0``, ``alpha * x`` below (tf.nn.leaky_relu)."""
    return K.relu(x, alpha=alpha)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, computed stably (tf.nn.log_softmax)."""
    return K.log_softmax(x, axis=axis)


_BY_NAME = {
    "linear": linear, "relu": relu, "sigmoid": K.sigmoid, "tanh": K.tanh, "softmax": softmax,
    "elu": K.elu, "selu": K.selu, "softplus": K.softplus, "softsign": K.softsign,
    "hard_sigmoid": K.hard_sigmoid, "exponential": exponential, "swish": swish,
    "silu": silu, "gelu": gelu, "mish": mish, "relu6": relu6, "leaky_relu": leaky_relu,
    "log_softmax": log_softmax,
}


def get(identifier):
    """The activation for a name, ``None`` (linear) or a callable."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"Unknown activation function: {identifier!r}; expected one of "
                     f"{sorted(_BY_NAME)} or a callable")


def serialize(fn) -> str:
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    name = getattr(fn, "__name__", None)
    if name in _BY_NAME:
        return name
    raise ValueError(f"cannot serialize the activation {fn!r}: not a built-in activation")
