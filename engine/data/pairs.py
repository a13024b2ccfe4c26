"""Pairs of noisy scans and their clean ground truth (NoisyOffice or any such folder).

Two folder layouts are understood:

* A: ``<folder>/noisy/<name>.<ext>`` and ``<folder>/clean/<name>.<ext>``,
  paired by file stem (the layout of shared/data/noisyoffice), or
  ``source/`` and ``target/`` likewise (binarisation sets such as DIBCO,
  whose ground truth is black ink on white).
* B: the UCI NoisyOffice archive, ``SimulatedNoisyOffice/
  simulated_noisy_images_grayscale/FontLrm_Noisec_TE.png`` paired with
  ``SimulatedNoisyOffice/clean_images_grayscale/FontLrm_Clean_TE.png``.

Several noisy versions of one page share one clean image.  Splits are made
by clean document (the content hash of the clean page), never by file, so
that no document is seen in training and in testing.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import platformdirs
import pooch

from engine.errors import ConfigurationError, DataError, MissingDataError
from engine.data.digits import DatasetDownloadError, download_failure
from engine.io import SUPPORTED_SUFFIXES, ImageReadError, image_size, read_page, to_uint8, to_unit
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

NOISYOFFICE_URL = "https://archive.ics.uci.edu/static/public/318/noisyoffice.zip"
NOISYOFFICE_ENV = "DOCCLEAN_NOISYOFFICE"

_LAYOUT_A_FOLDERS = (("noisy", "clean"), ("source", "target"))
_LAYOUT_B_ROOT = "SimulatedNoisyOffice"
_LAYOUT_B_NOISY = "simulated_noisy_images_grayscale"
_LAYOUT_B_CLEAN = "clean_images_grayscale"
# How deep below the given folder to look for SimulatedNoisyOffice: an unzipped
# archive may add one or two wrapping folders; a deeper walk could crawl a whole disk.
_LAYOUT_B_MAX_DEPTH = 3
# "_Noisec", "_Noisef", ... or "_Clean" between underscores: removing it leaves the document key.
_NOISE_TOKEN = re.compile(r"_(noise[a-z0-9]*|clean)(?=_|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Pair:
    """A noisy scan and its clean version.

    ``document`` is the SHA-1 (hex) of the clean page's decoded 8-bit grey
    pixels and shape: pairs sharing a clean page share it whatever the files' encoding.
    """

    name: str
    noisy: Path
    clean: Path
    document: str


@dataclass
class PairingReport:
    """What find_pairs matched, and every file it could not use, by name."""

    pairs: list[Pair] = field(default_factory=list)
    unmatched_noisy: list[Path] = field(default_factory=list)
    unmatched_clean: list[Path] = field(default_factory=list)
    size_mismatch: list[tuple[Path, Path, str]] = field(default_factory=list)
    unreadable: list[tuple[Path, Path, str]] = field(default_factory=list)  # (noisy, clean, "<path>: <reason>")

    @property
    def complete(self) -> bool:
        """Whether every file found was paired (else summary() says which were not, and why)."""
        return not (self.unmatched_noisy or self.unmatched_clean or self.size_mismatch or self.unreadable)

    @property
    def documents(self) -> list[str]:
        """The distinct clean documents among the pairs, sorted."""
        return sorted({p.document for p in self.pairs})

    def summary(self) -> str:
        lines = [f"{len(self.pairs)} pairs of {len(self.documents)} documents"]
        if self.unmatched_noisy:
            lines.append("noisy without a clean version: " + ", ".join(str(p) for p in self.unmatched_noisy))
        if self.unmatched_clean:
            lines.append("clean without a noisy version: " + ", ".join(str(p) for p in self.unmatched_clean))
        for noisy, clean, reason in self.size_mismatch:
            lines.append(f"size mismatch: {noisy} and {clean}: {reason}")
        lines += [f"left out, unreadable: {error}" for _, _, error in self.unreadable]
        return "\n".join(lines)


# ---------------------------------------------------------------- documents


# SHA-1 of a clean file's bytes -> its document id.  Data sets often hold the
# same clean page as several byte-identical files (NoisyOffice: 176 files, 44
# pages); hashing bytes is far cheaper than decoding, so each page is decoded once.
_document_by_file: dict[str, str] = {}


def _pixel_hash(path: Path) -> str:
    pixels = to_uint8(read_page(path).pixels)
    digest = hashlib.sha1(f"{pixels.shape[0]}x{pixels.shape[1]}:".encode())
    digest.update(pixels.tobytes())
    return digest.hexdigest()


def document_id(clean: str | os.PathLike[str]) -> str:
    """SHA-1 hex of a clean page's decoded 8-bit grey pixels and shape."""
    path = Path(clean)
    file_key = hashlib.sha1(path.read_bytes()).hexdigest()
    known = _document_by_file.get(file_key)
    if known is None:
        known = _document_by_file[file_key] = _pixel_hash(path)
    return known


