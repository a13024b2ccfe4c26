"""The autoencoder lab at the seeds' settings, beside what the seeds reported: benchmarks/results/lab.md.

    python -m benchmarks.lab [sweep denoise notmnist] [--data ../shared/data] [--seed 0]

Runs each experiment in full (not quick), times it, and merges its rows into lab.json, so
experiments can be run one at a time; lab.md is the table of all of them.  Figures go to
benchmarks/results/tmp/lab/NAME/ (not committed).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.results_files import RESULTS, save_results
from engine.lab import experiment

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OURS = ("sweep", "denoise", "notmnist")
DATA_SET = {"sweep": "mnist", "denoise": "mnist", "notmnist": "notmnist"}
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


ROWS = {"sweep": sweep_rows, "denoise": denoise_rows, "notmnist": notmnist_rows}


def markdown(results: dict) -> str:
    lines = ["| experiment | anchor (seed) | ours |", "| --- | --- | --- |"]
    notes = []
    for name in (n for n in OURS if n in results):
        lines += ["| " + " | ".join(row) + " |" for row in ROWS[name](results[name]["numbers"])]
        notes.append(f"- {name}: {results[name]['protocol']}; {results[name]['seconds']:.0f} s wall time.")
    return "\n".join(lines + [""] + notes) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", choices=OURS, default=list(OURS))
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="folder holding mnist/ and notmnist/")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    saved = RESULTS / "lab.json"
    results = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    for name in args.experiments:
        start = time.perf_counter()
        result = experiment(name)(args.data / DATA_SET[name], RESULTS / "tmp" / "lab" / name, seed=args.seed)
        results[name] = {"numbers": result.numbers, "protocol": result.protocol,
                         "seconds": time.perf_counter() - start}
        save_results("lab", results, markdown(results))


if __name__ == "__main__":
    main()
