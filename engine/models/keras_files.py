"""Saving and loading DocClean model files with Keras (training, export and the reference backend).

A DocClean model file is an ordinary Keras 3 archive (a zip) with one more
member, ``docclean.json`` (engine.models.modelfile.ModelInfo).  Files are
loaded in Keras safe mode, so a model file can never run code of its own.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from engine.tf_runtime import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402  (after TensorFlow is up, quietly)
import numpy as np  # noqa: E402

from engine.errors import ModelFileError  # noqa: E402
from engine.models.bundled import resolve_model  # noqa: E402
from engine.models.modelfile import (METADATA_MEMBER, ModelInfo, check_output_name, invalid_weights,  # noqa: E402
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
    """Load a DocClean model file, or a bundled model by name (the default when ``path`` is None).

    Raises ModelFileError with one sentence naming the file: what the model
    names that DocClean refuses, damage, or weights that are not numbers.
    """
    path = resolve_model(path)
    info = read_info(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types, with texts meant for programmers
        raise ModelFileError(f"{path}: {_why_not_loaded(path, error)}") from None
    _check_weights(path, model)
    if info.cleans_pages:
        _check_grey_pages(path, model)
    return LoadedModel(model=model, info=info, path=path)


def _check_grey_pages(path: Path, model: keras.Model) -> None:
    """A page model takes and gives one grey channel; its metadata alone does not make it one."""
    channels = [tensor.shape[-1] for tensor in (*model.inputs, *model.outputs)]
    if len(model.inputs) != 1 or len(model.outputs) != 1 or any(c not in (1, None) for c in channels):
        raise ModelFileError(f"{path}: the model takes or gives {', '.join(map(str, channels))} channels, "
                             "but a page model cleans one grey channel; it cannot clean pages")


def _check_weights(path: Path, model: keras.Model) -> None:
    """NaN or infinite weights (a diverged training) would clean every page into garbage."""
    for weights in model.get_weights():
        if not np.isfinite(weights).all():
            raise invalid_weights(path, "NaN" if np.isnan(weights).any() else "infinity")


# Keras's own text for a refused model is a dump of its config; the user gets
# a sentence chosen from what the archive's config names.
_DAMAGED = "the file is damaged (not a complete model archive)"
_UNSAFE = "the model names a function DocClean does not allow ({}); it may be unsafe and was not loaded"
_UNKNOWN_LAYER = "the model uses a layer type DocClean does not know ({})"
_OTHER = "cannot load the model: the file is damaged or was made by an incompatible program"
_KERAS_MODELS = ("Functional", "Sequential", "Model")
_WEIGHTS_MEMBERS = {"model.weights.h5", "model.weights.npz"}


def _why_not_loaded(path: Path, error: Exception) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            config = json.loads(archive.read("config.json"))
    except (KeyError, OSError, ValueError, RecursionError, zipfile.BadZipFile):
        return _DAMAGED  # no config, or not JSON (ValueError covers the decode errors)
    refusal = _config_refusal(config)
    if refusal:
        return refusal
    # h5py raises OSError for truncated weights.
    return _DAMAGED if isinstance(error, OSError) or not names & _WEIGHTS_MEMBERS else _OTHER


def _config_refusal(config: object) -> Optional[str]:
    """Why Keras safe mode refuses ``config``, or None if nothing in it looks refused."""
    for node, is_layer in _serialized_objects(config):
        if node.get("class_name") == "Lambda":
            return _UNSAFE.format("a Lambda layer's code")
        name = _qualified_name(node)
        if not _from_keras(node):
            return (_UNKNOWN_LAYER if is_layer else _UNSAFE).format(name)
        if is_layer and node["class_name"] not in _KERAS_MODELS and not hasattr(keras.layers, node["class_name"]):
            return _UNKNOWN_LAYER.format(name)
    for name in _activation_names(config):
        try:
            keras.activations.get(name)  # looks the name up among Keras's own; imports nothing
        except ValueError:
            return _UNSAFE.format(name)
    return None


def _walk(config: object) -> Iterator[tuple[object, object, bool]]:
    """(key, value, inside a list of layers) for every value in ``config``, without recursion.

    A stack, not recursion: a hostile config may nest as deep as JSON allows.
    """
    stack: list[tuple[object, object, bool]] = [(None, config, False)]
    while stack:
        key, value, is_layer = stack.pop()
        yield key, value, is_layer
        if isinstance(value, dict):
            stack.extend((k, v, k == "layers") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((key, v, is_layer) for v in value)


def _serialized_objects(config: object) -> Iterator[tuple[dict[str, Any], bool]]:
    for _, value, is_layer in _walk(config):
        if isinstance(value, dict) and isinstance(value.get("class_name"), str) and "module" in value:
            yield value, is_layer


def _activation_names(config: object) -> Iterator[str]:
    for key, value, _ in _walk(config):
        if isinstance(key, str) and key.endswith("activation") and isinstance(value, str):
            yield value


def _from_keras(node: dict[str, Any]) -> bool:
    module = node.get("module")
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def _qualified_name(node: dict[str, Any]) -> str:
    """As the config names it: ``os.system`` for a function, ``module.Class`` for a class."""
    name = node["class_name"]
    if name == "function" and isinstance(node.get("config"), str):
        name = node["config"]
    module = node.get("module")
    if isinstance(module, str) and module and not _from_keras(node):
        return f"{module}.{name}"
    return str(node.get("registered_name") or name) if not module else name
