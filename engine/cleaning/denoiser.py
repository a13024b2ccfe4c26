"""A model ready to clean pages: a backend, the model's geometry and its metadata."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from engine.cleaning.backends import Backend, open_backend
from engine.cleaning.tiling import clean_tiled, clean_whole
from engine.models.geometry import Geometry
from engine.models.modelfile import ModelInfo
from engine.progress import CancelToken, ProgressCallback


class Denoiser:
    """Cleans grey pages with a fully convolutional model, tile by tile."""

    def __init__(self, backend: Backend, geometry: Geometry, info: Optional[ModelInfo] = None,
                 path: Optional[Path] = None) -> None:
        self.backend = backend
        self.geometry = geometry
        self.info = info
        self.path = path

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None, backend: str = "auto",
                  precision: str = "auto") -> "Denoiser":
        """A Denoiser for a model file or bundled model name (the default model when None).

        ``backend`` is one of engine.cleaning.backends.BACKENDS; ``precision``
        'auto' computes in bfloat16 on CPUs that do it natively, else float32.
        """
        runtime, geometry, info, resolved = open_backend(path, backend, precision)
        return cls(runtime, geometry, info, resolved)

    @property
    def name(self) -> str:
        return self.path.name if self.path else "model"

    @property
    def precision(self) -> str:
        return self.backend.precision

    def denoise(self, pixels: np.ndarray, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> np.ndarray:
        """Clean a grey page: float in [0, 1] or uint8, shape (H, W); same shape and dtype back."""
        return clean_tiled(pixels, self.backend.predict, self.geometry, self.backend.max_core, progress, cancel)

    def denoise_whole(self, pixels: np.ndarray) -> np.ndarray:
        """The page in one piece (float in and out): the reference the tiles must equal."""
        return clean_whole(pixels, self.backend.predict, self.geometry)
