"""The autoencoder lab at the seeds' settings, beside what the seeds reported: benchmarks/results/lab.md.

    python -m benchmarks.lab [sweep denoise notmnist cluster classify anomaly] [--data ../shared/data] [--seed 0]
                             [--out DIR] [--smoke]

Runs each experiment in full (not quick) as ``docclean lab NAME`` would (no autoencoder kept from
the one before), times it, and merges its rows into lab.json, so experiments can be run one at a
time; lab.md is the table of all of them.  Figures go to
benchmarks/results/tmp/lab/NAME/ (not committed).  ``--smoke`` runs the experiments quick
(as ``docclean lab NAME --quick``) into a temporary folder unless ``--out`` says where: it
checks that the benchmark still runs, its figures mean nothing.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.results_files import RESULTS, results_folder, save_results
from engine.lab import DATA_SET, EXPERIMENTS, codes, experiment

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SWEEP_ANCHORS = {1: "blurry blobs", 32: "close to the input (24.5x compression)"}
DENOISE_ANCHORS = {"dense": "removes the noise, loses stroke detail", "conv": "nearly indistinguishable from the original"}


def sweep_rows(numbers: dict) -> list[list[str]]:
    return [[f"sweep: dense AE h = {h} ({numbers['compression'][h]:g}x), held-out MSE",
             SWEEP_ANCHORS.get(int(h), "-"), f"{mse:.4f}"] for h, mse in numbers["mse"].items()]


def denoise_rows(numbers: dict) -> list[list[str]]:
    rows = []
    for factor, scores in numbers["mse"].items():
        for model in ("dense", "conv"):
            rows.append([f"denoise: {model} at noise {factor}, MSE (noisy input {scores['noisy']:.4f})",
                         DENOISE_ANCHORS[model], f"{scores[model]:.4f}"])
    return rows


def notmnist_rows(numbers: dict) -> list[list[str]]:
    rows = []
    for task in ("reconstruction", "denoising"):
        n = numbers[task]
        if n["val_mse_epoch1"] is not None:
            rows.append([f"notMNIST conv AE {task}, val MSE after 1 epoch", f"{n['seed_val_mse_epoch1']}",
                         f"{n['val_mse_epoch1']:.4f}"])
        rows.append([f"notMNIST conv AE {task}, val MSE after {n['epochs']} epochs",
                     f"{n['seed_val_mse']} ({n['seed_epochs']} epochs)", f"{n['val_mse']:.4f}"])
    rows.append(["notMNIST denoiser at noise 0.7, MSE", "tried, not reported", f"{numbers['denoising']['mse_at_0.7']:.4f}"])
    return rows


CLUSTER_ANCHORS = {"k-means on raw pixels": "about 0.53 (DEC paper)", "k-means on dense-36 codes": "about 0.82 (IDEC)",
                   "N2D shift-invariant + self-labelling CNN": "DEC 0.84, N2D 0.979 (full MNIST); target >= 0.95"}


def cluster_rows(numbers: dict) -> list[list[str]]:
    return [[f"cluster: {method}, accuracy (NMI {n['nmi']:.3f})", CLUSTER_ANCHORS.get(method, "-"), f"{n['accuracy']:.4f}"]
            for method, n in numbers["methods"].items()]


def classify_rows(numbers: dict) -> list[list[str]]:
    rows = []
    for feature, by_labels in numbers["accuracy"].items():
        for labels, accuracy in by_labels.items():
            anchor = "target >= 0.90 and above raw pixels" if labels == "100" else "-"
            rows.append([f"classify: {feature}, {int(labels):,} labels, held-out accuracy", anchor, f"{accuracy:.4f}"])
    return rows


def anomaly_rows(numbers: dict) -> list[list[str]]:
    anchor = f"softmax confidence {numbers['anchor_softmax_confidence_auc']}; target >= 0.99"
    return [[f"anomaly: {name}, ROC AUC MNIST vs notMNIST", anchor if i == 0 else "-", f"{auc:.4f}"]
            for i, (name, auc) in enumerate(sorted(numbers["auc"].items(), key=lambda item: -item[1]))]


ROWS = {"sweep": sweep_rows, "denoise": denoise_rows, "notmnist": notmnist_rows, "cluster": cluster_rows,
        "classify": classify_rows, "anomaly": anomaly_rows}


def markdown(results: dict) -> str:
    lines = ["| experiment | anchor (seed) | ours |", "| --- | --- | --- |"]
    notes = []
    for name in (n for n in EXPERIMENTS if n in results):
        lines += ["| " + " | ".join(row) + " |" for row in ROWS[name](results[name]["numbers"])]
        notes.append(f"- {name}: {results[name]['protocol']}; {results[name]['seconds']:.0f} s wall time.")
    return "\n".join(lines + [""] + notes) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Checked below: Python 3.11's argparse refuses an empty list for nargs="*" with choices.
    parser.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                        help=f"any of {', '.join(EXPERIMENTS)} (default: all of them)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="folder holding mnist/ and notmnist/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help=f"folder for lab.md and lab.json (default: {RESULTS})")
    parser.add_argument("--smoke", action="store_true",
                        help="run the experiments quick, into a temporary folder unless --out is given")
    args = parser.parse_args()
    unknown = [name for name in args.experiments if name not in EXPERIMENTS]
    if unknown:
        parser.error(f"no experiment {', '.join(unknown)} (choose from {', '.join(EXPERIMENTS)})")
    out = results_folder(args.out, args.smoke)
    saved = out / "lab.json"
    for name in args.experiments or EXPERIMENTS:
        codes.forget_autoencoders()  # each experiment trains what it needs, as its own command would
        start = time.perf_counter()
        result = experiment(name)(args.data / DATA_SET[name], out / "tmp" / "lab" / name, seed=args.seed,
                                  quick=args.smoke)
        # Read again just before writing: another run may have added its experiments meanwhile.
        results = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
        results[name] = {"numbers": result.numbers, "protocol": result.protocol,
                         "seconds": time.perf_counter() - start}
        save_results("lab", results, markdown(results), out)


if __name__ == "__main__":
    main()
