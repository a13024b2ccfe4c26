"""Cleaning speed on an A4 page at 300 dpi, per inference runtime, against NL-means in the same run.

    python benchmarks/inference_speed.py [--data DIR] [--models NAME|PATH,...] [--repeats N] [--out DIR] [--smoke]

Times what a user waits for: ``docclean denoise``'s batch route (read, clean
with the content check, write the PNG; reading and writing overlap the model)
over A4 pages made of held-out NoisyOffice pages, fastest of ``--repeats``
passes after a warm-up page.  OpenCV's NL-means (h = 15) is timed in the same
run on the same pages, read and write included, and every speed is also given
as a ratio to it, which holds when the machine is shared or different.  Also
measures the start-up of ``docclean --help`` and of ``docclean denoise`` on
one A4 page in a fresh process, and how far each runtime is from the Keras
reference on held-out pages.

Plain float32 on every row; on a CPU with native bfloat16 (AVX512-BF16/AMX) a
'native' row adds what precision 'auto' gives there.  To see the float32 speed
of such a CPU through oneDNN, run with ONEDNN_MAX_CPU_ISA=AVX512_CORE.

Writes benchmarks/results/inference_speed.{md,json} and prints the markdown.
``--smoke`` runs every step in seconds (the fast model, one small page timed
once, one start-up of each kind, two pages for the agreement) into a temporary
folder unless ``--out`` says where: it checks that the benchmark still runs.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks.anchors import nl_means  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages, seconds_per_megapixel  # noqa: E402
from engine.cleaning.batch import iter_denoise  # noqa: E402
from engine.cleaning.denoiser import Denoiser  # noqa: E402
from engine.data.pairs import find_pairs, load_pair, split_by_document  # noqa: E402
from engine.evaluation import metrics  # noqa: E402
from engine.io import image_size  # noqa: E402
from engine.tf_runtime import cpu_has_fast_bfloat16  # noqa: E402

DEFAULT_DATA = PROJECT.parent / "shared" / "data" / "noisyoffice"
BACKENDS = ("openvino", "keras")
SMOKE_PAIRS = 2  # held-out pages a smoke run compares the runtimes on


def batch_seconds_per_megapixel(pages: list[Path], denoiser: Denoiser, repeats: int) -> float:
    """Wall seconds per megapixel of iter_denoise over ``pages`` (fastest pass, after a warm-up page)."""
    pixels = sum(h * w for h, w in map(image_size, pages))
    best = float("inf")
    with tempfile.TemporaryDirectory(prefix="docclean-speed-") as scratch:
        list(iter_denoise(pages[:1], Path(scratch) / "warm", denoiser))
        for number in range(repeats):
            started = time.perf_counter()
            results = list(iter_denoise(pages, Path(scratch) / str(number), denoiser))
            best = min(best, time.perf_counter() - started)
            if not all(r.ok for r in results):
                raise RuntimeError("; ".join(str(r.error) for r in results if not r.ok))
    return best / (pixels / 1e6)


def best_of(command: list[str], runs: int, cwd: Path) -> float:
    """Fastest wall time in seconds of ``command`` in a fresh process."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def docclean_command() -> list[str]:
    script = Path(sys.executable).with_name("docclean")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def agreement(model: str, data: Path, limit: Optional[int] = None) -> dict:
    """Largest difference from the Keras reference and the held-out RMSE, per runtime (on ``limit`` pages)."""
    found = find_pairs(data)
    _, held_out = split_by_document(found.pairs, 0.2, seed=0)
    loaded = [load_pair(pair) for pair in held_out[:limit]]
    outputs, result = {}, {}
    for backend in ("keras", "openvino"):
        denoiser = Denoiser.from_file(model, backend=backend, precision="float32")
        outputs[backend] = [denoiser.denoise(noisy) for noisy, _ in loaded]
        se = sum(metrics.squared_error_sum(out, clean) for out, (_, clean) in zip(outputs[backend], loaded))
        result[backend] = {"rmse": float(np.sqrt(se / sum(clean.size for _, clean in loaded)))}
    difference = max(float(np.abs(a - b).max()) for a, b in zip(outputs["openvino"], outputs["keras"]))
    result["openvino"]["max_difference_x255"] = difference * 255
    result["pages"] = len(loaded)
    return result


