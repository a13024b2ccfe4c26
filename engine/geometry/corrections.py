"""A user's corrections of what the geometry stage found for a page, and where they show on the page as read.

A correction replaces one finding and leaves the others to the stage: a
page turned by hand is still straightened, a page whose corners were moved
is still split where its gutter is.  Points are in the page's pixels as
read (x, y), where the app draws them.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional

import numpy as np
from numpy.typing import NDArray

from engine.geometry.transform import Layout, PageGeometry

#: The paper's corners as the user placed them: x, y of top-left, top-right, bottom-right, bottom-left.
Corners = tuple[float, float, float, float, float, float, float, float]

#: The largest skew (degrees) a user may set: beyond it a page is turned, not straightened.
MAX_SKEW = 45.0


@dataclass(frozen=True)
class GeometryFix:
    """One page's corrections; None leaves that finding to the geometry stage.

    ``corners``: the paper's corners in the page as read (an empty tuple: the
    whole image is the page, nothing is cropped away); ``turns``: quarter turns
    clockwise that make it upright; ``skew``: degrees its lines lean
    anticlockwise, undone (-45 to 45); ``gutter``: where a spread is split,
    a share of the upright, straight page's width (0: not split).
    Frozen and hashable: the app's caches and a batch's page mapping use it as a value.
    """

    corners: Optional[tuple[float, ...]] = None
    turns: Optional[int] = None
    skew: Optional[float] = None
    gutter: Optional[float] = None

    def __post_init__(self) -> None:
        if self.corners is not None and len(self.corners) not in (0, 8):
            raise ValueError(f"a page's corners are four points (eight numbers), not {self.corners!r}")
        if self.corners:
            object.__setattr__(self, "corners", tuple(round(float(v), 1) for v in self.corners))
        if self.turns is not None:
            object.__setattr__(self, "turns", int(self.turns) % 4)
        if self.skew is not None:
            if not math.isfinite(self.skew) or abs(self.skew) > MAX_SKEW:
                raise ValueError(f"a page is straightened by at most {MAX_SKEW:g} degrees, not {self.skew!r}")
            object.__setattr__(self, "skew", round(float(self.skew), 2))
        if self.gutter is not None:
            if not 0.0 <= self.gutter < 1.0:
                raise ValueError(f"a spread's gutter lies within its width (0 to 1), not {self.gutter!r}")
            object.__setattr__(self, "gutter", round(float(self.gutter), 4))

    @property
    def empty(self) -> bool:
        return self == GeometryFix()

    def record(self) -> dict[str, Any]:
        """The corrections as JSON values (the output folder's record), without what is left to the stage."""
        fields = {"corners": list(self.corners) if self.corners is not None else None, "turns": self.turns,
                  "skew": self.skew, "gutter": self.gutter}
        return {name: value for name, value in fields.items() if value is not None}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> GeometryFix:
        """The corrections a record holds; ValueError when it does not hold corrections."""
        corners = data.get("corners")
        try:
            return cls(None if corners is None else tuple(float(v) for v in corners),
                       None if data.get("turns") is None else int(data["turns"]),
                       None if data.get("skew") is None else float(data["skew"]),
                       None if data.get("gutter") is None else float(data["gutter"]))
        except (TypeError, KeyError) as exc:
            raise ValueError(f"not a page's geometry corrections: {data!r}") from exc

    def settings_text(self) -> str:
        """What an output's provenance adds for these corrections: other corrections make another page."""
        if self.empty:
            return ""
        text = json.dumps(self.record(), sort_keys=True, separators=(",", ":"))
        return " geometry_fix=" + hashlib.sha256(text.encode("ascii")).hexdigest()[:12]

    def corner_array(self, shape: tuple[int, int]) -> Optional[NDArray[np.float64]]:
        """The corners as a 4 x 2 array (None: the whole image, or left to the stage), clipped to the image."""
        if not self.corners:
            return None
        points = np.array(self.corners, np.float64).reshape(4, 2)
        return np.clip(points, 0.0, [shape[1] - 1, shape[0] - 1])


def outline_points(geometry: PageGeometry) -> NDArray[np.float64]:
    """The page's outline in the page as read (4 x 2: x, y clockwise from its top-left): its corners, or
    the whole image's."""
    if geometry.corners is not None:
        return np.asarray(geometry.corners, np.float64)
    height, width = geometry.shape
    return np.array([[0.0, 0.0], [width - 1, 0.0], [width - 1, height - 1], [0.0, height - 1]])


def _spread_frame(geometry: PageGeometry) -> Layout:
    """The upright, straight spread before it is split: the frame a gutter is a share of the width of."""
    return Layout.upright(geometry.shape, geometry.corners, geometry.turns, geometry.skew)


def split_line(geometry: PageGeometry) -> Optional[NDArray[np.float64]]:
    """Where a split spread is cut, as two points (2 x 2: top, bottom) in the page as read; None when not split."""
    if geometry.gutter is None:
        return None
    frame = _spread_frame(geometry)
    x = geometry.gutter * frame.width
    ends = np.array([[x, 0.0, 1.0], [x, frame.height, 1.0]]) @ frame.source.T
    line: NDArray[np.float64] = ends[:, :2] / ends[:, 2:3]
    return line


def gutter_at(geometry: PageGeometry, x: float, y: float) -> float:
    """The gutter (a share of the upright, straight spread's width, as GeometryFix.gutter) through the
    point (x, y) of the page as read, kept 5 % of the width from either side."""
    frame = _spread_frame(geometry)
    point = np.linalg.inv(frame.source) @ np.array([x, y, 1.0])
    return float(np.clip(point[0] / point[2] / frame.width, 0.05, 0.95))


def turned_by(geometry: PageGeometry, fix: GeometryFix, quarters: int) -> GeometryFix:
    """``fix`` with the page turned ``quarters`` quarter turns clockwise more than ``geometry`` has it; its
    lines' skew is measured again in the new direction unless the fix sets it."""
    return replace(fix, turns=(geometry.turns + quarters) % 4)
