"""DocClean's benchmark: quality and speed of every anchor method and the bundled model.

    python benchmarks/run_benchmark.py [--data DIR] [--model PATH ...] [--retrain]
                                       [--skip-memory] [--memory-model PATH] [--skip-models]
                                       [--out DIR] [--smoke]

The NoisyOffice pairs are split by clean document (``split_by_document``,
20 % test, seed 0); every row is scored on the held-out test documents only,
at full resolution, with per-pixel RMSE pooled over all pixels (the Kaggle
metric), mean per-page PSNR and mean per-page SSIM. Speed is wall time per
megapixel including reading the page and writing the output PNG, after one
warm-up page (fastest of three passes). The only model trained is the seeds'
deep conv AE, and only when no cached copy with the same configuration exists.

Writes benchmarks/results/benchmark.md and benchmark.json and prints the
markdown table.  ``--smoke`` runs every step in seconds (two test pairs, one
small page timed once, the deep anchor trained for two steps, a small page for
the memory probe) into a temporary folder unless ``--out`` says where: it
checks that the benchmark still runs, its figures mean nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, List, Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    # Run as a script, only benchmarks/ itself would be on the path.
    sys.path.insert(0, str(PROJECT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from benchmarks.anchors import CLASSICAL_ANCHORS, KAGGLE_GOLD_RMSE  # noqa: E402
from benchmarks.results_files import results_folder  # noqa: E402
from benchmarks.speed import SMOKE_PAGE, make_a4_pages, seconds_per_megapixel  # noqa: E402
from engine.evaluation.scoring import evaluate  # noqa: E402
from engine.data.pairs import Pair, find_pairs, split_by_document  # noqa: E402
from engine.progress import Progress  # noqa: E402

DEFAULT_DATA = PROJECT.parent / "shared" / "data" / "noisyoffice"
RESULTS = PROJECT / "benchmarks" / "results"
TEST_FRACTION = 0.2
SPLIT_SEED = 0
MEMORY_SIDE = 20_000
SPEED_REPEATS = 3  # timed passes per method; the fastest is reported
SMOKE_PAIRS = 2  # test pairs a smoke run scores
SMOKE_MEMORY_SIDE = 800
A4_PAGES: List[Path] = []  # the pages every method is timed on, made once per run
NL_MEANS_ROW = "OpenCV NL-means (h = 15)"
BUNDLED_ROW = "DocClean bundled model"
DEEP_ROW = "seeds' deep conv AE (noisyoffice_deep, 10 epochs)"


@dataclass
class Row:
    """One line of the table; None where a number was not measured."""

    method: str
    rmse: Optional[float] = None
    psnr: Optional[float] = None
    ssim: Optional[float] = None
    pairs: Optional[int] = None
    seconds_per_megapixel: Optional[float] = None  # read + clean + write PNG
    clean_only_seconds_per_megapixel: Optional[float] = None
    note: str = ""


class _Bar:
    """An engine progress callback drawn as one tqdm bar for one ``stage``.

    Events of other stages only show as the bar's postfix, so nested loops
    (batches inside epochs) do not make the bar jump back and forth.
    """

    def __init__(self, description: str, stage: str, unit: str = "page") -> None:
        self._stage = stage
        self._bar = tqdm(desc=description, unit=unit, leave=False, file=sys.stderr,
                         disable=None)

    def __call__(self, event: Progress) -> None:
        if event.stage != self._stage:
            self._bar.set_postfix_str(f"{event.stage} {event.done}/{event.total} {event.message}")
            return
        self._bar.total = event.total
        self._bar.n = event.done
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def measure(name: str, clean_fn: Callable[[np.ndarray], np.ndarray], test: List[Pair],
            note: str = "") -> Row:
    """Score ``clean_fn`` on the test pairs and time it with file I/O."""
    bar = _Bar(f"{name}: quality", "evaluate")
    try:
        quality = evaluate(test, clean_fn, progress=bar)
    finally:
        bar.close()
    with tqdm(total=SPEED_REPEATS * len(A4_PAGES), desc=f"{name}: speed", unit="page",
              leave=False, file=sys.stderr, disable=None) as speed_bar:
        speed = seconds_per_megapixel(A4_PAGES, clean_fn, repeats=SPEED_REPEATS, bar=speed_bar.update)
    return Row(
        method=name, rmse=quality.rmse, psnr=quality.psnr, ssim=quality.ssim,
        pairs=quality.pairs, seconds_per_megapixel=speed,
        clean_only_seconds_per_megapixel=quality.seconds_per_megapixel, note=note,
    )


def model_row(name: str, model_path: Optional[Path], test: List[Pair], note: str = "") -> Row:
    """Measure a DocClean model file (None = the bundled model) like any anchor.

    A model file that cannot be loaded gives a row with the reason instead of
    numbers, so one missing file does not throw away the rest of the table.
    """
    from engine.cleaning.denoiser import Denoiser
    from engine.models.modelfile import ModelFileError

    try:
        denoiser = Denoiser.from_file(model_path)
    except (ModelFileError, ValueError) as error:
        print(f"warning: {name} not measured: {error}", file=sys.stderr)
        return Row(method=name, note=f"not measured: {error}")
    return measure(name, denoiser.denoise, test, note=note)


def run_memory_probe(source_page: Path, model: Optional[Path], side: int = MEMORY_SIDE) -> dict:
    """Clean a 20,000 x 20,000 (or ``side`` x ``side``) tiled page in fresh subprocesses; return the probe's numbers."""
    probe = PROJECT / "benchmarks" / "memory_probe.py"
    with tempfile.TemporaryDirectory(prefix="docclean-memory-") as scratch:
        page = Path(scratch) / f"page-{side}.png"
        out_dir = Path(scratch) / "cleaned"
        print(f"memory probe: writing a {side} x {side} page...", file=sys.stderr)
        subprocess.run([sys.executable, str(probe), "make-page", "--source", str(source_page),
                        "--out", str(page), "--side", str(side)], check=True)
        print("memory probe: cleaning it with the product's denoiser...", file=sys.stderr)
        command = [sys.executable, str(probe), "denoise", "--input", str(page),
                   "--out-dir", str(out_dir)]
        if model is not None:
            command += ["--model", str(model)]
        finished = subprocess.run(command, check=True, capture_output=True, text=True)
        result = json.loads(finished.stdout.strip().splitlines()[-1])
        result["source_page"] = str(source_page)
        result["model"] = str(model) if model is not None else "bundled"
        return result