# ---------------------------------------------------------------- finding pairs


def _images(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
    )


def _by_key(files: list[Path], key: Callable[[Path], str]) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in files:
        k = key(path)
        if k in index:
            raise DataError(f"{path.parent}: {index[k].name} and {path.name} are both page {k!r}")
        index[k] = path
    return index


def _stem_key(path: Path) -> str:
    return path.stem


def _document_key(path: Path) -> str:
    return _NOISE_TOKEN.sub("", path.stem).lower()


def _match(noisy_files: list[Path], clean_by_key: dict[str, Path], key: Callable[[Path], str]) -> PairingReport:
    """Pair each noisy file with the clean file of the same key; check sizes."""
    result = PairingReport()
    used: set[Path] = set()
    for noisy in noisy_files:
        clean = clean_by_key.get(key(noisy))
        if clean is None:
            result.unmatched_noisy.append(noisy)
            continue
        used.add(clean)
        try:
            noisy_size, clean_size = image_size(noisy), image_size(clean)
            document = document_id(clean)
        except ImageReadError as error:  # one damaged file leaves out its pair, not the whole set
            result.unreadable.append((noisy, clean, str(error)))
            continue
        if noisy_size != clean_size:
            reason = f"noisy is {noisy_size[1]}x{noisy_size[0]}, clean is {clean_size[1]}x{clean_size[0]} (width x height)"
            result.size_mismatch.append((noisy, clean, reason))
            continue
        result.pairs.append(Pair(noisy.stem, noisy, clean, document))
    result.unmatched_clean = [c for c in clean_by_key.values() if c not in used]
    return result


def _natural(path: Path) -> list[int | str]:
    parts = re.split(r"(\d+)", path.name.lower())
    return [int(p) if i % 2 else p for i, p in enumerate(parts)]


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")]
    except OSError:
        # An unreadable sub-folder cannot hold the data set; keep looking elsewhere.
        return []


def _find_layout_b(folder: Path) -> Path | None:
    """Return the SimulatedNoisyOffice folder at most a few levels below ``folder``."""
    level = [folder]
    for _ in range(_LAYOUT_B_MAX_DEPTH + 1):
        for candidate in level:
            if (candidate / _LAYOUT_B_NOISY).is_dir() and (candidate / _LAYOUT_B_CLEAN).is_dir():
                return candidate
        level = sorted(d for parent in level for d in _subfolders(parent))
    return None


