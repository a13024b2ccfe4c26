"""What several parts of the engine do with files: their SHA-256, sizes in words, and copies made whole."""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
from pathlib import Path


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


def atomic_copy(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Copy ``source`` to ``destination`` (its folder made) under a hidden name, then rename it: whoever reads
    ``destination`` finds the old file or the whole new one, never a part."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    return destination
