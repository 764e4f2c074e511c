"""What a model file is, told from its contents, and the files symkb refuses.

symkb reads its own formats (the zip or folder ``model.save`` writes, a
``to_json()`` document) and refuses, with an error that says what the file is
and what to do, the files of tf_keras and TensorFlow that it cannot read:

* a tf_keras ``.keras`` archive (``config.json`` + ``metadata.json`` +
  ``model.weights.h5``): symkb cannot read tf_keras weights yet, and building
  the architecture with fresh weights would give wrong predictions silently;
* an HDF5 file (tf_keras's legacy ``.h5`` model, or a ``.weights.h5`` weights
  file, which ``model.load_weights`` reads);
* a TensorFlow SavedModel folder (``saved_model.pb``).

Saving under tf_keras's extensions (``.keras``, ``.h5``, ``.hdf5``) is refused
too: a symkb archive under such a name would be a tf_keras file in name only.
"""
from __future__ import annotations

import os
import stat
import zipfile

from ..ir.errors import FileFormatError
from ..utils import safe_io

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
TF_KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")

_MOVE_HINT = ("To use a tf_keras model in symkb, build the same model in symkb (or "
              "symkb.models.model_from_json(tf_model.to_json())) and call "
              "set_weights(tf_model.get_weights()); then model.save(path) writes symkb's "
              "own format, which symkb.models.load_model reads.")


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


def refuse_foreign(path, action: str = "load_model") -> None:
    """Raise :class:`ForeignModelFileError` when ``path`` is a tf_keras or
    TensorFlow model file (a ``.keras`` archive, HDF5, a SavedModel folder).

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
            "a .weights.h5 weights file); symkb cannot read tf_keras models from HDF5 "
            "yet. A .weights.h5 file is read by model.load_weights(path) on a model "
            f"with the same layers. {_MOVE_HINT}")
    if zipfile.is_zipfile(path):
        # a damaged archive is reported by safe_io as such (a FileFormatError)
        with safe_io.open_archive(path) as archive:
            names = archive.namelist()
        if is_tf_keras_archive(names):
            raise ForeignModelFileError(
                f"{action}: {path} is a tf_keras .keras archive (members {sorted(names)}); "
                "symkb.models.load_model cannot read tf_keras models yet, and building the "
                "model from its config.json alone would give it fresh, wrong weights. Its "
                "weights can be read into a symkb model built with the same layers: "
                f"model.load_weights(path). {_MOVE_HINT}")


def refuse_tf_keras_name(path, action: str = "save") -> None:
    """Raise ``ValueError`` when ``path`` ends in a tf_keras extension.

    symkb writes its own zip; under ``.keras``/``.h5``/``.hdf5`` it would
    pose as a tf_keras file that tf_keras cannot load.

    Args:
        path: the file about to be written.
        action: the method writing it, named in the message.
    """
    name = os.fspath(path)
    lowered = str(name).lower()
    for ext in TF_KERAS_EXTENSIONS:
        if lowered.endswith(ext):
            raise ValueError(
                f"{action}: {ext!r} is a tf_keras file format, which symkb cannot write "
                "yet. Received: filepath=" + repr(str(name)) + ". Save symkb's own format "
                "under another name (for example 'model.symkb', or a folder), which "
                "symkb.models.load_model and `symkb inspect` read; for weights only, "
                "model.save_weights('model.weights.h5') writes tf_keras's weights layout.")
