"""Every benchmark script runs, on a tiny input (``--smoke``), so none can rot unseen.

The scripts are run as their docstrings say a person runs them, in a fresh
process, on a handful of pages of the shared data; they write into a temporary
folder, never benchmarks/results/.  Their figures mean nothing here: what is
checked is that each one finishes and writes the results it promises.  The runs
are slow (about 2.5 minutes in all); the check that every script has one is not.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"
RESULTS = BENCHMARKS / "results"

# The scripts, each with its smoke test below; the helper modules they import (and so run).
SCRIPTS = {"run_benchmark.py", "real_scans.py", "inference_speed.py", "lab.py", "memory_probe.py", "geometry.py",
           "dewarp.py", "colour.py", "searchable.py", "compact.py", "scale.py"}
HELPERS = {"__init__.py", "anchors.py", "deep_anchor.py", "speed.py", "results_files.py", "ocr.py",
           "geometry_pages.py", "colour_pages.py"}


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=PROJECT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    return done


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(autouse=True)
def real_results_untouched():
    """A smoke run never writes over (or beside) the figures the README quotes."""
    before = _fingerprint(RESULTS)
    yield
    assert _fingerprint(RESULTS) == before


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """One results folder for the module: the deep anchor trained (for two steps) once is reused."""
    return tmp_path_factory.mktemp("benchmark-results")


def _json(path: Path) -> dict:
    assert path.is_file(), f"{path.name} was not written"
    assert path.with_suffix(".md").is_file(), f"{path.with_suffix('.md').name} was not written"
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_benchmark_file_is_smoke_tested() -> None:
    files = {path.name for path in BENCHMARKS.glob("*.py")}
    assert files == SCRIPTS | HELPERS, "a benchmark script without a smoke test (or a stale name here)"
    sources = "\n".join((BENCHMARKS / name).read_text(encoding="utf-8") for name in SCRIPTS)
    for helper in HELPERS - {"__init__.py"}:
        stem = helper.removesuffix(".py")
        assert re.search(rf"^from benchmarks(\.{stem} import| import .*\b{stem}\b)", sources, re.MULTILINE), \
            f"{helper} is imported by no script, so no smoke test runs it"


@pytest.mark.slow
def test_run_benchmark(shared_data: Path, out: Path) -> None:
    _run("benchmarks/run_benchmark.py", "--smoke", "--data", str(shared_data / "noisyoffice"), "--out", str(out))
    report = _json(out / "benchmark.json")
    rows = {row["method"]: row for row in report["rows"]}
    for method in ("OpenCV NL-means (h = 15)", "DocClean bundled model",
                   "seeds' deep conv AE (noisyoffice_deep, 10 epochs)"):
        assert rows[method]["rmse"] is not None and rows[method]["seconds_per_megapixel"] > 0, method
    assert rows["DocClean bundled model"]["pairs"] == 2
    assert report["memory"]["width"] == report["memory"]["height"] == 800
    assert report["memory"]["peak_rss_mb"] > 0
    assert report["speed_ratio_bundled_over_nl_means"] > 0


@pytest.mark.slow
def test_geometry(shared_data: Path, out: Path) -> None:
    _run("benchmarks/geometry.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "geometry.json")
    assert report["deskew"]["sign_check"]["straightened"]
    assert report["deskew"]["summary"]["all"]["cases"] == 6
    assert report["never_turned"]["summary"]["all"] == {"pages": 2, "turned": 0, "deskewed": 0, "cropped": 0,
                                                        "split": 0, "changed": 0}
    assert report["orientation"]["summary"]["all"]["cases"] == 6
    assert report["orientation_real"]["summary"]["all"]["cases"] == 2
    assert report["scanner_bed"]["summary"]["all"]["pages"] == 3
    assert report["photographed"]["summary"]["all"]["pages"] == 3
    assert report["time"]["print"]["total"] > 0 and report["time"]["handwriting"]["total"] > 0
    assert "Deskew residual" in (out / "geometry.md").read_text()


def test_dewarp(shared_data: Path, out: Path) -> None:
    _run("benchmarks/dewarp.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "dewarp.json")
    straight, curled = report["curled"]["summary"]["0.0"], report["curled"]["summary"]["0.02"]
    assert straight["pages"] == curled["pages"] == 3
    assert straight["overlap_after"] == 1.0  # a straight page is left as it is
    assert curled["overlap_after"] >= curled["overlap_before"]
    assert report["time"]["seconds"] > 0 and "Dewarping curled book pages" in (out / "dewarp.md").read_text()


def test_real_scans(shared_data: Path, out: Path) -> None:
    _run("benchmarks/real_scans.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "real_scans.json")
    assert report["sets"] == ["DIBCO2016"]
    methods = set(report["dibco"])
    assert "general model + ink kept (default)" in methods
    assert set(report["realscans"]) == methods
    for per_set in report["dibco"].values():
        assert per_set["DIBCO2016"]["pages"] == 1 and 0 <= per_set["DIBCO2016"]["f_measure"] <= 100
    assert all(0 <= row["ink_recall"] <= 1 for row in report["realscans"].values())
    assert all(0 <= rmse <= 1 for rmse in report["noisyoffice_rmse"].values())
    assert report["speed"]["nl_means_s_per_mp"] > 0
    if shutil.which("tesseract"):
        assert set(report["ocr"]["cer"]) == methods and sum(report["ocr"]["pairs_per_kind"].values()) == 1
        assert all(rate >= 0 for rates in report["ocr"]["cer"].values() for rate in rates.values())
    else:
        assert "apt-get install" in report["ocr_skipped"]
    assert set(report["pictures"]) == methods
    for row in report["pictures"].values():
        assert len(row["per_box"]) == 1 and -1 <= row["min_correlation"] <= row["mean_correlation"] <= 1
        assert 0 <= row["mid_tones_kept"] <= 100 and 0 <= row["input_mid_tones"] <= 100


def test_character_error_rate() -> None:
    from benchmarks.ocr import cer, levenshtein

    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3
    assert cer("a  b\nc", "a b c") == 0.0  # whitespace is normalised
    assert cer("abcd", "abXd") == 25.0


def test_picture_boxes_lie_inside_their_pages(shared_data: Path) -> None:
    from benchmarks.real_scans import picture_boxes
    from engine.io import image_size

    boxes = picture_boxes()
    assert len(boxes) == 5
    for page, page_boxes in boxes.items():
        height, width = image_size(shared_data / "realscans" / page)
        for left, top, right, bottom in page_boxes:
            assert 0 <= left < right <= width and 0 <= top < bottom <= height, (page, left, top, right, bottom)


@pytest.mark.slow
def test_inference_speed(shared_data: Path, tmp_path: Path) -> None:
    _run("benchmarks/inference_speed.py", "--smoke", "--data", str(shared_data / "noisyoffice"), "--out", str(tmp_path))
    report = _json(tmp_path / "inference_speed.json")
    # (A CPU with native bfloat16 adds a row per runtime.)
    assert {row["method"] for row in report["rows"]} == {"OpenCV NL-means (h = 15)", "DocClean fast, openvino",
                                                         "DocClean fast, keras"}
    assert all(row["seconds_per_megapixel"] > 0 for row in report["rows"])
    assert report["startup"]["help_seconds"] > 0 and report["startup"]["denoise_a4_seconds"]["fast"] > 0
    assert report["agreement"]["fast"]["pages"] == 2


@pytest.mark.slow
def test_lab(shared_data: Path, tmp_path: Path) -> None:
    from engine.lab import EXPERIMENTS

    _run("-m", "benchmarks.lab", "--smoke", "--data", str(shared_data), "--out", str(tmp_path))
    report = _json(tmp_path / "lab.json")
    assert set(report) == set(EXPERIMENTS)
    table = (tmp_path / "lab.md").read_text(encoding="utf-8")
    assert all(f"{name}:" in table for name in EXPERIMENTS)


@pytest.mark.slow
def test_memory_probe(noisyoffice_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    _run("benchmarks/memory_probe.py", "make-page", "--source", str(noisyoffice_dir / "noisy" / "0.png"),
         "--out", str(page), "--side", "700")
    # Twice into the same folder: the second run cleans the page again, over the first one's file.
    for _ in range(2):
        done = _run("benchmarks/memory_probe.py", "denoise", "--input", str(page), "--out-dir", str(tmp_path / "out"))
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert (figures["height"], figures["width"]) == (700, 700)
        assert figures["peak_rss_mb"] >= figures["rss_after_model_mb"] > 0 and figures["seconds"] > 0
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_colour(shared_data: Path, out: Path) -> None:
    _run("benchmarks/colour.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "colour.json")
    (page,) = report["generated"]
    assert page["paper"] >= 0.95 and page["paper_chroma"] <= 0.03 and page["print"] <= 0.35
    assert all(mark["hue_error"] <= 15 for mark in page["marks"].values())
    assert page["auto_colour"] and len(report["real"]) == 1
    assert "Colour mode" in (out / "colour.md").read_text()


def test_searchable(shared_data: Path, out: Path) -> None:
    _run("benchmarks/searchable.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "searchable.json")
    assert len(report["pages"]["rows"]) == 2 and report["pages"]["findable"] > 0.9
    assert report["pages"]["cer_layer"] < 5 and report["time"]["ocr_seconds"] > 0
    runs = report["plugin"]["runs"]
    assert runs["ocrmypdf + docclean"]["cer"] < runs["ocrmypdf"]["cer"]
    assert "Searchable PDFs" in (out / "searchable.md").read_text()


def test_compact(shared_data: Path, out: Path) -> None:
    _run("benchmarks/compact.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "compact.json")
    grey, bw = report["target"]["runs"]["grey"], report["target"]["runs"]["bw"]
    assert grey["pdfa_2b"] == "pass" and bw["ratio"] < grey["ratio"]
    for row in report["sizes"]["rows"]:  # the default PDF never larger than the lossless one
        assert row["formats"]["pdf"] <= row["formats"]["pdf (lossless)"]
    assert report["jpeg"]["rmse"]["95"] < report["jpeg"]["rmse"]["50"]
    assert "Compact documents" in (out / "compact.md").read_text()


def test_scale(shared_data: Path, out: Path) -> None:
    _run("benchmarks/scale.py", "--smoke", "--data", str(shared_data), "--out", str(out))
    report = _json(out / "scale.json")
    assert report["startup"] > 0 and set(report["runs"]) >= {"local batch", "local batch, S3 to S3", "ray, 1 worker"}
    assert "A million A4 pages" in (out / "scale.md").read_text()
