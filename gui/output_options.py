"""The "Output" box: where and how cleaned pages are written, in the engine's own vocabulary.

Folder, format (a PDF or multi-page TIFF per document), pages (grey or 1-bit),
what a re-run does, the naming template, JPEG quality, how a PDF stores its
pages, PDF/A, one combined PDF of the whole run and its text layer: the same
choices as ``docclean denoise``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QSpinBox

from engine.errors import ConfigurationError
from engine.geometry import GeometryOptions
from engine.io import DEFAULT_NAME, JPEG_QUALITY_RANGE, NAME_FIELDS
from engine.io.ocr import INSTALL_TESSERACT, installed_languages
from engine.models.bundled import SAMPLES_FOLDER
from engine.options import COMBINED_NAME, BatchOptions
from engine.vocabulary import OutputFormat, PageMode, PdfA, PdfImages, RerunPolicy
from gui.fields import choice_combo, folder_field
from gui.settings import AppSettings


class OutputOptions(QGroupBox):
    """The output choices; ``options()`` gives the engine's BatchOptions, ``problem()`` what is wrong."""

    # What the outputs would be changed (format, pages, names, one PDF, folder): what is "already clean" changes.
    changed = Signal()

    def __init__(self, settings: AppSettings, choose_folder: Callable[[], None],
                 geometry: Callable[[], GeometryOptions] = GeometryOptions.off) -> None:
        super().__init__("Output")
        self.settings, self.page_geometry = settings, geometry  # chosen in its own box (gui.geometry_options)
        self.folder_edit, folder_row = folder_field("Folder for cleaned pages", choose_folder)
        self.format_combo = QComboBox()
        self.format_combo.addItems([fmt.value for fmt in OutputFormat])
        self.format_combo.setToolTip("pdf writes one PDF per input file with all its pages; tiff keeps a "
                                     "multi-page TIFF or PDF as one multi-page TIFF")
        self.mode_combo = choice_combo(PageMode)
        self.mode_combo.setToolTip("Black and white writes 1-bit pages (PNG, TIFF G4) for OCR and archives; "
                                   "with the general model, the ink model decides what is ink. Colour keeps "
                                   "every stamp, pen, highlighter and picture in its colour on white paper; "
                                   "'where the page has it' writes the pages without coloured marks grey")
        self.existing_combo = choice_combo(RerunPolicy)
        self.existing_combo.setToolTip("When the output folder already holds a page's output: skip it if this "
                                       "model made it with these settings (each saved page records what made "
                                       "it), or clean it again, replacing the old output or writing beside it")
        self.name_edit = QLineEdit(settings.name_template)
        self.name_edit.setPlaceholderText(DEFAULT_NAME)
        self.name_edit.setToolTip("How output files are named. Fields: "
                                  + "; ".join(f"{{{name}}}: {what}" for name, what in NAME_FIELDS.items()))
        self.quality_spin = QSpinBox()
        self.quality_spin.setRange(*JPEG_QUALITY_RANGE)
        self.quality_spin.setValue(settings.jpeg_quality)
        self.quality_spin.setToolTip("JPEG quality: higher keeps more detail in larger files")
        self.pdf_images_combo = choice_combo(PdfImages, current=settings.pdf_images)
        self.pdf_images_combo.setToolTip("How a PDF stores grey and colour pages: JPEG at the quality beside it, "
                                         "or the cleaned pixels exactly (where those are smaller, as on a clean "
                                         "page of text, they are stored either way). Black-and-white pages are "
                                         "always stored exactly")
        self.pdf_quality_spin = QSpinBox()
        self.pdf_quality_spin.setRange(*JPEG_QUALITY_RANGE)
        self.pdf_quality_spin.setValue(settings.pdf_quality)
        self.pdf_quality_spin.setPrefix("quality ")
        self.pdf_quality_spin.setToolTip("The JPEG quality of a PDF's pages: higher keeps more detail in larger files")
        pdf_row = QHBoxLayout()
        pdf_row.addWidget(self.pdf_images_combo, 1)
        pdf_row.addWidget(self.pdf_quality_spin)
        self.pdfa_combo = choice_combo(["", *PdfA], {"": "Plain PDF", **{level: level.label for level in PdfA}},
                                       current=settings.pdfa)
        self.pdfa_combo.setToolTip("PDF/A, for archives: every font embedded, colours defined, nothing that "
                                   "needs more than the file; each PDF is checked before it is given its name. "
                                   "PDF/A-2b is what archives ask for today, PDF/A-1b meets older requirements")
        self.combine_check = QCheckBox("Every page into one PDF")
        self.combine_check.setChecked(settings.combine)
        self.combine_edit = QLineEdit(settings.combine_name)
        self.combine_edit.setPlaceholderText(COMBINED_NAME)
        combine_row = QHBoxLayout()
        combine_row.addWidget(self.combine_check)
        combine_row.addWidget(self.combine_edit, 1)
        self.recursive_check = QCheckBox("Include sub-folders when opening")
        self.ocr_combo = _text_layer_combo(settings.ocr)


        form = QFormLayout(self)
        form.addRow("Folder", folder_row)
        form.addRow("Format", self.format_combo)
        form.addRow("Pages", self.mode_combo)
        form.addRow("Re-runs", self.existing_combo)
        form.addRow("Names", self.name_edit)
        form.addRow("JPEG quality", self.quality_spin)
        form.addRow("PDF pages", pdf_row)
        form.addRow("PDF/A", self.pdfa_combo)
        form.addRow(combine_row)
        form.addRow("Searchable", self.ocr_combo)
        form.addRow(self.recursive_check)
        self._form = form
        for signal in (self.format_combo.currentTextChanged, self.combine_check.toggled):
            signal.connect(self._enable_what_applies)
        for signal in (self.format_combo.currentTextChanged, self.mode_combo.currentIndexChanged,
                       self.ocr_combo.currentIndexChanged, self.combine_check.toggled,
                       self.pdf_images_combo.currentIndexChanged, self.pdf_quality_spin.editingFinished,
                       self.pdfa_combo.currentIndexChanged,
                       self.combine_edit.editingFinished, self.name_edit.editingFinished,
                       self.quality_spin.editingFinished, self.folder_edit.editingFinished):
            signal.connect(self.changed)
        # What the next session restores.
        self.format_combo.currentTextChanged.connect(settings.setter(AppSettings.output_format))
        self.mode_combo.currentIndexChanged.connect(lambda: setattr(settings, "output_mode", self.mode()))
        self.recursive_check.toggled.connect(settings.setter(AppSettings.include_subfolders))
        self.ocr_combo.currentIndexChanged.connect(lambda: setattr(settings, "ocr", self.ocr()))
        self.pdf_images_combo.currentIndexChanged.connect(
            lambda: setattr(settings, "pdf_images", str(self.pdf_images_combo.currentData())))
        self.pdf_images_combo.currentIndexChanged.connect(self._enable_what_applies)
        self.pdfa_combo.currentIndexChanged.connect(
            lambda: setattr(settings, "pdfa", str(self.pdfa_combo.currentData())))
        self.existing_combo.activated.connect(
            lambda: settings.set_on_existing(str(self.existing_combo.currentData()), self.folder()))
        self._enable_what_applies()

    # What the user chose ------------------------------------------------------------------
    def folder(self) -> Optional[Path]:
        text = self.folder_edit.text().strip()
        return Path(text).expanduser() if text else None

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def options(self) -> BatchOptions:
        """The engine's options for what is chosen; ConfigurationError saying in one sentence what clashes.

        What a disabled field holds is not chosen: the format and names of one combined PDF, the PDF choices
        of other formats.
        """
        combine = self.combine_check.isChecked()
        fmt = self.format_combo.currentText()
        pdf = combine or fmt == OutputFormat.PDF
        images = str(self.pdf_images_combo.currentData())
        quality = (self.pdf_quality_spin.value() if images == PdfImages.JPEG else None) if pdf else (
            self.quality_spin.value() if fmt == OutputFormat.JPEG else None)
        return BatchOptions.build(
            fmt=None if combine else fmt, mode=self.mode(), existing=str(self.existing_combo.currentData()),
            name=None if combine else (self.name_edit.text().strip() or None), jpeg_quality=quality,
            pdf_images=images if pdf else None, pdfa=(str(self.pdfa_combo.currentData()) or None) if pdf else None,
            combine=(self.combine_edit.text().strip() or COMBINED_NAME) if combine else None,
            geometry=self.page_geometry(), ocr=self.ocr() if pdf else "")

    def ocr(self) -> str:
        """The text layer's languages chosen ("" for none)."""
        return str(self.ocr_combo.currentData() or "")

    def problem(self) -> Optional[str]:
        """Why these options cannot run, as the engine words it (None: they can)."""
        try:
            self.options()
        except ConfigurationError as error:
            return str(error)
        return None

    def folder_for(self, input_folder: Path) -> Path:
        """The output folder of ``input_folder``: the one chosen for it before, else one proposed."""
        chosen = self.settings.output_folder_for[input_folder]
        if chosen:
            return chosen
        if self.settings.output_base:
            return self.settings.output_base / f"{input_folder.name}-cleaned"
        if input_folder == SAMPLES_FOLDER or SAMPLES_FOLDER.parent in input_folder.parents:
            # Never inside the installed program: under the user's documents.
            documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
            return Path(documents or Path.home()) / "DocClean" / "samples-cleaned"
        return input_folder.parent / f"{input_folder.name}-cleaned"

    def remember_folder(self, input_folder: Optional[Path]) -> None:
        """The output folder for the next session, and for ``input_folder`` (each project has its own)."""
        output = self.folder()
        if output is not None:
            self.settings.output_folder = output
            if input_folder is not None:
                self.settings.output_folder_for[input_folder] = output
        self.show_existing_choice()

    def show_existing_choice(self) -> None:
        """The re-run choice made last for this output folder."""
        choice = self.settings.on_existing(self.folder())
        self.existing_combo.setCurrentIndex(max(0, self.existing_combo.findData(choice)))

    def remember(self) -> None:
        self.settings.name_template = self.name_edit.text().strip()
        self.settings.jpeg_quality = self.quality_spin.value()
        self.settings.pdf_quality = self.pdf_quality_spin.value()
        self.settings.combine = self.combine_check.isChecked()
        self.settings.combine_name = self.combine_edit.text().strip()

    # ---------------------------------------------------------------------------------------
    def _enable_what_applies(self) -> None:
        combine = self.combine_check.isChecked()
        self.combine_edit.setEnabled(combine)
        self.format_combo.setEnabled(not combine)  # one combined PDF is a PDF
        self.name_edit.setEnabled(not combine)  # the combined PDF has the one name given beside it
        self.quality_spin.setEnabled(not combine and self.format_combo.currentText() == OutputFormat.JPEG)
        pdf = combine or self.format_combo.currentText() == OutputFormat.PDF
        self.pdf_images_combo.setEnabled(pdf)
        self.pdf_quality_spin.setEnabled(pdf and self.pdf_images_combo.currentData() == PdfImages.JPEG)
        self.pdfa_combo.setEnabled(pdf)
        # A text layer is a PDF's; without Tesseract the list says how to install it.
        self.ocr_combo.setEnabled(self.ocr_combo.count() > 1 and pdf)


def _text_layer_combo(chosen: str) -> QComboBox:
    """No text layer, or one in a language Tesseract has here (engine.io.ocr); disabled, saying how to install
    Tesseract, where it is missing."""
    combo = QComboBox()
    combo.addItem("No text layer", "")
    languages = installed_languages()
    for language in languages:
        combo.addItem(f"Searchable PDF ({language})", language)
    if not languages:
        combo.setEnabled(False)
        combo.setToolTip(f"Searchable PDFs need Tesseract, which is not installed: {INSTALL_TESSERACT}")
    else:
        combo.setToolTip("An invisible text layer of what Tesseract reads on each cleaned page, word by word, so "
                         "a PDF viewer finds and selects the text (PDF outputs)")
    combo.setCurrentIndex(max(0, combo.findData(chosen)))
    return combo
