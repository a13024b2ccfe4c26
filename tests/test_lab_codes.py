"""The lab experiments built on autoencoder codes (cluster, classify, anomaly), quick runs on the real data.

One process trains each quick encoder once (engine.lab.codes caches them), so the three
experiments together stay within about a minute.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.progress import CancelToken, Cancelled, Progress


def _cancel_at(stage: str, token: CancelToken):
    """A progress callback that sets ``token`` at the first report of ``stage`` after its start."""
    def callback(p: Progress) -> None:
        if p.stage == stage and p.done >= 1:
            token.cancel()
    return callback


def _check_written(result, out_dir: Path) -> dict:
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 1000, figure
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out_dir / "numbers.json").read_text())
    assert saved["experiment"] == result.name
    assert "8,000 of the 10,000 MNIST test images" in saved["protocol"]
    return saved


def test_label_mix_reads_like_the_seed():
    from engine.lab.cluster import label_mix

    counts = np.zeros(10, dtype=int)
    counts[[4, 9, 7, 5]] = [22, 14, 7, 1]
    assert label_mix(3, counts) == "cluster 3 holds 44 images: 22 fours, 14 nines, 7 sevens, 1 five"


def test_hungarian_accuracy_ignores_cluster_numbering():
    from engine.lab.cluster import score

    labels = np.repeat(np.arange(10), 5)
    scores = score(labels, (labels + 3) % 10)  # perfect clusters under other names
    assert scores.accuracy == pytest.approx(1.0)
    assert scores.nmi == pytest.approx(1.0) and scores.ari == pytest.approx(1.0)
    assert list(scores.digit_of_cluster) == [(c - 3) % 10 for c in range(10)]


@pytest.mark.slow
def test_cluster_quick(mnist_dir: Path, tmp_path: Path):
    from engine.lab import cluster

    stages: list[str] = []
    result = cluster.run(mnist_dir, tmp_path, quick=True, progress=lambda p: stages.append(p.stage))
    saved = _check_written(result, tmp_path)
    methods = result.numbers["methods"]
    assert set(methods) == {*cluster.METHODS, cluster.SELF_LABELLED}
    for method, values in methods.items():
        for key in ("accuracy", "nmi", "ari"):
            assert -1.0 <= values[key] <= 1.0, (method, key)
        assert 0.0 <= values["accuracy"] <= 1.0
        assert len(values["clusters"]) == 10 and values["clusters"][0].startswith("cluster 0 holds")
        assert np.sum(values["confusion"]) == result.numbers["eval_images"]
    # Raw-pixel k-means is about 0.5 on MNIST: far above chance even on 1,000 digits.
    assert methods["k-means on raw pixels"]["accuracy"] > 0.3
    # Even a quick run (1,000 digits, one epoch) groups digits better than k-means on their pixels.
    assert result.numbers["best_accuracy"] > methods["k-means on raw pixels"]["accuracy"] + 0.05
    assert len(result.figures) == 2 * len(methods) + 1
    assert {"data", "train", "method"} <= set(stages)
    assert len(saved["table"]) == len(methods)


@pytest.mark.slow
def test_cluster_cancel(mnist_dir: Path, tmp_path: Path):
    from engine.lab import cluster

    token = CancelToken()
    with pytest.raises(Cancelled):
        # Set once the data is loaded: the next checkpoint (before the first clusterer) stops it.
        cluster.run(mnist_dir, tmp_path, quick=True, progress=_cancel_at("data", token), cancel=token)
    assert not (tmp_path / "numbers.json").exists()


@pytest.mark.slow
def test_anomaly_quick(mnist_dir: Path, notmnist_dir: Path, tmp_path: Path):
    from engine.lab import anomaly

    result = anomaly.run(mnist_dir, tmp_path, quick=True)
    _check_written(result, tmp_path)
    auc = result.numbers["auc"]
    assert len(auc) == 7 and all(0.0 <= v <= 1.0 for v in auc.values())
    # Letters have more ink and other strokes: a digit autoencoder copies them badly.
    assert auc["reconstruction error of the dense-36 AE"] > 0.6
    assert auc["isolation forest on raw pixels"] > 0.6
    assert result.numbers["anomalous_images"] == result.numbers["normal_images"]


@pytest.mark.slow
def test_anomaly_cancel(mnist_dir: Path, notmnist_dir: Path, tmp_path: Path):
    from engine.lab import anomaly

    token = CancelToken()
    with pytest.raises(Cancelled):
        anomaly.run(mnist_dir, tmp_path, quick=True, progress=_cancel_at("detector", token), cancel=token)
    assert not (tmp_path / "numbers.json").exists()


@pytest.mark.slow
def test_classify_quick(mnist_dir: Path, tmp_path: Path):
    from engine.lab import classify

    result = classify.run(mnist_dir, tmp_path, quick=True)
    _check_written(result, tmp_path)
    accuracy = result.numbers["accuracy"]
    assert set(accuracy) == {"conv 4x4x8 codes", "N2D shift-invariant codes", "N2D codes -> UMAP",
                             "raw pixels"}
    for feature, by_labels in accuracy.items():
        assert list(by_labels) == ["100", "1000"]  # a quick run has 1,000 training images: all = 1,000
        assert all(0.0 <= v <= 1.0 for v in by_labels.values())
    # One epoch on 800 labelled pixels already beats chance by far.
    assert accuracy["raw pixels"]["1000"] > 0.5
    assert len(result.table) == 8 and all(1 <= row["best_epoch"] <= row["epochs_run"] for row in result.table)


@pytest.mark.slow
def test_classify_cancel(mnist_dir: Path, tmp_path: Path):
    from engine.lab import classify

    token = CancelToken()
    with pytest.raises(Cancelled):
        classify.run(mnist_dir, tmp_path, quick=True, progress=_cancel_at("classifier", token), cancel=token)
    assert not (tmp_path / "numbers.json").exists()


def test_labelled_subsets_are_nested_and_split():
    from engine.lab.classify import labelled_subset

    fit_100, val_100 = labelled_subset(100, 8_000, seed=0)
    fit_1000, val_1000 = labelled_subset(1_000, 8_000, seed=0)
    assert len(fit_100) == 80 and len(val_100) == 20
    assert set(fit_100) | set(val_100) <= set(fit_1000) | set(val_1000)
    assert not set(fit_100) & set(val_100)


def test_a_umap_that_does_not_import_is_said_in_one_sentence_with_the_command(monkeypatch):
    """The lab's gate looks UMAP up without importing it; an import that still fails says the same."""
    import sys

    from engine.lab import LabExtraMissing
    from engine.lab.cluster import import_umap

    monkeypatch.setitem(sys.modules, "umap", None)  # what the standalone binaries leave out
    with pytest.raises(LabExtraMissing) as missing:
        import_umap()
    text = str(missing.value)
    assert "umap-learn" in text and "pip install 'docclean[lab]'" in text and "\n" not in text
