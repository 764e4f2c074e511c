"""Activation functions by name, as in tf_keras.activations."""
from __future__ import annotations

from .. import backend as K


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
    return x * K.sigmoid(x)


_BY_NAME = {
    "linear": linear, "relu": relu, "sigmoid": K.sigmoid, "tanh": K.tanh, "softmax": softmax,
    "elu": K.elu, "selu": K.selu, "softplus": K.softplus, "softsign": K.softsign,
    "hard_sigmoid": K.hard_sigmoid, "exponential": exponential, "swish": swish,
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
