"""Saving and loading DocClean model files with Keras (training, export and the reference backend).

A DocClean model file is an ordinary Keras 3 archive (a zip) with one more
member, ``docclean.json`` (engine.models.modelfile.ModelInfo).  Files are
loaded in Keras safe mode, so a model file can never run code of its own.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from engine.tf_runtime import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402  (after TensorFlow is up, quietly)

from engine.models.bundled import resolve_model  # noqa: E402
from engine.models.modelfile import (METADATA_MEMBER, ModelFileError, ModelInfo, check_output_name,  # noqa: E402
                                     metadata_json, read_info, replacing)
from engine.models.receptive_field import geometry  # noqa: E402


@dataclass
class LoadedModel:
    model: keras.Model
    info: ModelInfo
    path: Path


def save_model(model: keras.Model, path: str | Path, info: ModelInfo) -> Path:
    """Write ``model`` and ``info`` to ``path`` atomically; returns the path.

    The archive is built beside it and renamed only when complete
    (engine.models.modelfile.replacing).
    """
    path = check_output_name(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info.parameters = int(model.count_params())
    if info.cleans_pages:
        info.geometry = geometry(model).to_dict()
    if getattr(model, "optimizer", None) is not None:
        # Users need the weights, not the optimizer's state (3x the size).
        # (clone_model carries the compiled optimizer over in Keras 3.15; a model
        # rebuilt from its config does not.)
        trained = model
        model = keras.Model.from_config(trained.get_config())
        model.set_weights(trained.get_weights())
    with replacing(path) as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_MEMBER, metadata_json(info))
    return path


def load_model(path: Optional[str | Path] = None) -> LoadedModel:
    """Load a DocClean model file, or a bundled model by name (the default when ``path`` is None)."""
    path = resolve_model(path)
    info = read_info(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken archive
        raise ModelFileError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None
    return LoadedModel(model=model, info=info, path=path)
