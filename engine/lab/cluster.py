"""Clustering the codes (SEEDS.md section 4): do autoencoder codes group digits better than pixels?

k-means (k = 10, squared Euclidean) on raw pixels and on PCA (baselines), on the dense-36 AE's
codes and on the 7x7x2 conv AE's codes; then an N2D-style pipeline (codes -> UMAP -> Gaussian
mixture; McConville et al. 2019), on the seed's codes and on a shift-invariant N2D autoencoder's,
and last that pipeline's clusters taught to a small CNN (self-labelling, engine.lab.n2d).  Every
clusterer is fitted on the 8,000 training images (no labels) and assigns the 2,000 held-out ones,
which no part of it saw, scored against their labels: accuracy after
Hungarian matching of clusters to digits, NMI and ARI, a confusion matrix, 5 samples per cluster
and each cluster's label mix in words ("cluster 3 holds 46 images: 22 fours, 14 nines ...").
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np

from engine.data.catalogue import MNIST
from engine.lab import LabExtraMissing, codes, data, figures, n2d
from engine.lab.result import Json, LabResult, Row, add_row
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

K = 10
ENCODERS = ("dense36", "conv7x7x2", "n2d")  # keys of codes.ENCODERS
PCA_COMPONENTS = 36  # as many numbers as the dense AE's code, so PCA vs AE compares like with like
SAMPLES_PER_CLUSTER = 5
# N2D's settings: embed into as many dimensions as clusters, 20 neighbours, tightly packed.
UMAP_DIMENSIONS = 10
UMAP_NEIGHBOURS = 20
PLURALS = ("zeros", "ones", "twos", "threes", "fours", "fives", "sixes", "sevens", "eights", "nines")
SINGULARS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# quick=True (tests): fewer k-means restarts and UMAP epochs; the numba compilation of UMAP's
# first fit (about 20 s) stays.
QUICK_KMEANS_INIT = 3
QUICK_UMAP_EPOCHS = 50

# A mixture's first fit can merge two digits and split another; the best of several by likelihood
# rarely does (one fit: 0.80 on the held-out digits, best of 10: 0.92, same codes).
MIXTURE_STARTS = 10

# (train features, eval features, seed, quick) -> (cluster of each train row, of each eval row).
Clusterer = Callable[[np.ndarray, np.ndarray, int, bool], tuple[np.ndarray, np.ndarray]]


@dataclass
class Scores:
    """How well one method's clusters follow the digits."""

    accuracy: float
    nmi: float
    ari: float
    confusion: np.ndarray  # (cluster, digit) counts
    digit_of_cluster: np.ndarray  # the Hungarian matching: cluster -> digit


def kmeans(train: np.ndarray, evaluate: np.ndarray, seed: int, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """k-means with k = 10 fitted on ``train``, assigning each row of ``evaluate`` to its nearest centre."""
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=K, n_init=QUICK_KMEANS_INIT if quick else 10, random_state=seed).fit(train)
    return model.labels_, model.predict(evaluate)


