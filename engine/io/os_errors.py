"""Why the operating system refused a file, in words: users never see its raw error text."""
from __future__ import annotations

import errno

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
    return REASONS.get(error.errno, default)


def describe_os_error(error: OSError) -> str:
    """"<file>: <reason>" for ``error`` (just the reason when it names no file)."""
    reason = os_reason(error)
    return f"{error.filename}: {reason}" if error.filename else reason
