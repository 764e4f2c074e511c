"""``model.save_weights`` / ``model.load_weights``: the weights alone.

Every weight has a path, the one tf_keras's ``.weights.h5`` files use:
``layers/<layer>/vars/<i>`` where ``<layer>`` is the snake-cased class name
of a layer of ``model.layers`` made unique by position (``dense``,
``dense_1``, ...; not the layer's name, so two instances of one architecture
share their paths), ``<i>`` the weight's index among the layer's own weights,
and sublayers nested below their owner (``layers/lstm/cell/vars/0``,
``layers/bidirectional/forward_layer/cell/vars/1``,
``layers/time_distributed/layer/vars/0``, ``layers/sequential/layers/...``).

Two files hold them:

* a name ending in ``.weights.h5``: HDF5 in tf_keras's layout (one dataset
  per path), read and written by tf_keras's own ``save_weights`` /
  ``load_weights``; this needs h5py (``pip install symkb[keras]``);
* any other name (``.npz``, none, ...): a numpy ``.npz`` archive with the
  paths as keys (written under exactly the name given).

``load_weights`` tells the two apart by content and reads a file only when
its paths are exactly the model's, with the same shapes: a missing, extra or
misshapen weight is an error, never a weight left as it was.
"""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from ..backend.session import to_snake_case
from ..layers.base import Layer
from ..ir.errors import FileFormatError
from ..utils import safe_io
from ..utils.atomic import write_atomic
from . import h5_safe
from .config import class_name_of
from .file_kinds import HDF5_SIGNATURE, is_hdf5, is_tf_keras_archive
from .keras_training import is_training_path

H5_SUFFIX = ".weights.h5"
# Attributes through which tf_keras's weights walk reaches sublayers, in the
# order it visits them (reverse-sorted names; a layer met twice keeps its first path).
CHILD_ATTRS = ("layers", "layer", "forward_layer", "cells", "cell", "backward_layer")


def _h5py(action: str):
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{action}: .weights.h5 files need h5py, which is not installed; "
                          "install the optional extra: pip install 'symkb[keras]' (or "
                          "use a name ending in .npz for symkb's own weights file)") from None
    return h5py


def weight_paths(model) -> dict:
    """``{path: Variable}`` for every weight of ``model``, in tf_keras's walk order.

    Args:
        model: a built model (or layer).

    Returns:
        An ordered dict from ``.weights.h5`` path (see the module docstring)
        to the weight Variable.
    """
    out: dict = {}
    _walk(model, "", set(), out)
    return out


def _snake_class_name(layer) -> str:
    return to_snake_case(class_name_of(layer))


def _walk(obj, path: str, visited: set, out: dict) -> None:
    if id(obj) in visited:
        return
    visited.add(id(obj))
    custom = getattr(obj, "_keras_weight_paths", None)
    if custom is not None:  # a layer whose tf_keras twin keeps its weights in sublayers
        for rel, var in custom().items():
            out[f"{path}/{rel}" if path else rel] = var
        return
    own = list(obj._trainable_weights) + list(obj._non_trainable_weights)
    for i, var in enumerate(own):
        out[f"{path}/vars/{i}" if path else f"vars/{i}"] = var
    for attr in CHILD_ATTRS:
        child = getattr(obj, attr, None)
        where = f"{path}/{attr}" if path else attr
        if isinstance(child, Layer):
            _walk(child, where, visited, out)
        elif isinstance(child, (list, tuple)):
            used: dict = {}
            for item in child:
                if not isinstance(item, Layer) or id(item) in visited:
                    continue
                name = _snake_class_name(item)
                if name in used:
                    used[name] += 1
                    name = f"{name}_{used[name]}"
                else:
                    used[name] = 0
                _walk(item, f"{where}/{name}", visited, out)


