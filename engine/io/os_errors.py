"""Why the operating system refused a file, in words: users never see its raw error text."""
from __future__ import annotations

import errno
import os
import stat
from typing import Optional

# errno -> reason; the same words whether a page was being read or written.
REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "a symbolic link that points back to itself",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "the disk reported an error",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this disk or account allows",
    errno.EROFS: "the folder is on a read-only disk",
    errno.EEXIST: "a file of that name is in the way",
    errno.EMFILE: "too many files are open",
    errno.ENOMEM: "not enough memory",
}


def os_reason(error: OSError, default: str = "the system refused it") -> str:
    """The reason for ``error`` in words, or ``default`` for an errno not listed."""
    return REASONS.get(error.errno, default) if error.errno is not None else default


def describe_os_error(error: OSError) -> str:
    """"<file>: <reason>" for ``error`` (just the reason when it names no file)."""
    reason = os_reason(error)
    return f"{error.filename}: {reason}" if error.filename else reason


def file_kind(path: str | os.PathLike[str]) -> Optional[str]:
    """What ``path`` is when it is there but not a regular file ("a named pipe", "a folder", ...); else None.

    Opening a named pipe waits for a writer, forever if none comes, and a
    device may never end: readers ask this first.  None also when ``path``
    is missing or cannot be looked at: opening it then says why.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