def _cell(value: Optional[float], digits: int) -> str:
    if value is None:
        return ""
    if value == float("inf"):
        return "inf"
    return f"{value:.{digits}f}"


def _json_value(value):
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def markdown(rows: List[Row], split: dict, memory: Optional[dict], ratio: Optional[float],
             command: str) -> str:
    """The results as a markdown document: the table, the speed ratio, memory, the command."""
    lines = [
        "# DocClean benchmark",
        "",
        f"NoisyOffice, split by clean document (test fraction {split['test_fraction']}, "
        f"seed {split['seed']}): {split['test_pairs']} test pairs from "
        f"{split['test_documents']} documents, {split['train_pairs']} training pairs. "
        "Full resolution; RMSE per pixel pooled over all test pixels; PSNR and SSIM are "
        "means of per-page values. s/MP = wall seconds per megapixel including reading "
        f"the page and writing the PNG, after one warm-up page; fastest of {SPEED_REPEATS} "
        f"passes over {len(A4_PAGES)} A4 pages at 300 dpi (2480 x 3508) made of the test pages.",
        "",
        "| method | RMSE | PSNR (dB) | SSIM | s/MP |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        name = f"{row.method} ({row.note})" if row.note else row.method
        lines.append(f"| {name} | {_cell(row.rmse, 4)} | {_cell(row.psnr, 2)} | "
                     f"{_cell(row.ssim, 4)} | {_cell(row.seconds_per_megapixel, 3)} |")
    lines.append("")
    if ratio is not None:
        lines.append(f"Speed ratio, bundled model s/MP / NL-means s/MP: {ratio:.2f} "
                     "(below 1: the bundled model is faster)")
    if memory is not None:
        lines.append(
            f"Memory, {memory['width']} x {memory['height']} page ({memory['route']}, "
            f"model {memory['model']}): peak RSS {memory['peak_rss_mb']:.0f} MB "
            f"(baseline after imports {memory['baseline_rss_mb']:.0f} MB, "
            f"largest child process {memory['peak_rss_children_mb']:.0f} MB, one that "
            "TensorFlow starts while being imported, before any cleaning), "
            f"{memory['seconds']:.1f} s ({memory['seconds'] / memory['megapixels']:.3f} s/MP)"
        )
    else:
        lines.append("Memory: not measured")
    lines += ["", f"Command: `{command}`", ""]
    return "\n".join(lines)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="NoisyOffice folder with noisy/ and clean/ (default: %(default)s)")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="extra model file to add as a row (repeatable)")
    parser.add_argument("--skip-memory", action="store_true",
                        help="skip the 20,000 x 20,000 peak-memory probe")
    parser.add_argument("--skip-models", action="store_true",
                        help="classical anchors only: no learned rows, no memory probe")
    parser.add_argument("--memory-model", type=Path, default=None,
                        help="model for the memory probe (default: the bundled model)")
    parser.add_argument("--retrain", action="store_true",
                        help="train the deep conv AE anchor even if a cached copy exists")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for benchmark.md and benchmark.json (default: {RESULTS})")
    parser.add_argument("--smoke", action="store_true",
                        help="run every step in seconds on a tiny input, into a temporary folder unless --out is given")
    args = parser.parse_args(argv)
    args.out = results_folder(args.out, args.smoke)
    return args


