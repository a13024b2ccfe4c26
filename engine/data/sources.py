"""Where document training pairs come from, and how several sources are mixed.

A training run on pages reads one or more sources, each with a weight:

* a folder of pairs (``noisy/`` + ``clean/``, ``source/`` + ``target/`` or the
  NoisyOffice archive), optionally leaving out pairs by name pattern (for
  example the DIBCO years a model is reported on);
* ``synthetic``: pages drawn and degraded on the fly (engine.data.synthetic),
  optionally also degrading the clean pages of the other sources.

They are written either as ``--data noisyoffice,dibco:2,synthetic`` (named
sources are sub-folders of ``--data-folder``; ``:W`` is a weight, default 1)
or as a TOML recipe file (see resources/recipes/general.toml)::

    [[source]]
    name = "dibco"            # a label, and the folder when 'folder' is absent
    folder = "dibco"          # absolute, or relative to the data folder
    weight = 0.4
    exclude = ["DIBCO2016_*"] # pairs whose name matches are never used
    test_fraction = 0.0       # documents held out for testing (default: the run's)
    min_ink = 0.02            # crops with less ink (target darker than 0.5) are drawn again
    teacher = "general"       # targets are this model's output on the noisy pages (distillation)
    fade = 0.5                # share of crops whose ink is faded (to 25-100 % of its contrast)

    [[source]]
    name = "synthetic"
    weight = 0.3
    real_clean = 0.3          # share of synthetic pages made from the others' clean pages
"""
from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from engine.data.catalogue import NOISYOFFICE, SYNTHETIC, is_digit_data
from engine.errors import ConfigurationError, MissingDataError
from engine.data import pairs
from engine.data.pairs import Sampler

RECIPE_SUFFIX = ".toml"


@dataclass(frozen=True)
class Source:
    """One source of training pairs (see the module doc)."""

    name: str
    folder: Optional[Path] = None  # None for synthetic
    weight: float = 1.0
    exclude: tuple[str, ...] = ()
    test_fraction: Optional[float] = None
    real_clean: float = 0.3
    min_ink: float = 0.0
    teacher: Optional[str] = None  # a model file or bundled model's name
    fade: float = 0.0

    @property
    def synthetic(self) -> bool:
        return self.folder is None

    def select(self, found: Sequence[pairs.Pair]) -> list[pairs.Pair]:
        """The pairs not excluded by name pattern."""
        return [p for p in found if not any(fnmatch.fnmatch(p.name, pattern) for pattern in self.exclude)]


def is_document_data(data: str) -> bool:
    """True when ``data`` names page pairs (not 'mnist' or 'notmnist')."""
    return not is_digit_data(data)


def _check_weight(weight: float, name: str) -> float:
    if not weight > 0:
        raise ConfigurationError(f"weight of training source {name!r} must be above 0, got {weight}")
    return float(weight)


def _named_folder(name: str, data_folder: Optional[str | os.PathLike[str]]) -> Path:
    """Folder of a source written by name: a sub-folder of the data folder, or the folder itself."""
    if name == NOISYOFFICE and data_folder is None:
        return pairs.noisyoffice_folder(None)
    if data_folder is not None:
        base = Path(data_folder)
        if (base / name).is_dir():
            return base / name
        if name == NOISYOFFICE and base.is_dir():
            return base
    path = Path(name)
    if path.is_dir():
        return path
    where = f" or in {data_folder}" if data_folder is not None else ""
    raise MissingDataError(f"training source {name!r}: no such folder{where}")


def parse_data(data: str, data_folder: Optional[str | os.PathLike[str]] = None) -> list[Source]:
    """The sources of ``data``: a recipe file, or a comma list ``SOURCE[:WEIGHT],...``."""
    if data.endswith(RECIPE_SUFFIX):
        return load_recipe(data, data_folder)
    sources = []
    for item in (part.strip() for part in data.split(",")):
        if not item:
            raise ConfigurationError(f"empty training source in {data!r}")
        name, _, weight_text = item.partition(":") if not Path(item).is_dir() else (item, "", "")
        try:
            weight = _check_weight(float(weight_text), name) if weight_text else 1.0
        except ValueError as error:
            raise ConfigurationError(f"training source {item!r}: the weight after ':' must be a number above 0") from error
        folder = None if name == SYNTHETIC else _named_folder(name, data_folder)
        sources.append(Source(name=name, folder=folder, weight=weight))
    return sources


def _check_share(value: object, name: str, key: str = "min_ink") -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigurationError(f"source {name!r}: {key} must be a share from 0 to below 1, not {value!r}")
    return float(value)


_RECIPE_KEYS = {"name", "folder", "weight", "exclude", "test_fraction", "real_clean", "min_ink", "teacher", "fade"}


def load_recipe(path: str | os.PathLike[str], data_folder: Optional[str | os.PathLike[str]] = None) -> list[Source]:
    """Read a TOML recipe; relative folders are looked up in ``data_folder``, then beside the recipe."""
    path = Path(path)
    try:
        recipe = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingDataError(f"{path}: no such recipe file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: not a valid TOML recipe ({error})") from None
    entries = recipe.get("source")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{path}: a recipe needs at least one [[source]] table")
    sources = []
    for entry in entries:
        unknown = set(entry) - _RECIPE_KEYS
        if unknown or "name" not in entry:
            raise ConfigurationError(f"{path}: each [[source]] needs a name and may have only "
                             f"{', '.join(sorted(_RECIPE_KEYS))}; found {', '.join(sorted(entry))}")
        name = str(entry["name"])
        folder = None
        if name != SYNTHETIC:
            relative = Path(str(entry.get("folder", name)))
            candidates = [relative] if relative.is_absolute() else (
                ([Path(data_folder) / relative] if data_folder is not None else []) + [path.parent / relative])
            folder = next((c for c in candidates if c.is_dir()), None)
            if folder is None:
                raise MissingDataError(f"{path}: source {name!r}: folder {relative} not found "
                                        f"(looked in {', '.join(str(c.parent) for c in candidates)})")
        sources.append(Source(
            name=name, folder=folder, weight=_check_weight(float(entry.get("weight", 1.0)), name),
            exclude=tuple(str(p) for p in entry.get("exclude", ())),
            test_fraction=entry.get("test_fraction"), real_clean=float(entry.get("real_clean", 0.3)),
            min_ink=_check_share(entry.get("min_ink", 0.0), name, "min_ink"),
            teacher=str(entry["teacher"]) if "teacher" in entry else None,
            fade=_check_share(entry.get("fade", 0.0), name, "fade")))
    return sources


@dataclass
class MixedSampler:
    """Draws each crop from one of ``samplers``, chosen with probability proportional to ``weights``."""

    samplers: Sequence[Sampler]
    weights: Sequence[float]
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.samplers or len(self.samplers) != len(self.weights):
            raise ValueError("MixedSampler needs one weight per sampler")
        crops = {s.crop for s in self.samplers}
        if len(crops) != 1:
            raise ValueError(f"every source must give crops of one size, got {sorted(crops)}")
        self.crop = crops.pop()
        total = float(sum(self.weights))
        self._p = np.asarray(self.weights, dtype=np.float64) / total
        self._rng = np.random.default_rng(self.seed)

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.samplers[int(self._rng.choice(len(self.samplers), p=self._p))]
        return chosen.sample()

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` pairs as float32 arrays of shape (n, crop, crop, 1)."""
        return pairs.draw_batch(self, n)
