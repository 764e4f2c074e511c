"""Reading untrusted files: regular files only, bounded sizes, archives and ``.npz``
checked before anything is allocated.

* :func:`read_bytes` / :func:`read_text` open regular files only (a FIFO, a
  device or a symlink to one would hang or never end) and read at most
  ``max_file_bytes`` (:mod:`symkb.ir.limits`);
* :func:`open_archive` / :func:`read_member` read zip archives: a member's
  declared inflated size and ratio are checked before it is inflated, and the
  inflated data is cut at its declared size; a truncated or damaged archive
  is reported as one;
* :func:`load_npz` reads ``np.savez`` data without numpy's loader, which
  allocates the array a header declares before it knows whether the data is
  there: here the header's element count is checked against the limits and
  against the bytes actually stored first, and object arrays are refused
  (nothing is ever unpickled).

Every error is a :class:`~symkb.ir.errors.FileFormatError` naming the file
and the field.
"""
from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import zipfile
import zlib

import numpy as np

from ..ir import limits
from ..ir.errors import FileFormatError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str):
    """``path`` opened for binary reading, when it is a regular file (links followed).

    It is opened without blocking and checked on the open descriptor, so a
    FIFO swapped in after a check cannot hang the reader.

    Raises:
        FileFormatError: ``path`` is a FIFO, a device, a socket or a directory.
        FileNotFoundError: nothing is there.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileFormatError(f"{path}: is {_kind(mode)}; a loader reads regular files only",
                                  source=str(path), field="file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str, field: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_file_bytes`` of them."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        limits.check_bytes(size, field)
        # read what the file says it holds, and one byte more to see it did not grow
        # (never a buffer of the limit's size: read(n) allocates n bytes up front)
        data = f.read(size + 1)
    limits.check_bytes(len(data), field)
    return data


def decode_text(data: bytes, field: str) -> str:
    """``data`` as UTF-8 text; binary data (an archive included) is named as such.

    Raises:
        FileFormatError: ``data`` starts like a zip archive, or is not UTF-8.
    """
    if data.startswith(ZIP_MAGIC):
        raise FileFormatError(f"{field}: is a zip archive (truncated or damaged), not text",
                              field=field)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{field}: binary data, not UTF-8 text (byte {exc.start}: "
                              f"{data[exc.start:exc.start + 1]!r})", field=field) from None


def read_text(path: str, field: str = "file") -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes`)."""
    return decode_text(read_bytes(path, field), field)


def is_zip(path: str) -> bool:
    """Whether the regular file ``path`` starts like a zip archive (complete or not)."""
    with open_regular(path) as f:
        return f.read(4) in ZIP_MAGIC


# the ways zipfile reports a damaged, truncated or unsupported archive
# (OSError: a damaged directory sends zipfile seeking before the start of the file)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, EOFError, NotImplementedError,
               RuntimeError, ValueError, OverflowError, KeyError, OSError)


@contextlib.contextmanager
def open_archive(source, field: str = "archive"):
    """A zip archive from a path (a regular file) or bytes, as a context manager
    that closes the archive and the file.

    Raises:
        FileFormatError: a truncated, damaged or unsupported archive.
    """
    if isinstance(source, (bytes, bytearray)):
        stream = io.BytesIO(source)
    else:
        stream = open_regular(source)
    with stream:
        limits.check_bytes(len(source) if isinstance(source, (bytes, bytearray))
                           else os.fstat(stream.fileno()).st_size, field, "archive")
        try:
            archive = zipfile.ZipFile(stream)
        except _ZIP_ERRORS as exc:
            raise FileFormatError(f"{field}: a truncated or damaged zip archive ({exc})",
                                  field=field) from None
        with archive:
            yield archive


def read_member(archive: zipfile.ZipFile, name: str, field: str | None = None) -> bytes:
    """The inflated bytes of member ``name``, its sizes checked against the limits first.

    Raises:
        LimitError: the declared inflated size or ratio is over the limits.
        FileFormatError: a damaged member (bad data, a wrong checksum, an
            unsupported compression or encryption).
    """
    field = field or name
    info = archive.getinfo(name)
    lim = limits.get_limits()
    if info.file_size > lim.max_member_bytes:
        raise limits._limit(f"{field}: archive member inflates to {info.file_size} bytes, more "
                            f"than {lim.max_member_bytes}", field, "max_member_bytes")
    if info.file_size > lim.ratio_floor_bytes and \
            info.file_size > lim.max_inflate_ratio * max(info.compress_size, 1):
        raise limits._limit(f"{field}: archive member inflates {info.compress_size} bytes to "
                            f"{info.file_size}, a ratio over {lim.max_inflate_ratio}",
                            field, "max_inflate_ratio")
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except _ZIP_ERRORS as exc:
        raise FileFormatError(f"{field}: a damaged archive member ({type(exc).__name__}: "
                              f"{exc})", field=field) from None
    if len(data) != info.file_size:
        raise FileFormatError(f"{field}: archive member holds {len(data)} bytes, its header "
                              f"says {info.file_size}", field=field)
    return data


def load_npz(data: bytes, field: str = "weights") -> dict:
    """``{key: array}`` of ``np.savez`` bytes, read without numpy's pickle-capable
    loader (see the module docstring)."""
    out = {}
    with open_archive(data, field) as archive:
        for info in archive.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            where = f"{field}[{key!r}]"
            out[key] = _npy(read_member(archive, info.filename, where), where)
    return out


def _npy(raw: bytes, field: str) -> np.ndarray:
    """One ``.npy`` member: header checked against the stored bytes, then viewed."""
    from numpy.lib import format as npy
    stream = io.BytesIO(raw)
    try:
        version = npy.read_magic(stream)
        read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran, dtype = read(stream)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise FileFormatError(f"{field}: not a .npy array ({type(exc).__name__}: {exc})",
                              field=field) from None
    if dtype.hasobject or dtype.fields is not None or dtype.kind == "V":
        raise FileFormatError(f"{field}: arrays of dtype {dtype} are not read (objects would "
                              "need unpickling)", field=field)
    count = limits.element_count(shape, f"{field}.shape")
    offset = stream.tell()
    if len(raw) - offset != count * dtype.itemsize:
        raise FileFormatError(f"{field}: an array of shape {tuple(shape)} and dtype {dtype} "
                              f"needs {count * dtype.itemsize} bytes; the file holds "
                              f"{len(raw) - offset}", field=field)
    limits.check_array(shape, field)
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C").copy()
