"""What decides a training run, checked and filled in (no Keras import: the GUI and CLI build it)."""
from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Optional, TypeGuard

from engine.errors import ConfigurationError, ModelFileError
from engine.data.catalogue import is_digit_data
from engine.models import registry
from engine.models.bundled import resolve_model
from engine.models.modelfile import read_info

OPTIMIZERS = ("adam", "rmsprop", "adadelta")
PRECISIONS = ("float32", "mixed_bfloat16")
# bce_dice: for ink models (docunet head 1), engine.training.losses.
LOSSES = ("mse", "bce", "bce_dice")


@dataclass
class TrainConfig:
    """Everything that decides a training run (saved in the model's metadata).

    ``data`` is 'mnist', 'notmnist', or page pairs: 'noisyoffice', a folder,
    a mix such as 'noisyoffice,dibco:2,synthetic' or a TOML recipe (see
    engine.data.sources); ``data_folder`` is where named data sets live locally
    (None: the download cache).  For documents, ``test_fraction`` of the clean
    documents are held out of training entirely (for honest evaluation) and
    ``validation_split`` of the rest validate each epoch; both split by
    document with ``seed``.  ``init_from`` (a model file or a bundled model's
    name) starts training from that model's weights instead of random ones:
    fine-tuning, so it must have the architecture and options being trained.
    """

    data: str
    arch: str
    epochs: int = 10
    batch_size: Optional[int] = None
    optimizer: Optional[str] = None
    loss: Optional[str] = None
    learning_rate: Optional[float] = None
    lr_schedule: str = "constant"  # or 'cosine'
    validation_split: float = 0.2
    test_fraction: float = 0.2
    patience: Optional[int] = None
    seed: int = 0
    arch_options: dict[str, int] = field(default_factory=dict)
    data_folder: Optional[str] = None
    init_from: Optional[str] = None
    # Digits only
    noise_factor: float = 0.5
    denoise: bool = True
    max_samples: Optional[int] = None
    # 'mixed_bfloat16' trains twice as fast on CPUs with AVX512-BF16/AMX;
    # the saved model is float32 either way.
    precision: str = "float32"
    # Documents only
    crop: int = 128
    steps_per_epoch: int = 100
    validation_crop: int = 256
    # Weights that replace the data's own, by source name (a tuning trial's: engine.distributed.tuning).
    data_weights: dict[str, float] = field(default_factory=dict)

    @property
    def is_digits(self) -> bool:
        return is_digit_data(self.data)


# Training crops: below 16 pixels a crop holds no stroke and its context;
# above 1024 it costs gigabytes of activations and teaches nothing more.
MIN_CROP, MAX_CROP = 16, 1024
LR_SCHEDULES = ("constant", "cosine")
# Pixels in one batch of page crops (batch size x crop x crop): docunet keeps
# some 330 bytes per pixel in training, so 16 M pixels already take ~6 GB.
MAX_BATCH_PIXELS = 1 << 24
# Beyond any real run, and inside the 64-bit step counters Keras keeps.
MAX_EPOCHS, MAX_STEPS = 100_000, 1_000_000
# NumPy's legacy seeding, which Keras uses, takes 0 to 2^32 - 1.
MAX_SEED = 2**32 - 1


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigurationError(message)


def _shown(value: object) -> str:
    """A value as the user typed it: text quoted, numbers plain (never a type's name)."""
    return repr(value) if isinstance(value, str) else str(value)


