"""The models shipped with DocClean, by the names users type (no Keras import here)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.vocabulary import PageMode

MODELS_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "models"
# The sample scans shipped beside the models, for a first try.
SAMPLES_FOLDER = MODELS_FOLDER.parent / "samples"


@dataclass(frozen=True)
class BundledModel:
    name: str  # what users type: docclean denoise --model NAME
    file: str
    label: str  # what the app's model list shows
    summary: str

    @property
    def path(self) -> Path:
        return MODELS_FOLDER / self.file


BUNDLED_MODELS: dict[str, BundledModel] = {m.name: m for m in (
    BundledModel("general", "docclean-general.keras", "General documents (default)",
                 "Office print, books, handwriting, historical documents and phone photos"),
    BundledModel("fast", "docclean-fast.keras", "General documents, fast",
                 "The general model distilled into a U-Net working at half resolution inside: "
                 "over twice as fast, weaker on show-through"),
    BundledModel("noisyoffice", "docclean-noisyoffice.keras", "Office prints (NoisyOffice)",
                 "Specialised for office prints with coffee stains, folds, watermarks and crumples"),
    BundledModel("ink", "docclean-ink.keras", "Ink and paper (black and white)",
                 "The general model taught to tell ink from paper, stains and show-through: "
                 "black and white mode uses it"),
)}
DEFAULT_MODEL_NAME = "general"
# What black-and-white mode runs when the general model is chosen: its ink model.
INK_MODEL_NAME = "ink"


def bundled_model_path(name: str = DEFAULT_MODEL_NAME) -> Path:
    """The file of the bundled model called ``name``."""
    return BUNDLED_MODELS[name].path


def default_model_path() -> Path:
    """The default model: $DOCCLEAN_MODEL if set, else the bundled general model."""
    override = os.environ.get("DOCCLEAN_MODEL")
    return Path(override) if override else bundled_model_path()


def model_for_mode(model: str | Path | None, mode: str) -> str | Path | None:
    """The model that cleans in ``mode`` (engine.vocabulary.PageMode) when the user chose ``model``.

    Black and white from the general model is the ink model's work: it gives
    the probability of ink, trained on real documents with binary ground
    truth, instead of a grey page thresholded at one level for the whole page.
    Any other model is used as chosen.
    """
    if mode != PageMode.BW:
        return model
    same = Path(resolve_model(model)).resolve() == bundled_model_path().resolve()
    return bundled_model_path(INK_MODEL_NAME) if same else model


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """A model file from a bundled model's name, a path, or None for the default."""
    if name_or_path is None:
        return default_model_path()
    if str(name_or_path) in BUNDLED_MODELS:
        return bundled_model_path(str(name_or_path))
    return Path(name_or_path)
