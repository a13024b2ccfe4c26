"""Anomaly detection (the open question of SEEDS.md section 4): can a model of digits flag letters?

Every detector is fitted on the MNIST training digits only, then scores the held-out MNIST digits
(normal) and held-out notMNIST letters (anomalies); ROC AUC says how well the score separates them
(1.0 perfect, 0.5 chance).  Detectors: an isolation forest on the autoencoders' codes (the seed's
question), the same forest on raw pixels, each autoencoder's reconstruction error, and a
Mahalanobis distance to the digits' codes (Ledoit-Wolf covariance: relu codes have dead units, so
the plain covariance is singular).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from engine.data.catalogue import MNIST
from engine.lab import codes, data, figures
from engine.lab.result import Json, LabResult, Row
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

ENCODERS = ("dense36", "conv7x7x2")
FOREST_TREES = 200
ANCHOR_AUC = 0.83  # softmax-confidence baseline (Hendrycks & Gimpel 2017) on MNIST vs notMNIST

# (train features, features to score, seed) -> anomaly score per row (higher = more anomalous).
Detector = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def isolation_forest(train: np.ndarray, scored: np.ndarray, seed: int) -> np.ndarray:
    """Isolation forest fitted on ``train``; short isolation paths (a high score) mean anomalous."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=FOREST_TREES, random_state=seed).fit(train)
    anomalous: np.ndarray = -forest.score_samples(scored)  # score_samples is high for normal rows
    return anomalous


def mahalanobis(train: np.ndarray, scored: np.ndarray, seed: int) -> np.ndarray:
    """Squared Mahalanobis distance of each row to the training rows' mean (Ledoit-Wolf covariance)."""
    from sklearn.covariance import LedoitWolf

    distances: np.ndarray = LedoitWolf().fit(train).mahalanobis(scored)
    return distances


def roc(normal: np.ndarray, anomalous: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(AUC, false positive rates, true positive rates) with the anomalies as the positive class."""
    from sklearn.metrics import roc_auc_score, roc_curve

    truth = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalous))])
    scores = np.concatenate([normal, anomalous])
    fpr, tpr, _ = roc_curve(truth, scores)
    return float(roc_auc_score(truth, scores)), fpr, tpr


def roc_figure(curves: dict[str, tuple[float, np.ndarray, np.ndarray]], path: Path) -> Path:
    """One ROC curve per detector, its AUC in the legend, the diagonal as chance."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 5.5))
    ax = figure.subplots()
    for name, (auc, fpr, tpr) in sorted(curves.items(), key=lambda item: -item[1][0]):
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance (AUC 0.5)")
    ax.set_xlabel("false positive rate (digits flagged)")
    ax.set_ylabel("true positive rate (letters flagged)")
    ax.set_title("MNIST digits (normal) vs notMNIST letters (anomalies)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, alpha=0.3)
    return figures.save_figure(figure, path)


def extremes_figure(x_normal: np.ndarray, x_anomalous: np.ndarray, s_normal: np.ndarray,
                    s_anomalous: np.ndarray, path: Path, title: str) -> Path:
    """The digits a detector finds most anomalous and the letters it finds most normal: its mistakes."""
    n = 8
    rows = [x_normal[np.argsort(-s_normal)[:n]], x_anomalous[np.argsort(s_anomalous)[:n]]]
    return figures.image_rows(rows, ["digits scored\nmost anomalous", "letters scored\nmost normal"], path, title=title)


def _detector_scores(data_folder: Path | None, x_train: np.ndarray, x_normal: np.ndarray, x_letters: np.ndarray,
                     *, seed: int, quick: bool, progress: ProgressCallback | None,
                     cancel: CancelToken | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Detector name -> (scores of the held-out digits, scores of the letters)."""
    sets = codes.feature_sets(data_folder, ENCODERS, (x_train, x_normal, x_letters), seed=seed, quick=quick,
                              progress=progress, cancel=cancel)
    jobs: list[tuple[str, Detector, str]] = [("isolation forest on raw pixels", isolation_forest, codes.PIXELS)]
    for name in ENCODERS:
        label = codes.ENCODERS[name].label
        jobs += [(f"isolation forest on {label}", isolation_forest, label),
                 (f"Mahalanobis on {label}", mahalanobis, label)]
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for done, (detector_name, detector, feature) in enumerate(jobs):
        check(cancel)
        report(progress, Stage.DETECTOR, done, len(jobs) + len(ENCODERS), detector_name)
        train, normal, letters = sets[feature]
        results[detector_name] = (detector(train, normal, seed), detector(train, letters, seed))
    for done, name in enumerate(ENCODERS, start=len(jobs)):
        check(cancel)
        ae = codes.trained_autoencoder(name, data_folder, seed=seed, quick=quick)
        report(progress, Stage.DETECTOR, done, len(jobs) + len(ENCODERS), f"reconstruction error, {ae.spec.label}")
        results[f"reconstruction error of the {ae.spec.label.replace(' codes', '')} AE"] = (
            codes.reconstruction_errors(ae, x_normal), codes.reconstruction_errors(ae, x_letters))
    report(progress, Stage.DETECTOR, len(jobs) + len(ENCODERS), len(jobs) + len(ENCODERS))
    return results


def run(data_folder: Path | None, out_dir: Path, *, seed: int = 0, quick: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> LabResult:
    """Score held-out digits against held-out letters with every detector; ROC figure and numbers.json."""
    x_train, _, x_normal, _, protocol = data.load(MNIST, data_folder, seed=seed, quick=quick, progress=progress)
    report(progress, Stage.DATA, 0, 1, "loading notMNIST")
    _, _, x_letters, _, _ = data.digit_split("notmnist", data_folder, seed=seed, quick=quick)
    report(progress, Stage.DATA, 1, 1)
    scores = _detector_scores(data_folder, x_train, x_normal, x_letters, seed=seed, quick=quick, progress=progress,
                              cancel=cancel)
    curves = {name: roc(*pair) for name, pair in scores.items()}
    rows: list[Row] = [{"detector": name, "auc": round(auc, 4)} for name, (auc, _, _) in curves.items()]
    table = sorted(rows, key=lambda row: -row["auc"])
    best = table[0]["detector"]
    out_dir = Path(out_dir)
    figure_paths = [roc_figure(curves, out_dir / "anomaly_roc.png"),
                    extremes_figure(x_normal, x_letters, *scores[best], out_dir / "anomaly_mistakes.png",
                                    f"Mistakes of the best detector: {best}")]
    numbers: Json = {"auc": {name: auc for name, (auc, _, _) in curves.items()}, "best_detector": best,
               "best_auc": curves[best][0], "normal_images": len(x_normal), "anomalous_images": len(x_letters),
               "train_images": len(x_train), "anchor_softmax_confidence_auc": ANCHOR_AUC,
               "encoders": {name: codes.trained_autoencoder(name, data_folder, seed=seed, quick=quick).describe()
                            for name in ENCODERS}}
    protocol = (f"MNIST: {protocol}. Anomalies: the {len(x_letters):,} held-out notMNIST letters of the same seeded "
                f"split; detectors are fitted on the MNIST training digits only and see no letter before scoring")
    result = LabResult("anomaly", numbers, figure_paths, table, protocol)
    result.save(out_dir)
    return result
