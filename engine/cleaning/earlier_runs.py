"""What earlier runs made: the provenance a page's output would record, and the earlier outputs that match it.

A re-run skips a page whose output records the same model, input and settings
(engine.io.provenance); a document missing some of its pages is made again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page_fixes import PageFixes
from engine.cleaning.pictures import ZoneEdits
from engine.files import file_sha256_cached
from engine.io import PageKey, PageRef
from engine.io.naming import earlier_outputs, part_base
from engine.io.planning import OutputFile
from engine.io.provenance import Provenance, read_output_provenances


class Provenances:
    """What each page's output records, with each input file hashed once and only when needed."""

    def __init__(self, denoiser: Denoiser, settings: str,
                 zones: Optional[Mapping[PageKey, ZoneEdits]] = None, fixes: Optional[PageFixes] = None) -> None:
        self.model = denoiser.name
        self.model_sha256 = file_sha256_cached(denoiser.path) if denoiser.path else None
        self.settings = settings
        self.zones = dict(zones or {})
        self.fixes = fixes if fixes is not None else PageFixes(Path(), active=False)
        self.hashes: dict[Path, str] = {}

    def of(self, ref: PageRef) -> Optional[Provenance]:
        """None when it cannot be known (no model file, or the input cannot be read: its page reports why)."""
        if self.model_sha256 is None:
            return None
        if ref.path not in self.hashes:
            try:
                self.hashes[ref.path] = file_sha256_cached(ref.path)
            except OSError:
                return None
        # A page cleaned with the user's edits records them: other edits make another page.
        edits = self.zones.get(ref.key) if self.zones else None
        settings = self.settings + (edits.settings_text() if edits is not None else "") + \
            self.fixes.of(ref).settings_text()
        return Provenance(self.model, self.model_sha256, ref.path.name, self.hashes[ref.path],
                          ref.index + 1, settings)

    def earlier(self, output: OutputFile) -> tuple[Optional[Path], Optional[Path]]:
        """Earlier files of ``output`` made by this model with these settings: (with every page, without some).

        A document without some of its pages is one where a page failed;
        it is made again in its place.
        """
        found = [(path, read_output_provenances(path)) for path in earlier_outputs(output.base, output.fmt)]
        found = [(path, pages) for path, pages in found if any(pages)]
        if not found and not output.document:
            return self._earlier_spread(output), None
        if not found:
            return None, None  # nothing to compare with: the inputs need not be hashed
        wanted = [provenance for provenance in map(self.of, output.refs) if provenance is not None]
        if len(wanted) < len(output.refs):  # a page whose provenance cannot be known
            return None, None
        whole = next((path for path, pages in found if _same_pages(wanted, pages)), None)
        part = next((path for path, pages in found if output.document and _some_pages(wanted, pages)), None)
        return whole, part


    def _earlier_spread(self, output: OutputFile) -> Optional[Path]:
        """The left page's file when an earlier run split ``output``'s page as a spread into two files made the
        same way (engine.io.naming.part_base); None otherwise."""
        wanted = self.of(output.refs[0])
        if wanted is None:
            return None
        made = []
        for part in (1, 2):
            path = next((path for path in earlier_outputs(part_base(output.base, part), output.fmt)
                         if any(wanted.same_work(page) for page in read_output_provenances(path))), None)
            if path is None:
                return None
            made.append(path)
        return made[0]


def _inputs_pages(found: list[Optional[Provenance]]) -> list[Optional[Provenance]]:
    """A document's pages, one per input page: the right page of a split spread follows its left one."""
    return [page for page in found if page is None or not page.geometry.startswith("part=2")]


def _same_pages(wanted: list[Provenance], found: list[Optional[Provenance]]) -> bool:
    found = _inputs_pages(found)
    return len(wanted) == len(found) and all(w.same_work(f) for w, f in zip(wanted, found))


def _some_pages(wanted: list[Provenance], found: list[Optional[Provenance]]) -> bool:
    """Whether ``found`` is some of ``wanted``'s pages, in order, made the same way."""
    found = _inputs_pages(found)
    remaining = iter(wanted)
    return 0 < len(found) < len(wanted) and all(any(w.same_work(f) for w in remaining) for f in found)