def _check_built(model, action: str) -> None:
    if not getattr(model, "built", True):
        raise ValueError(f"{action}: model {model.name!r} is not built yet, so it has no "
                         "weights; build it first (give it an Input, call build(), or "
                         "predict on data)")


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write ``model``'s weights to ``filepath`` (see the module docstring).

    Args:
        model: a built Sequential or functional Model.
        filepath: ``*.weights.h5`` for tf_keras's HDF5 layout (needs h5py);
            any other name but tf_keras's ``.h5``/``.keras`` gets an ``.npz``.
        overwrite: replace an existing file (else ``FileExistsError``).
    """
    filepath = os.fspath(filepath)
    _check_built(model, "save_weights")
    lowered = str(filepath).lower()
    if not lowered.endswith(H5_SUFFIX) and lowered.endswith((".h5", ".hdf5", ".keras")):
        raise ValueError("save_weights: symkb writes tf_keras's weights layout to a name "
                         f"ending in {H5_SUFFIX!r}, or its own .npz to any other name; "
                         "tf_keras's legacy .h5 and .keras files it cannot write. "
                         f"Received: filepath={filepath!r}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save_weights: {filepath} exists and overwrite=False")
    arrays = {path: var.numpy() for path, var in weight_paths(model).items()}
    if lowered.endswith(H5_SUFFIX):
        data = _h5_bytes(model, arrays)
    else:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
    write_atomic(filepath, data)


def _h5_bytes(model, arrays: dict) -> bytes:
    h5py = _h5py("save_weights")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")  # the model's own (none), as tf_keras writes it
        for path, value in arrays.items():
            f.create_dataset(path, data=value)
    return buffer.getvalue()


class _H5Store:
    """The datasets of a ``.weights.h5`` file: shapes first (checked by
    :mod:`symkb.models.h5_safe`: limits, no links to other files), values on demand."""

    def __init__(self, source, filepath: str, opened=None):
        h5py = _h5py("load_weights")
        self._owned = opened is None
        self._file = h5_safe.open_file(source, "load_weights") if opened is None else opened
        self._where = f"load_weights: {filepath}"
        if "layer_names" in self._file.attrs or "model_weights" in self._file:
            self.close()
            raise ValueError(f"load_weights: {filepath} holds weights in tf_keras's legacy "
                             "HDF5 layout (save_weights to a name ending in .h5), which symkb "
                             "does not read; in tf_keras, save them with "
                             "model.save_weights('model.weights.h5') instead")
        self.shapes: dict = {}
        self._objects: dict = {}

        links: list = []  # collected first: h5py's walk must not be left by an exception
        self._file.visititems_links(lambda name, link: links.append((name, link)) and None)
        try:
            for name, link in links:
                if not isinstance(link, h5py.HardLink):
                    raise FileFormatError(f"{self._where}: {name!r} is a "
                                          f"{type(link).__name__}; symkb follows only hard "
                                          "links (a link never makes it open another file)",
                                          field=name)
                obj = self._file[name]
                if isinstance(obj, h5py.Dataset):
                    self.shapes[name] = h5_safe.check_dataset(obj, self._where)
                    self._objects[name] = obj
        except (ValueError, FileFormatError):
            self.close()
            raise

    def read(self, path: str) -> np.ndarray:
        return h5_safe.read_checked(self._objects[path], self._where)

    def close(self) -> None:
        if self._owned:
            self._file.close()


class _NpzStore:
    """The arrays of symkb's weights ``.npz``, read with the bounded reader of
    untrusted files (:mod:`symkb.utils.safe_io`: no pickle, sizes checked)."""

    def __init__(self, filepath: str):
        self._data = safe_io.load_npz(safe_io.read_bytes(filepath, "weights file"),
                                      "weights file")
        for key, value in self._data.items():
            if value.dtype.kind not in "fiub":
                raise ValueError(f"load_weights: {filepath}: array {key!r} holds "
                                 f"{value.dtype} values; weights are numbers")
        self.shapes = {key: tuple(value.shape) for key, value in self._data.items()}

    def read(self, path: str) -> np.ndarray:
        return self._data[path]

    def close(self) -> None:
        self._data = {}


def _open_store(filepath: str):
    """The weights in ``filepath``, of whichever kind save_weights writes (or the
    ``model.weights.h5`` inside a tf_keras ``.keras`` archive)."""
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"load_weights: no file at {filepath!r}")
    if is_hdf5(filepath):
        return _H5Store(filepath, filepath)
    if zipfile.is_zipfile(filepath):
        with safe_io.open_archive(filepath, "weights file") as archive:
            names = archive.namelist()
            if is_tf_keras_archive(names) and "model.weights.h5" in names:
                data = safe_io.read_member(archive, "model.weights.h5")
                if data[:len(HDF5_SIGNATURE)] != HDF5_SIGNATURE:
                    raise ValueError(f"load_weights: {filepath}: its model.weights.h5 is "
                                     "not HDF5")
                return _H5Store(io.BytesIO(data), filepath)
            if "config.json" in names:
                raise ValueError(f"load_weights: {filepath} is a whole saved model "
                                 "(model.save); read it with symkb.models.load_model")
        return _NpzStore(filepath)
    raise ValueError(f"load_weights: {filepath} is neither HDF5 ({H5_SUFFIX}) nor an .npz "
                     "archive, the two kinds of file save_weights writes (tf_keras's "
                     "TensorFlow checkpoints are not read)")


def set_from_h5(model, h5file, filepath: str) -> dict:
    """Set ``model``'s weights from an open ``.weights.h5`` (the one inside a
    ``.keras`` archive): every path present, with the model's shapes.

    Returns:
        ``{path: array}`` of the optimizer state the file holds
        (:mod:`symkb.models.keras_training`).
    """
    return _assign(model, _H5Store(None, filepath, opened=h5file), filepath)


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Set ``model``'s weights from a file ``save_weights`` (symkb's or tf_keras's) wrote.

    Args:
        model: a built model with the architecture the file was written from.
        filepath: a ``.weights.h5`` file, an ``.npz`` from ``save_weights``,
            or a tf_keras ``.keras`` archive (its weights only).
        skip_mismatch: must be False: symkb sets every weight or none.

    Raises:
        ValueError: when the file's weights are not exactly the model's
            (a path missing or extra, or a shape that differs); no weight is
            changed then.
    """
    if skip_mismatch:
        raise ValueError("load_weights: skip_mismatch=True is not supported: symkb sets "
                         "every weight from the file or none")
    _check_built(model, "load_weights")
    filepath = os.fspath(filepath)
    _assign(model, _open_store(filepath), filepath)


