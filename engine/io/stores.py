"""Object stores (``s3://``, ``gs://``) as places for inputs and outputs, through fsspec.

A store is never worked in place: an input is downloaded whole before it is read, and an output is
written on this computer, then uploaded once, whole (an object store has no rename, so the local
batch's write-then-rename cannot be done there).  An upload creates its object only where none is
(S3's and Google Cloud Storage's conditional create), unless the caller replaces it on purpose.

fsspec and the store's own package (``s3fs``, ``gcsfs``: ``pip install 'docclean[stores]'``) are
imported only when a URL is used.  Credentials and endpoints are the stores' own: AWS_PROFILE,
AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL (MinIO, Ceph) for S3; GOOGLE_APPLICATION_CREDENTIALS for Google Cloud.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import ConfigurationError, ImageReadError, ImageWriteError
from engine.io.page_types import SUPPORTED_SUFFIXES

#: The stores DocClean reads and writes, by URL scheme, with the package that serves each.
SCHEMES = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}
INSTALL_STORES = "pip install 'docclean[stores]'"
_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


def is_url(text: str | Path) -> bool:
    """Whether ``text`` names a place in an object store (or any URL) rather than a path on this computer."""
    return isinstance(text, str) and _URL.match(text) is not None


def check_url(url: str) -> None:
    """ConfigurationError, in one sentence, for a URL DocClean cannot use, or whose package is missing."""
    match = _URL.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme not in SCHEMES:
        raise ConfigurationError(f"{url}: DocClean reads and writes folders, s3:// and gs:// places, not {scheme}://")
    if match is None or not url[match.end():].strip("/"):
        raise ConfigurationError(f"{url}: name a bucket, as in {scheme}://bucket/folder")
    try:
        import fsspec  # noqa: F401
        __import__(SCHEMES[scheme])
    except ImportError:
        raise ConfigurationError(f"{url}: reading and writing {scheme}:// needs {SCHEMES[scheme]}: "
                                 f"{INSTALL_STORES}") from None


@dataclass(frozen=True)
class StoredFile:
    """An input in a store: its URL, and the sub-folder of the output its outputs go in (as for a local folder)."""

    url: str
    folder: PurePosixPath

    @property
    def name(self) -> str:
        return PurePosixPath(self.url).name


class Store:
    """A folder of an object store, named by its URL (``s3://bucket/scans``)."""

    def __init__(self, url: str) -> None:
        check_url(url)
        from fsspec.core import url_to_fs

        self.url = url.rstrip("/")
        self.scheme = url.split("://", 1)[0].lower()
        self.fs: Any
        self.fs, self.root = url_to_fs(self.url)

    def check_bucket(self) -> None:
        """ConfigurationError, in one sentence, where this folder's bucket is missing or cannot be reached."""
        bucket = self.root.split("/", 1)[0]
        try:
            found = self.fs.exists(bucket)
        except Exception as error:  # noqa: BLE001 - a store's library raises its own kinds; told in words
            raise ConfigurationError(f"{self.url}: {_reason(error, 'reached')}") from None
        if not found:
            raise ConfigurationError(f"{self.url}: there is no bucket {self.scheme}://{bucket}; create it first, "
                                     "or check the name")

    def where(self, relative: PurePosixPath | str) -> str:
        """The URL of ``relative`` below this folder."""
        relative = str(relative).strip("/")
        return f"{self.url}/{relative}" if relative and relative != "." else self.url

    def _key(self, url: str) -> str:
        from fsspec.core import strip_protocol

        return str(strip_protocol(url))

    def inputs(self) -> list[StoredFile]:
        """The pages below this folder (or the one object it names), as the local batch finds them in a folder:
        supported suffixes, no hidden names, sub-folders kept.  ConfigurationError where nothing can be listed."""
        try:
            if self.fs.isfile(self.root):
                return [StoredFile(self.url, PurePosixPath())]
            self.fs.invalidate_cache()
            keys = sorted(self.fs.find(self.root))
        except Exception as error:  # noqa: BLE001 - a store's library raises its own kinds; told in words
            raise ConfigurationError(f"{self.url}: {_reason(error, 'listed')}") from None
        found = []
        for key in keys:
            relative = PurePosixPath(key).relative_to(self.root)
            hidden = any(part.startswith(".") for part in relative.parts)
            if hidden or relative.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            found.append(StoredFile(f"{self.scheme}://{key}", relative.parent))
        return found

    def names_below(self, relative: PurePosixPath) -> set[str]:
        """The names of the objects directly in ``relative`` (a sub-folder of this one); none where it is empty."""
        try:
            listing = self.fs.ls(self._key(self.where(relative)), detail=False, refresh=True)
        except FileNotFoundError:
            return set()
        except Exception as error:  # noqa: BLE001 - a store's library raises its own kinds; told in words
            raise ConfigurationError(f"{self.where(relative)}: {_reason(error, 'listed')}") from None
        return {PurePosixPath(key).name for key in listing}

    def download(self, url: str, local: Path) -> None:
        """``url`` (an object of this store) into the file ``local``; ImageReadError naming it where it cannot be."""
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fs.get_file(self._key(url), str(local))
        except Exception as error:  # noqa: BLE001 - a store's library raises its own kinds; told in words
            local.unlink(missing_ok=True)
            raise ImageReadError(url, _reason(error, "downloaded")) from None

    def upload(self, local: Path, relative: PurePosixPath, replace: bool) -> str:
        """The file ``local`` uploaded whole as ``relative`` below this folder; its URL.

        Unless ``replace``, the object is created only where none is (a conditional create):
        ImageWriteError where another run wrote it meanwhile, which is left as it is.
        """
        url = self.where(relative)
        try:
            self.fs.put_file(str(local), self._key(url), mode="overwrite" if replace else "create")
        except FileExistsError:
            raise ImageWriteError(url, "another run wrote this object while this one cleaned its page, so it was "
                                       "left as it is (--overwrite replaces it)") from None
        except Exception as error:  # noqa: BLE001 - a store's library raises its own kinds; told in words
            raise ImageWriteError(url, _reason(error, "uploaded")) from None
        return url


def _reason(error: BaseException, done: str) -> str:
    """Why a store refused, in words: never the library's own text, which names its internals."""
    kind = type(error).__name__
    if isinstance(error, FileNotFoundError):
        return f"could not be {done}: no such bucket, folder or object"
    if isinstance(error, PermissionError) or "Credentials" in kind or "Auth" in kind:
        return (f"could not be {done}: access denied (S3 reads AWS_PROFILE or AWS_ACCESS_KEY_ID, Google Cloud "
                "GOOGLE_APPLICATION_CREDENTIALS; check they allow it)")
    if "Connect" in kind or "Timeout" in kind or "Endpoint" in kind:
        return f"could not be {done}: the store could not be reached (check the network, or AWS_ENDPOINT_URL)"
    return f"could not be {done}: the store refused it"


__all__ = ["SCHEMES", "INSTALL_STORES", "is_url", "check_url", "StoredFile", "Store"]