def find_pairs(folder: str | os.PathLike[str]) -> PairingReport:
    """Find noisy/clean pairs in ``folder`` (layout A or B, see the module doc).

    Pairs come in natural file order.  Files without a partner and pairs whose
    pages differ in size are listed by name in the report, not paired.
    Raises FileNotFoundError when the folder holds neither layout, and
    ValueError when two files in one folder claim the same page.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingDataError(f"{folder}: no such folder")
    for noisy_name, clean_name in _LAYOUT_A_FOLDERS:
        if (folder / noisy_name).is_dir() and (folder / clean_name).is_dir():
            noisy_files = sorted(_images(folder / noisy_name), key=_natural)
            clean_by_key = _by_key(_images(folder / clean_name), _stem_key)
            return _match(noisy_files, clean_by_key, _stem_key)
    simulated = _find_layout_b(folder)
    if simulated is not None:
        noisy_files = sorted(_images(simulated / _LAYOUT_B_NOISY), key=_natural)
        clean_by_key = _by_key(_images(simulated / _LAYOUT_B_CLEAN), _document_key)
        return _match(noisy_files, clean_by_key, _document_key)
    raise MissingDataError(
        f"{folder}: no noisy/clean pairs found; expected the sub-folders 'noisy' and 'clean' "
        f"or 'source' and 'target' (files paired by name), or the NoisyOffice archive's '{_LAYOUT_B_ROOT}/{_LAYOUT_B_NOISY}' "
        f"and '{_LAYOUT_B_ROOT}/{_LAYOUT_B_CLEAN}'"
    )


# ---------------------------------------------------------------- getting NoisyOffice


def noisyoffice_cache_dir() -> Path:
    """The per-user folder NoisyOffice is downloaded and unpacked into."""
    return Path(platformdirs.user_cache_dir("docclean")) / "datasets" / "noisyoffice"


def noisyoffice_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The NoisyOffice folder to use: ``folder``, else $DOCCLEAN_NOISYOFFICE, else the download cache.

    Raises FileNotFoundError explaining how to get the data when none is
    there or the folder does not exist.
    """
    downloaded = noisyoffice_cache_dir() / "noisyoffice"
    chosen = folder if folder is not None else os.environ.get(NOISYOFFICE_ENV)
    if not chosen and downloaded.is_dir():
        return downloaded
    if not chosen:
        raise MissingDataError(
            "NoisyOffice is not on this computer: give its folder (one with 'noisy' and 'clean' sub-folders, "
            f"or the unpacked UCI archive), set {NOISYOFFICE_ENV} to it, "
            f"or download it once with: docclean download noisyoffice (from {NOISYOFFICE_URL})"
        )
    path = Path(chosen)
    if not path.is_dir():
        source = "given" if folder is not None else f"from {NOISYOFFICE_ENV}"
        raise MissingDataError(f"{path}: NoisyOffice folder ({source}) does not exist")
    return path


def _unzip_nested(folder: Path) -> None:
    """Unpack zip files found inside an unpacked archive, once, next to themselves."""
    # UCI archives sometimes wrap the data in a second zip.
    for inner in sorted(folder.rglob("*.zip")):
        target = inner.with_suffix("")
        if target.exists():
            continue
        partial = target.with_name(f".{target.name}.partial")
        # Left over from an interrupted run: start again rather than merge.
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(inner) as archive:
            # extractall drops absolute paths and "..", so members stay inside.
            archive.extractall(partial)
        partial.rename(target)


def download_noisyoffice(
    cache_dir: str | os.PathLike[str] | None = None,
    url: str = NOISYOFFICE_URL,
    known_hash: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Download and unpack the UCI NoisyOffice archive; return the unpacked folder.

    Done once: later calls find the archive in ``cache_dir`` (default
    noisyoffice_cache_dir()).  ``known_hash`` is None because the archive's
    checksum could not be obtained where this was written; pooch then logs
    the SHA256 of what it downloaded.  The result is a folder that
    find_pairs reads (layout B).  Raises DatasetDownloadError naming the URL
    when the download, the checksum or the unpacking fails.
    """
    folder = Path(cache_dir) if cache_dir is not None else noisyoffice_cache_dir()
    check(cancel)
    report(progress, Stage.DOWNLOAD, 0, 1, message="noisyoffice.zip")
    try:
        pooch.retrieve(
            url,
            known_hash=known_hash,
            fname="noisyoffice.zip",
            path=folder,
            processor=pooch.Unzip(extract_dir="noisyoffice"),
        )
    except ValueError as exc:
        raise DatasetDownloadError(f"{url}: checksum mismatch, download discarded") from exc
    except zipfile.BadZipFile as exc:
        raise DatasetDownloadError(f"{url}: the archive is damaged and cannot be unpacked") from exc
    except OSError as exc:
        raise DatasetDownloadError(f"{url}: download or unpacking failed: {download_failure(exc)}") from exc
    unpacked = folder / "noisyoffice"
    _unzip_nested(unpacked)
    report(progress, Stage.DOWNLOAD, 1, 1)
    return unpacked


# ---------------------------------------------------------------- splitting by document


def _document_order(pairs: Sequence[Pair], seed: int) -> list[str]:
    documents = sorted({p.document for p in pairs})
    order = np.random.default_rng(seed).permutation(len(documents))
    return [documents[i] for i in order]


def _share(fraction: float, n_docs: int, what: str) -> int:
    if not 0 <= fraction < 1:
        raise ConfigurationError(f"{what} fraction must be in [0, 1), got {fraction}")
    count = int(round(fraction * n_docs))
    if fraction > 0 and n_docs > 1:
        count = max(1, count)
    return count


def split_three(
    pairs: Sequence[Pair], val_fraction: float, test_fraction: float, seed: int = 0
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Split pairs into train, validation and test by clean document.

    The document ids are sorted and shuffled with ``seed``; the first
    round(test_fraction * n) go to test, the next round(val_fraction * n) to
    validation (each at least one when its fraction is > 0 and there are
    several documents), the rest to training, which keeps at least one.
    The test set equals split_by_document's for the same seed and fraction.
    Pairs keep their input order within each part.
    """
    order = _document_order(pairs, seed)
    n_docs = len(order)
    n_test = _share(test_fraction, n_docs, "test")
    n_val = _share(val_fraction, n_docs, "validation")
    if n_docs and n_test + n_val >= n_docs:
        raise ConfigurationError(
            f"{n_docs} documents cannot give {n_test} to test and {n_val} to validation "
            "and keep one for training"
        )
    test_docs = set(order[:n_test])
    val_docs = set(order[n_test : n_test + n_val])
    train = [p for p in pairs if p.document not in test_docs and p.document not in val_docs]
    val = [p for p in pairs if p.document in val_docs]
    test = [p for p in pairs if p.document in test_docs]
    return train, val, test


def split_by_document(
    pairs: Sequence[Pair], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Pair], list[Pair]]:
    """Split pairs into train and test by clean document (deterministic for a seed).

    round(test_fraction * n_documents) documents, at least one when there
    are several, go to test with all their noisy versions.
    """
    train, _, test = split_three(pairs, 0.0, test_fraction, seed)
    return train, test


