"""What the geometry stage may do to a page, as the user chose it."""
from __future__ import annotations

from dataclasses import dataclass

from engine.vocabulary import Crop, PageSize, Rotation, Split, choice


@dataclass(frozen=True)
class GeometryOptions:
    """``rotate``: found from the text (auto) or the quarter turns given; ``deskew``: straighten the lines;
    ``crop``: to the paper's edge, to the content with a margin, or not; ``split``: a two-page spread into
    two pages; ``page_size``: the sheet each output page is set on, its content centred; ``dewarp``:
    flatten text lines bent near a book's spine (engine.geometry.dewarp; off unless asked).

    Each automatic step acts only when it is confident (engine.geometry.find_geometry).
    """

    rotate: Rotation = Rotation.AUTO
    deskew: bool = True
    crop: Crop = Crop.PAGE
    split: Split = Split.AUTO
    page_size: PageSize = PageSize.NONE
    dewarp: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotate", choice(Rotation, str(self.rotate), "the rotation"))
        object.__setattr__(self, "crop", choice(Crop, self.crop, "the crop"))
        object.__setattr__(self, "split", choice(Split, self.split, "the split"))
        object.__setattr__(self, "page_size", choice(PageSize, self.page_size, "the page size"))

    @classmethod
    def off(cls) -> GeometryOptions:
        """Pages exactly as read: nothing turned, straightened, cropped or split."""
        return cls(Rotation.NONE, False, Crop.OFF, Split.OFF)

    @property
    def active(self) -> bool:
        return self != GeometryOptions.off()

    def settings_text(self) -> str:
        """These options as an output's provenance records them."""
        if not self.active:
            return "geometry=off"
        text = f"rotate={self.rotate} deskew={'on' if self.deskew else 'off'} crop={self.crop} split={self.split}"
        if self.page_size != PageSize.NONE:  # none says nothing, as before sizes could be chosen
            text += f" page_size={self.page_size}"
        if self.dewarp:
            text += " dewarp=on"
        return text
