"""What the geometry stage may do to a page, as the user chose it."""
from __future__ import annotations

from dataclasses import dataclass

from engine.vocabulary import Crop, Rotation, Split, choice


@dataclass(frozen=True)
class GeometryOptions:
    """``rotate``: found from the text (auto) or the quarter turns given; ``deskew``: straighten the lines;
    ``crop``: to the paper's edge, to the content with a margin, or not; ``split``: a two-page spread into
    two pages.

    Each automatic step acts only when it is confident (engine.geometry.find_geometry).
    """

    rotate: Rotation = Rotation.AUTO
    deskew: bool = True
    crop: Crop = Crop.PAGE
    split: Split = Split.AUTO

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotate", choice(Rotation, str(self.rotate), "the rotation"))
        object.__setattr__(self, "crop", choice(Crop, self.crop, "the crop"))
        object.__setattr__(self, "split", choice(Split, self.split, "the split"))

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
        return (f"rotate={self.rotate} deskew={'on' if self.deskew else 'off'} crop={self.crop} "
                f"split={self.split}")
