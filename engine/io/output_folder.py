"""The output folder: writing there is possible, temporary names, what a killed run left, and one run at a time.

Every write goes to a hidden temporary file beside its output, renamed onto
the output's name once complete (engine.io.writing, engine.io.documents).
A batch holds the folder's lock file while it writes there (RunLock), so a
second run into the same folder is refused instead of doing all the work again.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from pathlib import Path
from typing import Optional

from engine.errors import ImageWriteError
from engine.io.os_errors import os_reason

# Temporary files look like ".<name>.partial-<host>-<pid>-<hex>": hidden, so
# find_images skips them and an interrupted batch is never fed back in; the
# writer's computer and process id tell a later run whether the file is a
# leftover of a run that was killed or the write of one still going.
_PARTIAL_MARKER = ".partial-"
# This computer's name as a temporary name carries it: letters and digits only, so the name parses back.
_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0])[:16] or "host"
# DocClean's temporary names exactly: with the host (this DocClean) or without (an older one).
_PARTIAL_NAME = re.compile(r"^\..+\.partial-(?:(?P<host>[A-Za-z0-9]{1,16})-)?(?P<pid>\d{1,10})-[0-9a-f]{8}$")
# The longest file name (in bytes) the common file systems take: ext4, APFS, NTFS (in characters), exFAT.
_NAME_MAX = 255
# A temporary file whose writer cannot be told (another computer sharing the
# folder, or an older DocClean) is a leftover once it is this old.
LEFTOVER_AGE = 3600.0
# What a file of each output format starts with: a leftover must be one of DocClean's outputs, begun.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",), ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*"),
    ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".pdf": (b"%PDF-",),
}

# The lock a batch holds on its output folder; hidden, so find_images never takes it for a page.
LOCK_NAME = ".docclean-run.lock"


def write_reason(error: OSError) -> str:
    """Why writing failed, in words."""
    return os_reason(error, "the file could not be written")


def _clip(name: str, size: int) -> str:
    """``name`` cut to at most ``size`` bytes of UTF-8, never inside a character."""
    return name.encode("utf-8")[:max(0, size)].decode("utf-8", "ignore")


def partial_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under until complete: ".<name>.partial-<host>-<pid>-<hex>".

    The output's name is shortened in it where needed, so that the temporary
    name fits a file system's 255 bytes whenever the output's own name does.
    """
    tag = f"{_PARTIAL_MARKER}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name("." + _clip(path.name, _NAME_MAX - 1 - len(tag)) + tag)


def make_parent(path: Path) -> None:
    """Create the folder ``path`` goes in (a mirrored sub-folder); ImageWriteError in words if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(path, f"cannot create the folder {path.parent}: {write_reason(exc)}") from None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this computer still runs."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # it exists, but belongs to someone else (or cannot be asked about)
    return True


def _begun_output(entry: os.DirEntry[str], output_name: str) -> bool:
    """Whether ``entry`` is empty or starts as the output it stands for (a PNG for x.png ...)."""
    signatures = _SIGNATURES.get(os.path.splitext(output_name)[1].lower())
    try:
        with open(entry.path, "rb") as file:
            head = file.read(8)
    except OSError:
        return False
    return not head or (signatures is not None and head.startswith(signatures))


def _is_leftover(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is DocClean's unfinished write whose writer has gone.

    Only a name of DocClean's exact pattern, of a file of this user's, counts.
    One this computer's process wrote is a leftover once that process has
    ended; one another computer (or an older DocClean) wrote, once it is
    LEFTOVER_AGE old and its content begins as the output it was to become.
    """
    match = _PARTIAL_NAME.match(entry.name)
    if match is None:
        return False
    try:
        stat = entry.stat(follow_symlinks=False)
        if not entry.is_file(follow_symlinks=False):
            return False
    except OSError:
        return False
    if hasattr(os, "getuid") and stat.st_uid != os.getuid():
        return False
    if match["host"] == _HOST:
        return not _alive(int(match["pid"]))
    if time.time() - stat.st_mtime < LEFTOVER_AGE:
        return False
    output_name = entry.name[1:match.start("host" if match["host"] else "pid") - len(_PARTIAL_MARKER)]
    return _begun_output(entry, output_name)


