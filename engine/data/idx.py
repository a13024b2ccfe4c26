"""Reading IDX files, the format of MNIST and notMNIST (optionally gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a data-type code, the
number of dimensions), one big-endian uint32 per dimension, then the values
in C order, big-endian.  Nothing else may follow.

The files are untrusted: the size the header declares is checked against
MAX_DATA_BYTES before anything is allocated or decompressed, and no more
than the declared data and one buffer more is ever decompressed, so a gzip
bomb costs neither memory nor time.
"""
from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path

import numpy as np

from engine.errors import DataError
from engine.files import size_label

_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAX_NDIM = 4
# The most data an IDX file may declare.  The largest real set, notMNIST
# large, is about 530,000 x 28 x 28 bytes (0.42 GB); more is refused unread.
MAX_DATA_BYTES = 1 << 30
MAX_DATA_LABEL = "1 GiB"
# Decompressed data is copied into the result in blocks of this size:
# GzipFile.readinto would first build the whole payload as one bytes object.
_BLOCK = 1 << 20


class IdxFormatError(DataError):
    """A file is not a valid IDX file; ``str()`` is "<path>: <reason>"."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _read_exactly(stream: io.BufferedIOBase, size: int, path: Path, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise IdxFormatError(path, f"truncated {what}: expected {size} bytes, found {len(data)}")
    return data


def _read_header(stream: io.BufferedIOBase, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = _read_exactly(stream, 4, path, "header")
    if magic[0] != 0 or magic[1] != 0:
        raise IdxFormatError(path, f"bad magic number {magic.hex()} (an IDX file starts with two zero bytes)")
    code, ndim = magic[2], magic[3]
    if code not in _DTYPES:
        raise IdxFormatError(path, f"unknown data type code 0x{code:02X}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise IdxFormatError(path, f"unsupported number of dimensions {ndim} (expected 1 to {_MAX_NDIM})")
    dims = _read_exactly(stream, 4 * ndim, path, "dimension list")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    return _DTYPES[code], shape


def _check_declared_size(path: Path, dtype: np.dtype, shape: tuple[int, ...]) -> int:
    """The payload's size in bytes; IdxFormatError over MAX_DATA_BYTES (Python ints: no overflow)."""
    size = dtype.itemsize
    for dim in shape:
        size *= dim
    if size > MAX_DATA_BYTES:
        raise IdxFormatError(path, f"declares {size_label(size)} of data, "
                                   f"over the {MAX_DATA_LABEL} limit for IDX files")
    return size


def _read_payload(stream: io.BufferedIOBase, path: Path, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    _check_declared_size(path, dtype, shape)
    # Read straight into the result array so a 47 MB training file is held once, not twice.
    try:
        values = np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError):
        raise IdxFormatError(path, f"header claims an impossibly large shape {shape}") from None
    view = values.reshape(-1).view(np.uint8).data
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:filled + _BLOCK])
        if not count:
            break
        filled += count
    if filled != len(view):
        raise IdxFormatError(
            path, f"truncated data: header {shape} needs {len(view)} bytes, found {filled}"
        )
    # read1: one byte from the decompressor, not a buffer's worth (nor the rest of a bomb).
    if stream.read1(1):
        raise IdxFormatError(path, f"unexpected bytes after the {len(view)} bytes of data for shape {shape}")
    return values.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip, detected by content) into an array of the header's shape.

    Values keep their stored type (uint8 for MNIST) in native byte order.
    Raises IdxFormatError naming the file when the magic number, the
    dimensions or the data length are wrong; FileNotFoundError if missing.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            dtype, shape = _read_header(stream, path)
            return _read_payload(stream, path, dtype, shape)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise IdxFormatError(path, f"damaged gzip stream ({exc})") from None
