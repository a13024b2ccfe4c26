"""Loaded models shared by any number of threads: each loaded once, each cleaning one page at a time.

Any caller (the app's workers, a server, a benchmark) asks the pool for a
model and may clean with it from any thread: the pool loads a model file
once per runtime and thread count, and each loaded model has a lock of its
own, so two threads never run one model at once while two models may run
side by side.  Keras on TensorFlow keeps global state, so its loading,
building and inference also take one process-wide lock (``KERAS_LOCK``).
"""
from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import numpy as np

from engine.cleaning.backends import needs_tensorflow
from engine.cleaning.denoiser import Denoiser
from engine.progress import CancelToken, ProgressCallback
from engine.vocabulary import Runtime, choice

#: Keras/TensorFlow inference, model loading and model building take turns.  Training runs on a
#: model of its own without it, or a preview would wait for the whole training run.
KERAS_LOCK = threading.RLock()

# TensorFlow breaks when it is imported on two threads at once ("Registering two gradient with
# name ...") and, imported on a thread pool's thread (Qt's, for one), later segfaults while tracing
# a model.  So the engine modules that pull it in are imported one at a time, on a plain Python
# thread that the calling thread waits for.
_IMPORT_LOCK = threading.Lock()


def import_engine_module(name: str) -> ModuleType:
    """``engine.<name>``, imported safely from any thread (see above for why not directly)."""
    full = f"engine.{name}"
    with _IMPORT_LOCK:
        module = sys.modules.get(full)
        if module is not None:
            return module
        outcome: dict[str, Any] = {}

        def load() -> None:
            try:
                outcome["module"] = importlib.import_module(full)
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc

        loader = threading.Thread(target=load, name=f"import {full}", daemon=True)
        loader.start()
        loader.join()
        if "error" in outcome:
            raise outcome["error"]
        module = outcome["module"]
        assert isinstance(module, ModuleType)
        return module


class SharedDenoiser(Denoiser):
    """A Denoiser that any thread may use: its pages are cleaned one at a time.

    It is the loaded model itself (same runtime, geometry and metadata), with a lock around cleaning.
    """

    def __init__(self, denoiser: Denoiser) -> None:
        super().__init__(denoiser.backend, denoiser.geometry, denoiser.info, denoiser.path)
        self.inner = denoiser
        self._lock = KERAS_LOCK if denoiser.backend.name == Runtime.KERAS else threading.Lock()

    def denoise(self, pixels: np.ndarray, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> np.ndarray:
        """Denoiser.denoise, waiting for any other thread cleaning with this model."""
        with self._lock:
            return self.inner.denoise(pixels, progress=progress, cancel=cancel)

    def denoise_whole(self, pixels: np.ndarray) -> np.ndarray:
        with self._lock:
            return self.inner.denoise_whole(pixels)


class ModelPool:
    """Models by file (None: the bundled default), loaded on first use for the pool's runtime and threads."""

    def __init__(self, runtime: str = Runtime.AUTO, threads: int = 0) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, SharedDenoiser] = {}
        self._runtime = choice(Runtime, runtime, "the runtime")
        self._threads = threads

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def threads(self) -> int:
        return self._threads

    def configure(self, runtime: Optional[str] = None, threads: Optional[int] = None) -> None:
        """Use another runtime or thread count from now on: models load again on first use."""
        with self._lock:
            wanted = (choice(Runtime, runtime, "the runtime") if runtime is not None else self._runtime,
                      self._threads if threads is None else threads)
            if wanted != (self._runtime, self._threads):
                self._runtime, self._threads = wanted
                self._loaded.clear()

    @staticmethod
    def key(model: Optional[str | Path]) -> str:
        """Which model ``model`` names: its resolved path, or "<default>"."""
        return str(Path(model).resolve()) if model else "<default>"

    def get(self, model: Optional[str | Path]) -> SharedDenoiser:
        """The model ``model`` (a file; None: the bundled default), loaded once; a second caller waits for the load."""
        key = self.key(model)
        with self._lock:
            denoiser = self._loaded.get(key)
            if denoiser is None:
                if needs_tensorflow(model, self._runtime):  # hashes the model file: only when loading
                    import_engine_module("models.keras_files")  # TensorFlow's first import, on a thread of its own
                with KERAS_LOCK:
                    loaded = Denoiser.from_file(Path(model) if model else None, backend=self._runtime,
                                                threads=self._threads)
                denoiser = self._loaded[key] = SharedDenoiser(loaded)
            return denoiser

    def forget(self, model: Optional[str | Path]) -> None:
        """Load ``model`` again on next use (its file changed)."""
        with self._lock:
            self._loaded.pop(self.key(model), None)
