"""Inference runtimes behind one seam: a ``predict(tiles) -> tiles`` callable per model.

* ``openvino``: the model's OpenVINO IR (engine.models.export), 2.5-3x faster
  than TensorFlow on CPUs without native bfloat16, and no TensorFlow at all.
* ``keras``: the Keras model through TensorFlow: the reference that every
  other backend must match within 1/255 (tests), and the fallback.

Tiles are float32 (N, H, W) grey values in [0, 1].  A backend is not
thread-safe: one caller at a time (the GUI serialises them).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Protocol

import numpy as np
from numpy.typing import NDArray

from engine.errors import ConfigurationError, ModelFileError
from engine.models.bundled import resolve_model
from engine.models.geometry import Geometry
from engine.models.modelfile import ModelInfo, invalid_weights, page_model_problem, read_info
from engine.tf_runtime import cpu_has_fast_bfloat16
from engine.vocabulary import Runtime, choice

if TYPE_CHECKING:  # imported where they run: a backend loads only its own runtime
    import keras
    import openvino as ov

log = logging.getLogger(__name__)  # the runtime's own words, for the log, not for the user

PRECISIONS = ("auto", "float32", "bfloat16")
# Threads for one page: every core, since pages are cleaned one at a time.
THREADS = os.cpu_count() or 1
# More threads than this only adds switching, whatever the machine.
MAX_THREADS = 256


class Backend(Protocol):
    name: str
    precision: str  # 'float32' or 'bfloat16', as resolved
    tile_pixels: int  # largest tile (core and margins) worth its memory

    def predict(self, tiles: NDArray[np.float32]) -> NDArray[np.float32]: ...


def _resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigurationError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        # bfloat16 keeps 8 significant bits, as fine as the 8-bit pages: the
        # held-out RMSE moves by < 1e-4, and it is 2-3x faster where native.
        return "bfloat16" if cpu_has_fast_bfloat16() else "float32"
    return precision


class OpenVINOBackend:
    """The model's OpenVINO IR, compiled for this CPU once per tile shape.

    A model compiled for one static shape runs 5% faster than the dynamic
    one and its first run costs 0.45 s instead of 1.1 s on an A4 tile: pages
    of a batch share their tile shape, so each shape is compiled once.
    """

    name = "openvino"
    # An A4 page at 300 dpi in two tiles: 1.17x its pixels through the model
    # instead of 1.35x in 1.5 MP tiles, and 25% faster; activations take
    # some 1.7 GB (docunet, about 330 bytes per tile pixel).
    tile_pixels = 5_200_000
    # Compiled shapes kept, and the tile pixels they may hold together.
    KEEP_SHAPES = 3
    KEEP_PIXELS = 6_000_000

    def __init__(self, xml: Path, precision: str = "auto", model: Optional[Path] = None, threads: int = 0) -> None:
        """``model``: the model file the export was made from, named when its weights are invalid;
        ``threads``: CPU threads to compute with (0: one per core)."""
        import openvino as ov

        self.precision = _resolve_precision(precision)
        self._xml = xml
        self._config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads or THREADS,
            "INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bfloat16" else "f32",
        }
        self._core = ov.Core()
        try:
            self._model = self._core.read_model(str(xml))
        except RuntimeError as error:
            log.warning("OpenVINO cannot read %s: %s", xml, _first_line(error))
            raise ModelFileError(f"{xml}: the exported model cannot be read; delete the folder {xml.parent} "
                                 "and DocClean exports the model again") from None
        _check_constants(self._model, model or xml)
        _check_grey_input(self._model, model or xml)
        self._compiled: dict[tuple[int, ...], ov.InferRequest] = {}  # shape -> infer request, oldest first

    def _request(self, shape: tuple[int, ...]) -> ov.InferRequest:
        request = self._compiled.pop(shape, None)
        if request is None:
            pixels = shape[0] * shape[1] * shape[2]
            while self._compiled and (len(self._compiled) >= self.KEEP_SHAPES or pixels + sum(
                    s[0] * s[1] * s[2] for s in self._compiled) > self.KEEP_PIXELS):
                self._compiled.pop(next(iter(self._compiled)))  # free its buffers before the next compile
            try:
                self._model.reshape([*shape, 1])
                request = self._core.compile_model(self._model, "CPU", self._config).create_infer_request()
            except RuntimeError as error:
                log.warning("OpenVINO cannot compile %s for %s: %s", self._xml, shape, _first_line(error))
                raise ModelFileError(f"{self._xml}: the model cannot be prepared for this computer's CPU "
                                     "(too little memory, or a damaged export); try the Keras runtime") from None
        self._compiled[shape] = request
        return request

    def predict(self, tiles: NDArray[np.float32]) -> NDArray[np.float32]:
        batch = np.ascontiguousarray(tiles, dtype=np.float32)[..., None]
        out = self._request(tiles.shape).infer({0: batch})[0]
        return np.asarray(out[..., 0], dtype=np.float32)


class KerasBackend:
    """The Keras model itself, through TensorFlow (imported only here)."""

    name = "keras"
    # One batch of activations around a few hundred MB in TensorFlow.
    tile_pixels = 1_500_000

    def __init__(self, path: Path, precision: str = "auto") -> None:
        from engine.models.keras_files import load_model

        import tensorflow as tf

        self.precision = _resolve_precision(precision)
        model = load_model(path).model
        if self.precision == "bfloat16":
            model = _in_bfloat16(model)
        self.model = model
        # One graph for every tile shape: no retracing from page to page.  No AutoGraph: the
        # call has no Python control flow to convert, and a frozen app has no source to read.
        self._run = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)],
            reduce_retracing=True,
            autograph=False,
        )
        self._constant = tf.constant

    def predict(self, tiles: NDArray[np.float32]) -> NDArray[np.float32]:
        # float32, or bfloat16 from a model computing in it
        out: NDArray[np.generic] = self._run(self._constant(tiles[..., None].astype(np.float32, copy=False))).numpy()
        return out[..., 0].astype(np.float32, copy=False)


def _in_bfloat16(model: keras.Model) -> keras.Model:
    """A copy of ``model`` that computes in bfloat16 (weights stay float32).

    Every layer runs in it, since casts between layers would cost more than
    the few layers left in float32 would gain.
    """
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer":
            layer["config"]["dtype"] = keras.DTypePolicy("mixed_bfloat16")
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _check_constants(model: ov.Model, path: Path) -> None:
    """Refuse an export whose weights hold NaN (from a model saved before Keras loads were checked).

    Only NaN: an infinite constant can be meaningful in a graph (a bound), NaN never.
    Reading the constants costs some 15 ms for the bundled models.
    """
    for op in model.get_ops():
        if op.get_type_name() != "Constant" or not op.get_element_type().is_real():
            continue
        values = op.get_data()  # a view of the weights file, not a copy
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise invalid_weights(path, "NaN")


def _check_grey_input(model: ov.Model, path: Path) -> None:
    """Refuse an export whose input is not one grey channel (NHWC), before any tile reaches it."""
    shape = model.inputs[0].get_partial_shape() if len(model.inputs) == 1 else None
    last = shape[shape.rank.get_length() - 1] if shape is not None and shape.rank.is_static else None
    if last is None or (last.is_static and last.get_length() != 1):
        raise ModelFileError(f"{path}: the model does not take one grey channel, so it cannot clean pages")


def check_threads(threads: int) -> int:
    """``threads`` if it is a thread count DocClean accepts (0 = automatic); ValueError in words otherwise."""
    if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= MAX_THREADS:
        raise ConfigurationError(f"threads must be a whole number from 0 (one per core) to {MAX_THREADS}, "
                                 f"not {threads}")
    return threads


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def needs_tensorflow(model: str | os.PathLike[str] | None = None, backend: str = "auto") -> bool:
    """Whether open_backend(model, backend) will import TensorFlow: the Keras runtime, or a first export."""
    if backend == "keras" or (backend == "auto" and not openvino_available()):
        return True
    from engine.models.export import find_export

    return find_export(resolve_model(model))[0] is None


def open_backend(model: str | os.PathLike[str] | None = None, backend: str = "auto",
                 precision: str = "auto", threads: int = 0) -> tuple[Backend, Geometry, ModelInfo, Path]:
    """The runtime for a model file (or bundled name; None: the default model).

    'auto' takes OpenVINO when it is installed (exporting the model on first
    use, which needs TensorFlow once) and Keras otherwise.  ``threads`` caps
    the CPU threads OpenVINO computes with (0: one per core; Keras keeps
    TensorFlow's own pool).  Returns the backend, the model's geometry, its
    metadata and its path.
    """
    check_threads(threads)
    backend = choice(Runtime, backend, "the backend")
    path = resolve_model(model)
    problem = page_model_problem(path)
    if problem:
        raise ModelFileError(problem)
    info = read_info(path)
    if backend == "auto":
        backend = "openvino" if openvino_available() else "keras"
    if backend == "openvino":
        from engine.models.export import export_openvino, find_export

        found, _ = find_export(path)
        export = found or export_openvino(path)
        return OpenVINOBackend(export.xml, precision, path, threads), export.geometry, info, path
    runtime = KerasBackend(path, precision)
    return runtime, _keras_geometry(runtime, info), info, path


def _keras_geometry(runtime: KerasBackend, info: ModelInfo) -> Geometry:
    try:
        return info.page_geometry()
    except ValueError:  # saved before DocClean recorded it: read it off the graph
        from engine.models.receptive_field import geometry

        return geometry(runtime.model)
