"""Writing a file atomically: a temporary file beside it, then ``os.replace``.

Readers never see a half-written file, and a failed write leaves the old one.
The temporary file is created with mode ``0o666`` through ``os.open``, so the
umask applies as for an ordinary ``open(path, "w")`` (``tempfile`` would make
it owner-only, ``0o600``).
"""
from __future__ import annotations

import os
import secrets


def write_atomic(path, data) -> None:
    """Write ``data`` (``str``, as UTF-8, or ``bytes``) to ``path`` atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