def pca_kmeans(train: np.ndarray, evaluate: np.ndarray, seed: int,
               quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the first PCA_COMPONENTS principal components of the pixels."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=PCA_COMPONENTS, random_state=seed).fit(train)
    return kmeans(pca.transform(train), pca.transform(evaluate), seed, quick)


def import_umap() -> tuple[ModuleType, float]:
    """The umap module and the seconds its import took (numba compiles on the first import).

    LabExtraMissing, one sentence, when umap-learn is missing (the lab's extra is not installed;
    the standalone binaries leave it and numba out).
    """
    start = time.perf_counter()
    try:
        import umap
    except ImportError:
        raise LabExtraMissing(["umap-learn"]) from None

    return umap, time.perf_counter() - start


def umap_embedding(train: np.ndarray, evaluate: np.ndarray, seed: int,
                   quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """N2D's UMAP (10 dimensions, 20 neighbours, tightly packed) fitted on ``train``; both sides embedded."""
    umap, _ = import_umap()
    # A seeded UMAP runs on one thread anyway; n_jobs=1 says so instead of warning about it.
    embedding = umap.UMAP(n_components=UMAP_DIMENSIONS, n_neighbors=UMAP_NEIGHBOURS, min_dist=0.0,
                          n_epochs=QUICK_UMAP_EPOCHS if quick else None, random_state=seed, n_jobs=1).fit(train)
    return embedding.embedding_, embedding.transform(evaluate)


def umap_gmm(train: np.ndarray, evaluate: np.ndarray, seed: int, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """N2D: UMAP of the features into 10 dimensions, then a 10-component Gaussian mixture."""
    from sklearn.mixture import GaussianMixture

    train_embedded, eval_embedded = umap_embedding(train, evaluate, seed, quick)
    mixture = GaussianMixture(n_components=K, covariance_type="full", n_init=1 if quick else MIXTURE_STARTS,
                              random_state=seed).fit(train_embedded)
    return mixture.predict(train_embedded), mixture.predict(eval_embedded)


def score(labels: np.ndarray, clusters: np.ndarray) -> Scores:
    """Accuracy with the best one-to-one matching of clusters to digits (Hungarian), NMI and ARI."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    confusion = np.zeros((K, K), dtype=np.int64)
    np.add.at(confusion, (clusters, labels.astype(np.int64)), 1)
    rows, cols = linear_sum_assignment(-confusion)
    digit_of_cluster = np.empty(K, dtype=np.int64)
    digit_of_cluster[rows] = cols
    accuracy = float(confusion[rows, cols].sum() / len(labels))
    return Scores(accuracy, float(normalized_mutual_info_score(labels, clusters)),
                  float(adjusted_rand_score(labels, clusters)), confusion, digit_of_cluster)


def label_mix(cluster: int, counts: np.ndarray) -> str:
    """A cluster's content in words, largest share first: 'cluster 3 holds 46 images: 22 fours, 14 nines, 1 five'."""
    parts = [f"{counts[d]} {SINGULARS[d] if counts[d] == 1 else PLURALS[d]}"
             for d in np.argsort(-counts, kind="stable") if counts[d] > 0]
    total = int(counts.sum())
    return f"cluster {cluster} holds {total} image{'s' if total != 1 else ''}" + (f": {', '.join(parts)}" if parts else "")


def confusion_figure(scores: Scores, path: Path, title: str) -> Path:
    """The confusion matrix, clusters ordered by the digit they were matched to, counts written in."""
    from matplotlib.figure import Figure

    order = np.argsort(scores.digit_of_cluster)
    matrix = scores.confusion[order]
    figure = Figure(figsize=(6, 5.4))
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax, shrink=0.8)
    for (r, c), count in np.ndenumerate(matrix):
        if count:
            ax.text(c, r, str(count), ha="center", va="center", fontsize=7,
                    color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(K))
    ax.set_yticks(range(K), [f"c{order[r]} -> {scores.digit_of_cluster[order[r]]}" for r in range(K)])
    ax.set_xlabel("true digit")
    ax.set_ylabel("cluster -> matched digit")
    ax.set_title(f"{title}\naccuracy {scores.accuracy:.3f}, NMI {scores.nmi:.3f}, ARI {scores.ari:.3f}", fontsize=10)
    return figures.save_figure(figure, path)


def samples_figure(images: np.ndarray, clusters: np.ndarray, path: Path, title: str, seed: int) -> Path:
    """SAMPLES_PER_CLUSTER random images of each cluster, one row per cluster (blank if it has fewer)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for c in range(K):
        members = np.flatnonzero(clusters == c)
        chosen = rng.choice(members, size=min(SAMPLES_PER_CLUSTER, len(members)), replace=False)
        row = np.zeros((SAMPLES_PER_CLUSTER, *images.shape[1:]), np.float32)
        row[: len(chosen)] = images[chosen]
        rows.append(row)
        labels.append(f"cluster {c} ({len(members)})")
    return figures.image_rows(rows, labels, path, title=title)


def summary_figure(table: list[Row], path: Path) -> Path:
    """Accuracy, NMI and ARI of every method as grouped bars, chance and the anchors marked."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5))
    ax = figure.subplots()
    names = [row["method"] for row in table]
    width = 0.27
    for i, metric in enumerate(("accuracy", "nmi", "ari")):
        ax.bar(np.arange(len(names)) + (i - 1) * width, [row[metric] for row in table], width, label=metric)
    for label, value in (("chance 0.1", 0.1), ("k-means pixels, DEC paper 0.53", 0.53), ("N2D full MNIST 0.979", 0.979)):
        ax.axhline(value, linestyle="--", color="grey", linewidth=1)
        ax.annotate(label, (-0.5, value), fontsize=7, va="bottom")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("Clustering the 2,000 held-out digits")
    ax.legend(fontsize=8)
    return figures.save_figure(figure, path)


# Method name -> (features it reads, clusterer, file stem).
METHODS: dict[str, tuple[str, Clusterer, str]] = {
    "k-means on raw pixels": (codes.PIXELS, kmeans, "pixels"),
    f"k-means on PCA {PCA_COMPONENTS}": (codes.PIXELS, pca_kmeans, "pca"),
    "k-means on dense-36 codes": ("dense-36 codes", kmeans, "dense36"),
    "k-means on conv 7x7x2 codes": ("conv 7x7x2 codes", kmeans, "conv7x7x2"),
    "N2D: dense-36 codes -> UMAP -> GMM": ("dense-36 codes", umap_gmm, "n2d_dense36"),
    # Control: is it the autoencoder or UMAP that does the work?
    "UMAP -> GMM on raw pixels (control)": (codes.PIXELS, umap_gmm, "umap_pixels"),
    "N2D: shift-invariant codes -> UMAP -> GMM": ("N2D shift-invariant codes", umap_gmm, "n2d"),
}
# The last method: the clusters of SELF_LABELLED_FROM's training images, taught to a CNN.
SELF_LABELLED = "N2D shift-invariant + self-labelling CNN"
SELF_LABELLED_FROM = "N2D: shift-invariant codes -> UMAP -> GMM"


def run(data_folder: Path | None, out_dir: Path, *, seed: int = 0, quick: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> LabResult:
    """Cluster the held-out digits with every method of METHODS; write the figures and numbers.json."""
    out_dir = Path(out_dir)
    x_train, _, x_eval, y_eval, protocol = data.load(MNIST, data_folder, seed=seed, quick=quick, progress=progress)
    umap_seconds = import_umap()[1]  # about 0 if this process imported it before
    features = codes.feature_sets(data_folder, ENCODERS, (x_train, x_eval), seed=seed, quick=quick,
                                  progress=progress, cancel=cancel)
    table: list[Row] = []
    methods: dict[str, Json] = {}
    numbers: Json = {"methods": methods}
    figure_paths: list[Path] = []

    def record(method: str, stem: str, clusters: np.ndarray, seconds: float) -> None:
        scores = score(y_eval, clusters)
        mix = [label_mix(c, scores.confusion[c]) for c in range(K)]
        methods[method] = {"accuracy": scores.accuracy, "nmi": scores.nmi, "ari": scores.ari,
                           "seconds": round(seconds, 2), "clusters": mix,
                           "confusion": scores.confusion.tolist(),
                           "digit_of_cluster": scores.digit_of_cluster.tolist()}
        add_row(table, {"method": method, "accuracy": round(scores.accuracy, 4), "nmi": round(scores.nmi, 4),
                        "ari": round(scores.ari, 4), "label mix": "; ".join(mix)}, progress)
        figure_paths.append(confusion_figure(scores, out_dir / f"cluster_confusion_{stem}.png", method))
        figure_paths.append(samples_figure(x_eval, clusters, out_dir / f"cluster_samples_{stem}.png",
                                           f"{method}: 5 samples per cluster", seed))

    steps = len(METHODS) + 1
    train_clusters: dict[str, np.ndarray] = {}
    for done, (method, (feature, clusterer, stem)) in enumerate(METHODS.items()):
        check(cancel)
        report(progress, Stage.METHOD, done, steps, method)
        start = time.perf_counter()
        train, evaluate = features[feature]
        train_clusters[method], clusters = clusterer(train, evaluate, seed, quick)
        record(method, stem, clusters, time.perf_counter() - start)
    check(cancel)
    report(progress, Stage.METHOD, len(METHODS), steps, SELF_LABELLED)
    start = time.perf_counter()
    clusters = n2d.self_label(x_train, train_clusters[SELF_LABELLED_FROM], x_eval, seed=seed, quick=quick,
                              progress=progress, cancel=cancel)
    record(SELF_LABELLED, "self_labelled", clusters, time.perf_counter() - start)
    report(progress, Stage.METHOD, steps, steps)
    figure_paths.append(summary_figure(table, out_dir / "cluster_summary.png"))
    best = max(table, key=lambda row: row["accuracy"])
    numbers.update({"best_method": best["method"], "best_accuracy": best["accuracy"], "k": K,
                    "train_images": len(x_train), "eval_images": len(x_eval),
                    "umap_import_seconds": round(umap_seconds, 2),
                    "encoders": {name: codes.trained_autoencoder(name, data_folder, seed=seed, quick=quick).describe()
                                 for name in ENCODERS},
                    "anchors": {"k-means raw pixels (DEC paper)": 0.53, "AE + k-means (IDEC paper)": 0.82,
                                "DEC": 0.84, "N2D (full MNIST)": 0.979}})
    protocol += ("; autoencoders and clusterers fitted on the training images (no labels), "
                 "then assigning the held-out images, scored against their labels")
    result = LabResult("cluster", numbers, figure_paths, table, protocol)
    result.save(out_dir)
    return result
