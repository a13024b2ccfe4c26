"""The geometry corrections of a batch's pages: the app's, over those kept in the output folder's record."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional

from engine.files import file_sha256_cached
from engine.geometry import GeometryFix
from engine.geometry.record import RecordKey, read_fixes, write_fixes
from engine.io import PageKey, PageRef


class PageFixes:
    """Each page's corrections: those ``given`` (by the app, per PageRef.key), else those an earlier run kept
    in ``out_dir``'s record (engine.geometry.record); none when the geometry stage is not ``active``."""

    def __init__(self, out_dir: Path, given: Optional[Mapping[PageKey, GeometryFix]] = None,
                 active: bool = True) -> None:
        self.out_dir, self.active = Path(out_dir), active
        self.given = dict(given or {}) if active else {}
        self.recorded = read_fixes(out_dir) if active else {}

    def of(self, ref: PageRef) -> GeometryFix:
        if ref.key in self.given:
            return self.given[ref.key]
        key = self._record_key(ref) if self.recorded else None
        return self.recorded.get(key, GeometryFix()) if key is not None else GeometryFix()

    def keep(self, refs: Iterable[PageRef]) -> None:
        """Keep the given corrections of ``refs`` in the record, for later runs (ImageWriteError if it cannot)."""
        fixes: dict[RecordKey, GeometryFix] = {}
        names: dict[RecordKey, str] = {}
        for ref in refs:
            key = self._record_key(ref) if ref.key in self.given else None
            if key is not None:
                fixes[key], names[key] = self.given[ref.key], ref.path.name
        if fixes:
            write_fixes(self.out_dir, fixes, names)

    @staticmethod
    def _record_key(ref: PageRef) -> Optional[RecordKey]:
        """None when the input cannot be read (its page reports why)."""
        try:
            return file_sha256_cached(ref.path), ref.index
        except OSError:
            return None
