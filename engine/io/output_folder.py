"""The output folder: writing there is possible, temporary names, and what a killed run left.

Every write goes to a hidden temporary file beside its output, renamed onto
the output's name once complete (engine.io.writing, engine.io.documents).
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Optional

from engine.errors import ImageWriteError
from engine.io.os_errors import os_reason

# Temporary files from write_page look like ".<name>.partial-<pid>-<hex>":
# hidden, so find_images skips them and an interrupted batch is never fed
# back in; the writer's process id tells a later run whether the file is
# a leftover of a run that was killed or the write of one still going.
_PARTIAL_MARKER = ".partial-"
# A temporary file whose writer cannot be told (another computer sharing the
# folder, or an older DocClean) is a leftover once it is this old.
LEFTOVER_AGE = 3600.0


def write_reason(error: OSError) -> str:
    """Why writing failed, in words."""
    return os_reason(error, "the file could not be written")


def partial_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under until complete: ".<name>.partial-<pid>-<hex>"."""
    return path.with_name(f".{path.name}{_PARTIAL_MARKER}{os.getpid()}-{secrets.token_hex(4)}")


def make_parent(path: Path) -> None:
    """Create the folder ``path`` goes in (a mirrored sub-folder); ImageWriteError in words if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(path, f"cannot create the folder {path.parent}: {write_reason(exc)}") from None


def _writer_alive(name: str) -> Optional[bool]:
    """Whether the process that is writing temporary file ``name`` still runs (None: cannot tell)."""
    tail = name.rpartition(_PARTIAL_MARKER)[2]
    pid_text, dash, _ = tail.partition("-")
    if not dash or not pid_text.isdigit():
        return None  # an older DocClean's name, without the writer's process id
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but belongs to someone else
    return True


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete the unfinished temporary files a killed run left in ``folder``; return them.

    A temporary file is a leftover when the process that wrote it has ended
    (or, when that cannot be told, once it is LEFTOVER_AGE seconds old): the
    write of a run still going is never touched.  Files that cannot be
    deleted are left and not returned.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and _PARTIAL_MARKER in entry.name and entry.is_file(follow_symlinks=False)):
            continue
        alive = _writer_alive(entry.name)
        if alive is None:
            try:
                alive = time.time() - entry.stat(follow_symlinks=False).st_mtime < LEFTOVER_AGE
            except OSError:
                continue
        if not alive:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Make sure pages can be written into ``folder`` (created if missing) before any work starts.

    Raises ImageWriteError with a sentence saying why not, e.g. a read-only
    disk, no permission, or a file of that name.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ImageWriteError(folder, "is a file, not a folder; choose another output folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".docclean-write-test{_PARTIAL_MARKER}{os.getpid()}-{secrets.token_hex(4)}"
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise ImageWriteError(folder, f"cannot write there: {write_reason(exc)}; choose another output folder") from None
    return folder