def _assign(model, store, filepath: str) -> dict:
    """Every weight of ``model`` from ``store``, or none (the store is closed).

    The training state tf_keras writes beside the weights (``optimizer/``,
    ``metrics/``) is not a weight; the optimizer's is returned as
    ``{path: array}``."""
    expected = weight_paths(model)
    try:
        training = [p for p in store.shapes if p not in expected and is_training_path(p)]
        state = {p: store.read(p) for p in training if p.startswith("optimizer/")}
        missing = [p for p in expected if p not in store.shapes]
        extra = sorted(p for p in store.shapes if p not in expected and p not in training)
        if missing or extra:
            raise ValueError(
                f"load_weights: {filepath} does not hold the weights of model "
                f"{model.name!r}: "
                + (f"missing {missing[:4]}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"not in the model {extra[:4]}" if extra else "")
                + f". The model's weights are {list(expected)[:6]}"
                + ("..." if len(expected) > 6 else ""))
        for path, var in expected.items():
            if tuple(var.shape) != store.shapes[path]:
                raise ValueError(f"load_weights: {filepath}: weight {path} ({var.name}) has "
                                 f"shape {tuple(var.shape)}; the file holds shape "
                                 f"{store.shapes[path]}")
        values = {path: store.read(path) for path in expected}
    finally:
        store.close()
    for path, var in expected.items():
        var.assign(values[path])
    return state
