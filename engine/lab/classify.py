"""The encoder as a feature extractor (SEEDS.md section 5): do its codes make labels go further?

The section 5 conv AE (4x4x8 = 128-value code) and the shift-invariant N2D AE (engine.lab.n2d) are
trained without labels on the training images; their encoders are then frozen (only their codes are
used) and a small classifier learns the digits from 100, 1,000 or all of the training labels.  The
N2D codes also go through N2D's UMAP (fitted without labels, then frozen too): digits of a kind sit
together there, so 100 labels name whole groups.  The same classifier on raw pixels stands beside
them.  Each labelled subset is split 80/20: the classifier trains on 80 % and its best epoch by
accuracy on the other 20 % is kept (the seed's checkpoint), so "100 labels" means 100 labels in
all.  Accuracy is measured on the held-out images.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from engine.data.catalogue import MNIST
from engine.lab import cluster, codes, data, figures
from engine.lab.result import Json, LabResult, Row, add_row
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

if TYPE_CHECKING:
    import keras

LABEL_BUDGETS = (100, 1_000)  # and all the training labels
ENCODERS = ("conv4x4x8", "n2d")  # section 5's encoder, and the one the clustering found best
N2D_CODES = codes.ENCODERS["n2d"].label
N2D_EMBEDDING = "N2D codes -> UMAP"
HIDDEN_UNITS = 64
CLASSIFIER_VALIDATION = 0.2
MAX_EPOCHS = 100
PATIENCE = 15  # epochs without a better validation accuracy before stopping
# 80 labels at batch 32 are 3 updates an epoch: 100 epochs left such a classifier far from trained
# (raw pixels 0.50 with 100 labels).  Small budgets get more epochs, so every classifier makes at
# least MIN_UPDATES updates and waits PATIENCE_UPDATES updates for a better validation accuracy.
MIN_UPDATES = 3_000
PATIENCE_UPDATES = 600
TARGET_100_LABELS = 0.90


def budgets(n_train: int) -> list[int]:
    """The label counts to try: LABEL_BUDGETS that fit, then all ``n_train``."""
    return sorted({n for n in LABEL_BUDGETS if n < n_train} | {n_train})


def labelled_subset(n: int, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``n`` labelled training images, split 80/20 into (fit, validation); nested across n."""
    chosen = np.random.default_rng(seed).permutation(n_train)[:n]
    n_val = max(1, int(round(n * CLASSIFIER_VALIDATION)))
    return chosen[n_val:], chosen[:n_val]


def classifier(n_inputs: int, seed: int) -> keras.Model:
    """Dense(64, relu) -> Dense(10, softmax): small enough that 80 labels do not simply memorise a net."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def standardise(fit_rows: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale every column to zero mean and unit spread on ``fit_rows``: relu codes differ in scale by unit."""
    mean, spread = fit_rows.mean(axis=0), fit_rows.std(axis=0) + 1e-6
    return [(rows - mean) / spread for rows in (fit_rows, *others)]


class ClassifierScore(TypedDict):
    """How one classifier did: held-out accuracy, and its training."""

    accuracy: float
    best_epoch: int
    val_accuracy: float
    epochs_run: int


def train_and_score(train: np.ndarray, y_train: np.ndarray, evaluate: np.ndarray, y_eval: np.ndarray, n: int, *,
                    seed: int, quick: bool, what: str, progress: ProgressCallback | None,
                    cancel: CancelToken | None) -> ClassifierScore:
    """Train the classifier on ``n`` labels of ``train``, keep its best validation epoch, score ``evaluate``."""
    fit_idx, val_idx = labelled_subset(n, len(train), seed)
    x_fit, x_val, x_eval = standardise(train[fit_idx], train[val_idx], evaluate)
    model = classifier(train.shape[1], seed)
    batch = 32 if n <= 1_000 else 128
    updates_per_epoch = -(-len(fit_idx) // batch)
    epochs = max(MAX_EPOCHS, -(-MIN_UPDATES // updates_per_epoch))
    patience = max(PATIENCE, -(-PATIENCE_UPDATES // updates_per_epoch))
    history, best = data.fit_keeping_best(model, x_fit, y_train[fit_idx], validation=(x_val, y_train[val_idx]),
                                          epochs=1 if quick else epochs, batch_size=batch,
                                          monitor="val_accuracy", patience=patience, what=what,
                                          progress=progress, cancel=cancel)
    predicted = model.predict(x_eval, verbose=0, batch_size=1024).argmax(axis=1)
    return {"accuracy": float(np.mean(predicted == y_eval)), "best_epoch": best,
            "val_accuracy": history["val_accuracy"][best - 1], "epochs_run": len(history["loss"])}


def run(data_folder: Path | None, out_dir: Path, *, seed: int = 0, quick: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> LabResult:
    """Classifier accuracy per label budget on frozen codes and on pixels; figure and numbers.json."""
    out_dir = Path(out_dir)
    cluster.import_umap()  # missing UMAP is said before minutes of training, not after
    x_train, y_train, x_eval, y_eval, protocol = data.load(MNIST, data_folder, seed=seed, quick=quick, progress=progress)
    features = codes.feature_sets(data_folder, ENCODERS, (x_train, x_eval), seed=seed, quick=quick,
                                  progress=progress, cancel=cancel)
    check(cancel)
    report(progress, Stage.EMBEDDING, 0, 1, N2D_EMBEDDING)
    n2d_train, n2d_evaluate = features[N2D_CODES]
    features[N2D_EMBEDDING] = cluster.umap_embedding(n2d_train, n2d_evaluate, seed, quick)
    report(progress, Stage.EMBEDDING, 1, 1, N2D_EMBEDDING)
    label_counts = budgets(len(x_train))
    jobs = [(feature, n) for feature in features for n in label_counts]
    table: list[Row] = []
    accuracy: dict[str, dict[str, float]] = {feature: {} for feature in features}
    for done, (feature, n) in enumerate(jobs):
        check(cancel)
        report(progress, Stage.CLASSIFIER, done, len(jobs), f"{feature}, {n:,} labels")
        train, evaluate = features[feature]
        scored = train_and_score(train, y_train, evaluate, y_eval, n, seed=seed,
                                 quick=quick, what=f"{feature}, {n:,} labels", progress=progress, cancel=cancel)
        accuracy[feature][str(n)] = scored["accuracy"]
        rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in scored.items()}
        add_row(table, {"features": feature, "labels": n, **rounded}, progress)
    report(progress, Stage.CLASSIFIER, len(jobs), len(jobs))
    figure = figures.line_plot(label_counts, {f: [accuracy[f][str(n)] for n in label_counts] for f in features},
                               out_dir / "classify_accuracy.png", xlabel="labelled training images",
                               ylabel="held-out accuracy", title="Small classifier on frozen codes vs raw pixels",
                               log_x=True, marks={f"target with 100 labels: {TARGET_100_LABELS}": TARGET_100_LABELS})
    numbers: Json = {"accuracy": accuracy, "label_budgets": label_counts, "train_images": len(x_train),
               "eval_images": len(x_eval), "classifier": f"Dense({HIDDEN_UNITS}, relu) -> Dense(10, softmax), adam",
               "encoders": {name: codes.trained_autoencoder(name, data_folder, seed=seed, quick=quick).describe()
                            for name in ENCODERS}}
    protocol += ("; autoencoders trained without labels on the training images, then frozen; each labelled subset "
                 "split 80/20 into fitting and checkpoint validation; accuracy on the held-out images")
    result = LabResult("classify", numbers, [figure], table, protocol)
    result.save(out_dir)
    return result
