"""The words every front end shares, defined once: output formats, page modes, re-run policies,
runtimes, the geometry's choices and progress stages, each with the label a person reads.

They are ``StrEnum``s, so a member is its value ("pdf" == OutputFormat.PDF):
the command line's choices, the app's settings and the provenance written in
files keep the same strings they always had.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Optional, TypeVar

from engine.errors import ConfigurationError


class _Labelled(StrEnum):
    """A choice with a label for menus and messages (``_LABELS`` of the subclass, by value)."""

    @property
    def label(self) -> str:
        return _LABELS[type(self)].get(self.value, self.value)


class OutputFormat(_Labelled):
    """The file format of cleaned pages (engine.io.documents assembles PDFs and multi-page TIFFs)."""

    PNG = "png"
    TIFF = "tiff"
    JPEG = "jpeg"
    PDF = "pdf"

    @property
    def extension(self) -> str:
        """The file name's extension, without its dot."""
        return {"tiff": "tif", "jpeg": "jpg"}.get(self.value, self.value)


class PageMode(_Labelled):
    """What a cleaned page is written as: the clean grey page, 1-bit black and white for OCR and archives,
    in colour (every mark's colour kept, the paper white), or colour where the page has coloured marks and
    grey where it has none (auto)."""

    GREY = "grey"
    BW = "bw"
    COLOUR = "colour"
    AUTO = "auto"

    @classmethod
    def _missing_(cls, value: object) -> Optional[PageMode]:
        return cls.COLOUR if value == "color" else None  # as American users write it


class PdfImages(_Labelled):
    """How a PDF stores its grey and colour pages: as JPEG at a chosen quality (compact), or LOSSLESS (Flate:
    the cleaned pixels exactly, two to three times larger).  Black-and-white pages are lossless either way
    (engine.io.documents)."""

    JPEG = "jpeg"
    LOSSLESS = "lossless"


class PdfA(_Labelled):
    """The PDF/A conformance a PDF is written to, for archives: level B (the pages look the same for ever) of
    PDF/A-2 (ISO 19005-2, what archives ask for today) or PDF/A-1 (ISO 19005-1, for older requirements)."""

    PDFA_2B = "2b"
    PDFA_1B = "1b"


class RerunPolicy(_Labelled):
    """What a batch does with a page whose output an earlier run already wrote.

    SKIP: skip it when that output was made by the same model from the same
    input with the same settings (else write a new one beside it);
    OVERWRITE: replace it; KEEP_BOTH: always write a new one beside it.
    """

    SKIP = "skip"
    OVERWRITE = "overwrite"
    KEEP_BOTH = "keep-both"


class Runtime(_Labelled):
    """The inference runtime that runs a model on pages."""

    AUTO = "auto"
    OPENVINO = "openvino"
    KERAS = "keras"


class Rotation(_Labelled):
    """How a page is turned upright: found from its text (AUTO) or by the quarter turns the user gave (degrees
    clockwise)."""

    AUTO = "auto"
    NONE = "0"
    RIGHT = "90"
    HALF = "180"
    LEFT = "270"


class Crop(_Labelled):
    """What a page is cropped to: the paper's edge (PAGE, what lies beyond it removed), the text and pictures
    on it with a margin (CONTENT), or nothing (OFF)."""

    PAGE = "page"
    CONTENT = "content"
    OFF = "off"


class Split(_Labelled):
    """Whether a two-page spread is written as two pages (AUTO: when its gutter is clear)."""

    AUTO = "auto"
    OFF = "off"


class PageSize(_Labelled):
    """The sheet every output page is set on, its content centred (NONE: the page's own size)."""

    NONE = "none"
    A4 = "a4"
    LETTER = "letter"

    @property
    def inches(self) -> tuple[float, float]:
        """(width, height) of the sheet upright, in inches."""
        return {"a4": (210 / 25.4, 297 / 25.4), "letter": (8.5, 11.0)}[self.value]


class Stage(_Labelled):
    """What the units of a Progress event are (engine.progress): front ends branch on these."""

    PAGES = "pages"
    TILES = "tiles"
    LOAD_PAGES = "load pages"
    DATA = "data"
    BATCH = "batch"
    EPOCH = "epoch"
    TRAIN = "train"
    MODEL = "model"
    EVALUATE = "evaluate"
    DOWNLOAD = "download"
    #: A training sweep's trials (engine.distributed.tuning); a finished trial's values are its figures.
    TRIAL = "trial"
    # The lab's experiments.
    TASK = "task"
    METHOD = "method"
    EMBEDDING = "embedding"
    CLASSIFIER = "classifier"
    DETECTOR = "detector"
    #: A finished table row; the event's values are the row.
    ROW = "row"
    #: A written figure; the event's message is the PNG's path.
    FIGURE = "figure"


_LABELS: dict[type[StrEnum], dict[str, str]] = {
    OutputFormat: {
        "png": "PNG (a file per page)",
        "tiff": "TIFF (a multi-page TIFF or PDF stays one file)",
        "jpeg": "JPEG (a file per page)",
        "pdf": "PDF (a file per document)",
    },
    PageMode: {"grey": "Grey (clean page)", "bw": "Black and white (1 bit)", "colour": "Colour (marks kept)",
               "auto": "Colour where the page has it"},
    PdfImages: {"jpeg": "JPEG", "lossless": "Lossless"},
    PdfA: {"2b": "PDF/A-2b", "1b": "PDF/A-1b"},
    RerunPolicy: {
        "skip": "Skip pages cleaned before",
        "overwrite": "Clean again, replace",
        "keep-both": "Clean again, keep both",
    },
    Runtime: {"auto": "Automatic (fastest available)", "openvino": "OpenVINO", "keras": "Keras (reference)"},
    Rotation: {"auto": "Automatic (from the text)", "0": "As scanned", "90": "90° clockwise", "180": "180°",
               "270": "90° anticlockwise"},
    Crop: {"page": "To the page's edge", "content": "To the content, with a margin", "off": "No crop"},
    Split: {"auto": "Two pages when a gutter is found", "off": "Never split"},
    PageSize: {"none": "The page's own size", "a4": "A4 (210 x 297 mm)", "letter": "Letter (8.5 x 11 in)"},
    Stage: {"load pages": "pages loaded", "batch": "batches"},
}


Choice = TypeVar("Choice", bound=StrEnum)


def choice(kind: type[Choice], value: object, what: str) -> Choice:
    """``value`` as a member of ``kind``; ConfigurationError naming ``what`` and the choices otherwise."""
    if isinstance(value, str):  # the enum looks values up as strings: nothing else is a member's value
        try:
            return kind(value)
        except ValueError:
            pass
    choices = ", ".join(member.value for member in kind)
    raise ConfigurationError(f"{what} must be one of {choices}, not {value!r}")
