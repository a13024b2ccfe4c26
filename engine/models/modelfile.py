"""Saving and loading DocClean models: a ``.keras`` file plus its metadata.

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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import keras

from engine.models.bundled import resolve_model

METADATA_MEMBER = "docclean.json"
FORMAT_VERSION = 1


class ModelFileError(Exception):
    """A model file that cannot be used, with the file and the reason."""


@dataclass
class ModelInfo:
    """What a model file says about the model inside it."""

    architecture: str
    dataset: str = ""
    epochs: int = 0
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    parameters: int = 0
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    @property
    def cleans_pages(self) -> bool:
        """Whether the model is fully convolutional, so it can clean pages of any size."""
        from engine.models import zoo  # zoo imports Keras layers; modelfile stays light

        try:
            return zoo.get_architecture(self.architecture).fully_convolutional
        except KeyError:
            return False

    @classmethod
    def from_dict(cls, data: dict) -> "ModelInfo":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class LoadedModel:
    model: keras.Model
    info: ModelInfo
    path: Path


def save_model(model: keras.Model, path: str | Path, info: ModelInfo) -> Path:
    """Write ``model`` and ``info`` to ``path`` atomically; returns the path.

    The archive is built under a temporary name in the same folder and
    renamed only when complete, so an existing model is never left half
    written.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    info.parameters = int(model.count_params())
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".partial.keras", dir=path.parent)
    os.close(fd)
    if getattr(model, "optimizer", None) is not None:
        # Users need the weights, not the optimizer's state (3x the size).
        # (clone_model carries the compiled optimizer over in Keras 3.15; a model
        # rebuilt from its config does not.)
        trained = model
        model = keras.Model.from_config(trained.get_config())
        model.set_weights(trained.get_weights())
    try:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_MEMBER, json.dumps(asdict(info), indent=2))
        # mkstemp makes owner-only files; a model is a document to share.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_info(path: str | Path) -> ModelInfo:
    """The metadata of a model file, without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if METADATA_MEMBER not in names:
                what = "a Keras model without DocClean metadata" if "config.json" in names else "not a Keras model"
                raise ModelFileError(f"{path}: {what}")
            data = json.loads(archive.read(METADATA_MEMBER))
    except (zipfile.BadZipFile, OSError) as error:
        raise ModelFileError(f"{path}: not a model file or corrupt ({error})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(f"{path}: its DocClean metadata is corrupt") from None
    if not isinstance(data, dict) or "architecture" not in data:
        raise ModelFileError(f"{path}: its DocClean metadata names no architecture")
    return ModelInfo.from_dict(data)


def load_model(path: Optional[str | Path] = None) -> LoadedModel:
    """Load a DocClean model file, or a bundled model by name (the default when ``path`` is None)."""
    path = resolve_model(path)
    info = read_info(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken archive
        raise ModelFileError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None
    return LoadedModel(model=model, info=info, path=path)
