"""Reading weights out of untrusted HDF5 files, bounded and without side doors.

An HDF5 file can do more than hold arrays: a link may point into another
file, a dataset may keep its bytes in external files or be a virtual view of
other files, and a dataset's header may claim any shape. Every dataset symkb
reads from an HDF5 file (``.weights.h5``, the ``model.weights.h5`` of a
``.keras`` archive, a legacy ``.h5`` model) goes through :func:`dataset`:

* each step of its path must be a hard link (soft and external links are
  refused, so no other file is ever opened);
* it must be stored in the file (no external storage, not virtual);
* its dtype must be numeric (no strings, objects, references or compounds);
* its shape is checked against :mod:`symkb.ir.limits` (one array, and all
  arrays of the load together) before a byte of it is read.

h5py is the optional extra ``symkb[keras]``; :func:`h5py_module` imports it
on first use and names the extra when it is missing.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

from ..ir import limits
from ..ir.errors import FileFormatError


@contextlib.contextmanager
def damage_reported(source: str):
    """HDF5's own errors while reading (``OSError``, ``KeyError``, ``RuntimeError``
    from a damaged file) as a :class:`~symkb.ir.errors.FileFormatError`."""
    try:
        yield
    except (FileNotFoundError, PermissionError):
        raise
    except (OSError, KeyError, RuntimeError, TypeError, AttributeError) as exc:
        raise FileFormatError(f"{source}: a damaged HDF5 file ({type(exc).__name__}: {exc})",
                              field="hdf5") from None


def h5py_module(action: str):
    """h5py, or an ImportError naming the extra that installs it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{action}: tf_keras's HDF5 files (.h5, .weights.h5, and the "
                          "weights inside .keras archives) need h5py, which is not "
                          "installed; install the optional extra: pip install 'symkb[keras]'"
                          ) from None
    return h5py


def open_file(source, action: str):
    """An h5py File read-only from a path or a file-like object, damage reported as
    a :class:`~symkb.ir.errors.FileFormatError`."""
    h5py = h5py_module(action)
    try:
        size = os.fstat(source.fileno()).st_size
    except (AttributeError, OSError):  # a path (h5py opens it) or bytes in memory
        size = source.getbuffer().nbytes if hasattr(source, "getbuffer") else 0
    limits.check_bytes(size, "file")
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{action}: not a readable HDF5 file ({exc})",
                              field="hdf5") from None


def node(group, path: str, where: str):
    """The object at ``path`` under ``group``, following hard links only.

    Raises:
        FileFormatError: a missing step, or a soft or external link.
    """
    h5py = h5py_module(where)
    current = group
    for part in [p for p in path.split("/") if p]:
        if not isinstance(current, h5py.Group):
            raise FileFormatError(f"{where}: {path!r}: {current.name!r} is not a group",
                                  field=path)
        link = current.get(part, getlink=True)
        if link is None:
            raise FileFormatError(f"{where}: the file has no {path!r}", field=path)
        if not isinstance(link, h5py.HardLink):
            raise FileFormatError(f"{where}: {path!r} is a {type(link).__name__}; symkb "
                                  "follows only hard links (a link never makes it open "
                                  "another file)", field=path)
        current = current[part]
    return current


def check_dataset(obj, where: str) -> tuple:
    """The shape of dataset ``obj`` after the checks of the module docstring
    (limits accounted: call once per dataset read)."""
    h5py = h5py_module(where)
    label = (obj.name or "?").lstrip("/")
    if not isinstance(obj, h5py.Dataset):
        raise FileFormatError(f"{where}: {label!r} is not a dataset", field=label)
    if obj.is_virtual or obj.external:
        raise FileFormatError(f"{where}: dataset {label!r} keeps its values in other "
                              "files (external or virtual storage), which symkb never "
                              "reads", field=label)
    dtype = obj.dtype
    if dtype.kind not in "fiub" or dtype.fields is not None or dtype.itemsize > 8:
        raise FileFormatError(f"{where}: dataset {label!r} holds {dtype} values; weights "
                              "are numbers", field=label)
    shape = obj.shape
    if shape is None:
        raise FileFormatError(f"{where}: dataset {label!r} has no shape (an empty "
                              "dataspace)", field=label)
    field = f"{where}: dataset {label!r}"
    if limits.loading():
        limits.check_array(shape, field)
    else:  # model.load_weights outside a load: one array still has its limit
        limits.element_count(shape, field)
    return tuple(shape)


def read(obj, where: str) -> np.ndarray:
    """The values of dataset ``obj``, checked first (:func:`check_dataset`)."""
    check_dataset(obj, where)
    return read_checked(obj, where)


def read_checked(obj, where: str) -> np.ndarray:
    """The values of dataset ``obj`` that :func:`check_dataset` has passed."""
    try:
        return np.asarray(obj[()])
    except (OSError, ValueError, TypeError) as exc:
        raise FileFormatError(f"{where}: dataset {obj.name!r} cannot be read ({exc})",
                              field=obj.name) from None


def dataset(group, path: str, where: str) -> np.ndarray:
    """The values of the dataset at ``path`` under ``group`` (see the module docstring)."""
    return read(node(group, path, where), where)


def string_list(attrs, key: str, where: str) -> list:
    """An attribute holding a list of names (bytes or str), as ``str``s."""
    if key not in attrs:
        raise FileFormatError(f"{where}: the file lacks attribute {key!r}", field=key)
    limits.check_array(attrs.get_id(key).shape or (), f"{where}: attribute {key!r}")
    items = np.asarray(attrs[key]).reshape(-1).tolist()
    out = []
    for item in items:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        if not isinstance(item, str):
            raise FileFormatError(f"{where}: attribute {key!r} must list names, it holds "
                                  f"{type(item).__name__}", field=key)
        out.append(item)
    return out


def text_attr(attrs, key: str, where: str) -> str:
    """A text attribute (a JSON config) as ``str``."""
    if key not in attrs:
        raise FileFormatError(f"{where}: the file lacks attribute {key!r}", field=key)
    value = attrs[key]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise FileFormatError(f"{where}: attribute {key!r} must be text, it holds "
                              f"{type(value).__name__}", field=key)
    limits.check_bytes(len(value), key, "attribute")
    return value
