"""What a model file is, told from its contents, and the files symkb refuses.

symkb reads its own formats (the zip or folder ``model.save`` writes, a
``to_json()`` document) and Keras's (:func:`keras_kind`: a tf_keras or Keras
3 ``.keras`` archive, a legacy HDF5 ``.h5`` model; read by
:mod:`symkb.models.keras_files`), whatever the file is called. It refuses,
with an error that says what the file is and what to do, a TensorFlow
SavedModel folder (``saved_model.pb``), which needs TensorFlow.

``model.save`` writes Keras's formats under their extensions (``.keras``,
``.h5``, ``.hdf5``; :mod:`symkb.models.keras_write`) and symkb's own under
any other name.
"""
from __future__ import annotations

import os
import stat
import zipfile

from ..ir.errors import FileFormatError
from ..utils import safe_io

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
TF_KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")

_MOVE_HINT = ("To use a TensorFlow SavedModel in symkb, save the model from tf_keras as "
              "model.save('model.keras'), which symkb.models.load_model reads.")


class ForeignModelFileError(FileFormatError):
    """A tf_keras or TensorFlow file that symkb cannot read (yet): a
    :class:`~symkb.ir.FileFormatError` (so a ``ValueError``) of its own kind."""


def is_regular_file(path) -> bool:
    """Whether ``path`` is a regular file (a FIFO or a device is never opened here:
    the loaders refuse it)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def is_hdf5(path) -> bool:
    """True when the regular file at ``path`` starts with the HDF5 signature."""
    if not is_regular_file(path):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except (IsADirectoryError, PermissionError, FileNotFoundError):
        return False


def is_tf_keras_archive(names) -> bool:
    """True for the member names of a tf_keras ``.keras`` zip archive."""
    names = set(names)
    return "metadata.json" in names or "model.weights.h5" in names


def keras_kind(path) -> str | None:
    """``"archive"`` for a tf_keras or Keras 3 ``.keras`` zip, ``"hdf5"`` for an
    HDF5 file, else None (told by content, never by name)."""
    path = os.fspath(path)
    if not is_regular_file(path):
        return None
    if is_hdf5(path):
        return "hdf5"
    if safe_io.is_zip(path):
        # a damaged archive is reported by safe_io as such (a FileFormatError)
        with safe_io.open_archive(path) as archive:
            names = archive.namelist()
        if is_tf_keras_archive(names):
            return "archive"
    return None


def refuse_foreign(path, action: str = "load_model") -> None:
    """Raise :class:`ForeignModelFileError` when ``path`` is a model file of
    tf_keras or TensorFlow that is not symkb's own format (a ``.keras``
    archive, HDF5, a SavedModel folder): ``action`` reads symkb's format only.

    Args:
        path: the file or folder about to be read.
        action: the function reading it, named in the message.

    Raises:
        ForeignModelFileError: (a ``ValueError``) saying what the file is and
            what to do instead.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "saved_model.pb")):
            raise ForeignModelFileError(
                f"{action}: {path} is a TensorFlow SavedModel folder (saved_model.pb), "
                f"which symkb cannot read. {_MOVE_HINT}")
        return
    if not is_regular_file(path):
        return
    if is_hdf5(path):
        raise ForeignModelFileError(
            f"{action}: {path} is an HDF5 file (tf_keras's legacy .h5 model format, or "
            "a .weights.h5 weights file), not symkb's own format: "
            "symkb.models.load_model(path) reads an .h5 model, and model.load_weights(path) "
            "a .weights.h5 file into a model with the same layers.")
    if zipfile.is_zipfile(path):
        # a damaged archive is reported by safe_io as such (a FileFormatError)
        with safe_io.open_archive(path) as archive:
            names = archive.namelist()
        if is_tf_keras_archive(names):
            raise ForeignModelFileError(
                f"{action}: {path} is a tf_keras .keras archive (members {sorted(names)}), "
                "not symkb's own format: symkb.models.load_model(path) reads it (config "
                "and weights), model.load_weights(path) its weights alone.")
