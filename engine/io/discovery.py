"""Finding the page files a user named: files and folders, in natural order."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from engine.io.page_types import SUPPORTED_SUFFIXES, real_path


def _natural_key(text: str) -> list[int | str]:
    # "2.png" before "10.png": digit runs compare as numbers.  re.split with a
    # capturing group alternates text, number, text..., so positions always
    # hold the same type and lists compare safely.
    parts = re.split(r"(\d+)", text.lower())
    return [int(part) if i % 2 else part for i, part in enumerate(parts)]


def _is_skipped(name: str) -> bool:
    # Hidden files include our own unfinished writes (".<name>.partial-<hex>").
    return name.startswith(".")


def _images_in_folder(folder: Path, recursive: bool) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        # Hidden folders (.git, .cache, ...) are never pages.
        dirs[:] = [d for d in dirs if not d.startswith(".")] if recursive else []
        for name in files:
            if not _is_skipped(name) and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(Path(root) / name)
    return sorted(
        found, key=lambda p: [_natural_key(part) for part in p.relative_to(folder).parts]
    )


def find_images(inputs: Iterable[str | os.PathLike[str]], recursive: bool = True) -> list[Path]:
    """List the image files named by ``inputs`` (files and folders).

    Folders are walked (sub-folders too if ``recursive``) in natural order
    (2.png before 10.png), keeping files with a supported suffix and
    skipping hidden files and unfinished ".partial" writes.  Files named
    directly, and paths that do not exist, are passed through unchecked so
    that reading them reports the problem by name; so is anything in a folder
    that is no file (a named pipe called scan.png): the readers refuse it by
    what it is, before opening it (engine.io.pages).  Duplicates are dropped.
    """
    result: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        item = Path(item)
        candidates = _images_in_folder(item, recursive) if item.is_dir() else [item]
        for candidate in candidates:
            key = real_path(candidate)
            if key not in seen:
                seen.add(key)
                result.append(candidate)
    return result
