"""MNIST digits and notMNIST letters, loaded the Keras way.

``load_mnist()`` and ``load_notmnist()`` return ``(x_train, y_train), (x_test,
y_test)``: images uint8 of shape (N, 28, 28) with values 0..255, labels uint8
0..9.  Given a folder they read the four standard IDX files from it (gzip or
raw); without one they download the canonical files once into a per-user cache,
checking each file's checksum.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs
import pooch

from engine.data.catalogue import DIGIT_SETS
from engine.errors import ConfigurationError, DataError, MissingDataError
from engine.io.os_errors import os_reason
from engine.data.idx import read_idx
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

DATASETS = DIGIT_SETS
NOTMNIST_LETTERS = "ABCDEFGHIJ"
IMAGE_SIZE = 28
N_CLASSES = 10

# The four files of a data set, in the order (train images, train labels,
# test images, test labels).  On disk each may carry a ".gz" suffix or not.
FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
Split = tuple[np.ndarray, np.ndarray]

_TRAIN_FILES = FILE_NAMES[:2]
_TEST_FILES = FILE_NAMES[2:]


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set's gzip files are downloaded from and their known checksums.

    ``hashes`` maps each "<file>.gz" name to a pooch hash string
    ("md5:..." or "sha256:..."), or to None when no checksum is known yet.
    """

    base_url: str
    hashes: dict[str, str | None]


