"""The last pass over a PDF DocClean wrote: text layers laid over its pages, and PDF/A made and checked.

Both are done with pikepdf (qpdf), once the image pages are all written: the
layers are grafted as OCRmyPDF grafts its own, so the images stay exactly as
written, and pikepdf's PDF/A support declares the conformance (an sRGB output
intent, XMP metadata agreeing with the document information) and then checks
the file as written with its allowlist validator, which approves only what it
knows conforms.  A file that does not pass is never given its name.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from engine.errors import ImageWriteError
from engine.vocabulary import PdfA

if TYPE_CHECKING:  # imported where a PDF is finished: pikepdf is not needed to clean pages
    import pikepdf

PRODUCER = "DocClean"


def finish_pdf(path: Path, layers: Sequence[Optional[bytes]], pdfa: Optional[PdfA], output: Path,
               scratch: Path) -> Path:
    """The PDF at ``path`` with each of ``layers`` (one-page PDFs of invisible words, None for a page without)
    laid over its page, and with ``pdfa`` made that PDF/A and checked; returns the file holding the result:
    ``path`` itself when nothing was asked, else ``scratch`` (a free path beside it).  ImageWriteError naming
    ``output`` (the file the user asked for) when the result does not pass the PDF/A check."""
    if pdfa is None and not any(layer is not None for layer in layers):
        return path
    import pikepdf

    sources: list[pikepdf.Pdf] = []  # open until the document is saved: their objects are copied then
    try:
        with pikepdf.open(path) as document:
            for page, layer in zip(document.pages, layers):
                if layer is None:
                    continue
                sources.append(pikepdf.open(io.BytesIO(layer)))
                page.add_overlay(sources[-1].pages[0], pikepdf.Rectangle(*page.mediabox))
            if pdfa is None:
                document.save(scratch)
            else:
                _save_pdfa(document, pdfa, scratch, output)
    finally:
        for source in sources:
            source.close()
    return scratch


def _save_pdfa(document: pikepdf.Pdf, pdfa: PdfA, scratch: Path, output: Path) -> None:
    """Declare ``document`` PDF/A of ``pdfa``'s flavour, write it to ``scratch`` and check what was written."""
    from pikepdf import pdfa as conformance

    conformance.prepare(document, pdfa.value)
    # prepare names pikepdf as the producer; the document's maker is DocClean (its own record stays in /DocClean).
    with document.open_metadata(set_pikepdf_as_editor=False) as metadata:
        metadata["pdf:Producer"] = PRODUCER
    settings = conformance.resolve_save_kwargs(conformance.Flavour(pdfa.value))
    document.save(scratch, **settings)
    report = conformance.validate_written(scratch, pdfa.value, settings)
    if not report.passed:
        rules = sorted({finding.rule for finding in report.findings})
        raise ImageWriteError(output, f"it could not be made {pdfa.label}: the check found it breaks "
                                      f"{len(rules)} of the standard's rules ({', '.join(rules[:3])})")
