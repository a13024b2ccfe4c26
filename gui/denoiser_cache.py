"""Loaded models, shared by the preview and batch workers.

Loading happens on whichever worker asks first; the lock makes a second worker wait for
that load instead of loading the same file twice.  Nothing here runs on the UI thread.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Optional

from engine.cleaning.backends import BACKEND_LABELS, needs_tensorflow
from engine.cleaning.denoiser import Denoiser
from gui.workers import engine_module, model_lock


class DenoiserCache:
    def __init__(self, backend: str = "auto", threads: int = 0) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self._backend = backend
        self._threads = threads

    @property
    def backend(self) -> str:
        return self._backend

    def set_backend(self, backend: str) -> None:
        """Use another inference runtime from now on (models load again on first use)."""
        self._reload_if_changed(backend, self._threads)

    @property
    def threads(self) -> int:
        return self._threads

    def set_threads(self, threads: int) -> None:
        """Compute with this many CPU threads from now on (0: one per core)."""
        self._reload_if_changed(self._backend, threads)

    def _reload_if_changed(self, backend: str, threads: int) -> None:
        with self._lock:
            if (backend, threads) != (self._backend, self._threads):
                self._backend, self._threads = backend, threads
                self._loaded.clear()

    @staticmethod
    def key(path: Optional[Path]) -> str:
        return str(Path(path).resolve()) if path else "<default>"

    def get(self, path: Optional[Path]) -> Any:
        """The engine Denoiser for ``path`` (None: the bundled default), loading it once."""
        key = self.key(path)
        with self._lock:
            denoiser = self._loaded.get(key)
            if denoiser is None:
                if needs_tensorflow(path, self._backend):  # hashes the model file: only when loading
                    engine_module("models.keras_files")  # TensorFlow's first import, on a thread of its own
                with model_lock:
                    loaded = Denoiser.from_file(Path(path) if path else None, backend=self._backend,
                                                threads=self._threads)
                    denoiser = SerialDenoiser(loaded)
                self._loaded[key] = denoiser
            return denoiser

    def forget(self, path: Optional[Path]) -> None:
        with self._lock:
            self._loaded.pop(self.key(path), None)


class SerialDenoiser:
    """An engine Denoiser whose pages are cleaned one at a time across all workers."""

    def __init__(self, denoiser: Any) -> None:
        self.inner = denoiser
        self.info = getattr(denoiser, "info", None)
        self.path = getattr(denoiser, "path", None)
        self.backend = getattr(denoiser, "backend", None)

    def denoise(self, pixels: Any, progress: Any = None, cancel: Any = None) -> Any:
        with model_lock:
            return self.inner.denoise(pixels, progress=progress, cancel=cancel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def describe_model(denoiser: Any) -> str:
    """One line about a loaded model for the status area."""
    info = getattr(denoiser, "info", None)
    if info is None:
        loaded = getattr(denoiser, "loaded", None)
        info = getattr(loaded, "info", None)
    if info is None:
        return "Model loaded"
    parts = [str(getattr(info, "architecture", "") or "model")]
    params = getattr(info, "parameters", 0)
    if params:
        parts.append(f"{int(params):,} parameters")
    dataset = getattr(info, "dataset", "")
    if dataset:
        parts.append(f"trained on {Path(str(dataset)).name}")
    rmse = (getattr(info, "metrics", {}) or {}).get("val_rmse")
    if rmse is not None:
        parts.append(f"val RMSE {float(rmse):.4f}")
    runtime = getattr(getattr(denoiser, "backend", None), "name", "")
    if runtime:
        parts.append(f"runs on {BACKEND_LABELS.get(runtime, runtime)}")
    return " · ".join(parts)