def cpu_description() -> dict:
    name, flags = platform.processor() or "", set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name") and not name:
                    name = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return {"name": name, "cores": os.cpu_count(), "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "native_bfloat16": cpu_has_fast_bfloat16(),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "")}


def markdown(report: dict) -> str:
    cpu = report["cpu"]
    lines = [
        f"#### Speed, A4 at 300 dpi ({report['page_megapixels']:.1f} MP), read + clean + write",
        "",
        f"CPU: {cpu['name']}, {cpu['cores']} cores, native bfloat16: {'yes' if cpu['native_bfloat16'] else 'no'}"
        + (f", ONEDNN_MAX_CPU_ISA={cpu['onednn_max_cpu_isa']}" if cpu["onednn_max_cpu_isa"] else ""),
        "",
        "| method | precision | s/MP | s per A4 page | x NL-means |",
        "| --- | --- | --- | --- | --- |",
    ]
    nl = report["rows"][0]["seconds_per_megapixel"]
    for row in report["rows"]:
        spm = row["seconds_per_megapixel"]
        lines.append(f"| {row['method']} | {row['precision']} | {spm:.3f} | {spm * report['page_megapixels']:.2f} "
                     f"| {spm / nl:.2f} |")
    start = report["startup"]
    cold = ", ".join(f"{seconds:.2f} s ({model})" for model, seconds in start["denoise_a4_seconds"].items())
    lines += ["", f"Start-up: `docclean --help` {start['help_seconds']:.2f} s; `docclean denoise` of one A4 page "
                  f"in a fresh process {cold} (best of {start['runs']})."]
    for model, agree in report["agreement"].items():
        lines.append(f"{model}, against the Keras reference on {agree['pages']} held-out NoisyOffice pages: "
                     f"OpenVINO differs by at most {agree['openvino']['max_difference_x255']:.2f}/255; RMSE "
                     f"{agree['keras']['rmse']:.4f} (Keras) and {agree['openvino']['rmse']:.4f} (OpenVINO).")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="NoisyOffice folder")
    parser.add_argument("--models", default=None,
                        help="bundled model names or model files, comma-separated (default: general,fast; fast for --smoke)")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes (default: 3; 1 for --smoke)")
    parser.add_argument("--pages", type=int, default=None, help="A4 pages per pass (default: 2; 1 for --smoke)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--smoke", action="store_true",
                        help="run every step in seconds on a tiny input, into a temporary folder unless --out is given")
    args = parser.parse_args(argv)
    smoke = args.smoke
    args.models = args.models or ("fast" if smoke else "general,fast")
    args.repeats = args.repeats or (1 if smoke else 3)
    args.pages = args.pages or (1 if smoke else 2)
    out = results_folder(args.out, smoke)
    startup_runs = 1 if smoke else 3

    found = find_pairs(args.data)
    _, held_out = split_by_document(found.pairs, 0.2, seed=0)
    with tempfile.TemporaryDirectory(prefix="docclean-a4-") as scratch:
        folder = Path(scratch)
        pages = make_a4_pages([p.noisy for p in held_out], folder, count=args.pages,
                              size=SMOKE_PAGE if smoke else A4_AT_300_DPI)
        height, width = image_size(pages[0])
        rows = [{"method": "OpenCV NL-means (h = 15)", "precision": "uint8",
                 "seconds_per_megapixel": seconds_per_megapixel(pages, nl_means, repeats=args.repeats)}]
        precisions = ["float32"] + (["auto"] if cpu_has_fast_bfloat16() else [])
        models = args.models.split(",")
        for model in models:
            for backend in BACKENDS:
                for precision in precisions:
                    denoiser = Denoiser.from_file(model, backend=backend, precision=precision)
                    spm = batch_seconds_per_megapixel(pages, denoiser, args.repeats)
                    label = precision if precision == "float32" else f"native ({denoiser.precision})"
                    rows.append({"method": f"DocClean {model}, {backend}", "precision": label,
                                 "seconds_per_megapixel": spm})
                    print(f"{rows[-1]['method']} {label}: {spm:.3f} s/MP", file=sys.stderr)
        command = docclean_command()
        startup = {"runs": startup_runs,
                   "help_seconds": best_of(command + ["--help"], 1 if smoke else 5, folder),
                   "denoise_a4_seconds": {
                       model: best_of(command + ["-q", "denoise", str(pages[0]), "-o", "cold", "--model", model,
                                                 "--overwrite"], startup_runs, folder) for model in models}}
    limit = SMOKE_PAIRS if smoke else None
    report = {"page_megapixels": height * width / 1e6, "cpu": cpu_description(), "rows": rows,
              "startup": startup, "agreement": {model: agreement(model, args.data, limit) for model in models}}
    save_results("inference_speed", report, markdown(report), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
