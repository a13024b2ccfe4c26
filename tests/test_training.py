import math
import time
from dataclasses import replace

import numpy as np
import pytest

from engine.models.keras_files import load_model
from engine.progress import CancelToken, Cancelled
from engine.training.bridge import BATCH_REPORT_INTERVAL, KeepBest, TrainingBridge
from engine.training.fit import TrainConfig, train


def _digits(mnist_dir, **kwargs):
    base = dict(data="mnist", data_folder=str(mnist_dir), arch="dense", arch_options={"bottleneck": 16},
                epochs=2, max_samples=2000, validation_split=0.2)
    return TrainConfig(**{**base, **kwargs})


def test_the_bridge_keeps_the_best_epoch_with_ties_going_to_the_lower_validation_loss():
    """The lab's classifiers: highest val_accuracy, ties to the lower val_loss, patience counted from the best."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    events = []
    bridge = TrainingBridge(epochs=6, batches=1, progress=events.append, what="probe",
                            keep_best=KeepBest("val_accuracy", patience=2))
    bridge.set_model(model)
    model.stop_training = False  # as model.fit starts
    epochs = [(0.80, 0.50), (0.85, 0.40), (0.85, 0.30), (0.85, 0.35), (0.80, 0.20), (0.95, 0.10)]
    for epoch, (accuracy, loss) in enumerate(epochs):
        model.set_weights([np.full_like(w, epoch + 1) for w in model.get_weights()])
        bridge.on_epoch_end(epoch, {"val_accuracy": accuracy, "val_loss": loss})
        if model.stop_training:
            break
    assert bridge.best_epoch == 3  # 0.85 at the lowest loss; the first 0.85 was half-trained
    assert model.stop_training and epoch == 4  # two epochs without a better one
    bridge.restore_best()
    assert all((w == 3).all() for w in model.get_weights())
    reported = [e for e in events if e.stage == "epoch"]
    assert [e.done for e in reported] == [1, 2, 3, 4, 5] and reported[0].message.startswith("probe epoch 1: ")
    # Without keep_best (the lab's fixed-epoch autoencoders) the last weights stay.
    plain = TrainingBridge(epochs=1, batches=1)
    plain.set_model(model)
    plain.on_epoch_end(0, {"val_loss": 0.1})
    plain.restore_best()
    assert plain.best_epoch == 0 and all((w == 3).all() for w in model.get_weights())


@pytest.mark.slow
def test_a_few_seconds_of_training_lower_the_loss(mnist_dir, tmp_path):
    events = []
    result = train(_digits(mnist_dir, epochs=3), tmp_path / "dense.keras", progress=events.append)
    losses = result.info.history["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0] * 0.8
    epochs = [e for e in events if e.stage == "epoch"]
    assert [e.done for e in epochs] == [1, 2, 3]
    assert all(math.isfinite(e.values["val_loss"]) for e in epochs)
    assert any(e.stage == "batch" for e in events)
    saved = load_model(tmp_path / "dense.keras")
    assert saved.info.dataset == "mnist" and saved.info.epochs == 3
    assert saved.info.training["arch_options"] == {"bottleneck": 16}


class _StepClock:
    """A stand-in for time.monotonic that moves 2/7 of a report interval each time it is read.

    Training reads it once per batch, so the interval passes every 4th batch, whatever the
    machine's load: the throttle is checked exactly, not against a shared CPU's speed.
    """

    STEP = BATCH_REPORT_INTERVAL * 2 / 7

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def monotonic(self) -> float:
        self.reads += 1
        self.now = self.reads * self.STEP
        return self.now


@pytest.mark.slow
def test_batches_are_reported_with_their_loss_at_most_ten_times_a_second(mnist_dir, monkeypatch):
    """A long epoch shows life batch by batch, without flooding a terminal or the GUI."""
    clock = _StepClock()
    monkeypatch.setattr(time, "monotonic", clock.monotonic)
    stamped = []
    train(_digits(mnist_dir, epochs=2, batch_size=8, max_samples=2000),
          progress=lambda event: stamped.append((clock.now, event)))
    elapsed = clock.now
    batches = [(t, e) for t, e in stamped if e.stage == "batch"]
    total = batches[0][1].total
    assert total == 200  # 1600 training images in batches of 8
    assert clock.reads == 2 * total, "the reporter no longer reads time.monotonic once per batch"
    assert all(math.isfinite(e.values["loss"]) for _, e in batches)
    # Each epoch starts with a report and ends with one for its last batch (a bar ends full).
    assert [e.done for _, e in batches].count(total) == 2
    assert batches[0][1].done == 1
    # Between those, no two reports closer than the interval, and none further apart than it and a batch.
    for (t0, _), (t1, e1) in zip(batches, batches[1:]):
        assert e1.done == total or e1.done == 1 or t1 - t0 >= BATCH_REPORT_INTERVAL
        assert t1 - t0 <= BATCH_REPORT_INTERVAL + clock.STEP * 1.01
    assert len(batches) <= elapsed / BATCH_REPORT_INTERVAL + 4
    assert len(batches) < 2 * total  # a digit batch is far quicker than the interval


@pytest.mark.slow
def test_document_training_on_real_pairs_lowers_the_loss(noisyoffice_dir):
    config = TrainConfig(data=str(noisyoffice_dir), arch="docunet", epochs=2, steps_per_epoch=15,
                         batch_size=8, crop=64, learning_rate=2e-3, validation_split=0.1)
    result = train(config)
    assert result.info.history["val_loss"][-1] < result.info.history["val_loss"][0]
    described = result.info.training["data_description"]
    # Held-out documents never reach training.
    assert not set(described["test_documents"]) & set(described["trained_documents"])


@pytest.mark.slow
def test_cancel_stops_within_one_batch(mnist_dir, tmp_path):
    cancel = CancelToken()
    batches = []

    def progress(event):
        if event.stage == "batch":
            batches.append(event.done)
            if len(batches) == 3:
                cancel.cancel()

    with pytest.raises(Cancelled):
        train(_digits(mnist_dir, batch_size=32, epochs=5), tmp_path / "m.keras",
              progress=progress, cancel=cancel)
    assert len(batches) == 3
    assert not list(tmp_path.iterdir())  # neither the model nor its checkpoint


@pytest.mark.slow
def test_stop_keeps_the_best_epoch_so_far(mnist_dir, tmp_path):
    stop = CancelToken()

    def progress(event):
        if event.stage == "epoch" and event.done == 2:
            stop.cancel()

    result = train(_digits(mnist_dir, epochs=6), tmp_path / "m.keras", progress=progress, stop=stop)
    assert result.stopped_early
    assert len(result.info.history["loss"]) in (2, 3)
    best = result.info.metrics["best_epoch"]
    assert result.info.metrics["val_loss"] == min(result.info.history["val_loss"][:best])
    assert load_model(result.path).info.metrics["best_epoch"] == best


@pytest.mark.slow
def test_early_stopping_and_every_optimizer_and_loss(mnist_dir):
    for optimizer, loss in (("rmsprop", "mse"), ("adadelta", "bce")):
        result = train(_digits(mnist_dir, epochs=1, optimizer=optimizer, loss=loss, max_samples=500))
        assert result.info.training["optimizer"] == optimizer
        assert np.isfinite(result.info.history["loss"][0])


def test_wrong_family_is_refused(mnist_dir):
    with pytest.raises(ValueError, match="document"):
        train(TrainConfig(data="mnist", arch="docunet", data_folder=str(mnist_dir)))


@pytest.mark.slow
def test_mixed_precision_training_saves_a_float32_model(mnist_dir, tmp_path):
    result = train(_digits(mnist_dir, epochs=1, max_samples=500, precision="mixed_bfloat16"),
                   tmp_path / "m.keras")
    loaded = load_model(result.path)
    assert {layer.dtype_policy.name for layer in loaded.model.layers} == {"float32"}
    assert np.isfinite(result.info.history["loss"][0])


@pytest.mark.slow
def test_training_on_a_mix_of_sources(shared_data, tmp_path):
    config = TrainConfig(data="noisyoffice,dibco:2,synthetic", data_folder=str(shared_data), arch="docunet",
                         arch_options={"width": 4, "depth": 2}, epochs=1, steps_per_epoch=3, batch_size=2,
                         crop=64, validation_crop=64, validation_split=0.1)
    result = train(config, tmp_path / "mix.keras")
    described = load_model(tmp_path / "mix.keras").info.training["data_description"]
    assert set(described["sources"]) == {"noisyoffice", "dibco", "synthetic"}
    assert described["sources"]["dibco"]["weight"] == 2.0
    assert not set(described["test_documents"]) & set(described["trained_documents"])
    assert math.isfinite(result.info.history["val_loss"][0])


@pytest.mark.slow
def test_fine_tuning_starts_from_the_given_models_weights(noisyoffice_dir, tmp_path):
    """--init-from: a bundled model goes on learning instead of starting again from random weights."""
    config = TrainConfig(data=str(noisyoffice_dir), arch="docunet", arch_options={"width": 8, "depth": 4},
                         epochs=1, steps_per_epoch=2, batch_size=2, crop=64, validation_crop=64,
                         learning_rate=1e-6, validation_split=0.1)
    tuned = train(replace(config, init_from="general"), tmp_path / "tuned.keras")
    fresh = train(config)
    start = load_model("general").model.get_weights()
    # A learning rate of 1e-6 moves no weight far from where it started.
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(tuned.model.get_weights(), start))
    assert not all(np.allclose(a, b, atol=1e-4) for a, b in zip(fresh.model.get_weights(), start))
    assert tuned.info.history["val_loss"][0] < fresh.info.history["val_loss"][0] / 2
    assert load_model(tmp_path / "tuned.keras").info.training["init_from"] == "general"
