"""What decides a training run, checked and filled in (no Keras import: the GUI and CLI build it)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Optional

from engine.data import digits
from engine.models import registry

OPTIMIZERS = ("adam", "rmsprop", "adadelta")
PRECISIONS = ("float32", "mixed_bfloat16")
LOSSES = {"mse": "mse", "bce": "binary_crossentropy"}


@dataclass
class TrainConfig:
    """Everything that decides a training run (saved in the model's metadata).

    ``data`` is 'mnist', 'notmnist', or page pairs: 'noisyoffice', a folder,
    a mix such as 'noisyoffice,dibco:2,synthetic' or a TOML recipe (see
    engine.data.sources); ``data_folder`` is where named data sets live locally
    (None: the download cache).  For documents, ``test_fraction`` of the clean
    documents are held out of training entirely (for honest evaluation) and
    ``validation_split`` of the rest validate each epoch; both split by
    document with ``seed``.
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
    arch_options: dict = field(default_factory=dict)
    data_folder: Optional[str] = None
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

    @property
    def is_digits(self) -> bool:
        return self.data in digits.DATASETS


# Training crops: below 16 pixels a crop holds no stroke and its context;
# above 1024 it costs gigabytes of activations and teaches nothing more.
MIN_CROP, MAX_CROP = 16, 1024
LR_SCHEDULES = ("constant", "cosine")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_numbers(config: TrainConfig) -> None:
    """Every number a user can type, checked before any data is loaded."""
    _require(config.epochs >= 1, f"epochs must be at least 1, not {config.epochs}")
    _require(config.batch_size is None or config.batch_size >= 1,
             f"batch size must be at least 1, not {config.batch_size}")
    _require(config.learning_rate is None or (math.isfinite(config.learning_rate) and config.learning_rate > 0),
             f"learning rate must be a positive number, not {config.learning_rate}")
    _require(config.lr_schedule in LR_SCHEDULES,
             f"learning-rate schedule must be one of {', '.join(LR_SCHEDULES)}, not {config.lr_schedule!r}")
    _require(0 <= config.validation_split < 1, f"validation split must be in [0, 1), not {config.validation_split}")
    _require(0 <= config.test_fraction < 1, f"test fraction must be in [0, 1), not {config.test_fraction}")
    _require(config.patience is None or config.patience >= 1, f"patience must be at least 1, not {config.patience}")
    _require(math.isfinite(config.noise_factor) and config.noise_factor >= 0,
             f"noise factor must be zero or more, not {config.noise_factor}")
    _require(config.max_samples is None or config.max_samples >= 1,
             f"max samples must be at least 1, not {config.max_samples}")
    _require(config.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}")
    if not config.is_digits:
        _require(MIN_CROP <= config.crop <= MAX_CROP,
                 f"crop must be {MIN_CROP} to {MAX_CROP} pixels, not {config.crop}")
        _require(config.steps_per_epoch >= 1, f"steps per epoch must be at least 1, not {config.steps_per_epoch}")


def _check_options(arch: registry.Architecture, options: dict) -> None:
    unknown = sorted(set(options) - set(arch.options))
    known = ", ".join(arch.options) or "none"
    _require(not unknown, f"{arch.name} has no option {', '.join(unknown)} (its options: {known})")
    for key, value in options.items():
        low, high = arch.options[key]
        _require(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
                 f"option {key} of {arch.name} must be a whole number from {low} to {high}, not {value!r}")


def resolved(config: TrainConfig) -> TrainConfig:
    """``config`` with the architecture's defaults filled in, every value checked (ValueError says which)."""
    arch = registry.get_architecture(config.arch)
    wanted = registry.DIGITS if config.is_digits else registry.DOCUMENT
    if arch.family != wanted:
        raise ValueError(f"architecture {arch.name!r} is for {arch.family} data, not {config.data!r}")
    _check_numbers(config)
    _check_options(arch, config.arch_options)
    values = asdict(config)
    values["batch_size"] = config.batch_size or arch.batch_size
    values["optimizer"] = (config.optimizer or arch.optimizer).lower()
    values["loss"] = (config.loss or arch.loss).lower()
    if values["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if values["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}")
    return TrainConfig(**values)
