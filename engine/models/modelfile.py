"""DocClean model files and what they say about their model (no Keras import here).

A DocClean model file is an ordinary Keras 3 archive (a zip) with one more
member, ``docclean.json``, holding what the user needs to trust the model:
its architecture, the data it learned from, how long it trained, its
validation metrics and the history of its losses.  Files are loaded in
Keras safe mode, so a model file can never run code of its own.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from engine.errors import ConfigurationError, ModelFileError
from engine.files import size_label
from engine.io.os_errors import file_kind, os_reason
from engine.models import registry
from engine.models.geometry import Geometry

METADATA_MEMBER = "docclean.json"
FORMAT_VERSION = 1
# What the members of a model archive may unpack to, together: the bundled
# models are 1-3 MB, a docunet of width 32 and depth 6 (151 M weights) 0.6 GB.
MAX_UNPACKED_BYTES = 2 << 30
MAX_UNPACKED_LABEL = "2 GiB"
# Keras stores its members uncompressed, and float weights deflate to ~90%:
# a large member compressed more than this is a bomb, not a model.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECKED_FROM = 16 << 20


@dataclass
class ModelInfo:
    """What a model file says about the model inside it."""

    architecture: str
    dataset: str = ""
    epochs: int = 0
    metrics: dict[str, float] = field(default_factory=dict)  # validation numbers, "best_epoch" among them
    history: dict[str, list[float]] = field(default_factory=dict)  # each loss and metric by epoch
    options: dict[str, int] = field(default_factory=dict)  # the architecture's builder options
    training: dict[str, Any] = field(default_factory=dict)  # the training settings and data, as JSON
    parameters: int = 0
    # Receptive field and size multiple (engine.models.geometry): all that
    # cleaning needs to know about the graph, so no backend needs Keras.
    geometry: dict[str, int] = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    @property
    def cleans_pages(self) -> bool:
        """Whether the model is fully convolutional, so it can clean pages of any size."""
        try:
            return registry.get_architecture(self.architecture).fully_convolutional
        except ConfigurationError:  # an architecture this DocClean does not know
            return False

    def page_geometry(self) -> Geometry:
        """The stored geometry; ValueError for files saved before DocClean recorded it."""
        return Geometry.from_dict(self.geometry)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelInfo":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def invalid_weights(path: str | Path, what: str) -> ModelFileError:
    """The error for a model whose weights hold ``what`` ('NaN', 'infinity'): it cleans nothing."""
    return ModelFileError(f"{path}: the model's weights contain invalid numbers ({what}); "
                          "it is damaged — retrain or choose another model")


def check_output_name(path: str | Path) -> Path:
    """``path`` if a model may be saved there (a .keras name); ModelFileError otherwise."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file must end in .keras")
    return path


def check_archive_sizes(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse an archive whose members unpack to too much, before any is read (ModelFileError).

    The sizes are the ones the archive declares; zipfile never inflates a
    member past its declared size, so they bound what reading it costs.
    """
    members = archive.infolist()
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED_BYTES:
        raise ModelFileError(f"{path}: unpacks to {size_label(total)}, over the "
                             f"{MAX_UNPACKED_LABEL} limit for model files")
    for member in members:
        if member.file_size > RATIO_CHECKED_FROM and \
                member.file_size > MAX_COMPRESSION_RATIO * member.compress_size:
            raise ModelFileError(f"{path}: {member.filename} unpacks {size_label(member.file_size)} from "
                                 f"{size_label(member.compress_size)}, more than the "
                                 f"{MAX_COMPRESSION_RATIO}:1 a model file may be compressed (a zip bomb?)")


def read_info(path: str | Path) -> ModelInfo:
    """The metadata of a model file, without loading its weights.

    Every way of loading a model calls this first, so it also refuses
    archives too big to unpack (check_archive_sizes).
    """
    path = Path(path)
    kind = file_kind(path)  # a named pipe would make the zip reader wait forever
    if kind is not None:
        raise ModelFileError(f"{path}: is {kind}, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive_sizes(path, archive)
            names = archive.namelist()
            if METADATA_MEMBER not in names:
                what = "a Keras model without DocClean metadata" if "config.json" in names else "not a Keras model"
                raise ModelFileError(f"{path}: {what}")
            data = json.loads(archive.read(METADATA_MEMBER))
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path}: not a model file or corrupt") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({os_reason(error)})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(f"{path}: its DocClean metadata is corrupt") from None
    if not isinstance(data, dict) or "architecture" not in data:
        raise ModelFileError(f"{path}: its DocClean metadata names no architecture")
    return ModelInfo.from_dict(data)


def page_model_problem(path: str | Path) -> str | None:
    """Why a model file cannot clean pages (unreadable, or a digit model), or None if it can.

    Reads the metadata only, so front ends can sort model files before offering them.
    """
    try:
        info = read_info(path)
    except ModelFileError as error:
        return str(error)
    if info.architecture not in registry.ARCHITECTURES:
        return (f"{path}: the model is a {info.architecture}, an architecture this version of DocClean does not "
                "know (made by a newer one?)")
    if not info.cleans_pages:
        return (f"{path}: a {info.architecture} model cleans 28 x 28 digit images, not pages; "
                "choose a page model (e.g. docunet)")
    return None


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write, renamed onto ``path`` only if the block succeeds.

    So an existing model file is never left half written.  The new file is
    readable as the user's umask allows (mkstemp's owner-only mode is not for
    documents people share).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".partial.keras", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def metadata_json(info: ModelInfo) -> str:
    return json.dumps(asdict(info), indent=2)


def write_info(path: str | Path, info: ModelInfo) -> None:
    """Replace the metadata of a model file, leaving its weights as they are (atomic)."""
    path = Path(path)
    read_info(path)  # refuses files that are not DocClean models
    with replacing(path) as tmp:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                if member.filename != METADATA_MEMBER:
                    target.writestr(member, source.read(member))
            target.writestr(METADATA_MEMBER, metadata_json(info))
