"""The one bridge between Keras's training loop and DocClean's progress and cancel protocol.

Every model DocClean trains, the product's (engine.training.fit) and each lab experiment's
(engine.lab), goes through ``TrainingBridge``, a Keras callback that

- reports ``batch`` (with the loss; at most ten a second, always the last batch of an epoch, so
  a bar or a plot ends the epoch full) and ``epoch`` (with every number Keras logged);
- stops within one batch when the ``cancel`` token is set (``cancelled``: the caller raises
  Cancelled and keeps nothing; the epoch Keras still ends is not reported) or when the ``stop``
  token is set (``stopped``: the caller keeps what it has);
- with ``keep_best``, holds the weights of the best epoch (``restore_best`` puts them back) and
  stops after ``patience`` epochs without a better one.  Without it the last weights stay, as
  the lab's fixed-epoch autoencoders keep theirs.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from engine.tf_runtime import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402  (after TensorFlow is up, quietly)

from engine.progress import CancelToken, ProgressCallback, report  # noqa: E402
from engine.vocabulary import Stage  # noqa: E402

# A digit batch takes about a millisecond: a report per batch would flood a
# terminal and the GUI's event queue, while ten a second already show life.
BATCH_REPORT_INTERVAL = 0.1


@dataclass(frozen=True)
class KeepBest:
    """Which epoch is best: the lowest ``monitor`` when it names a loss, else the highest.

    Ties go to the lower validation loss: with 20 validation labels accuracy moves in steps of
    0.05, and the first, half-trained epoch to reach a step must not win over a later one that
    fits better.  ``patience`` epochs without a better one stop training (None: never).
    """

    monitor: str = "val_loss"
    patience: Optional[int] = None

    def rank(self, values: dict[str, float]) -> tuple[float, float]:
        """What ``values`` (an epoch's logs) rank by, lower is better; a missing number never wins."""
        sign = 1.0 if "loss" in self.monitor else -1.0
        return sign * values.get(self.monitor, math.nan), values.get("val_loss", 0.0)


class TrainingBridge(keras.callbacks.Callback):  # type: ignore[misc]  # Keras has no stubs
    """Keras callbacks -> progress reports, cancel and stop, and the best epoch's weights.

    ``epochs`` and ``batches`` (per epoch) are the totals reported; ``what`` names the model in
    the messages ("h=4 epoch 3/10"); ``shown`` lists the numbers an epoch's message gives (None:
    all of them).  ``on_best(epoch, values)`` is called whenever a better epoch is kept (the
    product checkpoints it to disk there).
    """

    def __init__(self, *, epochs: int, batches: int, progress: Optional[ProgressCallback] = None,
                 cancel: Optional[CancelToken] = None, stop: Optional[CancelToken] = None, what: str = "",
                 keep_best: Optional[KeepBest] = None, on_best: Optional[Callable[[int, dict[str, float]], None]] = None,
                 shown: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        self.epochs, self.batches, self.what, self.shown = epochs, batches, what, shown
        self.progress, self.cancel, self.stop = progress, cancel, stop
        self.keep_best, self.on_best = keep_best, on_best
        self.cancelled = False
        self.stopped = False
        self.epoch = 0  # the epoch under way, counted from 1
        self.best_epoch = 0  # counted from 1; 0 while no epoch was kept
        self.best_weights: Optional[list[np.ndarray]] = None
        self._best_rank = (math.inf, math.inf)
        self._last_batch_report = -math.inf

    def _named(self, text: str) -> str:
        return f"{self.what} {text}".strip()

    def on_epoch_begin(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs: Optional[dict[str, Any]] = None) -> None:
        now = time.monotonic()
        if batch + 1 == self.batches or now - self._last_batch_report >= BATCH_REPORT_INTERVAL:
            self._last_batch_report = now
            report(self.progress, Stage.BATCH, batch + 1, self.batches, self._named(f"epoch {self.epoch}/{self.epochs}"),
                   {"loss": float((logs or {}).get("loss", math.nan))})
        if self.cancel is not None and self.cancel.cancelled:
            self.cancelled = True
            self.model.stop_training = True  # Keras finishes this batch, then fit returns
        elif self.stop is not None and self.stop.cancelled:
            self.stopped = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        if self.cancelled:
            return  # Keras still ends the epoch it stopped: report nothing it did not finish
        values = {k: float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float, np.floating))}
        if self.keep_best is not None:
            self._keep_if_best(epoch + 1, values)
        shown = values if self.shown is None else {k: values[k] for k in self.shown if k in values}
        text = ", ".join(f"{k} {v:.5f}" for k, v in shown.items())
        report(self.progress, Stage.EPOCH, epoch + 1, self.epochs, self._named(f"epoch {epoch + 1}: {text}"), values)

    def _keep_if_best(self, epoch: int, values: dict[str, float]) -> None:
        keep_best = self.keep_best
        assert keep_best is not None  # called only with keep_best
        rank = keep_best.rank(values)
        if rank < self._best_rank:
            self._best_rank, self.best_epoch = rank, epoch
            self.best_weights = self.model.get_weights()
            if self.on_best is not None:
                self.on_best(epoch, values)
        elif keep_best.patience is not None and epoch - self.best_epoch >= keep_best.patience:
            self.model.stop_training = True

    def restore_best(self) -> None:
        """Put the best epoch's weights back into the model (no epoch kept: the last weights stay)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
