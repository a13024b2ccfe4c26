"""What tiled inference needs to know about a model: how far it looks and its size step.

Read off the Keras graph once (engine.models.receptive_field), stored in the
model file's metadata, and used by every inference backend without Keras.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Geometry:
    receptive_field: int  # pixels, along one axis
    size_multiple: int  # tiles must start on and span multiples of this

    @property
    def margin(self) -> int:
        """Context to add on each side of a tile: half the field, rounded up
        to the size multiple."""
        half = self.receptive_field // 2 + 1
        q = self.size_multiple
        return -(-half // q) * q

    def to_dict(self) -> dict[str, int]:
        return {"receptive_field": self.receptive_field, "size_multiple": self.size_multiple}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Geometry":
        """The geometry stored in model metadata; ValueError when it is missing or not positive."""
        try:
            geo = cls(int(data["receptive_field"]), int(data["size_multiple"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError("no valid geometry (receptive field and size multiple)") from None
        if geo.receptive_field < 1 or geo.size_multiple < 1:
            raise ValueError("no valid geometry (receptive field and size multiple)")
        return geo