# ---------------------------------------------------------------- loading and sampling


def load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Return (noisy, clean) as float32 grey in [0, 1] at full resolution, same shape."""
    noisy = read_page(pair.noisy).pixels
    clean = read_page(pair.clean).pixels
    if noisy.shape != clean.shape:
        raise DataError(f"{pair.noisy} is {noisy.shape} but {pair.clean} is {clean.shape} (height, width)")
    return noisy, clean


def _compact(pixels: np.ndarray) -> np.ndarray:
    """Keep a page as uint8 when that loses nothing (4x less memory), else as float32."""
    as_bytes = to_uint8(pixels)
    restored = as_bytes.astype(np.float32)
    np.divide(restored, np.float32(255.0), out=restored)
    return as_bytes if np.array_equal(restored, pixels) else pixels


class CropSampler:
    """Random aligned crops of noisy/clean pages at full resolution, for training.

    All pages are loaded once (kept as 8-bit when that is lossless).  Pages
    smaller than ``crop`` are padded by reflection.  With ``augment``, each
    crop gets the same random flips and 90-degree turns on both sides, and
    the noisy side alone a mild brightness (+-0.05) and contrast (x0.9..1.1)
    change, clipped to [0, 1]: the clean target is never altered.
    With a ``teacher`` (a cleaner: noisy page in, cleaned page out), its
    output on each noisy page is the target instead of the clean page: a
    small model learns from a big one (distillation), on pages whose own
    ground truth is binary.
    With ``fade``, that share of the crops has its ink faded towards the
    crop's paper (to 25-100 % of its contrast): faded print and pencil are
    still ink, which a binariser must learn from pages mostly printed black.
    With ``min_ink``, a crop whose target has less than that share of ink
    (darker than 0.5) is drawn again, up to ten times: a binariser learns
    nothing from empty margins.
    """

    BRIGHTNESS = 0.05
    CONTRAST = 0.1
    FADED = 0.25  # the least contrast a faded crop keeps
    REDRAWS = 10  # draws at most, for a crop with min_ink

    def __init__(
        self,
        pairs: Sequence[Pair],
        crop: int = 128,
        seed: int = 0,
        augment: bool = True,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        min_ink: float = 0.0,
        teacher: Callable[[np.ndarray], np.ndarray] | None = None,
        fade: float = 0.0,
    ) -> None:
        if not pairs:
            raise ValueError("CropSampler needs at least one pair")
        if crop < 1:
            raise ValueError(f"crop must be a positive number of pixels, got {crop}")
        self.crop = int(crop)
        self.augment = augment
        self.min_ink = min_ink
        self.fade = fade
        self.pairs = list(pairs)
        self._rng = np.random.default_rng(seed)
        self._noisy: list[np.ndarray] = []
        self._clean: list[np.ndarray] = []
        for done, pair in enumerate(self.pairs):
            check(cancel)
            report(progress, Stage.LOAD_PAGES, done, len(self.pairs), message=pair.name)
            noisy, clean = load_pair(pair)
            if teacher is not None:
                clean = teacher(noisy)
            self._noisy.append(_compact(self._pad(noisy)))
            self._clean.append(_compact(self._pad(clean)))
        report(progress, Stage.LOAD_PAGES, len(self.pairs), len(self.pairs))

    @property
    def clean_pages(self) -> list[np.ndarray]:
        """The loaded clean pages (uint8 or float32 in [0, 1]), for synthetic degradation."""
        return list(self._clean)

    def _pad(self, page: np.ndarray) -> np.ndarray:
        extra_h = max(0, self.crop - page.shape[0])
        extra_w = max(0, self.crop - page.shape[1])
        if not (extra_h or extra_w):
            return page
        return np.pad(page, ((0, extra_h), (0, extra_w)), mode="reflect" if min(page.shape) > 1 else "edge")

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One random (noisy, clean) crop, each float32 (crop, crop) in [0, 1]."""
        for _ in range(self.REDRAWS):
            noisy, clean = self._draw()
            if self.min_ink <= 0 or np.mean(clean < 0.5) >= self.min_ink:
                break
        return noisy, clean

    def _draw(self) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng
        i = int(rng.integers(len(self._noisy)))
        height, width = self._noisy[i].shape
        top = int(rng.integers(height - self.crop + 1))
        left = int(rng.integers(width - self.crop + 1))
        window = (slice(top, top + self.crop), slice(left, left + self.crop))
        noisy = to_unit(self._noisy[i][window])
        clean = to_unit(self._clean[i][window])
        if self.augment:
            noisy, clean = self._augment(noisy, clean)
        return noisy, clean

    def _augment(self, noisy: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng
        turns = int(rng.integers(4))
        flip_h, flip_v = rng.random(2) < 0.5
        pair: list[np.ndarray] = []
        for page in (noisy, clean):
            page = np.rot90(page, turns)
            if flip_h:
                page = page[:, ::-1]
            if flip_v:
                page = page[::-1, :]
            pair.append(page)
        contrast = np.float32(1.0 + rng.uniform(-self.CONTRAST, self.CONTRAST))
        brightness = np.float32(rng.uniform(-self.BRIGHTNESS, self.BRIGHTNESS))
        # Contrast around mid-grey so paper and ink move apart or together evenly.
        jittered = (pair[0] - np.float32(0.5)) * contrast + np.float32(0.5) + brightness
        if self.fade and rng.random() < self.fade:
            jittered = _faded(jittered, np.float32(rng.uniform(self.FADED, 1.0)))
        return np.clip(jittered, 0.0, 1.0), pair[1]

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``n`` random (noisy, clean) crops, each float32 (n, crop, crop, 1) in [0, 1]."""
        return draw_batch(self, n)


def _faded(crop: np.ndarray, share: np.float32) -> np.ndarray:
    """``crop`` with everything darker than its paper (its 90th percentile) at ``share`` of its contrast."""
    paper = np.float32(np.percentile(crop, 90))
    return np.where(crop < paper, paper - share * (paper - crop), crop)


class Sampler(Protocol):
    """Anything that draws (noisy, clean) float32 (crop, crop) pairs."""

    crop: int

    def sample(self) -> tuple[np.ndarray, np.ndarray]: ...


def draw_batch(sampler: Sampler, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs from ``sampler.sample()`` stacked as float32 (n, crop, crop, 1) arrays."""
    if n < 1:
        raise ValueError(f"batch size must be >= 1, got {n}")
    noisy = np.empty((n, sampler.crop, sampler.crop, 1), np.float32)
    clean = np.empty_like(noisy)
    for k in range(n):
        noisy[k, ..., 0], clean[k, ..., 0] = sampler.sample()
    return noisy, clean
