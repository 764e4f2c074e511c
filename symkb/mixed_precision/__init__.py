"""Mixed precision: dtype policies for layers, as ``tf_keras.mixed_precision``.

    from symkb import mixed_precision
    mixed_precision.set_global_policy("mixed_float16")
"""
from .policy import Policy, get_policy, global_policy, serialize, set_global_policy  # noqa: F401

__all__ = ["Policy", "global_policy", "set_global_policy"]