def _is_whole(value: object) -> TypeGuard[int]:
    """An int or any other Integral (NumPy's too: they compare as ints do), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    """A finite Real (int, float, NumPy's numbers), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_whole(value: object, name: str, low: int, high: Optional[int] = None, unit: str = "") -> None:
    """``value`` is a whole number from ``low`` (to ``high``); a float, text or bool is not."""
    if not _is_whole(value):
        raise ConfigurationError(f"{name} must be a whole number, not {_shown(value)}")
    if high is None:
        _require(value >= low, f"{name} must be at least {low}, not {value}")
    else:
        _require(low <= value <= high, f"{name} must be {low} to {high}{unit}, not {value}")


def _check_fraction(value: object, name: str) -> None:
    if not (_is_number(value) and 0 <= value < 1):
        raise ConfigurationError(f"{name} must be in [0, 1), not {_shown(value)}")


def _check_numbers(config: TrainConfig) -> None:
    """Every number a user can type, checked before any data is loaded."""
    _check_whole(config.epochs, "epochs", 1)
    _require(config.epochs <= MAX_EPOCHS, f"epochs must be at most {MAX_EPOCHS}, not {config.epochs}")
    for value, name in ((config.batch_size, "batch size"), (config.patience, "patience"),
                        (config.max_samples, "max samples")):
        if value is not None:
            _check_whole(value, name, 1)
    _check_whole(config.seed, "seed", 0, MAX_SEED)
    _require(config.learning_rate is None or (_is_number(config.learning_rate) and config.learning_rate > 0),
             f"learning rate must be a positive number, not {_shown(config.learning_rate)}")
    _require(config.lr_schedule in LR_SCHEDULES,
             f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}, not {_shown(config.lr_schedule)}")
    _check_fraction(config.validation_split, "validation split")
    _check_fraction(config.test_fraction, "test fraction")
    _require(_is_number(config.noise_factor) and config.noise_factor >= 0,
             f"noise factor must be zero or more, not {_shown(config.noise_factor)}")
    _require(config.precision in PRECISIONS,
             f"precision must be one of {', '.join(PRECISIONS)}, not {_shown(config.precision)}")
    if not config.is_digits:
        _check_whole(config.crop, "crop", MIN_CROP, MAX_CROP, " pixels")
        _check_whole(config.validation_crop, "validation crop", MIN_CROP, MAX_CROP, " pixels")
        _check_whole(config.steps_per_epoch, "steps per epoch", 1)
        _require(config.steps_per_epoch <= MAX_STEPS,
                 f"steps per epoch must be at most {MAX_STEPS}, not {config.steps_per_epoch}")
    for name, weight in config.data_weights.items():
        _require(_is_number(weight) and 0 < weight < math.inf,
                 f"the weight of the source {name} must be a number above zero, not {_shown(weight)}")


def _check_batch_pixels(config: TrainConfig) -> None:
    """A batch of page crops must fit in memory (digits are small whatever the batch)."""
    most = MAX_BATCH_PIXELS // config.crop**2
    assert config.batch_size is not None  # filled in by resolved()
    _require(config.is_digits or config.batch_size <= most,
             f"a batch of {config.batch_size} crops of {config.crop} pixels would not fit in memory: "
             f"at most {most} crops of that size fit in a training step (choose a smaller batch size or crop)")


def _architecture(config: TrainConfig) -> registry.Architecture:
    arch = registry.ARCHITECTURES.get(config.arch) if isinstance(config.arch, str) else None
    if arch is None:
        raise ConfigurationError(f"unknown architecture {_shown(config.arch)}; known: {', '.join(registry.ARCHITECTURES)}")
    wanted = registry.DIGITS if config.is_digits else registry.DOCUMENT
    _require(arch.family == wanted, f"architecture {arch.name!r} is for {arch.family} data, not {_shown(config.data)}")
    return arch


def _check_options(arch: registry.Architecture, options: object) -> None:
    if not isinstance(options, dict):
        raise ConfigurationError(f"the options of {arch.name} must be names with whole numbers, e.g. {{\"width\": 8}}")
    unknown = sorted(str(key) for key in set(options) - set(arch.options))
    known = ", ".join(arch.options) or "none"
    _require(not unknown, f"{arch.name} has no option {', '.join(unknown)} (its options: {known})")
    for key, value in options.items():
        low, high = arch.options[key]
        _require(_is_whole(value) and low <= value <= high,
                 f"option {key} of {arch.name} must be a whole number from {low} to {high}, not {_shown(value)}")


def _check_init_from(config: TrainConfig, arch: registry.Architecture) -> None:
    """The model to start from can be read and is the model being trained, option for option.

    Only the output head may differ: an ink model starts from a cleaning
    model's body, its head learnt anew (engine.training.fit).
    """
    if config.init_from is None:
        return
    _require(isinstance(config.init_from, str) and config.init_from.strip() != "",
             "the model to start from must be a model file or a bundled model's name")
    try:
        info = read_info(resolve_model(config.init_from))
    except ModelFileError as error:
        raise ConfigurationError(f"cannot start from that model: {error}") from None
    _require(info.architecture == arch.name,
             f"cannot start from {config.init_from}: it is a {info.architecture} model, not {arch.name}")
    wanted = {k: v for k, v in {**arch.defaults, **config.arch_options}.items() if k != "head"}
    theirs = {k: v for k, v in {**arch.defaults, **info.options}.items() if k != "head"}
    _require(theirs == wanted, f"cannot start from {config.init_from}: its options are {_listed(theirs)}, "
                               f"not {_listed(wanted)}; choose the same options")


def _listed(options: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(options.items())) or "none"


def _choice(value: object, default: str, choices: Collection[str], name: str) -> str:
    """``value`` (or the architecture's ``default`` when not given), lower-cased, if it is one of ``choices``."""
    chosen = value or default
    if not (isinstance(chosen, str) and chosen.lower() in choices):
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {_shown(chosen)}")
    return chosen.lower()


def resolved(config: TrainConfig) -> TrainConfig:
    """``config`` with the architecture's defaults filled in, every value checked (ValueError says which)."""
    _require(isinstance(config.data, str) and config.data.strip() != "",
             "the training data must be named: mnist, notmnist, noisyoffice, synthetic, a folder or a recipe")
    arch = _architecture(config)
    _check_numbers(config)
    _check_options(arch, config.arch_options)
    _check_init_from(config, arch)
    values = asdict(config)
    values["batch_size"] = config.batch_size or arch.batch_size
    values["optimizer"] = _choice(config.optimizer, arch.optimizer, OPTIMIZERS, "optimizer")
    values["loss"] = _choice(config.loss, arch.loss, LOSSES, "loss")
    result = TrainConfig(**values)
    _check_batch_pixels(result)
    return result
