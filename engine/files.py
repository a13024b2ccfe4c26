"""Two facts about files that several parts of the engine state: their SHA-256, and sizes in words."""
from __future__ import annotations

import functools
import hashlib
import os


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256_cached(path: str | os.PathLike[str]) -> str:
    """file_sha256, read again only when the file changed (its size or modification time).

    For callers that ask about the same files again and again in one process: the app checks
    what an output folder holds each time a setting changes, then a batch checks it once more.
    """
    stat = os.stat(path)
    return _sha256_of_version(os.fspath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _sha256_of_version(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def size_label(size: int) -> str:
    """A byte count as people read it in a refusal: "3.6 GB", "17.0 MB"."""
    return f"{size / 1e9:.1f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
