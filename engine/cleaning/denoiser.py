"""A model ready to clean pages: a backend, the model's geometry and its metadata."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from engine.cleaning.backends import Backend, open_backend
from engine.cleaning.tiling import clean_tiled, clean_whole
from engine.models.geometry import Geometry
from engine.models.modelfile import ModelInfo
from engine.progress import CancelToken, ProgressCallback


# A 300 dpi A3 page is 17 MP.  Above 60 MP a page is tiled in tiles of at
# most SMALL_TILE pixels whatever the backend prefers (big tiles' activations
# would come on top of a huge page), and the batch does not overlap it with
# its neighbours: a 20,000 x 20,000 page stays under 2 GB.
LARGE_PAGE = 60_000_000
SMALL_TILE = 1_500_000


class Denoiser:
    """Cleans grey pages with a fully convolutional model, tile by tile."""

    def __init__(self, backend: Backend, geometry: Geometry, info: Optional[ModelInfo] = None,
                 path: Optional[Path] = None) -> None:
        self.backend = backend
        self.geometry = geometry
        self.info = info
        self.path = path
        # One page through the model at a time: it already takes every thread it was given, and a cluster's
        # worker cleans two files at once so that one's reading and writing overlap the other's model.
        self._one_page = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None = None, backend: str = "auto",
                  precision: str = "auto", threads: int = 0) -> "Denoiser":
        """A Denoiser for a model file or bundled model name (the default model when None).

        ``backend`` is one of engine.vocabulary.Runtime; ``precision``
        'auto' computes in bfloat16 on CPUs that do it natively, else float32;
        ``threads`` caps the CPU threads (0: one per core).
        """
        runtime, geometry, info, resolved = open_backend(path, backend, precision, threads)
        return cls(runtime, geometry, info, resolved)

    @property
    def name(self) -> str:
        return self.path.name if self.path else "model"

    @property
    def gives_ink(self) -> bool:
        """Whether the model gives the probability of paper (an ink model), not a cleaned grey page."""
        return bool(self.info is not None and self.info.options.get("head") == 1)

    @property
    def precision(self) -> str:
        return self.backend.precision

    def denoise(self, pixels: np.ndarray, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> np.ndarray:
        """Clean a grey page: float in [0, 1] or uint8, shape (H, W); same shape and dtype back."""
        pixels = np.asarray(pixels)
        tile = self.backend.tile_pixels if pixels.size <= LARGE_PAGE else min(SMALL_TILE, self.backend.tile_pixels)
        with self._one_page:
            return clean_tiled(pixels, self.backend.predict, self.geometry, tile, progress, cancel)

    def denoise_whole(self, pixels: np.ndarray) -> np.ndarray:
        """The page in one piece (float in and out): the reference the tiles must equal."""
        return clean_whole(pixels, self.backend.predict, self.geometry)