def remove_leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the unfinished temporary files a killed run left in ``folder``; return them.

    Only DocClean's own temporary files are touched (see _is_leftover): the
    write of a run still going, and any file of the user's, never.  Files
    that cannot be deleted are left and not returned.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(os.fspath(folder)))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and _PARTIAL_MARKER in entry.name and _is_leftover(entry)):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """Make sure pages can be written into ``folder`` (created if missing) before any work starts.

    Raises ImageWriteError with a sentence saying why not, e.g. a read-only
    disk, no permission, or a file of that name.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ImageWriteError(folder, "is a file, not a folder; choose another output folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = partial_path(folder / "docclean-write-test")
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise ImageWriteError(folder, f"cannot write there: {write_reason(exc)}; choose another output folder") from None
    return folder


# ---------------------------------------------------------------- one run at a time


class RunLock:
    """The output folder's lock file, held by one batch while it writes there.

    acquire() creates LOCK_NAME atomically (O_CREAT | O_EXCL: no file-locking
    call, so it works on any file system) with the holder's process id and
    computer inside; a lock whose process has ended on this computer is stale
    and taken over.  A live one refuses with ImageWriteError naming the folder.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.held = False

    def acquire(self) -> "RunLock":
        record = json.dumps({"pid": os.getpid(), "host": _HOST, "started": time.time()}).encode()
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                check_not_in_use(self.folder)  # raises while its holder runs
                try:
                    self.path.unlink()  # stale: its process has ended
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise ImageWriteError(self.folder, f"cannot take over the lock of an ended run "
                                                       f"({LOCK_NAME}): {write_reason(exc)}") from None
                continue
            except OSError as exc:
                raise ImageWriteError(self.folder, f"cannot write there: {write_reason(exc)}; "
                                                   "choose another output folder") from None
            try:
                os.write(descriptor, record)
            finally:
                os.close(descriptor)
            self.held = True
            return self
        check_not_in_use(self.folder)
        raise ImageWriteError(self.folder, "another run keeps taking this folder's lock; choose another output folder")

    def release(self) -> None:
        """Remove the lock file if this lock holds it; never raises."""
        if self.held:
            self.held = False
            try:
                if _holder(self.path) == (_HOST, os.getpid()):
                    self.path.unlink()
            except OSError:
                pass

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(path: Path) -> Optional[tuple[str, int]]:
    """(computer, process id) a lock file names; None if it names none (being written, or damaged)."""
    try:
        record = json.loads(path.read_bytes())
        return str(record["host"]), int(record["pid"])
    except FileNotFoundError:
        raise
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _taken_before_boot(path: Path) -> bool:
    """Whether the lock file was written before this computer last started (Linux): its process is gone,
    whatever process has its id now."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            boot = next(float(line.split()[1]) for line in stat if line.startswith("btime "))
        return path.stat().st_mtime < boot
    except (OSError, StopIteration, ValueError, IndexError):
        return False


# A lock file that names no holder is being written for this long at most; after it, it is damaged.
_LOCK_WRITE_TIME = 10.0


def check_not_in_use(folder: str | os.PathLike[str]) -> None:
    """Refuse, with ImageWriteError naming ``folder``, while another run holds its lock.

    A lock of a process that has ended on this computer, or a damaged one,
    is stale and passes.  Checked before any work (and again by RunLock).
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    try:
        holder = _holder(path)
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return
    except OSError:
        return
    if holder is None:
        if age < _LOCK_WRITE_TIME:
            raise ImageWriteError(folder, "another DocClean run is starting in this folder; wait for it to "
                                          "finish, or choose another output folder")
        return
    host, pid = holder
    if host == _HOST and (not _alive(pid) or _taken_before_boot(path)):
        return
    where = "" if host == _HOST else f" on {host}"
    raise ImageWriteError(folder, f"another DocClean run (process {pid}{where}) is writing into this folder; "
                                  "wait for it to finish, or choose another output folder"
                          + (f" (if it has ended, delete {LOCK_NAME} there)" if host != _HOST else ""))
