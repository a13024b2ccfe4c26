"""What made a cleaned page, recorded inside the page file itself.

Every output carries the model (name and SHA-256 of its file), the input
(name, SHA-256 of its file and page number) and the settings that made it:
in a PNG text chunk, a TIFF ImageDescription tag or a JPEG comment, so it
travels with the file.  A re-run reads it back to skip pages already cleaned
the same way, and the app shows which model made a saved file.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from PIL import Image

# The PNG text key, and the prefix that marks a TIFF description or JPEG comment as ours.
KEY = "docclean"
_PREFIX = KEY + ":"


@dataclass(frozen=True)
class Provenance:
    """Where a cleaned page came from.

    ``page`` is 1-based; ``settings`` is a short text such as "mode=grey
    keep_ink=on" (different settings make a different page).
    """

    model: str
    model_sha256: str
    source: str
    source_sha256: str
    page: int
    settings: str

    def to_text(self) -> str:
        return _PREFIX + json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_text(cls, text: object) -> Optional["Provenance"]:
        """The Provenance a metadata text holds, or None if it is not ours or damaged."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            return None
        try:
            data = json.loads(text[len(_PREFIX):])
            found = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (ValueError, TypeError, KeyError):
            return None
        return found if isinstance(found.page, int) else None

    def same_work(self, other: Optional["Provenance"]) -> bool:
        """Whether ``other`` was made by the same model file from the same page with the same settings."""
        return other is not None and (
            (self.model_sha256, self.source_sha256, self.page, self.settings)
            == (other.model_sha256, other.source_sha256, other.page, other.settings)
        )


def save_options(writer: str, provenance: Optional[Provenance]) -> dict:
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


def read_provenance(path: str | os.PathLike) -> Optional[Provenance]:
    """The Provenance stored in a page file, or None (not ours, unreadable or missing).

    Reads the header only; never raises for a damaged or missing file.
    """
    try:
        with Image.open(Path(path)) as image:
            if image.format == "PNG":
                return Provenance.from_text(image.info.get(KEY))
            if image.format == "TIFF":
                return Provenance.from_text(image.tag_v2.get(270))
            if image.format == "JPEG":
                return Provenance.from_text(image.info.get("comment"))
    except Exception:  # noqa: BLE001 - any unreadable file simply has no provenance
        return None
    return None
