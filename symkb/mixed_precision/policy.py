"""Dtype policies: the dtype a layer computes in and the dtype of its weights.

As in ``tf_keras.mixed_precision``: a :class:`Policy` named after a dtype
(``'float32'``) computes and stores in that dtype; ``'mixed_float16'``
computes in float16 and keeps its variables in float32. A layer takes its
policy at construction: its ``dtype`` argument, else the global policy, which
follows ``K.floatx()`` until :func:`set_global_policy` fixes it (``None``
returns to following ``floatx``). ``K.clear_session()`` leaves the global
policy as it is, as in tf_keras.

In a layer's call, floating-point inputs are cast to the compute dtype and,
under a mixed policy, floating-point variables are read in it
(``symkb.ir.autocast_variables``).
"""
from __future__ import annotations

from ..backend.config import floatx

_MIXED = {"mixed_float16": "float16"}
_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool")
_global = None


class Policy:
    """A dtype policy for layers.

    Args:
        name: ``'mixed_float16'`` or a dtype name such as ``'float32'``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` names no policy (``'mixed_bfloat16'`` is refused:
            numpy has no bfloat16).
    """

    def __init__(self, name):
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, not a {type(name).__name__}. "
                            f"Received: name={name!r}")
        if name == "mixed_bfloat16":
            raise ValueError("Policy 'mixed_bfloat16' is not supported by symkb (numpy has no "
                             "bfloat16); use 'mixed_float16'. Received: name='mixed_bfloat16'")
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        elif name in _DTYPES:
            compute = variable = name
        else:
            raise ValueError(f"Cannot convert value {name} to a mixed precision Policy. Valid "
                             "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                             "of any dtype such as 'float32'.")
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    @property
    def name(self) -> str:
        """The policy's name."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layer computations run in (and layer outputs have)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of layer weights."""
        return self._variable_dtype

    def __repr__(self) -> str:
        return f'<Policy "{self._name}">'

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def get_config(self) -> dict:
        """``{'name': name}``."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        """The policy ``config`` (from :meth:`get_config`) describes."""
        return cls(**config)


def global_policy() -> Policy:
    """The policy layers take when given no ``dtype``.

    Returns:
        The policy set by :func:`set_global_policy`, else ``Policy(K.floatx())``.
    """
    return _global if _global is not None else Policy(floatx())


def set_global_policy(policy) -> None:
    """Set the policy layers take when given no ``dtype``.

    Args:
        policy: a :class:`Policy`, a policy name (``'mixed_float16'``,
            ``'float32'``, ...) or ``None`` to follow ``K.floatx()`` again.

    Raises:
        ValueError: a policy whose compute dtype is not floating point.
    """
    global _global
    if policy is None:
        _global = None
        return
    chosen = Policy(policy) if not isinstance(policy, Policy) else policy
    if not chosen.compute_dtype.startswith("float"):
        raise ValueError("set_global_policy can only be used to set the global policy to "
                         'floating-point policies, such as "float32" and "mixed_float16", but '
                         f"got policy: {chosen.name}")
    _global = chosen


def get_policy(dtype) -> Policy:
    """A layer's policy from its ``dtype`` argument.

    Args:
        dtype: ``None`` (the global policy), a :class:`Policy`, a policy or
            dtype name, or a serialised policy as tf_keras writes it in a
            config (``{'class_name': 'Policy', 'config': {'name': ...}}``).

    Returns:
        A :class:`Policy`.
    """
    if dtype is None:
        return global_policy()
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, dict):
        if dtype.get("class_name") != "Policy" or not isinstance(dtype.get("config"), dict):
            raise ValueError("a serialised dtype policy must look like {'class_name': 'Policy', "
                             f"'config': {{'name': ...}}}}. Received: dtype={dtype!r}")
        return Policy.from_config(dtype["config"])
    if hasattr(dtype, "name") and not isinstance(dtype, str):  # a numpy dtype or type
        dtype = getattr(dtype, "name", dtype)
    if isinstance(dtype, type):
        import numpy as np
        dtype = np.dtype(dtype).name
    return Policy(dtype)


def serialize(policy: Policy):
    """A policy as a layer config holds it: the dtype name for a plain policy,
    tf_keras's dict for a mixed one."""
    if policy.name not in _MIXED:
        return policy.name
    return {"module": "keras.mixed_precision", "class_name": "Policy",
            "config": policy.get_config(), "registered_name": None}
