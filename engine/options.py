"""One object for how a batch cleans and writes pages, built alike by the command line and the app.

The rules between the choices (one combined PDF is a PDF and has its own
name, a JPEG quality is for JPEG pages, PDF/A for PDFs) live here, once: ``BatchOptions.build``
applies them to what a user chose and says in one sentence what clashes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from engine.errors import ConfigurationError
from engine.geometry import GeometryOptions
from engine.io.raster import MAX_DPI
from engine.io.naming import DEFAULT_NAME, check_name_template
from engine.io.planning import check_combine_name
from engine.io.writing import JPEG_QUALITY, PDF_JPEG_QUALITY, check_jpeg_quality
from engine.vocabulary import OutputFormat, PageMode, PdfA, PdfImages, RerunPolicy, choice

#: The combined PDF's name when none is given.
COMBINED_NAME = "all pages.pdf"


@dataclass(frozen=True)
class BatchOptions:
    """How every page of a batch is cleaned, named and written.

    ``fmt``: the file format; ``mode``: grey or 1-bit pages; ``keep_ink``:
    put back ink the model erased (engine.cleaning.ink); ``existing``: what
    a re-run does with earlier outputs; ``name``: the naming template
    (engine.io.NAME_FIELDS); ``jpeg_quality``: 1-100, for JPEG files and a PDF's JPEG pages (None: 95 for
    files, 85 in PDFs; ``quality`` says which); ``pdf_images``: how a PDF stores grey and colour pages;
    ``pdfa``: the PDF/A a PDF is made to and checked against (None: plain PDF); ``combine``:
    a file name (``x.pdf``) putting every page of the batch into that one PDF;
    ``dpi``: the resolution every page is written at, whatever its file says
    (None: the file's, engine.io.documents.page_dpi); ``pictures``: find
    photographs and other pictures and keep their tones (engine.cleaning.pictures);
    ``geometry``: what may be done to make pages upright, straight and cropped before cleaning
    (engine.geometry; off unless asked: the command line asks for it by default); ``ocr``: Tesseract's
    languages ("eng", "eng+deu"; "" for none) for an invisible text layer in PDF outputs
    (engine.io.ocr); ``text``: also a .txt of what Tesseract read beside each output.
    """

    fmt: OutputFormat = OutputFormat.PNG
    mode: PageMode = PageMode.GREY
    keep_ink: bool = True
    existing: RerunPolicy = RerunPolicy.SKIP
    name: str = DEFAULT_NAME
    jpeg_quality: Optional[int] = None
    pdf_images: PdfImages = PdfImages.JPEG
    pdfa: Optional[PdfA] = None
    combine: Optional[str] = None
    dpi: Optional[float] = None
    pictures: bool = True
    geometry: GeometryOptions = GeometryOptions.off()
    ocr: str = ""
    text: bool = False

    def __post_init__(self) -> None:
        # Plain strings (a setting, an argparse value) become the vocabulary's members.
        object.__setattr__(self, "fmt", choice(OutputFormat, self.fmt, "the output format"))
        object.__setattr__(self, "mode", choice(PageMode, self.mode, "the page mode"))
        object.__setattr__(self, "existing", choice(RerunPolicy, self.existing, "the re-run policy"))
        object.__setattr__(self, "pdf_images", choice(PdfImages, self.pdf_images, "how PDF pages are stored"))
        if self.pdfa is not None:
            object.__setattr__(self, "pdfa", choice(PdfA, self.pdfa, "the PDF/A level"))

    @property
    def quality(self) -> int:
        """The JPEG quality pages are written at, in JPEG files or in PDFs."""
        if self.jpeg_quality is not None:
            return self.jpeg_quality
        return PDF_JPEG_QUALITY if self.fmt == OutputFormat.PDF else JPEG_QUALITY

    @property
    def document_quality(self) -> Optional[int]:
        """The JPEG quality of a PDF's grey and colour pages; None when they are stored lossless."""
        return self.quality if self.pdf_images == PdfImages.JPEG else None

    @classmethod
    def build(cls, *, fmt: Optional[str] = None, mode: str = PageMode.GREY, keep_ink: bool = True,
              existing: str = RerunPolicy.SKIP, name: Optional[str] = None, jpeg_quality: Optional[int] = None,
              pdf_images: Optional[str] = None, pdfa: Optional[str] = None,
              combine: Optional[str] = None, dpi: Optional[float] = None, pictures: bool = True,
              geometry: GeometryOptions = GeometryOptions.off(), ocr: str = "", text: bool = False) -> BatchOptions:
        """The options for what a user chose, None meaning "not chosen"; ConfigurationError when they clash."""
        if combine is not None:
            if fmt not in (None, OutputFormat.PDF):
                raise ConfigurationError(f"every page goes into one combined PDF, so the format cannot be {fmt}")
            if name is not None:
                raise ConfigurationError("the combined PDF has the one name given for it; "
                                         "a naming template does not apply")
        chosen = OutputFormat.PDF if combine is not None else choice(OutputFormat, fmt or "png", "the output format")
        if pdf_images is not None and chosen != OutputFormat.PDF:
            raise ConfigurationError(f"how a PDF stores its pages is for PDFs, not {chosen} files")
        stored = choice(PdfImages, pdf_images or PdfImages.JPEG, "how PDF pages are stored")
        if jpeg_quality is not None and chosen != OutputFormat.JPEG and not (
                chosen == OutputFormat.PDF and stored == PdfImages.JPEG):
            raise ConfigurationError(f"a JPEG quality is for JPEG pages, not {stored} PDF pages"
                                     if chosen == OutputFormat.PDF else f"a JPEG quality is for JPEG pages, not {chosen}")
        options = cls(chosen, choice(PageMode, mode, "the page mode"), keep_ink,
                      choice(RerunPolicy, existing, "the re-run policy"), DEFAULT_NAME if name is None else name,
                      jpeg_quality, stored, None if pdfa is None else choice(PdfA, pdfa, "the PDF/A level"),
                      combine, dpi, pictures, geometry, ocr, text)
        return options.check()

    def check(self) -> BatchOptions:
        """These options, or ConfigurationError saying in one sentence why they cannot name and write pages."""
        if self.combine is not None and self.fmt != OutputFormat.PDF:
            raise ConfigurationError(f"every page goes into one combined PDF, so the format cannot be {self.fmt}")
        if self.jpeg_quality is not None:
            check_jpeg_quality(self.jpeg_quality)
        if self.pdfa is not None and self.fmt != OutputFormat.PDF:
            raise ConfigurationError(f"PDF/A is a kind of PDF: write PDFs (--format pdf or --combine NAME.pdf), "
                                     f"not {self.fmt} files")
        check_name_template(self.name)
        if self.combine is not None:
            check_combine_name(self.combine)
        if self.ocr and self.fmt != OutputFormat.PDF and not self.text:
            raise ConfigurationError("the text layer goes into PDFs: write them (--format pdf or --combine "
                                     "NAME.pdf), or ask for a .txt beside each page (--text)")
        if self.text and not self.ocr:
            raise ConfigurationError("a .txt of each page is what Tesseract reads: say in which language "
                                     "(--ocr eng, or eng+deu)")
        if self.dpi is not None and not (isinstance(self.dpi, (int, float)) and 1 < self.dpi <= MAX_DPI):
            raise ConfigurationError(f"the resolution must be a number of dots per inch above 1 and up to "
                                     f"{MAX_DPI:,.0f}, not {self.dpi}")
        return self

    def check_file_by_file(self, runner: str) -> None:
        """ConfigurationError, in one sentence, for what a run that cleans each file on its own (``runner``: "a
        watch", "a cluster") cannot keep to: one combined PDF of every page, and a new copy beside each output."""
        if self.combine is not None:
            raise ConfigurationError(f"{runner} cleans each file on its own, so the pages cannot go into one "
                                     "combined PDF: write a file per input (--format pdf)")
        if self.existing == RerunPolicy.KEEP_BOTH:
            raise ConfigurationError(f"{runner} cannot keep both copies (--keep-both), as it may clean a file "
                                     "again: use the default (skip pages cleaned before) or --overwrite")

    def problem(self) -> Optional[str]:
        """Why these options cannot run, in one sentence; None when they can."""
        try:
            self.check()
        except ConfigurationError as error:
            return str(error)
        return None

    def settings_text(self) -> str:
        """The settings an output records; a JPEG of another quality is another page (the default says nothing,
        as before)."""
        settings = (f"mode={self.mode} keep_ink={'on' if self.keep_ink else 'off'} "
                    f"pictures={'on' if self.pictures else 'off'}")
        if self.fmt == OutputFormat.JPEG and self.quality != JPEG_QUALITY:
            settings += f" jpeg_quality={self.quality}"
        if self.fmt == OutputFormat.PDF and self.mode != PageMode.BW:  # black and white is lossless either way
            if self.pdf_images == PdfImages.LOSSLESS:
                settings += f" pdf_images={self.pdf_images}"
            elif self.quality != PDF_JPEG_QUALITY:
                settings += f" jpeg_quality={self.quality}"
        if self.pdfa is not None:
            settings += f" pdfa={self.pdfa}"
        if self.dpi is not None:  # another page size; none chosen says nothing, as before
            settings += f" dpi={self.dpi:g}"
        if self.geometry.active:  # pages as read say nothing, as before
            settings += " " + self.geometry.settings_text()
        if self.ocr:  # a document with a text layer, or a text beside it, is another output
            settings += f" ocr={self.ocr}" + (" text=on" if self.text else "")
        return settings
