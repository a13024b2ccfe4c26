"""Training: one function used by the command line, the GUI and the tests.

``train`` builds a model from the zoo, feeds it either 28x28 glyphs (MNIST,
notMNIST, optionally with Gaussian noise) or random full-resolution crops of
noisy/clean page pairs, and reports batches (ten a second at most) and
epochs through a progress callback.  A ``stop`` token ends training early
keeping the best epoch; a ``cancel`` token abandons it within one batch and
saves nothing.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Optional, TypedDict, final

import numpy as np

from engine.errors import ConfigurationError, DataError
from engine.data import digits, noise, pairs, sources, synthetic
from engine.models import registry, zoo
from engine.models.keras_files import load_model, save_model
from engine.models.modelfile import ModelInfo, check_output_name
from engine.progress import CancelToken, Cancelled, ProgressCallback, report
from engine.training.bridge import KeepBest, TrainingBridge
from engine.training.config import PRECISIONS, TrainConfig, resolved
from engine.training.losses import keras_loss
from engine.vocabulary import Stage

import keras  # noqa: E402  (after engine.models.zoo has started TensorFlow quietly)

@dataclass
class TrainResult:
    model: keras.Model
    info: ModelInfo
    path: Optional[Path]
    stopped_early: bool


def _optimizer(config: TrainConfig, total_steps: int) -> keras.optimizers.Optimizer:
    # Keras 3's Adadelta defaults to 1e-3, which barely moves; the seeds'
    # figures come from the classic rate of 1.0.
    optimizer = config.optimizer
    assert optimizer is not None  # resolved() filled it in
    default = {"adam": 1e-3, "rmsprop": 1e-3, "adadelta": 1.0}[optimizer]
    rate = config.learning_rate or default
    if config.lr_schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=max(1, total_steps), alpha=0.02)
    cls = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop,
           "adadelta": keras.optimizers.Adadelta}[optimizer]
    return cls(learning_rate=rate)


# ---------------------------------------------------------------- data

Arrays = tuple[np.ndarray, np.ndarray]  # (inputs, targets)


@dataclass
class _Data:
    train: Arrays | Iterator[Arrays]  # arrays (x, y) or an infinite batch generator
    validation: Arrays
    steps_per_epoch: Optional[int]
    description: dict[str, object]  # saved in the model file (JSON)


@final
class _FolderDescription(TypedDict):
    """What the model file says about the pairs of one folder."""

    folder: str
    train_pairs: int
    validation_pairs: int
    test_pairs: int
    excluded_pairs: int
    test_documents: list[str]
    trained_documents: list[str]
    problems: str


@final
class _SyntheticDescription(TypedDict):
    real_clean: float


def _digit_data(config: TrainConfig, flat: bool) -> _Data:
    (x_train, y_train), (x_test, _) = digits.load_dataset(config.data, config.data_folder)
    pool = x_train if len(x_train) else x_test
    images = digits.to_unit(pool, config.data)
    rng = np.random.default_rng(config.seed)
    images = images[rng.permutation(len(images))]
    if config.max_samples:
        images = images[: config.max_samples]
    n_val = max(1, int(round(len(images) * config.validation_split)))
    targets = images.reshape(len(images), -1) if flat else images[..., None]
    inputs = noise.add_gaussian_noise(images, config.noise_factor, seed=config.seed) if config.denoise else images
    inputs = inputs.reshape(len(images), -1) if flat else inputs[..., None]
    description: dict[str, object] = {"samples": len(images) - n_val, "validation_samples": n_val,
                   "source": "train" if len(x_train) else "test (no training files found)"}
    return _Data((inputs[n_val:], targets[n_val:]), (inputs[:n_val], targets[:n_val]), None, description)


# Fixed validation crops per source: enough to compare epochs, cheap to score.
_SYNTHETIC_VALIDATION_CROPS = 32
_MAX_VALIDATION_CROPS_PER_SOURCE = 64


def _pair_source(source: sources.Source, config: TrainConfig) -> tuple[pairs.CropSampler, Arrays, _FolderDescription]:
    """Sampler over the training pairs of one folder, its validation crops, its description."""
    assert source.folder is not None  # not the synthetic source
    found = pairs.find_pairs(source.folder)
    chosen = source.select(found.pairs)
    if not chosen:
        raise DataError(f"{source.folder}: no usable noisy/clean pairs. {found.summary()}")
    test_fraction = config.test_fraction if source.test_fraction is None else source.test_fraction
    train_pairs, val_pairs, test_pairs = pairs.split_three(
        chosen, config.validation_split, test_fraction, config.seed)
    if not train_pairs:
        raise DataError(f"{source.folder}: too few documents to train after holding out validation and test")
    teacher = _teacher(source.teacher)
    sampler = pairs.CropSampler(train_pairs, crop=config.crop, seed=config.seed, augment=True,
                                min_ink=source.min_ink, teacher=teacher, fade=source.fade)
    val_source = val_pairs or train_pairs
    val_sampler = pairs.CropSampler(val_source, crop=config.validation_crop, seed=config.seed + 1, augment=False,
                                    teacher=teacher)
    validation = val_sampler.batch(min(4 * len(val_source), _MAX_VALIDATION_CROPS_PER_SOURCE))
    description: _FolderDescription = {"folder": str(source.folder), "train_pairs": len(train_pairs),
                   "validation_pairs": len(val_pairs), "test_pairs": len(test_pairs),
                   "excluded_pairs": len(found.pairs) - len(chosen),
                   "test_documents": sorted({p.document for p in test_pairs}),
                   "trained_documents": sorted({p.document for p in train_pairs + val_pairs}),
                   "problems": "" if found.complete else found.summary()}
    return sampler, validation, description


def _teacher(model: Optional[str]) -> Optional[Callable[[np.ndarray], np.ndarray]]:
    """The cleaner whose output a source's pages are taught with (None: their own clean pages).

    The model alone, in float32: no content check, no pictures kept (those run
    after any model, the student's too).
    """
    if model is None:
        return None
    from engine.cleaning.denoiser import Denoiser

    denoiser = Denoiser.from_file(model, precision="float32")
    return denoiser.denoise


def _document_data(config: TrainConfig) -> _Data:
    chosen = [replace(source, weight=config.data_weights.get(source.name, source.weight))
              for source in sources.parse_data(config.data, config.data_folder)]
    samplers: list[pairs.CropSampler | synthetic.SyntheticSampler] = []
    weights: list[float] = []
    validations: list[Arrays] = []
    described: dict[str, _FolderDescription | _SyntheticDescription] = {}
    clean_pages: list[np.ndarray] = []
    for source in (s for s in chosen if not s.synthetic):
        sampler, crops, folder = _pair_source(source, config)
        samplers.append(sampler)
        weights.append(source.weight)
        validations.append(crops)
        clean_pages += sampler.clean_pages
        described[source.name] = folder
    for source in (s for s in chosen if s.synthetic):
        samplers.append(synthetic.SyntheticSampler(config.crop, config.seed, clean_pages, source.real_clean))
        weights.append(source.weight)
        validations.append(synthetic.SyntheticSampler(
            config.validation_crop, config.seed + 1, clean_pages, source.real_clean).batch(_SYNTHETIC_VALIDATION_CROPS))
        described[source.name] = {"real_clean": source.real_clean if clean_pages else 0.0}
    mixed = samplers[0] if len(samplers) == 1 else sources.MixedSampler(samplers, weights, config.seed)
    batch_size = config.batch_size
    assert batch_size is not None  # resolved() filled it in

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:
            yield mixed.batch(batch_size)

    validation = (np.concatenate([v[0] for v in validations]), np.concatenate([v[1] for v in validations]))
    folder_sources = [d for d in described.values() if "folder" in d]
    weight_of = {source.name: source.weight for source in chosen}  # described lists folders first, not as chosen
    # One source keeps the flat description earlier model files have.
    description: dict[str, object] = dict(folder_sources[0]) if len(described) == 1 and folder_sources else {
        "sources": {name: {**d, "weight": weight_of[name]} for name, d in described.items()}}
    description["trained_documents"] = sorted({doc for d in folder_sources for doc in d["trained_documents"]})
    description["test_documents"] = sorted({doc for d in folder_sources for doc in d["test_documents"]})
    return _Data(batches(), validation, config.steps_per_epoch, description)


# ---------------------------------------------------------------- train

def train(config: TrainConfig, output: Optional[str | Path] = None,
          progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
          stop: Optional[CancelToken] = None) -> TrainResult:
    """Train ``config.arch`` on ``config.data``; save to ``output`` if given.

    Progress: stage 'data' while loading, 'batch' after a batch (values:
    loss; at most ten a second, always the last of an epoch) and 'epoch'
    after every epoch (values: loss, val_loss and any metric).  The best
    epoch by validation loss is kept, checkpointed beside ``output``
    (``<name>.checkpoint.keras``, so a crash keeps it) as it improves, and
    restored at the end.  Raises Cancelled (saving nothing new) if
    ``cancel`` is set.
    """
    config = resolved(config)
    if output is not None:
        check_output_name(output)  # before hours of training, not after
    keras.utils.set_random_seed(config.seed)
    arch = registry.get_architecture(config.arch)
    report(progress, Stage.DATA, 0, 1, f"loading {config.data}")
    data = _digit_data(config, arch.flat_input) if config.is_digits else _document_data(config)
    report(progress, Stage.DATA, 1, 1, f"loaded {config.data}")
    if cancel is not None and cancel.cancelled:
        raise Cancelled()

    batch_size, loss = config.batch_size, config.loss
    assert batch_size is not None and loss is not None  # resolved() filled them in
    if data.steps_per_epoch:
        batches = data.steps_per_epoch
    else:
        assert isinstance(data.train, tuple)  # digits: arrays, no steps per epoch
        batches = math.ceil(len(data.train[0]) / batch_size)
    model = _build(config.arch, config.arch_options, config.precision)
    if config.init_from is not None:
        _start_from(model, load_model(config.init_from).model)
    # XLA halves the step time of the document models on a CPU; Keras's 'auto'
    # leaves it off once a metric is attached.
    model.compile(optimizer=_optimizer(config, batches * config.epochs), loss=keras_loss(loss),
                  metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
                  jit_compile=not config.is_digits and config.precision == "float32")

    info = ModelInfo(architecture=config.arch, dataset=config.data,
                     options={**registry.get_architecture(config.arch).defaults, **config.arch_options},
                     training={**asdict(config), "data_description": data.description})
    output = Path(output) if output is not None else None
    checkpoint_path = output.with_suffix(".checkpoint.keras") if output is not None else None

    def checkpoint(epoch: int, values: dict[str, float]) -> None:
        assert checkpoint_path is not None  # called only with an output
        info.epochs = epoch
        info.metrics = {"best_epoch": epoch, **values}
        save_model(model, checkpoint_path, info)

    bridge = TrainingBridge(epochs=config.epochs, batches=batches, progress=progress, cancel=cancel, stop=stop,
                            keep_best=KeepBest("val_loss", patience=config.patience or None),
                            on_best=checkpoint if output else None, shown=("loss", "val_loss"))
    history = _fit(model, data, config, [bridge])
    if checkpoint_path is not None:
        checkpoint_path.unlink(missing_ok=True)
    if bridge.cancelled:
        raise Cancelled()

    bridge.restore_best()
    if config.precision != "float32":
        model = _as_float32(model, config)
    info.history = {k: [float(v) for v in values] for k, values in history.history.items()}
    info.epochs = len(history.history.get("loss", []))
    info.metrics = {"best_epoch": bridge.best_epoch, **_best(history.history, bridge.best_epoch)}
    path = save_model(model, output, info) if output is not None else None
    stopped_early = bridge.stopped or info.epochs < config.epochs
    return TrainResult(model=model, info=info, path=path, stopped_early=stopped_early)


def _build(arch: str, options: dict[str, int], precision: str) -> keras.Model:
    if precision not in PRECISIONS:
        raise ConfigurationError(f"precision must be one of {', '.join(PRECISIONS)}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        return zoo.build_model(arch, **options)
    finally:
        keras.config.set_dtype_policy(previous)


def _start_from(model: keras.Model, source: keras.Model) -> None:
    """``source``'s weights in ``model``, layer by layer, as far as the two agree.

    The same architecture agrees throughout; a different head (an ink model
    started from a cleaning model) keeps its fresh weights there.
    """
    for mine, theirs in zip(model.layers, source.layers):
        ours, given = mine.get_weights(), theirs.get_weights()
        # The paper head has the shape of the cleaning head's gain, not its meaning.
        if mine.name == "paper" or type(mine) is not type(theirs) or \
                [w.shape for w in ours] != [w.shape for w in given]:
            break
        mine.set_weights(given)


def _as_float32(model: keras.Model, config: TrainConfig) -> keras.Model:
    """The trained weights in a float32 model, so the file runs anywhere."""
    plain = _build(config.arch, config.arch_options, "float32")
    plain.set_weights(model.get_weights())
    return plain


def _fit(model: keras.Model, data: _Data, config: TrainConfig,
         callbacks: list[keras.callbacks.Callback]) -> keras.callbacks.History:
    fit_args = dict(epochs=config.epochs, validation_data=data.validation, callbacks=callbacks,
                    verbose=0, shuffle=not data.steps_per_epoch)
    if data.steps_per_epoch:
        return model.fit(data.train, steps_per_epoch=data.steps_per_epoch, **fit_args)
    assert isinstance(data.train, tuple)  # digits: arrays, no steps per epoch
    x, y = data.train
    return model.fit(x, y, batch_size=config.batch_size, **fit_args)


def _best(history: dict[str, list[float]], epoch: int) -> dict[str, float]:
    if epoch < 1:
        return {}
    return {k: float(v[epoch - 1]) for k, v in history.items() if len(v) >= epoch}

