"""What decides a training run, checked and filled in (no Keras import: the GUI and CLI build it)."""
from __future__ import annotations

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


def resolved(config: TrainConfig) -> TrainConfig:
    """``config`` with the architecture's defaults filled in, checked."""
    arch = registry.get_architecture(config.arch)
    wanted = registry.DIGITS if config.is_digits else registry.DOCUMENT
    if arch.family != wanted:
        raise ValueError(f"architecture {arch.name!r} is for {arch.family} data, not {config.data!r}")
    values = asdict(config)
    values["batch_size"] = config.batch_size or arch.batch_size
    values["optimizer"] = (config.optimizer or arch.optimizer).lower()
    values["loss"] = (config.loss or arch.loss).lower()
    if values["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if values["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}")
    if config.epochs < 1:
        raise ValueError("epochs must be at least 1")
    return TrainConfig(**values)
