"""The one hierarchy of errors a user may read, each with the file, the reason and an exit code.

Everything DocClean tells a user about goes through ``DocCleanError``: its
text is a sentence written for people (never a library's message), and its
``exit_code`` is what the command line returns when it stops the command.
Front ends decide what to show by type: a ``DocCleanError`` is shown as it
is; any other exception is a fault of DocClean's, logged, never shown raw.
"""
from __future__ import annotations

import os
from enum import IntEnum
from pathlib import Path
from typing import Optional


class ExitCode(IntEnum):
    """What ``docclean`` returns; OCRmyPDF's convention of one code per kind of outcome."""

    OK = 0
    #: Nothing was done: a bad option, model, folder, or every input failed.
    FAILED = 1
    #: Some inputs failed (each named), the others were done.
    SOME_FAILED = 2
    #: Ctrl+C: stopped between pages, nothing half-written left.
    INTERRUPTED = 130
    #: SIGTERM: stopped as cleanly as Ctrl+C.
    TERMINATED = 143


class DocCleanError(Exception):
    """Something a user can act on: ``reason`` in words, about ``path`` when it names a file.

    ``str()`` is "<path>: <reason>", or the reason alone.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, reason: str, *, path: Optional[str | os.PathLike[str]] = None) -> None:
        self.reason = reason
        self.path = Path(path) if path is not None else None
        # The text as given: a store's URL (s3://bucket/scan.png) would lose a slash as a Path.
        super().__init__(f"{os.fspath(path)}: {reason}" if path is not None else reason)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross processes (a cluster's workers report them to the driver): rebuilt from what they hold,
        # whatever their __init__ takes, which pickle's default (calling it with ``args``) would not match.
        return _rebuilt, (type(self), self.args, self.__dict__)


    def about(self, place: str) -> DocCleanError:
        """This error told of ``place`` instead of its file: a store's URL where a downloaded copy was read."""
        return _rebuilt(type(self), (f"{place}: {self.reason}",), dict(self.__dict__))


def _rebuilt(kind: type[DocCleanError], args: tuple[object, ...], state: dict[str, object]) -> DocCleanError:
    # The built-in base that lays the error out in memory makes it: OSError's for a MissingDataError.
    error = (OSError if issubclass(kind, OSError) else Exception).__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class PageError(DocCleanError):
    """A page (or a file of pages) that could not be read or written; ``path`` is always set."""

    path: Path

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(reason, path=path)


class ImageReadError(PageError):
    """A page could not be read: missing, damaged, too large, not an image."""


class ImageWriteError(PageError):
    """A page could not be written: the folder, the disk, the format."""


class ModelFileError(DocCleanError):
    """A model file that cannot be used; the text names the file and the reason."""


class DataError(DocCleanError, ValueError):
    """A data set or a pair of pages that cannot be used: missing, damaged, not downloadable now.

    Also a ValueError, as the loaders' checks were before this hierarchy.
    """


class MissingDataError(DataError, FileNotFoundError):
    """A data folder, file or recipe that is not there, said in words (an OSError for callers that catch those)."""


class ConfigurationError(DocCleanError, ValueError):
    """An option or setting that cannot work, said in one sentence.

    Also a ValueError, so code that checked values before this hierarchy still catches it.
    """
