"""Peak memory of the product cleaning a 20,000 x 20,000 page, in its own process.

Run in a fresh subprocess so that nothing the benchmark did before (other
models, other pages) inflates the peak. Two steps, each its own process:

    python benchmarks/memory_probe.py make-page --source N.png --out big.png [--side 20000]
    python benchmarks/memory_probe.py denoise --input big.png --out-dir DIR [--model M.keras]

``denoise`` prints one JSON object on its last line of stdout (sizes in MB,
times in seconds).  For a smoke run, make a small page (``--side 800``).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    # Run as a script, the project root is not on the path.
    sys.path.insert(0, str(PROJECT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _current_rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process's own address space: ru_maxrss would keep the high-water mark of the
    # process that started this one (fork, then exec), such as a benchmark that has trained models.
    return _status_mb("VmHWM")


def _peak_children_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def make_page(source: Path, out: Path, side: int) -> None:
    """Tile a real noisy page to ``side`` x ``side`` pixels and write it losslessly."""
    from engine.io import read_page, to_uint8

    tile = to_uint8(read_page(source).pixels)
    reps = (-(-side // tile.shape[0]), -(-side // tile.shape[1]))
    page = np.tile(tile, reps)[:side, :side]
    # Fast zlib level: the file is written once and read once.
    if not cv2.imwrite(str(out), page, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise OSError(f"{out}: OpenCV could not write the synthetic page")


def denoise(input_path: Path, out_dir: Path, model: str | None) -> dict:
    """Clean ``input_path`` into ``out_dir`` with the product's own code; return the numbers."""
    from engine.cleaning.batch import iter_denoise
    from engine.cleaning.denoiser import Denoiser
    from engine.geometry import GeometryOptions
    from engine.io import image_size
    from engine.options import BatchOptions
    from engine.vocabulary import RerunPolicy

    baseline = _current_rss_mb()
    denoiser = Denoiser.from_file(model)
    after_model = _current_rss_mb()
    height, width = image_size(input_path)
    started = time.perf_counter()
    # The batch route a user's CLI call takes: read (as 8-bit), the geometry,
    # clean in bands of tiles, write atomically; over the file of an earlier
    # probe into the same --out-dir.
    options = BatchOptions(existing=RerunPolicy.OVERWRITE, geometry=GeometryOptions())
    results = list(iter_denoise([input_path], out_dir, denoiser, options))
    failed = [str(result.error) for result in results if not result.ok]
    if failed or not results:
        raise RuntimeError(f"{input_path}: the denoiser failed ({'; '.join(failed) or 'no page'})")
    route = "engine.cleaning.batch.iter_denoise"
    seconds = time.perf_counter() - started
    return {
        "route": route,
        "height": height,
        "width": width,
        "megapixels": height * width / 1e6,
        "seconds": seconds,
        "baseline_rss_mb": baseline,
        "rss_after_model_mb": after_model,
        "peak_rss_mb": _peak_rss_mb(),
        "peak_rss_children_mb": _peak_children_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    make = steps.add_parser("make-page", help="write a tiled synthetic page")
    make.add_argument("--source", type=Path, required=True)
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--side", type=int, default=20_000)
    clean = steps.add_parser("denoise", help="clean a page and report peak memory")
    clean.add_argument("--input", type=Path, required=True)
    clean.add_argument("--out-dir", type=Path, required=True)
    clean.add_argument("--model", default=None, help="model file (default: the bundled one)")
    args = parser.parse_args(argv)
    if args.step == "make-page":
        make_page(args.source, args.out, args.side)
    else:
        print(json.dumps(denoise(args.input, args.out_dir, args.model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
