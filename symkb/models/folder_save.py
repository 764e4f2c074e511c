"""The folder form of a saved model, written atomically as a pair.

``model.save(folder)`` writes two files into an existing folder: the weights
under a name made of their hash (``model.weights.<sha256[:16]>.npz``), then
``config.json``, which names that file and records its hash. Replacing
``config.json`` (an atomic rename) is the one commit point: a save
interrupted at any moment (even by ``SIGKILL``) leaves the previous config
naming the previous weights, so a reader sees the old pair or the new pair,
never a config with the other save's weights. Weights files no config names
(left by an interrupted save, or replaced) are removed by the next save.

Folders written before this form (a plain ``model.weights.npz`` beside a
config that names no weights file) are still read.
"""
from __future__ import annotations

import hashlib
import json
import os
import re

from ..utils.atomic import write_atomic
from ..utils import safe_io

CONFIG_FILE = "config.json"
LEGACY_WEIGHTS_FILE = "model.weights.npz"
_HASHED = re.compile(r"model\.weights\.[0-9a-f]{16}\.npz")


def weights_name(weights: bytes) -> tuple:
    """``(file name, sha256 hex digest)`` of a weights file's bytes."""
    digest = hashlib.sha256(weights).hexdigest()
    return f"model.weights.{digest[:16]}.npz", digest


def write_folder(folder: str, config: dict, weights: bytes, overwrite: bool, dumps) -> None:
    """Save ``config`` and ``weights`` into ``folder`` as one atomic pair.

    Args:
        folder: an existing directory.
        config: the config document; ``weights_file`` and ``weights_sha256``
            are added to it.
        weights: the ``.npz`` bytes.
        overwrite: with False, a folder that already holds a saved model
            raises ``FileExistsError``.
        dumps: turns the config document into JSON text.
    """
    config_path = os.path.join(folder, CONFIG_FILE)
    if not overwrite:
        for name in (CONFIG_FILE, LEGACY_WEIGHTS_FILE):
            if os.path.exists(os.path.join(folder, name)):
                raise FileExistsError(f"save: {os.path.join(folder, name)} exists and "
                                      "overwrite=False")
    name, digest = weights_name(weights)
    write_atomic(os.path.join(folder, name), weights)
    text = dumps({**config, "weights_file": name, "weights_sha256": digest})
    write_atomic(config_path, text.encode("utf-8"))          # the commit point
    for other in os.listdir(folder):
        if other != name and (_HASHED.fullmatch(other) or other == LEGACY_WEIGHTS_FILE):
            try:
                os.unlink(os.path.join(folder, other))
            except OSError:
                pass  # a concurrent save removed it first


def read_folder(folder: str, error) -> tuple:
    """``(config text, weights bytes or None)`` of a model saved in ``folder``.

    Args:
        folder: the directory.
        error: the exception class for a folder that is not a saved model
            (called with the message).

    Raises:
        error: no ``config.json``; no weights; a config naming a weights
            file that is absent, badly named or whose hash does not match.
    """
    config_path = os.path.join(folder, CONFIG_FILE)
    if not os.path.exists(config_path):
        raise error(f"load_model: {folder} is a directory without {CONFIG_FILE}")
    raw_text = safe_io.read_bytes(config_path, CONFIG_FILE)
    try:
        text = raw_text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"load_model: {config_path} is not UTF-8 text ({exc})") from None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None   # the caller reports the broken config
    named = doc.get("weights_file") if isinstance(doc, dict) else None
    if named is None:
        weights_path = os.path.join(folder, LEGACY_WEIGHTS_FILE)
        if not os.path.exists(weights_path):
            raise error(f"load_model: {folder} lacks {LEGACY_WEIGHTS_FILE}: symkb will not "
                        "build the model with fresh weights in place of saved ones")
        return text, safe_io.read_bytes(weights_path, LEGACY_WEIGHTS_FILE)
    if not isinstance(named, str) or not _HASHED.fullmatch(named):
        raise error(f"load_model: {config_path}: field 'weights_file' must name a file "
                    f"model.weights.<16 hex digits>.npz. Received: {str(named)[:80]!r}")
    weights_path = os.path.join(folder, named)
    try:
        weights = safe_io.read_bytes(weights_path, "weights_file")
    except FileNotFoundError:
        raise error(f"load_model: {folder}: {CONFIG_FILE} names the weights file {named}, "
                    "which is missing") from None
    expected = doc.get("weights_sha256")
    if hashlib.sha256(weights).hexdigest() != expected:
        raise error(f"load_model: {weights_path}: the weights do not match the hash "
                    f"recorded in {CONFIG_FILE} (field 'weights_sha256'): the file is damaged "
                    "or was replaced")
    return text, weights
