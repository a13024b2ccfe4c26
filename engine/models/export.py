"""Model files exported for the fast inference runtime (OpenVINO IR), built once and cached.

An export is a folder holding ``model.xml``/``model.bin`` and ``source.json``
(the SHA-256 of the model file it came from and the model's geometry).  The
bundled models ship theirs beside them in ``resources/models``; any other
model file is exported on first use into the user's cache, keyed by its
SHA-256, so a changed or retrained model is exported again.  Exporting
needs Keras and TensorFlow (imported here only then); using an export does
not.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import platformdirs

from engine.errors import ModelFileError
from engine.files import file_sha256
from engine.models.bundled import MODELS_FOLDER
from engine.models.geometry import Geometry
from engine.models.modelfile import read_info

XML, BIN, SOURCE = "model.xml", "model.bin", "source.json"
CACHE_ENV = "DOCCLEAN_EXPORT_CACHE"


@dataclass(frozen=True)
class Export:
    """A model in the runtime's own format, ready to compile."""

    folder: Path
    geometry: Geometry
    sha256: str

    @property
    def xml(self) -> Path:
        return self.folder / XML


def cache_folder() -> Path:
    """Where exports of the user's models live: $DOCCLEAN_EXPORT_CACHE, else the user cache."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("docclean")) / "exports"


def bundled_export_folder(model_path: Path) -> Path:
    """Where a bundled model's shipped export is: ``resources/models/<stem>.openvino``."""
    return MODELS_FOLDER / f"{model_path.stem}.openvino"


def _read(folder: Path, sha256: str) -> Optional[Export]:
    """The export in ``folder`` if it is complete and made from the file with ``sha256``."""
    try:
        source = json.loads((folder / SOURCE).read_text(encoding="utf-8"))
        if source.get("sha256") != sha256 or not (folder / XML).is_file() or not (folder / BIN).is_file():
            return None
        return Export(folder, Geometry.from_dict(source.get("geometry", {})), sha256)
    except (OSError, ValueError, AttributeError):
        return None  # missing or damaged: export again


def find_export(model_path: str | os.PathLike[str]) -> tuple[Optional[Export], str]:
    """(the existing export of ``model_path`` or None, the model file's SHA-256)."""
    path = Path(model_path)
    try:
        sha256 = file_sha256(path)
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the model file ({error.strerror or error})") from None
    for folder in (bundled_export_folder(path), cache_folder() / sha256[:24]):
        found = _read(folder, sha256)
        if found is not None:
            return found, sha256
    return None, sha256


def export_openvino(model_path: str | os.PathLike[str], destination: Optional[Path] = None) -> Export:
    """Export a DocClean model file to OpenVINO IR (float32, any page size); returns the export.

    Written into ``destination`` (default: the cache folder for the file's
    SHA-256) through a temporary folder renamed when complete, so a cancelled
    or failed export is never picked up.  Needs Keras, TensorFlow and OpenVINO.
    """
    path = Path(model_path)
    info = read_info(path)
    if not info.cleans_pages:
        raise ModelFileError(f"{path}: this model takes fixed-size digit images; it cannot clean pages")
    sha256 = file_sha256(path)
    destination = Path(destination) if destination else cache_folder() / sha256[:24]
    from engine.models.keras_files import load_model  # Keras only when there is something to export
    from engine.models.receptive_field import geometry

    model = load_model(path).model
    geo = geometry(model)
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide a shipped export from other users
        model.export(str(scratch / XML), format="openvino", verbose=False)
        (scratch / SOURCE).write_text(json.dumps({"sha256": sha256, "model": path.name,
                                                  "geometry": geo.to_dict()}, indent=2), encoding="utf-8")
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(scratch, destination)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Export(destination, geo, sha256)


def export_files(export: Export) -> dict[str, bytes]:
    """The files of ``export`` by name: what a cluster ships to workers that lack it."""
    return {name: (export.folder / name).read_bytes() for name in (XML, BIN, SOURCE)}


def install_export(files: dict[str, bytes], sha256: str) -> Export:
    """Put an export shipped as ``files`` (export_files) for the model file with ``sha256`` where find_export
    finds it, through a temporary folder renamed when complete, as export_openvino writes one."""
    destination = cache_folder() / sha256[:24]
    found = _read(destination, sha256)
    if found is not None:
        return found
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        scratch.chmod(0o755)
        for name in (XML, BIN, SOURCE):
            (scratch / name).write_bytes(files[name])
        try:
            os.replace(scratch, destination)
        except OSError:  # another worker of this computer installed it first
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    installed = _read(destination, sha256)
    if installed is None:
        raise ModelFileError(f"the model's export shipped for {sha256[:12]} could not be installed in {destination}")
    return installed