def split_test_pairs(data: Path) -> tuple[List[Pair], dict]:
    """The held-out test pairs of ``data`` and a description of the split."""
    pairs = find_pairs(data).pairs
    if not pairs:
        raise SystemExit(f"{data}: no noisy/clean pairs found")
    train_pairs, test = split_by_document(pairs, TEST_FRACTION, seed=SPLIT_SEED)
    split = {
        "data": str(data), "test_fraction": TEST_FRACTION, "seed": SPLIT_SEED,
        "train_pairs": len(train_pairs), "test_pairs": len(test),
        "test_documents": len({pair.document for pair in test}),
        "test_names": [pair.name for pair in test],
    }
    return test, split


def deep_anchor_row(args: argparse.Namespace, test: List[Pair], scored: List[Pair]) -> Row:
    """Train (or load from the cache) the seeds' deep conv AE and measure it on ``scored``."""
    from benchmarks.deep_anchor import SMOKE_TRAINING, held_out_documents, trained_model_path

    bar = _Bar("training the deep conv AE", "epoch", unit="epoch")
    try:
        path = trained_model_path(args.data, args.out / "cache", args.retrain, bar,
                                  **(SMOKE_TRAINING if args.smoke else {}))
    finally:
        bar.close()
    if held_out_documents(path) != sorted({pair.document for pair in test}):
        raise SystemExit(
            f"{path}: the model was not trained with the benchmark's test documents "
            "held out; rerun with --retrain"
        )
    return model_row(DEEP_ROW, path, scored, note="trained on the training documents")


def learned_rows(args: argparse.Namespace, test: List[Pair], scored: List[Pair]) -> List[Row]:
    """The deep conv AE anchor, the bundled model and every --model file, measured on ``scored``."""
    rows = [deep_anchor_row(args, test, scored), model_row(BUNDLED_ROW, None, scored)]
    rows += [model_row(f"model {path.name}", path, scored) for path in args.model]
    return rows


def speed_ratio(rows: List[Row]) -> Optional[float]:
    """Bundled model s/MP over NL-means s/MP (below 1: the bundled model is faster)."""
    by_name = {row.method: row for row in rows}
    bundled = by_name.get(BUNDLED_ROW)
    nl_means = by_name[NL_MEANS_ROW]
    if bundled is None or bundled.seconds_per_megapixel is None:
        return None
    return bundled.seconds_per_megapixel / nl_means.seconds_per_megapixel


def write_results(out: Path, rows: List[Row], split: dict, memory: Optional[dict],
                  ratio: Optional[float], command: str) -> str:
    """Write benchmark.md and benchmark.json into ``out``; return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, split, memory, ratio, command)
    (out / "benchmark.md").write_text(text, encoding="utf-8")
    document = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "opencv": cv2.__version__},
        "split": split,
        "rows": [{key: _json_value(value) for key, value in vars(row).items()} for row in rows],
        "speed_ratio_bundled_over_nl_means": ratio,
        "memory": memory,
    }
    (out / "benchmark.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return text


def main(argv: Optional[List[str]] = None) -> int:
    global SPEED_REPEATS
    args = parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    test, split = split_test_pairs(args.data)
    scored = test[:SMOKE_PAIRS] if args.smoke else test
    scratch = tempfile.TemporaryDirectory(prefix="docclean-a4-")
    if args.smoke:
        SPEED_REPEATS = 1
        A4_PAGES[:] = make_a4_pages([pair.noisy for pair in test], Path(scratch.name), count=1, size=SMOKE_PAGE)
    else:
        A4_PAGES[:] = make_a4_pages([pair.noisy for pair in test], Path(scratch.name))
    rows = [measure(name, fn, scored) for name, fn in CLASSICAL_ANCHORS.items()]
    memory = None
    if not args.skip_models:
        rows += learned_rows(args, test, scored)
        bundled_missing = next(r for r in rows if r.method == BUNDLED_ROW).rmse is None
        if args.skip_memory:
            pass
        elif bundled_missing and args.memory_model is None:
            print("warning: memory not measured: the bundled model is missing "
                  "(pass --memory-model PATH)", file=sys.stderr)
        else:
            memory = run_memory_probe(test[0].noisy, args.memory_model,
                                      SMOKE_MEMORY_SIDE if args.smoke else MEMORY_SIDE)
    rows.append(Row(method="Kaggle gold-medal threshold", rmse=KAGGLE_GOLD_RMSE,
                    note="reference, not measured"))
    print(write_results(args.out, rows, split, memory, speed_ratio(rows), command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
