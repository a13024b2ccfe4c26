"""A file's SHA-256, remembered while the file stays the same (engine.files)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine import files


def test_a_hash_is_read_once_per_version_of_a_file(tmp_path: Path, monkeypatch) -> None:
    page = tmp_path / "scan.png"
    page.write_bytes(b"first version")
    reads: list[str] = []
    hash_file = files.file_sha256
    monkeypatch.setattr(files, "file_sha256", lambda path: reads.append(path) or hash_file(path))
    files._sha256_of_version.cache_clear()
    first = files.file_sha256_cached(page)
    assert files.file_sha256_cached(page) == first == hashlib.sha256(b"first version").hexdigest()
    assert len(reads) == 1
    page.write_bytes(b"second version, longer")  # another size
    assert files.file_sha256_cached(page) == hashlib.sha256(b"second version, longer").hexdigest()
    page.write_bytes(b"third version, longer!")  # the same size, another modification time
    os.utime(page, ns=(1, 1))
    assert files.file_sha256_cached(page) == hashlib.sha256(b"third version, longer!").hexdigest()
    assert len(reads) == 3