SOURCES: dict[str, DatasetSource] = {
    "mnist": DatasetSource(
        # Google's mirror: yann.lecun.com has refused automated downloads for years.
        base_url="https://storage.googleapis.com/cvdf-datasets/mnist",
        hashes={
            "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "notmnist": DatasetSource(
        base_url="https://github.com/davidflanagan/notMNIST-to-MNIST/raw/master",
        hashes={
            # The training files could not be fetched where this was written, so
            # their checksums are unknown: pooch then accepts whatever arrives
            # (and logs its SHA256).  Fill these in from a trusted download.
            "train-images-idx3-ubyte.gz": None,
            "train-labels-idx1-ubyte.gz": None,
            # md5 of the canonical test files (the copies in shared/data/notmnist).
            "t10k-images-idx3-ubyte.gz": "md5:2c87c839a4ef9b238846600eec8c35b7",
            "t10k-labels-idx1-ubyte.gz": "md5:7ea9118cbafd0f6e3ee2ad771d782a01",
        },
    ),
}


class MissingTrainingSplitWarning(UserWarning):
    """A data set folder holds only the test split; training arrays are empty."""


class DatasetDownloadError(DataError):
    """A data set file could not be downloaded or failed its checksum."""


@dataclass
class FolderReport:
    """Which of the four standard files a folder holds.

    ``found`` are the paths present (in FILE_NAMES order); ``missing`` are the
    standard names (without ".gz") of the files absent.
    """

    name: str
    folder: Path
    found: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def has_train(self) -> bool:
        return not any(n in self.missing for n in _TRAIN_FILES)

    @property
    def has_test(self) -> bool:
        return not any(n in self.missing for n in _TEST_FILES)

    def summary(self) -> str:
        found = ", ".join(p.name for p in self.found) or "none"
        missing = ", ".join(self.missing) or "none"
        return f"{self.name} in {self.folder}: found {found}; missing {missing} (.gz or uncompressed)"


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ConfigurationError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    return name


def describe_folder(name: str, folder: str | os.PathLike[str]) -> FolderReport:
    """Report which of the four standard IDX files of data set ``name`` are in ``folder``."""
    _check_name(name)
    folder = Path(folder)
    report_ = FolderReport(name=name, folder=folder)
    for base in FILE_NAMES:
        present = [folder / f"{base}.gz", folder / base]
        hit = next((p for p in present if p.is_file()), None)
        if hit is None:
            report_.missing.append(base)
        else:
            report_.found.append(hit)
    return report_


def _file_for(report_: FolderReport, base: str) -> Path:
    return next(p for p in report_.found if p.name in (base, f"{base}.gz"))


def _read_split(report_: FolderReport, images_name: str, labels_name: str) -> Split:
    images_path = _file_for(report_, images_name)
    labels_path = _file_for(report_, labels_name)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: expected a 1-D uint8 label list, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= N_CLASSES:
        raise DataError(f"{labels_path}: label {int(labels.max())} is outside 0..9")
    return images, labels


def _empty_split() -> Split:
    return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros((0,), np.uint8)


def _load_folder(name: str, folder: Path) -> tuple[Split, Split]:
    found = describe_folder(name, folder)
    if not found.has_test:
        raise MissingDataError(f"cannot load {found.summary()}")
    test = _read_split(found, *_TEST_FILES)
    if found.has_train:
        train = _read_split(found, *_TRAIN_FILES)
    else:
        message = f"training split not available, using empty training arrays: {found.summary()}"
        warnings.warn(message, MissingTrainingSplitWarning, stacklevel=3)
        train = _empty_split()
    return train, test


def dataset_cache_dir(name: str) -> Path:
    """The per-user folder where data set ``name`` is downloaded to."""
    return Path(platformdirs.user_cache_dir("docclean")) / "datasets" / _check_name(name)


def download_dataset(
    name: str,
    cache_dir: str | os.PathLike[str] | None = None,
    source: DatasetSource | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Make sure the four gzip files of ``name`` are in ``cache_dir`` and return that folder.

    Files already present with the right checksum are not downloaded again.
    ``cache_dir`` defaults to dataset_cache_dir(name) and ``source`` to
    SOURCES[name]; tests pass a local server and a temporary folder.
    Raises DatasetDownloadError naming the URL on a network failure or a
    checksum mismatch (the bad download is deleted).
    """
    _check_name(name)
    folder = Path(cache_dir) if cache_dir is not None else dataset_cache_dir(name)
    source = source or SOURCES[name]
    files = [f"{base}.gz" for base in FILE_NAMES]
    for done, file_name in enumerate(files):
        check(cancel)
        report(progress, Stage.DOWNLOAD, done, len(files), message=file_name)
        url = f"{source.base_url.rstrip('/')}/{file_name}"
        try:
            pooch.retrieve(url, known_hash=source.hashes.get(file_name), fname=file_name, path=folder)
        except ValueError as exc:
            # pooch raises ValueError for a checksum mismatch and has already deleted the file.
            raise DatasetDownloadError(f"{url}: checksum mismatch, download discarded") from exc
        except OSError as exc:
            raise DatasetDownloadError(
                f"{url}: download failed: {download_failure(exc)}; to work offline, pass a folder holding "
                f"{', '.join(files)}") from exc
    report(progress, Stage.DOWNLOAD, len(files), len(files))
    return folder


def download_failure(error: OSError) -> str:
    """Why a download failed, in words: never the HTTP client's own text (requests' errors are OSErrors)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status == 404:
        return "the server has no such file (HTTP 404)"
    if status is not None:
        return f"the server refused it (HTTP {status})"
    if error.errno is not None:
        return os_reason(error)
    kind = type(error).__name__
    if "Timeout" in kind:
        return "the server did not answer in time"
    if "Connection" in kind or "SSL" in kind:
        return "the server could not be reached (is this computer offline?)"
    return "the transfer was interrupted"


def load_dataset(
    name: str,
    folder: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Split, Split]:
    """Load data set ``name`` ('mnist' or 'notmnist') as ``(x_train, y_train), (x_test, y_test)``.

    Images are uint8 (N, 28, 28), 0..255; labels uint8 0..9.  With
    ``folder``, the standard IDX files are read from it; if only the test
    files are there the training arrays are empty (0, 28, 28) / (0,) and a
    MissingTrainingSplitWarning names the found and missing files.  Without
    a folder, the files are downloaded to the per-user cache first.
    """
    _check_name(name)
    if folder is None:
        folder = download_dataset(name, progress=progress, cancel=cancel)
    return _load_folder(name, Path(folder))


def load_test_split(name: str, folder: str | os.PathLike[str] | None = None) -> Split:
    """Load only ``(x_test, y_test)`` of data set ``name``; the training files are not read.

    For previews and evaluation: quick, and silent about a missing training split.
    """
    _check_name(name)
    if folder is None:
        folder = download_dataset(name)
    found = describe_folder(name, folder)
    if not found.has_test:
        raise MissingDataError(f"cannot load {found.summary()}")
    return _read_split(found, *_TEST_FILES)


def load_mnist(folder: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """MNIST digits as ``(x_train, y_train), (x_test, y_test)``; see load_dataset."""
    return load_dataset("mnist", folder)


def load_notmnist(folder: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """notMNIST letters A-J (labels 0-9) as ``(x_train, y_train), (x_test, y_test)``; see load_dataset."""
    return load_dataset("notmnist", folder)


def label_name(name: str, label: int) -> str:
    """The character a label stands for: '3' for MNIST label 3, 'D' for notMNIST label 3."""
    _check_name(name)
    label = int(label)
    if not 0 <= label < N_CLASSES:
        raise ValueError(f"label {label} is outside 0..9")
    return NOTMNIST_LETTERS[label] if name == "notmnist" else str(label)


def to_unit(x: np.ndarray, name: str = "mnist") -> np.ndarray:
    """Scale images to float32 in [0, 1] the way the write-ups do.

    MNIST divides by 255; notMNIST divides by the largest value in ``x``
    (pass the whole set, so every image gets the same scale).
    """
    _check_name(name)
    values = np.asarray(x).astype(np.float32)
    if name == "notmnist":
        peak = float(values.max()) if values.size else 0.0
        scale = peak if peak > 0 else 1.0
    else:
        scale = 255.0
    np.divide(values, np.float32(scale), out=values)
    return values
