"""The "Pages" box: what is done to make pages upright, straight and cropped before cleaning.

The same choices as ``docclean denoise``'s ``--geometry``, ``--rotate``,
``--no-deskew``, ``--crop``, ``--split`` and ``--page-size``, in the engine's
vocabulary (engine.geometry.GeometryOptions).
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox

from engine.geometry import GeometryOptions
from engine.vocabulary import Crop, PageSize, Rotation, Split
from gui.fields import choice_combo
from gui.settings import AppSettings


class GeometryOptionsBox(QGroupBox):
    """The geometry choices; ``options()`` gives the engine's GeometryOptions."""

    changed = Signal()

    def __init__(self, settings: AppSettings) -> None:
        super().__init__("Pages")
        self.settings = settings
        self.setCheckable(True)
        self.setChecked(settings.geometry)
        self.setToolTip("Turn pages upright, straighten them, crop away what lies beyond the paper and split "
                        "two-page spreads before cleaning; each step acts only where it is sure")
        self.rotate_combo = choice_combo(Rotation, current=settings.rotate)
        self.rotate_combo.setToolTip("Which way is up: found from the text, or the same turn for every page")
        self.deskew_check = QCheckBox("Straighten the lines")
        self.deskew_check.setChecked(settings.deskew)
        self.crop_combo = choice_combo(Crop, current=settings.crop)
        self.crop_combo.setToolTip("The page's edge removes the scanner's lid or the table around the paper "
                                   "and never cuts the paper; the content crop keeps a margin around the text")
        self.split_combo = choice_combo(Split, current=settings.split)
        self.size_combo = choice_combo(PageSize, current=settings.page_size)
        self.size_combo.setToolTip("Set every page on this sheet, its content centred, at the page's resolution")
        self.dewarp_check = QCheckBox("Flatten curved lines")
        self.dewarp_check.setChecked(settings.dewarp)
        self.dewarp_check.setToolTip("Straighten text lines bent near a book's spine (pages whose lines clearly bend; "
                                     "slower)")
        form = QFormLayout(self)
        form.addRow("Turn", self.rotate_combo)
        form.addRow(self.deskew_check)
        form.addRow("Crop", self.crop_combo)
        form.addRow("Split", self.split_combo)
        form.addRow("Sheet", self.size_combo)
        form.addRow(self.dewarp_check)
        for combo, entry in ((self.rotate_combo, AppSettings.rotate), (self.crop_combo, AppSettings.crop),
                             (self.split_combo, AppSettings.split), (self.size_combo, AppSettings.page_size)):
            combo.currentIndexChanged.connect(lambda _index, c=combo, e=entry: settings.set(e, str(c.currentData())))
            combo.currentIndexChanged.connect(self.changed)
        self.deskew_check.toggled.connect(settings.setter(AppSettings.deskew))
        self.dewarp_check.toggled.connect(settings.setter(AppSettings.dewarp))
        self.toggled.connect(settings.setter(AppSettings.geometry))
        for signal in (self.deskew_check.toggled, self.dewarp_check.toggled, self.toggled):
            signal.connect(self.changed)

    def options(self) -> GeometryOptions:
        if not self.isChecked():
            return GeometryOptions.off()
        return GeometryOptions(Rotation(self.rotate_combo.currentData()), self.deskew_check.isChecked(),
                               Crop(self.crop_combo.currentData()), Split(self.split_combo.currentData()),
                               PageSize(self.size_combo.currentData()), self.dewarp_check.isChecked())
