"""What made a cleaned page, recorded inside the output file itself: the one place that writes and reads it.

Every output carries the model (name and SHA-256 of its file), the input
(name, SHA-256 of its file and page number) and the settings that made it:
in a PNG text chunk, each TIFF page's ImageDescription tag, a JPEG comment,
or a PDF's document information (/DocClean, one record for all its pages),
so it travels with the file.  A re-run reads it back to skip pages already
cleaned the same way, and the app shows which model made a saved file.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Optional

from PIL import Image, TiffImagePlugin

from engine.io.os_errors import file_kind

# The PNG text key, and the prefix that marks a TIFF description or JPEG comment as ours.
KEY = "docclean"
_PREFIX = KEY + ":"


@dataclass(frozen=True)
class Provenance:
    """Where a cleaned page came from.

    ``page`` is 1-based; ``settings`` is a short text such as "mode=grey
    keep_ink=on" (different settings make a different page); ``geometry``
    what the geometry stage did to this page (engine.geometry.PageGeometry.describe),
    a record, not compared: the same settings make the same decision again.
    """

    model: str
    model_sha256: str
    source: str
    source_sha256: str
    page: int
    settings: str
    geometry: str = ""

    def to_text(self) -> str:
        fields = asdict(self)
        if not self.geometry:  # pages as read are recorded as before the geometry stage
            del fields["geometry"]
        return _PREFIX + json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: object) -> Optional["Provenance"]:
        """The Provenance a metadata text holds, or None if it is not ours or damaged."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            return None
        try:
            data = json.loads(text[len(_PREFIX):])
            found = cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data or name != "geometry"})
        except (ValueError, TypeError, KeyError):
            return None
        return found if isinstance(found.page, int) else None

    def same_work(self, other: Optional["Provenance"]) -> bool:
        """Whether ``other`` was made by the same model file from the same page with the same settings."""
        return other is not None and (
            (self.model_sha256, self.source_sha256, self.page, self.settings)
            == (other.model_sha256, other.source_sha256, other.page, other.settings)
        )


def save_options(writer: str, provenance: Optional[Provenance]) -> dict[str, object]:
    """Pillow save() options that store ``provenance`` in a file of format ``writer``."""
    if provenance is None:
        return {}
    text = provenance.to_text()
    if writer == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_itxt(KEY, text)  # written before the pixel data, so reading it needs the header only
        return {"pnginfo": info}
    if writer == "TIFF":
        return {"description": text}
    if writer == "JPEG":
        return {"comment": text}
    return {}


def read_provenance(path: str | os.PathLike[str]) -> Optional[Provenance]:
    """The Provenance stored in a page file (PNG, JPEG, a TIFF's first page), or None (not ours, unreadable or missing).

    Reads the header only; never raises for a damaged or missing file.
    """
    if file_kind(path) is not None:
        return None  # a named pipe would wait forever
    try:
        with Image.open(Path(path)) as image:
            return _image_provenance(image)
    except Exception:  # noqa: BLE001 - any unreadable file simply has no provenance
        return None


def _image_provenance(image: Image.Image) -> Optional[Provenance]:
    """The Provenance of the page (the TIFF frame) ``image`` is on, or None."""
    if image.format == "PNG":
        return Provenance.from_text(image.info.get(KEY))
    if image.format == "TIFF" and isinstance(image, TiffImagePlugin.TiffImageFile):
        return Provenance.from_text(image.tag_v2.get(270))
    if image.format == "JPEG":
        return Provenance.from_text(image.info.get("comment"))
    return None


# ---------------------------------------------------------------- documents: a record for each page


def pdf_record(provenances: Sequence[Provenance]) -> str:
    """The /DocClean text of a PDF: what made each of its pages, with each input named once."""
    sources: list[list[str]] = []
    numbers: dict[tuple[str, str], int] = {}
    pages = []
    for provenance in provenances:
        source = (provenance.source, provenance.source_sha256)
        if source not in numbers:
            numbers[source] = len(sources)
            sources.append(list(source))
        pages.append([numbers[source], provenance.page])
    first = provenances[0]
    record: dict[str, object] = {"model": first.model, "model_sha256": first.model_sha256,
                                 "settings": first.settings, "sources": sources, "pages": pages}
    if any(provenance.geometry for provenance in provenances):  # documents of pages as read stay as before
        record["geometry"] = [provenance.geometry for provenance in provenances]
    return _PREFIX + json.dumps(record, separators=(",", ":"))


def pdf_provenances(text: str) -> list[Provenance]:
    """The provenance of each page a /DocClean text records; [] if it is not ours or damaged."""
    if not text.startswith(_PREFIX):
        return []
    try:
        record = json.loads(text[len(_PREFIX):])
        sources, pages = record["sources"], record["pages"]
        geometry = record.get("geometry") or [""] * len(pages)
        return [Provenance(record["model"], record["model_sha256"], sources[index][0], sources[index][1],
                           int(page), record["settings"], str(done))
                for (index, page), done in zip(pages, geometry, strict=True)]
    except (ValueError, TypeError, KeyError, IndexError):
        return []


def read_output_provenances(path: str | os.PathLike[str]) -> list[Optional[Provenance]]:
    """What made each page of an output file, in order (None for a page that does not say).

    Reads a PDF's document information, each TIFF page's description, or
    the one record of a PNG or JPEG; [] for a file DocClean did not make,
    or one that cannot be read.  Never raises.
    """
    path = Path(path)
    if file_kind(path) is not None:
        return []  # a named pipe would wait forever
    try:
        if path.suffix.lower() == ".pdf":
            return list(pdf_provenances(_pdf_metadata(path, "DocClean")))
        with Image.open(path) as image:
            if image.format != "TIFF":
                found = _image_provenance(image)
                return [found] if found is not None else []
            pages = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                pages.append(_image_provenance(image))
            return pages if any(pages) else []
    except Exception:  # noqa: BLE001 - any unreadable file simply has no provenance
        return []


def _pdf_metadata(path: Path, key: str) -> str:
    """The document information entry ``key`` of the PDF ``path`` ("" if it has none)."""
    # Imported here: a folder of images need not start PDFium (see engine.io.pages).
    from engine.io import pdf

    with pdf._document(path) as document:  # holds PDFIUM_LOCK while the file is open
        value: str = document.get_metadata_value(key)
        return value


def is_output(path: str | os.PathLike[str]) -> bool:
    """Whether DocClean made ``path`` (it records what made it)."""
    return any(read_output_provenances(path))
